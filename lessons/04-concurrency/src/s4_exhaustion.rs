//! Step 4: an exhausted pool, and what `acquire_timeout` does about it.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::report::Exhaustion;
use crate::s1_concurrent::sized_pool;

// ANCHOR: exhaustion
/// A pool of 2, two transactions held open, and a third acquire that cannot be served.
pub async fn exhaust_pool(url: &str, acquire_timeout: Duration) -> Result<Exhaustion> {
    let pool = sized_pool(url, 2, acquire_timeout).await?;
    // Two tasks each hold a transaction, and so a connection, without finishing.
    let first = pool.begin().await?;
    let second = pool.begin().await?;

    let started = Instant::now();
    let outcome = pool.acquire().await.map(drop);
    let waited = started.elapsed();

    // Ending the transactions gives their connections back; the pool serves again.
    first.rollback().await?;
    second.rollback().await?;
    let recovered = pool.acquire().await.is_ok();
    pool.close().await;
    Ok(Exhaustion {
        pool_size: 2,
        held: 2,
        acquire_timeout,
        waited,
        outcome,
        recovered,
    })
}
// ANCHOR_END: exhaustion

/// Step 4's report: the exhausted pool, which must have timed out with `PoolTimedOut`.
pub async fn run(ctx: &crate::Ctx) -> Result<Exhaustion> {
    let exhausted = exhaust_pool(&ctx.url, ctx.acquire_timeout)
        .await
        .context("cannot run the exhaustion step")?;
    match &exhausted.outcome {
        Err(sqlx::Error::PoolTimedOut) => Ok(exhausted),
        Err(e) => {
            bail!("the third acquire failed with another error than PoolTimedOut: {e}")
        }
        Ok(()) => bail!("the third acquire succeeded: the pool was not exhausted"),
    }
}
