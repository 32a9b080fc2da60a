//! Step 1: a primary and two replicas that copy it by GTID, and the replicas' lag,
//! measured under a write load.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::time::{MissedTickBehavior, interval};

use anyhow::{Context, Result, bail};
use sqlx::mysql::{MySqlConnection, MySqlPool};
use sqlx::{Connection, MySqlPool as Pool};

use crate::Ctx;
use crate::report::{LagReport, ReplicaLag, Summary};

/// How long a replica may take to show a write before the sample is an error.
const LAG_LIMIT: Duration = Duration::from_secs(30);

// ANCHOR: lag_sample
/// One lag sample, as the application feels it: bump the heartbeat on the primary, then
/// read it on each replica until the new value shows. The lag is the time from the
/// primary's acknowledgement to the replica's answer, one round trip of resolution.
pub async fn lag_sample(
    primary: &MySqlPool,
    replicas: &mut [MySqlConnection],
    beat: i64,
) -> Result<Vec<Duration>> {
    sqlx::query("UPDATE heartbeat SET beat = ? WHERE id = 1")
        .bind(beat)
        .execute(primary)
        .await?;
    let acknowledged = Instant::now();
    let mut lags = Vec::with_capacity(replicas.len());
    for replica in replicas.iter_mut() {
        loop {
            let seen: i64 = sqlx::query_scalar("SELECT beat FROM heartbeat WHERE id = 1")
                .fetch_one(&mut *replica)
                .await?;
            if seen >= beat {
                lags.push(acknowledged.elapsed());
                break;
            }
            if acknowledged.elapsed() > LAG_LIMIT {
                bail!("a replica did not show beat {beat} within {LAG_LIMIT:?}");
            }
        }
    }
    Ok(lags)
}
// ANCHOR_END: lag_sample

// ANCHOR: write_load
/// The write load: `writers` tasks inserting 200-byte rows into `events` on the primary,
/// each at most `per_second` a second, until `stop` is set. Returns the rows written.
pub async fn write_load(
    pool: MySqlPool,
    writers: u32,
    per_second: u32,
    stop: Arc<AtomicBool>,
) -> u64 {
    let mut tasks = tokio::task::JoinSet::new();
    for writer in 0..writers {
        let (pool, stop) = (pool.clone(), stop.clone());
        let mut pace = interval(Duration::from_secs(1) / per_second.max(1));
        pace.set_missed_tick_behavior(MissedTickBehavior::Delay);
        tasks.spawn(async move {
            let mut written = 0;
            while !stop.load(Ordering::Relaxed) {
                pace.tick().await;
                let insert =
                    sqlx::query("INSERT INTO events (writer, payload) VALUES (?, ?)")
                        .bind(writer)
                        .bind("x".repeat(200))
                        .execute(&pool)
                        .await;
                written += u64::from(insert.is_ok());
            }
            written
        });
    }
    tasks.join_all().await.into_iter().sum()
}
// ANCHOR_END: write_load

/// Samples the lag every 10 ms for `how_long`, while `writers` tasks write (none: idle).
/// Returns each replica's lags, and the rows written per second.
pub(crate) async fn sample_lag(
    ctx: &Ctx,
    primary: &Pool,
    writers: u32,
    how_long: Duration,
) -> Result<(Vec<Vec<Duration>>, f64)> {
    let mut replicas = Vec::new();
    for replica in ctx.replicas() {
        replicas.push(
            MySqlConnection::connect(&replica.url)
                .await
                .with_context(|| format!("cannot connect to {}", replica.name))?,
        );
    }
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(write_load(
        primary.clone(),
        writers,
        ctx.sizes.rate,
        stop.clone(),
    ));
    let started = Instant::now();
    let mut lags = vec![Vec::new(); replicas.len()];
    let mut beat: i64 = sqlx::query_scalar("SELECT beat FROM heartbeat WHERE id = 1")
        .fetch_one(primary)
        .await?;
    let sampled = async {
        while started.elapsed() < how_long {
            beat += 1;
            for (i, lag) in lag_sample(primary, &mut replicas, beat)
                .await?
                .into_iter()
                .enumerate()
            {
                lags[i].push(lag);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        anyhow::Ok(())
    }
    .await;
    stop.store(true, Ordering::Relaxed);
    let written = load.await.context("the write load failed")?;
    sampled?;
    for replica in replicas {
        replica.close().await.ok();
    }
    Ok((lags, written as f64 / started.elapsed().as_secs_f64()))
}

/// Step 1: the lag of each replica, idle and then under `writers` writing tasks.
pub async fn run(ctx: &Ctx) -> Result<LagReport> {
    let primary =
        crate::s2_split::pool(&ctx.primary().url, ctx.sizes.writers + 2).await?;
    let how_long = Duration::from_millis(ctx.sizes.load_ms);
    let mut report = LagReport {
        flavor: ctx.flavor,
        replicas: ctx.replicas().iter().map(|r| r.name.clone()).collect(),
        writers: ctx.sizes.writers,
        rows: Vec::new(),
        samples_ms: Vec::new(),
    };
    for writers in [0, ctx.sizes.writers] {
        let (lags, rate) = sample_lag(ctx, &primary, writers, how_long / 2).await?;
        for (name, lags) in report.replicas.clone().iter().zip(&lags) {
            report.rows.push(ReplicaLag {
                replica: name.clone(),
                writers,
                rows_per_second: rate,
                lag: Summary::of(lags),
            });
            if writers > 0 {
                report
                    .samples_ms
                    .push(lags.iter().map(|d| d.as_secs_f64() * 1e3).collect());
            }
        }
    }
    primary.close().await;
    Ok(report)
}
