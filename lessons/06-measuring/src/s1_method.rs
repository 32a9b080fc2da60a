//! Step 1: the method. Pools filled before timing, one untimed warm-up, at least three
//! timed runs reported as minimum and median, and the machine and the server recorded
//! next to the figures.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use diesel_async::AsyncMysqlConnection as MysqlConn;
use diesel_async::pooled_connection::deadpool::Pool as DieselPool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use futures::future::try_join_all;
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use sqlx::mysql::{MySqlPool, MySqlPoolOptions};

use crate::report::Machine;
use crate::{Check, Pool, Stack};

// ANCHOR: open_pool
/// Opens a pool of exactly `size` connections for `stack`, and opens all of them now, so
/// that no timed run ever pays for a connection's set-up.
pub async fn open_pool(stack: Stack, url: &str, size: u32, check: Check) -> Result<Pool> {
    let pool = match stack {
        Stack::DieselAsync => Pool::Diesel(diesel_pool(url, size, check)?),
        Stack::SeaOrm => Pool::SeaOrm(seaorm_pool(url, size, check).await?),
        _ => Pool::Sqlx(
            MySqlPoolOptions::new()
                .max_connections(size)
                .min_connections(size)
                .acquire_timeout(Duration::from_secs(30))
                .test_before_acquire(check == Check::BeforeEachUse)
                .connect(url)
                .await
                .context("cannot open a sqlx pool")?,
        ),
    };
    // Hold `size` connections at once: each is opened now, then goes back to the pool
    // idle.
    let held = try_join_all((0..size).map(|_| pool.get())).await?;
    drop(held);
    Ok(pool)
}
// ANCHOR_END: open_pool

// ANCHOR: diesel_pool
/// deadpool with diesel-async's manager. `Verified`, the default, runs a query on each
/// connection before handing it out; `Fast` hands it out as it is.
fn diesel_pool(url: &str, size: u32, check: Check) -> Result<DieselPool<MysqlConn>> {
    let mut config = ManagerConfig::default();
    config.recycling_method = match check {
        Check::BeforeEachUse => RecyclingMethod::Verified,
        Check::Never => RecyclingMethod::Fast,
    };
    let manager = AsyncDieselConnectionManager::new_with_config(url, config);
    let pool = DieselPool::builder(manager).max_size(size as usize).build();
    pool.context("cannot build the deadpool pool")
}
// ANCHOR_END: diesel_pool

// ANCHOR: seaorm_pool
/// SeaORM's `ConnectOptions` set up the sqlx pool underneath it, with the same size and
/// check as the sqlx stacks; its connections are opened now, through that pool.
async fn seaorm_pool(url: &str, size: u32, check: Check) -> Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(size)
        .min_connections(size)
        .acquire_timeout(Duration::from_secs(30))
        .test_before_acquire(check == Check::BeforeEachUse)
        .sqlx_logging(false);
    let db = Database::connect(options)
        .await
        .context("cannot open a SeaORM pool")?;
    let sqlx_pool = db.get_mysql_connection_pool();
    drop(try_join_all((0..size).map(|_| sqlx_pool.acquire())).await?);
    Ok(db)
}
// ANCHOR_END: seaorm_pool

// ANCHOR: measure
/// Runs `run` once untimed (the warm-up: statement caches, buffer pool, branch
/// predictors), then `repeats` times timed. Each run returns the time it measured itself,
/// so that set-up and clean-up stay out of it, and its result; the last result is
/// returned for checking.
pub async fn measure<T, F, Fut>(
    label: &str,
    repeats: usize,
    mut run: F,
) -> Result<(Timing, T)>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(Duration, T)>>,
{
    eprint!("lesson-6: {label}: warm-up");
    let warm_up = run().await;
    let (_, mut last) =
        warm_up.with_context(|| format!("{label}: the warm-up failed"))?;
    let mut runs = Vec::with_capacity(repeats);
    for i in 1..=repeats {
        let (took, result) = run().await.with_context(|| format!("{label}: run {i}"))?;
        eprint!(", {took:.1?}");
        runs.push(took);
        last = result;
    }
    eprintln!();
    Ok((Timing::of(runs)?, last))
}
// ANCHOR_END: measure

// ANCHOR: timed
/// Times one future: its result and how long it took.
pub async fn timed<T>(work: impl Future<Output = Result<T>>) -> Result<(Duration, T)> {
    let start = Instant::now();
    let result = work.await?;
    Ok((start.elapsed(), result))
}
// ANCHOR_END: timed

// ANCHOR: timing
/// The minimum and the median of the timed runs of one workload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// The fastest run.
    pub min: Duration,
    /// The median run (the mean of the middle two for an even count).
    pub median: Duration,
    /// How many timed runs.
    pub repeats: usize,
}

impl Timing {
    /// The minimum and the median of `runs`, which must not be empty.
    pub fn of(mut runs: Vec<Duration>) -> Result<Timing> {
        if runs.is_empty() {
            bail!("no timed runs");
        }
        runs.sort();
        let (n, min) = (runs.len(), runs[0]);
        let median = match n % 2 {
            1 => runs[n / 2],
            _ => (runs[n / 2 - 1] + runs[n / 2]) / 2,
        };
        Ok(Timing {
            min,
            median,
            repeats: n,
        })
    }
}
// ANCHOR_END: timing

// ANCHOR: machine
/// The CPU model from `/proc/cpuinfo`, or `unknown`.
pub fn cpu_model() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    info.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown".to_owned(), |(_, model)| model.trim().to_owned())
}

/// `/proc/loadavg`'s 1, 5 and 15 minute load averages, or `unknown`.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// The server's version and `innodb_flush_log_at_trx_commit`: with 1, every commit
/// waits for the redo log to reach the disk.
pub async fn server_settings(pool: &MySqlPool) -> sqlx::Result<(String, String)> {
    sqlx::query_as("SELECT VERSION(), CAST(@@innodb_flush_log_at_trx_commit AS CHAR)")
        .fetch_one(pool)
        .await
}
// ANCHOR_END: machine

/// Step 1's report: the machine, the build, the server and the counts.
pub async fn run(ctx: &crate::Ctx) -> Result<Machine> {
    let (server_version, flush) = server_settings(&ctx.pool)
        .await
        .context("cannot read the server's settings")?;
    Ok(Machine {
        cpu: cpu_model(),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        load_average: load_average(),
        build: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        server_version,
        innodb_flush_log_at_trx_commit: flush,
        floor_client: ctx.floor.as_ref().map(|f| f.client_name().to_owned()),
        counts: ctx.counts.clone(),
        sqlalchemy: None,
    })
}
