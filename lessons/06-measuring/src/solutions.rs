//! The worked answers to lesson 6's exercises. The `solutions` feature compiles this file
//! in place of `exercises.rs`.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use sqlx::Row;
use sqlx::mysql::{MySqlConnection, MySqlPool};

// ANCHOR: exercise_1
/// Exercise 6.1: the minimum and the median of some timed runs, in any order. With an
/// even number of runs the median is the mean of the middle two. No runs at all is an
/// error.
pub fn min_and_median(runs: &[Duration]) -> Result<(Duration, Duration)> {
    let mut sorted = runs.to_vec();
    sorted.sort();
    let n = sorted.len();
    let Some(&min) = sorted.first() else {
        bail!("no runs: nothing to summarise");
    };
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    };
    Ok((min, median))
}
// ANCHOR_END: exercise_1

// ANCHOR: exercise_2
/// The session's `Com_stmt_prepare` counter. `raw_sql` uses the text protocol, so reading
/// the counter prepares nothing itself.
async fn prepare_count(conn: &mut MySqlConnection) -> Result<u64> {
    let row = sqlx::raw_sql("SHOW SESSION STATUS LIKE 'Com_stmt_prepare'")
        .fetch_one(&mut *conn)
        .await?;
    let value: String = row.try_get(1)?;
    value.parse().context("Com_stmt_prepare is not a number")
}

/// Exercise 6.2: run `SELECT name FROM bench_customers WHERE id = ?` once for each of
/// `ids` on `conn`, and return how many statements the server prepared for this session
/// while they ran (its `Com_stmt_prepare` counter, read before and after).
pub async fn statements_prepared(conn: &mut MySqlConnection, ids: &[i32]) -> Result<u64> {
    let before = prepare_count(conn).await?;
    for &id in ids {
        let _: Option<String> =
            sqlx::query_scalar("SELECT name FROM bench_customers WHERE id = ?")
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
    }
    let after = prepare_count(conn).await?;
    Ok(after - before)
}
// ANCHOR_END: exercise_2

// ANCHOR: exercise_3
/// Exercise 6.3: insert one `bench_customers` row per name (its job left to the default,
/// `''`) in a single transaction, with one multi-row `INSERT` per `chunk` names, and
/// return how many `INSERT` statements (so round trips) it took. A `chunk` of 0 is an
/// error, and nothing is inserted.
pub async fn insert_in_chunks(
    pool: &MySqlPool,
    names: &[String],
    chunk: usize,
) -> Result<usize> {
    if chunk == 0 {
        bail!("chunk must be at least 1");
    }
    let mut tx = pool.begin().await?;
    let mut statements = 0;
    for part in names.chunks(chunk) {
        let mut insert =
            sqlx::QueryBuilder::<sqlx::MySql>::new("INSERT INTO bench_customers (name) ");
        insert.push_values(part, |mut row, name| {
            row.push_bind(name);
        });
        insert.build().execute(&mut *tx).await?;
        statements += 1;
    }
    tx.commit().await?;
    Ok(statements)
}
// ANCHOR_END: exercise_3
