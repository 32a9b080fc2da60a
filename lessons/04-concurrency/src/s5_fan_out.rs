//! Step 5: many work items, bounded by a semaphore or not bounded at all.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, Result};
use sqlx::MySqlPool;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::report::{FanOut, FanOuts, millis};
use crate::s1_concurrent::{ACQUIRE_TIMEOUT, sized_pool};

// ANCHOR: fan_out_item
/// One work item: a point query on a connection of its own, counted while it runs.
pub async fn fan_out_item(
    pool: &MySqlPool,
    item: u32,
    stats: &FanOutStats,
) -> Result<i64> {
    let _alive = stats.items_alive.enter();
    let asked = Instant::now();
    let mut conn = pool.acquire().await?;
    let waited = u64::try_from(asked.elapsed().as_micros()).unwrap_or(u64::MAX);
    stats.longest_acquire_us.fetch_max(waited, Ordering::SeqCst);
    let _in_flight = stats.in_flight.enter();
    let doubled: i64 = sqlx::query_scalar("SELECT CAST(? AS SIGNED) * 2")
        .bind(item)
        .fetch_one(&mut *conn)
        .await?;
    Ok(doubled)
}
// ANCHOR_END: fan_out_item

// ANCHOR: bounded
/// `items` work items, never more than `limit` alive at once: a task is spawned only
/// when a semaphore permit is free. Returns the sum of the answers.
pub async fn bounded_fan_out(
    pool: &MySqlPool,
    items: u32,
    limit: usize,
    stats: &Arc<FanOutStats>,
) -> Result<i64> {
    let permits = Arc::new(Semaphore::new(limit));
    let mut tasks = JoinSet::new();
    let mut sum = 0;
    for item in 0..items {
        // Waits here, before spawning, while `limit` items are running.
        let permit = Arc::clone(&permits).acquire_owned().await?;
        let (pool, stats) = (pool.clone(), Arc::clone(stats));
        tasks.spawn(async move {
            let answer = fan_out_item(&pool, item, &stats).await;
            drop(permit);
            answer
        });
        // Collect what has finished, so that finished tasks do not pile up either.
        while let Some(finished) = tasks.try_join_next() {
            sum += finished??;
        }
    }
    while let Some(finished) = tasks.join_next().await {
        sum += finished??;
    }
    Ok(sum)
}
// ANCHOR_END: bounded

// ANCHOR: unbounded
/// `items` work items, all spawned at once: they queue inside the pool for a connection.
pub async fn unbounded_fan_out(
    pool: &MySqlPool,
    items: u32,
    stats: &Arc<FanOutStats>,
) -> Result<i64> {
    let mut tasks = JoinSet::new();
    for item in 0..items {
        let (pool, stats) = (pool.clone(), Arc::clone(stats));
        tasks.spawn(async move { fan_out_item(&pool, item, &stats).await });
    }
    let mut sum = 0;
    while let Some(finished) = tasks.join_next().await {
        sum += finished??;
    }
    Ok(sum)
}
// ANCHOR_END: unbounded

/// The pool size of step 5's fan-out.
pub const FAN_OUT_POOL: u32 = 5;

/// Counts how many of something are alive now, and the most that ever were at once.
#[derive(Debug, Default)]
pub struct HighWater {
    now: AtomicUsize,
    peak: AtomicUsize,
}

/// Keeps one count in a [`HighWater`] until dropped.
#[derive(Debug)]
pub struct Counted<'a>(&'a HighWater);

impl HighWater {
    /// Counts one more until the returned guard is dropped.
    pub fn enter(&self) -> Counted<'_> {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        Counted(self)
    }

    /// The most that were ever alive at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What step 5 counts while it fans out.
#[derive(Debug, Default)]
pub struct FanOutStats {
    /// Work items started and not yet finished (spawned tasks, or futures in a stream).
    pub items_alive: HighWater,
    /// Queries holding a connection and running on the server.
    pub in_flight: HighWater,
    /// The longest wait for a connection from the pool, in microseconds.
    pub longest_acquire_us: AtomicU64,
}

/// [`bounded_fan_out`], measured.
pub async fn measured_bounded(
    pool: &MySqlPool,
    items: u32,
    limit: usize,
) -> Result<FanOut> {
    let stats = Arc::new(FanOutStats::default());
    let rss = reset_peak_rss();
    let started = Instant::now();
    let sum = bounded_fan_out(pool, items, limit, &stats).await?;
    Ok(fan_out_report(
        "bounded", pool, items, sum, &stats, started, rss,
    ))
}

/// [`unbounded_fan_out`], measured.
pub async fn measured_unbounded(pool: &MySqlPool, items: u32) -> Result<FanOut> {
    let stats = Arc::new(FanOutStats::default());
    let rss = reset_peak_rss();
    let started = Instant::now();
    let sum = unbounded_fan_out(pool, items, &stats).await?;
    Ok(fan_out_report(
        "unbounded",
        pool,
        items,
        sum,
        &stats,
        started,
        rss,
    ))
}

fn fan_out_report(
    mode: &'static str,
    pool: &MySqlPool,
    items: u32,
    sum: i64,
    stats: &FanOutStats,
    started: Instant,
    rss_at_start: Option<u64>,
) -> FanOut {
    let wall = started.elapsed();
    let peak_rss_growth_kib = rss_at_start
        .zip(peak_rss_kib())
        .map(|(start, peak)| peak.saturating_sub(start));
    FanOut {
        mode,
        items,
        pool_size: pool.options().get_max_connections(),
        sum,
        peak_items_alive: stats.items_alive.peak(),
        peak_in_flight: stats.in_flight.peak(),
        longest_acquire_ms: stats.longest_acquire_us.load(Ordering::SeqCst) as f64
            / 1000.0,
        wall_ms: millis(wall),
        peak_rss_growth_kib,
    }
}

/// The sum both fan-outs must return: every item doubled.
pub fn expected_fan_out_sum(items: u32) -> i64 {
    (0..i64::from(items)).map(|i| i * 2).sum()
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets the kernel's peak-RSS mark (`VmHWM`) to the current resident size and returns
/// that size in KiB. Linux only: `None` elsewhere.
fn reset_peak_rss() -> Option<u64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    status_kib("VmRSS:")
}

fn peak_rss_kib() -> Option<u64> {
    status_kib("VmHWM:")
}

/// Step 5's report: the same work items fanned out bounded, then unbounded.
pub async fn run(ctx: &crate::Ctx) -> Result<FanOuts> {
    let pool = sized_pool(&ctx.url, FAN_OUT_POOL, ACQUIRE_TIMEOUT)
        .await
        .context("cannot open the step's pool")?;
    let bounded = measured_bounded(&pool, ctx.items, FAN_OUT_POOL as usize)
        .await
        .context("the bounded fan-out failed")?;
    let unbounded = measured_unbounded(&pool, ctx.items)
        .await
        .context("the unbounded fan-out failed")?;
    pool.close().await;
    Ok(FanOuts {
        items: ctx.items,
        pool_size: FAN_OUT_POOL,
        expected_sum: expected_fan_out_sum(ctx.items),
        runs: vec![bounded, unbounded],
    })
}
