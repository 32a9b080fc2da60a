//! Step 6: connections the server closed while they sat idle in the pool.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result};
use sqlx::Connection;
use sqlx::mysql::{MySqlPool, MySqlPoolOptions};

use crate::report::{Stale, StaleReport};
use crate::s1_duplicates::{Failure, classify};

// ANCHOR: stale_pools
/// Three ways to set up a pool of `size`: with neither guard, with a ping before each
/// acquire, and with idle connections retired before the server's `wait_timeout` (2 s
/// in this step) closes them.
pub fn stale_pool_options(size: u32) -> [MySqlPoolOptions; 3] {
    let base = || {
        MySqlPoolOptions::new()
            .max_connections(size)
            .acquire_timeout(Duration::from_secs(5))
            .idle_timeout(None)
            .max_lifetime(None)
    };
    let unguarded = base().test_before_acquire(false);
    let tested = base().test_before_acquire(true);
    let retired = base()
        .test_before_acquire(false)
        .idle_timeout(Duration::from_secs(1))
        .max_lifetime(Duration::from_secs(30 * 60));
    [unguarded, tested, retired]
}
// ANCHOR_END: stale_pools

/// The server's `wait_timeout` during the step, in seconds.
pub const WAIT_TIMEOUT_SECS: u64 = 2;

/// Step 6: sets `wait_timeout` to 2 s server-wide, warms three pools, stays idle for
/// `idle`, then runs `queries` queries on each; restores `wait_timeout` whatever happens.
///
/// Changes a global setting: only for a server started for the lesson alone.
pub async fn stale_connections(
    url: &str,
    idle: Duration,
    queries: u32,
) -> Result<StaleReport> {
    let mut admin = crate::connect_one(url).await?;
    let original: u64 = sqlx::query_scalar("SELECT @@GLOBAL.wait_timeout")
        .fetch_one(&mut admin)
        .await
        .context("cannot read wait_timeout")?;
    sqlx::query("SET GLOBAL wait_timeout = ?")
        .bind(WAIT_TIMEOUT_SECS)
        .execute(&mut admin)
        .await
        .context("cannot set wait_timeout")?;
    let outcome = queries_after_idling(url, idle, queries).await;
    sqlx::query("SET GLOBAL wait_timeout = ?")
        .bind(original)
        .execute(&mut admin)
        .await
        .context("cannot restore wait_timeout")?;
    let now: u64 = sqlx::query_scalar("SELECT @@GLOBAL.wait_timeout")
        .fetch_one(&mut admin)
        .await
        .context("cannot read wait_timeout")?;
    admin.close().await.ok();
    let [unguarded, tested, retired] = outcome?;
    Ok(StaleReport {
        wait_timeout: WAIT_TIMEOUT_SECS,
        idle,
        original_wait_timeout: original,
        queries,
        unguarded,
        tested,
        retired,
        restored: now == original,
    })
}

async fn queries_after_idling(
    url: &str,
    idle: Duration,
    queries: u32,
) -> Result<[BTreeMap<Failure, u64>; 3]> {
    const SIZE: u32 = 5;
    let mut pools: Vec<MySqlPool> = Vec::new();
    for options in stale_pool_options(SIZE) {
        let pool = options
            .connect(url)
            .await
            .context("cannot open step 6's pools")?;
        pools.push(pool);
    }
    // Open all five connections of each pool: hold them at once, then give them back.
    for pool in &pools {
        let mut held = Vec::new();
        for _ in 0..SIZE {
            held.push(pool.acquire().await?);
        }
    }
    tokio::time::sleep(idle).await;
    let mut results = Vec::new();
    for pool in &pools {
        let mut failures: BTreeMap<Failure, u64> = BTreeMap::new();
        for _ in 0..queries {
            if let Err(e) = sqlx::query("SELECT 1").execute(pool).await {
                *failures.entry(classify(&e)).or_default() += 1;
            }
        }
        results.push(failures);
        pool.close().await;
    }
    results
        .try_into()
        .map_err(|_| anyhow::anyhow!("three results expected"))
}

/// Step 6's report: 100 queries on each pool after 3 s idle, or that the step was
/// skipped on a server that others may be using.
pub async fn run(ctx: &crate::Ctx) -> Result<Stale> {
    if ctx.server.is_none() {
        return Ok(Stale::Skipped);
    }
    let report = stale_connections(&ctx.url, Duration::from_secs(3), 100)
        .await
        .context("the stale-connections step failed")?;
    Ok(Stale::Ran(report))
}
