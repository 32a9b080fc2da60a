//! Step 6: fault injection. Pause the server, then kill it, mid-test, through
//! testcontainers' container API; the code under test fails clearly, recovers, and
//! loses nothing it had acknowledged.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use sqlx::MySqlPool;
use sqlx::mysql::MySqlPoolOptions;

use crate::Ctx;
use crate::s2_testcontainers::{Server, start_mysql, wait_until_it_answers};

// ANCHOR: code_under_test
/// The code under test: a pool that gives up on a connection within `limit`, and checks
/// each connection before handing it out, so that one broken by a restart is replaced.
pub async fn pool_with_limits(url: &str, limit: Duration) -> Result<MySqlPool> {
    Ok(MySqlPoolOptions::new()
        .max_connections(3)
        .acquire_timeout(limit)
        .test_before_acquire(true)
        .connect(url)
        .await?)
}

/// Records an event; returns once the server has acknowledged it.
pub async fn record(pool: &MySqlPool, what: &str) -> Result<()> {
    sqlx::query("INSERT INTO events (what) VALUES (?)")
        .bind(what)
        .execute(pool)
        .await?;
    Ok(())
}
// ANCHOR_END: code_under_test

/// What the faults did, for the report.
#[derive(Debug, Default)]
pub struct Faults {
    /// The error a write got while the server was paused.
    pub while_paused: String,
    /// The error a write got while the server was stopped.
    pub while_stopped: String,
    /// Events the server acknowledged.
    pub acknowledged: i64,
    /// Events in the table at the end.
    pub found: i64,
}

// ANCHOR: pause
/// Pauses the container mid-test: a write gives up (the pool's limit, or ours); once
/// it is unpaused, the same pool writes again. Returns what the write said.
pub async fn pause_mid_test(server: &Server, pool: &MySqlPool) -> Result<String> {
    server.container.pause().await?;
    let write = tokio::time::timeout(Duration::from_secs(3), record(pool, "paused"));
    let said = match write.await {
        Err(_) => "timed out after 3 s".to_owned(),
        Ok(outcome) => said(outcome),
    };
    server.container.unpause().await?;
    record(pool, "after the pause").await?;
    Ok(said)
}
// ANCHOR_END: pause

// ANCHOR: kill
/// Kills the server mid-test (SIGKILL, as a crash): a write fails; once it is started
/// again, the same pool writes again. Returns what the write said.
pub async fn kill_mid_test(
    server: &Server,
    pool: &MySqlPool,
    url: &str,
) -> Result<String> {
    server.container.stop_with_timeout(Some(0)).await?;
    let said = said(record(pool, "stopped").await);
    server.container.start().await?;
    wait_until_it_answers(url, Duration::from_secs(120)).await?;
    record(pool, "after the restart").await?;
    Ok(said)
}
// ANCHOR_END: kill

/// A write's outcome in words.
fn said(outcome: Result<()>) -> String {
    match outcome {
        Ok(()) => "ok".to_owned(),
        Err(e) => e.to_string(),
    }
}

// ANCHOR: faults
/// One write before, a pause, a kill; then what was acknowledged against what is there.
pub async fn pause_and_kill(server: &Server) -> Result<Faults> {
    let url = format!("{}/test", server.url);
    let pool = pool_with_limits(&url, Duration::from_secs(2)).await?;
    sqlx::query("CREATE TABLE events (id INT AUTO_INCREMENT PRIMARY KEY, what TEXT)")
        .execute(&pool)
        .await?;
    record(&pool, "before").await?;
    let while_paused = pause_mid_test(server, &pool).await?;
    let while_stopped = kill_mid_test(server, &pool, &url).await?;
    let lucky = [&while_paused, &while_stopped];
    let acknowledged = 3 + lucky.iter().filter(|s| s.as_str() == "ok").count() as i64;
    let found = sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(&pool)
        .await?;
    pool.close().await;
    Ok(Faults {
        while_paused,
        while_stopped,
        acknowledged,
        found,
    })
}
// ANCHOR_END: faults

/// A free port on the loopback interface, for a container that must keep its port
/// across a restart.
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// The same faults, on a container of the step's own.
pub async fn run(ctx: &Ctx) -> Result<String> {
    if !ctx.docker {
        return Ok("skipped: no Docker daemon answered".to_owned());
    }
    let started = Instant::now();
    let server = start_mysql(free_port()?)
        .await
        .context("cannot start the step's container")?;
    let faults = pause_and_kill(&server).await?;
    ctx.record(
        "fault injection, container of its own",
        1,
        started.elapsed(),
    );
    drop(server);
    Ok(format!(
        "a write while the container is paused: {}\n\
         a write while the container is stopped: {}\n\
         writes after unpause and after restart: ok\n\
         events acknowledged: {}, in the table after the restart: {}",
        first_words(&faults.while_paused),
        first_words(&faults.while_stopped),
        faults.acknowledged,
        faults.found
    ))
}

/// The error without what varies (addresses, OS error numbers).
fn first_words(error: &str) -> &str {
    error.split(':').next().unwrap_or(error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::ensure;

    // ANCHOR: tests
    #[tokio::test]
    #[ignore = "needs a Docker daemon; run with `cargo test -- --include-ignored`"]
    async fn writes_fail_clearly_while_the_server_is_down_and_nothing_is_lost()
    -> Result<()> {
        // A container of its own: stopping the shared one would fail the other tests.
        let server = start_mysql(free_port()?).await?;
        let faults = pause_and_kill(&server).await?;
        ensure!(faults.while_paused != "ok" && faults.while_stopped != "ok");
        // Every acknowledged write is there; an unacknowledged one may be too.
        let (acked, found) = (faults.acknowledged, faults.found);
        ensure!(acked <= found && found <= 5, "{faults:?}");
        Ok(())
    }
    // ANCHOR_END: tests
}
