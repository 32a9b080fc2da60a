//! Lesson 8: serving it. A small customers API on axum over one sqlx pool, its errors as
//! HTTP, cancellation and a per-request timeout, readiness, graceful shutdown and
//! per-request SQL tracing; then the service under load, measured, beside the same API
//! written with FastAPI and SQLAlchemy.
//!
//! One module a step, in the chapter's order. Each starts with the code the book shows;
//! its `run`, at the end, is what `main.rs` calls, and returns a report of plain data
//! that [`report`] prints. The tests call the same functions, and drive the same
//! service over real HTTP.
//!
//! The lesson adds customers named `l8-...` to the article's `customers` table and
//! deletes exactly those ([`forget_lesson_rows`]).

pub mod s1_state;
pub mod s2_routes;
pub mod s3_search;
pub mod s4_errors;
pub mod s5_mistakes;
pub mod s6_cancellation;
pub mod s7_operations;
pub mod s8_load;
pub mod s9_beside_fastapi;

pub mod bench;
pub mod client;
pub mod report;
pub mod running;

// The exercises at the end of the chapter. With the `solutions` feature, the worked
// answers stand in their place, so that CI can check that every exercise is solvable.
#[cfg(not(feature = "solutions"))]
pub mod exercises;
#[cfg(feature = "solutions")]
#[path = "solutions.rs"]
pub mod exercises;

use std::time::Duration;

use anyhow::{Context, Result};
use sqlx::mysql::MySqlPool;

pub use client::{Http, Reply};
pub use running::Running;
pub use s1_state::{AppState, app, routes, service_pool};
pub use s2_routes::{Customer, CustomerPage, NewCustomer};
pub use s3_search::Filters;
pub use s4_errors::{ApiError, ErrorBody};
pub use s8_load::{Load, drive_load};

/// The prefix of every customer the lesson adds; [`forget_lesson_rows`] deletes them.
pub const PREFIX: &str = "l8-";

/// The acquire timeout of the service's pool, unless `--acquire-timeout-ms` says
/// otherwise: short, so that a saturated pool answers 503 quickly.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(250);

/// How long one request may take, end to end, unless `--request-timeout-ms` says
/// otherwise.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// The command line.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "lesson-8",
    about = "Lesson 8: an axum service over the pool, under load."
)]
pub struct Args {
    /// Keep serving the API (until Ctrl-C) instead of running the lesson's steps.
    #[arg(long)]
    pub serve: bool,
    /// With --serve: the port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 3000)]
    pub port: u16,
    /// With --serve: the pool's size.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=200))]
    pub pool: u32,
    /// The pool's acquire timeout, in milliseconds.
    #[arg(long, default_value_t = 250, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub acquire_timeout_ms: u64,
    /// The per-request time limit, in milliseconds.
    #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub request_timeout_ms: u64,
    /// Step 8: how long each short load runs, in milliseconds.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(100..=60_000))]
    pub load_ms: u64,
    /// Run the measured benchmark (wrk if installed, else the built-in driver) instead of
    /// the steps, and write its JSON and charts.
    #[arg(long)]
    pub bench: bool,
    /// With --bench: also measure the FastAPI + SQLAlchemy service under the same load.
    #[arg(long)]
    pub python: bool,
    /// With --bench: seconds of load at each point.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=120))]
    pub seconds: u64,
    /// With --bench: the pool sizes, such as 1,2,4,8,16.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,8,16")]
    pub pools: Vec<u32>,
    /// With --bench: the numbers of concurrent connections, such as 16,64.
    #[arg(long, value_delimiter = ',', default_value = "16,64")]
    pub concurrency: Vec<u32>,
    /// With --bench: where to write the JSON results.
    #[arg(long, default_value = "target/lesson-8/results.json")]
    pub json: std::path::PathBuf,
    /// With --bench: the directory for the SVG charts.
    #[arg(long, default_value = "target/lesson-8")]
    pub charts: std::path::PathBuf,
}

impl Args {
    /// The arguments from the command line (the program's name first), or clap's error.
    pub fn from_args<I, T>(args: I) -> Result<Args, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        <Args as clap::Parser>::try_parse_from(args)
    }

    /// Rejects values clap cannot check alone, with a one-line reason.
    pub fn check(&self) -> Result<()> {
        if self.pools.is_empty() || self.pools.iter().any(|&p| p == 0 || p > 200) {
            anyhow::bail!(
                "--pools must list sizes between 1 and 200, such as 1,2,4,8,16"
            );
        }
        if self.concurrency.is_empty()
            || self.concurrency.iter().any(|&c| c == 0 || c > 1000)
        {
            anyhow::bail!(
                "--concurrency must list counts between 1 and 1000, such as 16,64"
            );
        }
        Ok(())
    }

    /// The acquire timeout.
    pub fn acquire_timeout(&self) -> Duration {
        Duration::from_millis(self.acquire_timeout_ms)
    }

    /// The per-request time limit.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }
}

/// What every step runs against.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The lesson database's URL: each step's service opens its own pool on it. It may
    /// hold a password: never print it.
    pub url: String,
    /// A pool on the same database, for set-up and for looking at the server from
    /// outside the service.
    pub pool: MySqlPool,
    /// How long step 8's short loads run.
    pub load: Duration,
}

impl Ctx {
    /// The context for the database at `url`, with `pool` on it, sized by `args`.
    pub fn new(url: &str, pool: MySqlPool, args: &Args) -> Ctx {
        Ctx {
            url: url.to_owned(),
            pool,
            load: Duration::from_millis(args.load_ms),
        }
    }

    /// A service on a free loopback port over a pool of `size` on the lesson database,
    /// with the lesson's demonstration routes, and a client for it.
    pub async fn service(&self, size: u32, acquire_timeout: Duration) -> Result<Running> {
        self.service_with(size, acquire_timeout, REQUEST_TIMEOUT)
            .await
    }

    /// [`Ctx::service`], with a time limit per request of `request_timeout`.
    pub async fn service_with(
        &self,
        size: u32,
        acquire_timeout: Duration,
        request_timeout: Duration,
    ) -> Result<Running> {
        let pool = service_pool(&self.url, size, acquire_timeout)?;
        let state = AppState {
            pool,
            request_timeout,
        };
        Running::start(state, &self.url).await
    }
}

/// Deletes the customers the lesson added (named `l8-...`), and nothing else.
pub async fn forget_lesson_rows(pool: &MySqlPool) -> Result<u64> {
    let deleted = sqlx::query("DELETE FROM customers WHERE name LIKE 'l8-%'")
        .execute(pool)
        .await
        .context("cannot delete the lesson's customers")?;
    Ok(deleted.rows_affected())
}

/// Adds `count` customers named `l8-seed-NNN`, for the loads to read.
pub async fn seed(pool: &MySqlPool, count: u32) -> Result<()> {
    for n in 0..count {
        sqlx::query("INSERT INTO customers (name, job) VALUES (?, 'Load Tester')")
            .bind(format!("{PREFIX}seed-{n:03}"))
            .execute(pool)
            .await
            .context("cannot seed the lesson's customers")?;
    }
    Ok(())
}
