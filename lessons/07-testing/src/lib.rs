//! Lesson 7: testing your database code, against a real server.
//!
//! One module a step, in the chapter's order. Each starts with the code under test; its
//! `run`, after it, is what `main.rs` calls (the same scenarios as the tests, timed, with
//! the databases they make and drop counted); its tests, which the book shows, close it
//! (in its `tests` module, run by `cargo test -p lesson-7`).
//!
//! The test binary gets its server before `main` when `DATABASE_URL` is unset
//! (`harness`). Steps 2 and 6 start MySQL in Docker themselves, through testcontainers:
//! that is what they teach.

pub mod s1_sqlx_test;
pub mod s2_testcontainers;
pub mod s3_transactions;
pub mod s4_parallel;
pub mod s5_proptest;
pub mod s6_faults;
pub mod s7_snapshots;
pub mod s8_ci;

pub mod report;
pub mod schema;

// The exercises at the end of the chapter. With the `solutions` feature, the worked
// answers stand in their place, so that CI can check that every exercise is solvable.
#[cfg(not(feature = "solutions"))]
pub mod exercises;
#[cfg(feature = "solutions")]
#[path = "solutions.rs"]
pub mod exercises;

#[cfg(test)]
mod harness;

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::{AssertSqlSafe, Connection, MySqlConnection};

pub use report::Way;

/// How many tests' worth each way of isolating runs in `cargo run -p lesson-7`.
pub const DEFAULT_TESTS: u32 = 20;

/// Whether a Docker daemon answers, as the helper crate asks it (within a second).
#[cfg(feature = "docker")]
pub fn docker_answers() -> bool {
    workbook::docker_available().is_ok()
}

/// Built without the `docker` feature: steps 2 and 6 are skipped.
#[cfg(not(feature = "docker"))]
pub fn docker_answers() -> bool {
    false
}

/// What every step runs against, and what they all add up.
#[derive(Debug)]
pub struct Ctx {
    /// The server's URL, with no database: the steps make and drop databases of their
    /// own there, all named `lesson7_*`. It may hold a password: never print it.
    pub server_url: String,
    /// A pool on the lesson's database (the article's `sales`), with the shared schema.
    pub pool: MySqlPool,
    /// The lesson's database URL. It may hold a password: never print it.
    pub url: String,
    /// How many tests' worth step 3 times for each way of isolating.
    pub tests: u32,
    /// Whether a Docker daemon answered: steps 2 and 6 need one.
    pub docker: bool,
    made: AtomicU32,
    dropped: AtomicU32,
    next: AtomicU32,
    ways: Mutex<Vec<Way>>,
}

impl Ctx {
    /// A context on the server at `server_url` and the lesson's database at `url`.
    pub fn new(server_url: String, url: String, pool: MySqlPool, docker: bool) -> Ctx {
        Ctx {
            server_url,
            pool,
            url,
            tests: DEFAULT_TESTS,
            docker,
            made: AtomicU32::new(0),
            dropped: AtomicU32::new(0),
            next: AtomicU32::new(0),
            ways: Mutex::new(Vec::new()),
        }
    }

    /// Databases made and dropped so far, on the server and in containers.
    pub fn databases(&self) -> (u32, u32) {
        (
            self.made.load(Ordering::Relaxed),
            self.dropped.load(Ordering::Relaxed),
        )
    }

    /// Counts `made` databases made and `dropped` dropped elsewhere (in a container).
    pub fn count(&self, made: u32, dropped: u32) {
        self.made.fetch_add(made, Ordering::Relaxed);
        self.dropped.fetch_add(dropped, Ordering::Relaxed);
    }

    /// Records one way of testing that ran: what, how many tests, how long.
    pub fn record(&self, way: &str, tests: u32, took: Duration) {
        let mut ways = self.ways.lock().unwrap_or_else(|p| p.into_inner());
        ways.push(Way {
            name: way.to_owned(),
            tests,
            took,
        });
    }

    /// Every way recorded so far, in order.
    pub fn ways(&self) -> Vec<Way> {
        self.ways.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Makes an empty `utf8mb4` database named `lesson7_<what>_<n>` and returns its name.
    pub async fn make_database(&self, what: &str) -> Result<String> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let name = format!("lesson7_{what}_{n}");
        let mut conn = self.admin().await?;
        let sql = format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4");
        sqlx::query(AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .with_context(|| format!("cannot create the database {name}"))?;
        conn.close().await.ok();
        self.made.fetch_add(1, Ordering::Relaxed);
        Ok(name)
    }

    /// Drops a database that [`Ctx::make_database`] made.
    pub async fn drop_database(&self, name: &str) -> Result<()> {
        anyhow::ensure!(name.starts_with("lesson7_"), "{name} is not the lesson's");
        let mut conn = self.admin().await?;
        sqlx::query(AssertSqlSafe(format!("DROP DATABASE `{name}`")))
            .execute(&mut conn)
            .await
            .with_context(|| format!("cannot drop the database {name}"))?;
        conn.close().await.ok();
        self.dropped.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// A small pool on database `name`, on the lesson's server.
    pub async fn pool_on(&self, name: &str) -> Result<MySqlPool> {
        let options: MySqlConnectOptions = self
            .server_url
            .parse()
            .context("the server URL does not parse")?;
        MySqlPoolOptions::new()
            .max_connections(5)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.database(name))
            .await
            .with_context(|| format!("cannot connect to the database {name}"))
    }

    /// Runs `scenario` the way `#[sqlx::test]` runs a test: in a database of its own,
    /// made first (with the shared migrations and `fixture`, when asked) and dropped
    /// after. Returns how long the whole test took.
    pub async fn isolated<F, Fut>(
        &self,
        what: &str,
        migrate: bool,
        fixture: Option<&str>,
        scenario: F,
    ) -> Result<Duration>
    where
        F: FnOnce(MySqlPool) -> Fut,
        Fut: Future<Output = Result<()>>,
    {
        let started = Instant::now();
        let name = self.make_database(what).await?;
        let pool = self.pool_on(&name).await?;
        if migrate {
            s1_sqlx_test::MIGRATOR.run(&pool).await?;
        }
        if let Some(sql) = fixture {
            sqlx::raw_sql(AssertSqlSafe(sql)).execute(&pool).await?;
        }
        let outcome = scenario(pool.clone()).await;
        pool.close().await;
        self.drop_database(&name).await?;
        outcome.with_context(|| format!("the scenario in {name} failed"))?;
        Ok(started.elapsed())
    }

    async fn admin(&self) -> Result<MySqlConnection> {
        MySqlConnection::connect(&self.server_url)
            .await
            .context("cannot connect to the server")
    }
}
