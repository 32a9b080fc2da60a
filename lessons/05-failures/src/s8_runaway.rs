//! Step 8: a runaway query, stopped by a time limit on the server.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use sqlx::AssertSqlSafe;
use sqlx::mysql::MySqlPool;

use crate::report::{Provoked, RunawayReport};

// ANCHOR: statement_timeout
/// `select` with a server-side time limit of `limit_ms`, in the dialect of `kind`.
///
/// NOTE: MySQL has the optimizer hint `MAX_EXECUTION_TIME(ms)`, for `SELECT` only;
/// MariaDB ignores that hint (to it, a comment) and has `SET STATEMENT max_statement_time
/// = <seconds> FOR ...` instead, which works for any statement.
pub fn with_time_limit(kind: ServerKind, select: &str, limit_ms: u64) -> Result<String> {
    let Some(rest) = select.trim_start().strip_prefix("SELECT ") else {
        bail!("only a SELECT can be given a time limit here: {select}");
    };
    Ok(match kind {
        ServerKind::MySql => {
            format!("SELECT /*+ MAX_EXECUTION_TIME({limit_ms}) */ {rest}")
        }
        ServerKind::MariaDb => format!(
            "SET STATEMENT max_statement_time = {}.{:03} FOR SELECT {rest}",
            limit_ms / 1000,
            limit_ms % 1000
        ),
    })
}
// ANCHOR_END: statement_timeout

/// Which server the lesson talks to, from `SELECT VERSION()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    /// MariaDB: `VERSION()` says `...-MariaDB...`.
    MariaDb,
    /// Oracle's MySQL.
    MySql,
}

/// Tells MariaDB from MySQL by `VERSION()`.
pub async fn server_kind(pool: &MySqlPool) -> Result<(ServerKind, String)> {
    let version: String = sqlx::query_scalar("SELECT VERSION()")
        .fetch_one(pool)
        .await
        .context("cannot read the server version")?;
    let kind = if version.contains("MariaDB") {
        ServerKind::MariaDb
    } else {
        ServerKind::MySql
    };
    Ok((kind, version))
}

/// Step 8: a count over a billion-row cross join, stopped by a 500 ms statement time
/// limit; then a small join under the same limit, which finishes.
pub async fn runaway_query(pool: &MySqlPool) -> Result<RunawayReport> {
    sqlx::query(
        "INSERT IGNORE INTO lesson5_digits (d) \
         VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)",
    )
    .execute(pool)
    .await
    .context("cannot fill the digits table")?;
    let (kind, version) = server_kind(pool).await?;
    // NOTE: MySQL 9 counts a bare cross join without visiting its rows (a billion in 0.3
    // s); the WHERE clause makes it look at every one, as a real runaway query would.
    let runaway = "SELECT COUNT(*) FROM lesson5_digits a, lesson5_digits b, \
                   lesson5_digits c, lesson5_digits d, lesson5_digits e, \
                   lesson5_digits f, lesson5_digits g, lesson5_digits h, \
                   lesson5_digits i \
                   WHERE a.d + b.d + c.d + d.d + e.d + f.d + g.d + h.d + i.d >= 0";
    let quick = "SELECT COUNT(*) FROM lesson5_digits a, lesson5_digits b, \
                 lesson5_digits c WHERE a.d + b.d + c.d >= 0";
    let runaway_sql = with_time_limit(kind, runaway, 500)?;
    let started = Instant::now();
    let runaway_result = count(pool, &runaway_sql).await;
    let stopped_after = started.elapsed();
    let quick_result = count(pool, &with_time_limit(kind, quick, 500)?).await;
    Ok(RunawayReport {
        kind,
        version,
        runaway_sql,
        runaway: runaway_result,
        stopped_after,
        quick: quick_result,
    })
}

async fn count(pool: &MySqlPool, sql: &str) -> Result<i64, Provoked> {
    sqlx::query_scalar(AssertSqlSafe(sql.to_owned()))
        .fetch_one(pool)
        .await
        .map_err(|e| Provoked::from_error(&e, None))
}

/// Step 8's report: the runaway query stopped, and a quick one under the same limit.
pub async fn run(ctx: &crate::Ctx) -> Result<RunawayReport> {
    runaway_query(&ctx.pool)
        .await
        .context("the runaway-query step failed")
}
