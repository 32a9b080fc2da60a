//! Step 3: the pool's size bounds concurrency: the same queries at several pool sizes.

use anyhow::{Context, Result, bail};

use crate::report::{PoolSizes, Row, millis};
use crate::s1_concurrent::{ACQUIRE_TIMEOUT, run_join_all, run_sequential, sized_pool};
use crate::s1_concurrent::{Workload, timed};

// ANCHOR: pool_sizes
/// The pool sizes that step 3 compares.
pub const POOL_SIZES: [u32; 5] = [1, 2, 5, 10, 20];

/// The same N queries with `try_join_all`, on a fresh pool of each size in turn: the
/// wall time of each run.
pub async fn time_pool_sizes(
    url: &str,
    work: Workload,
) -> Result<Vec<(u32, std::time::Duration)>> {
    let mut walls = Vec::new();
    for size in POOL_SIZES {
        let pool = sized_pool(url, size, ACQUIRE_TIMEOUT).await?;
        let started = std::time::Instant::now();
        let rows = run_join_all(&pool, work).await?;
        walls.push((size, started.elapsed()));
        pool.close().await;
        if rows != work.expected() {
            bail!("a pool of {size} returned other rows than the sequential run");
        }
    }
    Ok(walls)
}
// ANCHOR_END: pool_sizes

/// Step 3's report: the sequential run, then a concurrent run at each pool size.
pub async fn run(ctx: &crate::Ctx) -> Result<PoolSizes> {
    let work = ctx.work;
    let row = |mode, pool_size, wall, ideal| Row {
        mode,
        pool_size,
        queries: work.queries,
        sleep_ms: u64::try_from(work.sleep.as_millis()).unwrap_or(u64::MAX),
        wall_ms: millis(wall),
        ideal_ms: millis(ideal),
    };
    let pool = sized_pool(&ctx.url, work.pool_size(), ACQUIRE_TIMEOUT)
        .await
        .context("cannot open the step's pool")?;
    let (sequential, wall) = timed(run_sequential(&pool, work)).await;
    pool.close().await;
    if sequential.context("the sequential run failed")? != work.expected() {
        bail!("the sequential run returned other rows than 0..N");
    }
    let mut rows = vec![row(
        "sequential",
        work.pool_size(),
        wall,
        work.sleep * work.queries,
    )];
    for (size, wall) in time_pool_sizes(&ctx.url, work).await? {
        rows.push(row("concurrent", size, wall, work.ideal(size)));
    }
    Ok(PoolSizes { work, rows })
}
