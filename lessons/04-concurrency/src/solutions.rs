//! The worked answers to lesson 4's exercises. The `solutions` feature compiles this file
//! in place of `exercises.rs`.

use std::time::Duration;

use anyhow::Result;
use futures::{StreamExt, TryStreamExt};
use sqlx::AssertSqlSafe;
use sqlx::mysql::MySqlPool;

// ANCHOR: exercise_1
/// Exercise 4.1: run `queries` statements `SELECT SLEEP(seconds)`, concurrently but never
/// more than `limit` at once, each on a connection of its own from `pool`. Return how
/// many ran.
pub async fn sleep_with_limit(
    pool: &MySqlPool,
    queries: u32,
    seconds: f64,
    limit: usize,
) -> Result<u32> {
    let ran: Vec<()> = futures::stream::iter(0..queries)
        .map(|_| async move {
            // `execute(pool)` takes a connection for this one statement and gives it
            // back.
            sqlx::query("SELECT SLEEP(?)")
                .bind(seconds)
                .execute(pool)
                .await?;
            anyhow::Ok(())
        })
        .buffer_unordered(limit.max(1))
        .try_collect()
        .await?;
    Ok(u32::try_from(ran.len())?)
}
// ANCHOR_END: exercise_1

// ANCHOR: exercise_2
/// Exercise 4.2: return `SELECT CONNECTION_ID()` from a connection of `pool`, or
/// `Ok(None)` when no connection is free within `wait`: a busy pool is an answer here,
/// not an error. Other errors are still errors.
pub async fn connection_id_if_free(
    pool: &MySqlPool,
    wait: Duration,
) -> Result<Option<u64>> {
    let mut conn = match tokio::time::timeout(wait, pool.acquire()).await {
        Ok(Ok(conn)) => conn,
        // Our own deadline passed, or the pool's `acquire_timeout` did: the pool is busy.
        Err(_) | Ok(Err(sqlx::Error::PoolTimedOut)) => return Ok(None),
        Ok(Err(e)) => return Err(e.into()),
    };
    let id: u64 = sqlx::query_scalar("SELECT CONNECTION_ID()")
        .fetch_one(&mut *conn)
        .await?;
    Ok(Some(id))
}
// ANCHOR_END: exercise_2

// ANCHOR: exercise_3
/// Exercise 4.3: run `SELECT SLEEP(seconds)` on a connection of `pool` under a timeout of
/// `limit`. Return `true` if it finished in time. If it did not, stop it on the server
/// with `KILL QUERY` from another connection, so that it does not go on running there,
/// and return `false`.
pub async fn sleep_or_kill(
    pool: &MySqlPool,
    seconds: f64,
    limit: Duration,
) -> Result<bool> {
    let mut conn = pool.acquire().await?;
    let id: u64 = sqlx::query_scalar("SELECT CONNECTION_ID()")
        .fetch_one(&mut *conn)
        .await?;
    let slow = sqlx::query("SELECT SLEEP(?)")
        .bind(seconds)
        .execute(&mut *conn);
    if tokio::time::timeout(limit, slow).await.is_ok() {
        return Ok(true);
    }
    // The id is a number the server gave us: safe to format into the statement.
    sqlx::query(AssertSqlSafe(format!("KILL QUERY {id}")))
        .execute(pool)
        .await?;
    // The connection still owes the killed statement's answer: close it rather than reuse
    // it. Its goodbye may fail on the unread answer; the server ends the session either
    // way.
    let _ = conn.close().await;
    Ok(false)
}
// ANCHOR_END: exercise_3
