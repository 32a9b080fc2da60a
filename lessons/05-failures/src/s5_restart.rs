//! Step 5: the server killed mid-load and restarted; the pool rides it out.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use sqlx::mysql::{MySqlPool, MySqlPoolOptions};

use crate::reconcile::{Request, requests_around_a_kill};
use crate::report::{Restart, RestartReport};
use crate::s1_duplicates::classify;
use crate::{ServerAction, ServerControl};

// ANCHOR: restart_pool
/// The pool for a service that must ride out restarts: a short acquire timeout, so that
/// requests fail fast while the server is down instead of piling up, and a ping before
/// each acquire (sqlx's default), so that connections the restart killed are replaced,
/// not used.
pub async fn resilient_pool(url: &str, size: u32) -> sqlx::Result<MySqlPool> {
    MySqlPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(Duration::from_millis(500))
        .test_before_acquire(true)
        .connect(url)
        .await
}
// ANCHOR_END: restart_pool

/// One worker of the load: inserts a row with the next key every 5 ms until `stop`.
async fn insert_steadily(
    pool: MySqlPool,
    stop: Arc<AtomicBool>,
    next_key: Arc<AtomicU64>,
) -> Vec<Request> {
    let mut seen = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let key = i64::try_from(next_key.fetch_add(1, Ordering::Relaxed)).unwrap_or(-1);
        let started = Instant::now();
        let outcome = sqlx::query("INSERT INTO lesson5_load (k) VALUES (?)")
            .bind(key)
            .execute(&pool)
            .await
            .map(|_| ())
            .map_err(|e| classify(&e));
        seen.push(Request {
            started,
            finished: Instant::now(),
            key,
            outcome,
        });
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    seen
}

/// Runs a blocking action on the server (kill or restart) off the async threads.
async fn on_the_server(action: &ServerAction, what: &str) -> Result<()> {
    let action = action.clone();
    tokio::task::spawn_blocking(move || action())
        .await
        .with_context(|| format!("the task to {what} the server failed"))?
        .with_context(|| format!("cannot {what} the server"))
}

/// How long each phase of step 5 lasts.
#[derive(Debug, Clone, Copy)]
pub struct Phases {
    /// Load before the kill.
    pub before: Duration,
    /// The server down.
    pub down: Duration,
    /// Load after the first success following the restart.
    pub after: Duration,
}

/// Step 5: `workers` tasks insert rows steadily; after `phases.before`, the server is
/// killed (as a crash would), left down for `phases.down`, restarted on the same port
/// and data directory, and the load goes on for `phases.after` past the first success.
///
/// Only for a server started for the lesson alone: `server` kills and restarts it.
pub async fn server_restart(
    server: &ServerControl,
    url: &str,
    workers: usize,
    phases: Phases,
) -> Result<RestartReport> {
    let pool = resilient_pool(url, u32::try_from(workers)?)
        .await
        .context("cannot open step 5's pool")?;
    sqlx::query("DELETE FROM lesson5_load")
        .execute(&pool)
        .await
        .context("cannot clear the load table")?;

    let stop = Arc::new(AtomicBool::new(false));
    let next_key = Arc::new(AtomicU64::new(1));
    let mut handles = Vec::new();
    for _ in 0..workers {
        let load = insert_steadily(pool.clone(), stop.clone(), next_key.clone());
        handles.push(tokio::spawn(load));
    }

    tokio::time::sleep(phases.before).await;
    on_the_server(&server.kill, "kill").await?;
    // The server is surely down from here: stopping a container takes a moment, and
    // requests started during that moment may still succeed.
    let killed_at = Instant::now();
    tokio::time::sleep(phases.down).await;
    let restarting = Instant::now();
    on_the_server(&server.restart, "restart").await?;
    let restart_took = restarting.elapsed();

    // Let the load run until `after` has passed since the first success after the kill.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        tokio::time::sleep(phases.after).await;
        if Instant::now() > deadline {
            break;
        }
        let probe = sqlx::query("SELECT 1").execute(&pool).await;
        if probe.is_ok() {
            tokio::time::sleep(phases.after).await;
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut requests = Vec::new();
    for handle in handles {
        requests.extend(handle.await.context("a load task failed")?);
    }
    let present: Vec<i64> = sqlx::query_scalar("SELECT k FROM lesson5_load")
        .fetch_all(&pool)
        .await
        .context("cannot read the load table")?;
    let present: BTreeSet<i64> = present.into_iter().collect();
    pool.close().await;
    requests_around_a_kill(&requests, killed_at, restart_took, &present)
}

/// Step 5's report: the load around a kill and restart of the server, or that the step
/// was skipped on a server that others may be using.
pub async fn run(ctx: &crate::Ctx) -> Result<Restart> {
    let Some(server) = &ctx.server else {
        return Ok(Restart::Skipped);
    };
    let half_a_second = Duration::from_millis(500);
    let phases = Phases {
        before: half_a_second,
        down: half_a_second,
        after: half_a_second,
    };
    let report = server_restart(server, &ctx.url, 4, phases)
        .await
        .context("the restart step failed")?;
    Ok(Restart::Ran(report))
}
