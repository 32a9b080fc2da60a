//! Step 6: cancellation. A client that hangs up makes axum drop the handler's future;
//! what that does to the query in flight and to an open transaction; and a time limit
//! on every request, which cancels the same way.

use std::time::Duration;

use anyhow::{Context, Result};
use axum::extract::{Query, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::report::Lines;
use crate::s1_state::AppState;
use crate::s4_errors::ApiError;

// ANCHOR: time_limit
/// Middleware: the request's answer within `request_timeout`, or a 504. On the timeout
/// the handler's future is dropped, exactly as when the client hangs up.
pub async fn time_limit(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(state.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_elapsed) => ApiError::Timeout.into_response(),
    }
}
// ANCHOR_END: time_limit

/// `?ms=N`: how long a demonstration route keeps the database busy.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Hold {
    /// Milliseconds, at most 10,000.
    pub ms: u32,
}

impl Hold {
    fn seconds(self) -> f64 {
        f64::from(self.ms.min(10_000)) / 1000.0
    }
}

// ANCHOR: slow_write
/// A write that takes a while: it inserts a customer, then the server sleeps for `ms`
/// (standing for slow work) before the commit.
pub async fn slow_write(
    State(state): State<AppState>,
    Query(hold): Query<Hold>,
) -> Result<&'static str, ApiError> {
    let mut tx = state.pool.begin().await?;
    sqlx::query("INSERT INTO customers (name, job) VALUES ('l8-slow', 'Sleeper')")
        .execute(&mut *tx)
        .await?;
    // If the future is dropped here, `tx` is dropped with it: sqlx queues a ROLLBACK,
    // which the connection sends once the server finishes this SLEEP.
    sqlx::query("SELECT SLEEP(?)")
        .bind(hold.seconds())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok("committed")
}
// ANCHOR_END: slow_write

/// Holds one of the pool's connections for `ms`, with `SELECT SLEEP`: a slow query.
pub async fn hold(
    State(state): State<AppState>,
    Query(hold): Query<Hold>,
) -> Result<&'static str, ApiError> {
    sqlx::query("SELECT SLEEP(?)")
        .bind(hold.seconds())
        .execute(&state.pool)
        .await?;
    Ok("done")
}

/// What the server shows of the lesson's slow write: transactions open in the lesson's
/// database, sessions running a `SLEEP`, and rows the write left.
pub async fn seen_from_outside(pool: &sqlx::MySqlPool) -> Result<(i64, i64, i64)> {
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.innodb_trx t \
         JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id \
         WHERE p.db = DATABASE()",
    )
    .fetch_one(pool)
    .await
    .context("cannot read information_schema.innodb_trx")?;
    let sleeping: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.processlist \
         WHERE db = DATABASE() AND info LIKE 'SELECT SLEEP%'",
    )
    .fetch_one(pool)
    .await
    .context("cannot read information_schema.processlist")?;
    let rows: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM customers WHERE name = 'l8-slow'")
            .fetch_one(pool)
            .await?;
    Ok((open, sleeping, rows))
}

/// Waits (up to 10 s) until the lesson's database has no open transaction.
pub async fn until_no_transaction(pool: &sqlx::MySqlPool) -> Result<i64> {
    let mut open = 0;
    for _ in 0..50 {
        // NOTE: InnoDB refreshes innodb_trx only when its last read is over 0.1 s old.
        tokio::time::sleep(Duration::from_millis(200)).await;
        open = seen_from_outside(pool).await?.0;
        if open == 0 {
            break;
        }
    }
    Ok(open)
}

/// Step 6's report: a client that hangs up 200 ms into a 1 s write, and a request that
/// runs into a 200 ms time limit; each time, what the server shows.
pub async fn run(ctx: &crate::Ctx) -> Result<Lines> {
    let service = ctx.service(2, crate::ACQUIRE_TIMEOUT).await?;
    let mut lines = Lines::default();
    let call = service.http.get("/demo/slow-write?ms=1000");
    let gave_up = tokio::time::timeout(Duration::from_millis(200), call).await;
    lines.push(format!("client hung up after 200 ms: {}", gave_up.is_err()));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (open, sleeping, rows) = seen_from_outside(&ctx.pool).await?;
    lines.push(format!(
        "just after: open transactions {open}, SLEEP still running on the server {sleeping}, \
         rows written {rows}"
    ));
    let open = until_no_transaction(&ctx.pool).await?;
    let (_, sleeping, rows) = seen_from_outside(&ctx.pool).await?;
    lines.push(format!(
        "once the SLEEP ended: open transactions {open}, SLEEP running {sleeping}, rows \
         written {rows}"
    ));
    service.stop().await?;

    let limit = Duration::from_millis(200);
    let limited = ctx.service_with(2, crate::ACQUIRE_TIMEOUT, limit).await?;
    let reply = limited.http.get("/demo/slow-write?ms=1000").await?;
    lines.push(format!(
        "with a 200 ms time limit: GET /demo/slow-write?ms=1000 -> {}",
        reply.line()
    ));
    let open = until_no_transaction(&ctx.pool).await?;
    let (_, _, rows) = seen_from_outside(&ctx.pool).await?;
    lines.push(format!(
        "after it: open transactions {open}, rows written {rows}"
    ));
    limited.stop().await?;
    Ok(lines)
}
