//! Lesson 6: measuring which layer costs what, next to the floor that the round trip
//! sets.
//!
//! Five workloads (W1 to W5) run on five stacks (sqlx `query_as`, sqlx `query_as!`,
//! sea-query, diesel-async, SeaORM), and W2 and W3 also run on the server's own C client,
//! `mariadb-slap` or `mysqlslap`: the floor.
//!
//! One module a step, in the chapter's order. Each starts with the code the book shows;
//! its `run`, at the end, is what `main.rs` calls, and returns a report of plain data
//! that [`report`] prints. This file holds what every step shares: the context, the
//! counts, and the five stacks' pools.

pub mod s1_method;
pub mod s2_data;
pub mod s3_sleeps;
pub mod s4_floor;
pub mod s5_point_selects;
pub mod s6_concurrent;
pub mod s7_inserts;
pub mod s8_reads;
pub mod s9_compare;

pub mod python;
pub mod report;

// The exercises at the end of the chapter. With the `solutions` feature, the worked
// answers stand in their place, so that CI can check that every exercise is solvable.
#[cfg(not(feature = "solutions"))]
pub mod exercises;
#[cfg(feature = "solutions")]
#[path = "solutions.rs"]
pub mod exercises;

use std::fmt;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use diesel_async::AsyncMysqlConnection;
use diesel_async::pooled_connection::deadpool::{Object, Pool as DieselPool};
use sea_orm::DatabaseConnection;
use sqlx::MySql;
use sqlx::mysql::MySqlPool;
use sqlx::pool::PoolConnection;

/// The name the rows measured on mysql_async alone go by (W4's `LOAD DATA LOCAL INFILE`,
/// W5's `exec_map` and `query_map`): the driver under diesel-async.
pub const DRIVER_STACK: &str = "mysql_async";

pub use s1_method::{Timing, measure, open_pool, timed};
pub use s2_data::{
    BenchCustomer, NewCustomer, SEED, Seeded, choose_ids, delete_inserted,
    rows_to_insert, seed,
};
pub use s3_sleeps::{sleeps_concurrent, sleeps_sequential};
pub use s4_floor::{Floor, parse_slap_output};
pub use s5_point_selects::point_selects;
pub use s6_concurrent::concurrent_point_selects;
pub use s7_inserts::bulk_insert;
pub use s8_reads::{Decoding, read_all};

/// What every step runs against.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The lesson database's URL: each workload opens pools of its own on it.
    pub url: String,
    /// A pool on the same database, for set-up and clean-up outside the clock.
    pub pool: MySqlPool,
    /// How much work each workload does.
    pub counts: Counts,
    /// The stacks to measure.
    pub stacks: Vec<Stack>,
    /// The workloads to run (`w1` to `w5`); `None` runs all five.
    pub only: Option<Vec<String>>,
    /// W5: only the variants whose name contains this; `None` runs them all.
    pub variant: Option<String>,
    /// The C client, if one was found and not turned off.
    pub floor: Option<Floor>,
    /// The SQLAlchemy side's rows (`--python`), which each workload's table shows beside
    /// the Rust stacks'.
    pub sqlalchemy: Vec<report::ResultRow>,
    /// Where step 2 put the seeded rows.
    pub seeded: Seeded,
    /// The ids step 2 chose, which W2, W3 and the floor select.
    pub ids: Arc<[i32]>,
}

impl Ctx {
    /// Whether this run includes `workload` (`w1` to `w5`).
    pub fn wants(&self, workload: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| only.iter().any(|w| w.eq_ignore_ascii_case(workload)))
    }

    /// Whether this run includes the W5 variant named `variant`.
    pub fn wants_variant(&self, variant: &str) -> bool {
        self.variant
            .as_ref()
            .is_none_or(|v| variant.contains(v.as_str()))
    }

    /// The SQLAlchemy side's rows of `workload` (`W1` to `W5`): none without `--python`.
    pub fn sqlalchemy<'a>(
        &'a self,
        workload: &'a str,
    ) -> impl Iterator<Item = report::ResultRow> + 'a {
        let mine = self
            .sqlalchemy
            .iter()
            .filter(move |r| r.workload == workload);
        mine.cloned()
    }
}

/// How much work each workload does. The default is [`Counts::quick`]; `--full` gives
/// [`Counts::full`], the sizes the chapter's recorded runs use.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// W1: how many `SELECT SLEEP(..)` queries.
    pub sleeps: usize,
    /// W1: how long each one sleeps, in milliseconds.
    pub sleep_ms: u64,
    /// W1: the pool sizes the concurrent runs use.
    pub pools: Vec<u32>,
    /// W2 and W3: how many point selects, each by a distinct id.
    pub ops: usize,
    /// W3: how many tasks share them, on a pool of as many connections.
    pub tasks: usize,
    /// W4 and W5: how many rows are inserted, and read.
    pub rows: usize,
    /// W4: how many rows go in one multi-row `INSERT`: each batched variant runs once
    /// per size.
    pub chunks: Vec<usize>,
    /// How many timed runs follow the untimed warm-up.
    pub repeats: usize,
    /// W4: how long, at most, each run waits after its clean-up for InnoDB to purge the
    /// deleted rows, in milliseconds (0: no wait).
    pub purge_wait_ms: u64,
}

impl Counts {
    /// The chapter's sizes: 20 × 0.2 s, pools of 1, 5, 10, 20, 5,000 selects over 16
    /// tasks, 10,000 rows in chunks of 1,000 and in one statement, 5 repeats, and up to
    /// 10 s for InnoDB's purge after each W4 run. Several minutes.
    pub fn full() -> Counts {
        Counts {
            sleeps: 20,
            sleep_ms: 200,
            pools: vec![1, 5, 10, 20],
            ops: 5_000,
            tasks: 16,
            rows: 10_000,
            chunks: vec![1_000, 10_000],
            repeats: 5,
            purge_wait_ms: 10_000,
        }
    }

    /// Small counts that still run every workload on every stack, with no wait for the
    /// purge: a few seconds.
    pub fn quick() -> Counts {
        Counts {
            sleeps: 20,
            sleep_ms: 2,
            pools: vec![1, 5, 10, 20],
            ops: 100,
            tasks: 16,
            rows: 200,
            chunks: vec![50, 200],
            repeats: 3,
            purge_wait_ms: 0,
        }
    }

    /// Rejects counts that cannot work, with a one-line reason.
    pub fn check(&self) -> Result<()> {
        if self.sleeps == 0 || self.ops == 0 || self.tasks == 0 || self.rows == 0 {
            bail!("--sleeps, --ops, --tasks and --rows must be at least 1");
        }
        if self.repeats == 0 {
            bail!("--repeats must be at least 1 (the method asks for 3 or more)");
        }
        if self.ops > self.rows {
            bail!(
                "--ops ({}) must be at most --rows ({}): every select reads a distinct id",
                self.ops,
                self.rows
            );
        }
        if self.rows > 1_000_000 {
            bail!("--rows must be at most 1000000");
        }
        if self.chunks.is_empty() || self.chunks.iter().any(|&c| c == 0 || c > 30_000) {
            bail!(
                "--chunks must list sizes between 1 and 30000, such as 1000,10000 (MySQL \
                 allows 65,535 placeholders in one statement)"
            );
        }
        if self.pools.is_empty() || self.pools.iter().any(|&p| p == 0 || p > 100) {
            bail!("--pools must list sizes between 1 and 100, such as 1,5,10,20");
        }
        if self.tasks > 100 {
            bail!("--tasks must be at most 100");
        }
        if self.purge_wait_ms > 60_000 {
            bail!("--purge-wait-ms must be at most 60000");
        }
        if self.sleep_ms > 10_000 {
            bail!("--sleep-ms must be at most 10000");
        }
        Ok(())
    }
}

/// The command line: every count can be changed, and the run narrowed for profiling.
#[derive(Debug, clap::Parser)]
#[command(name = "lesson-6")]
pub struct Args {
    /// The chapter's sizes (a few minutes) instead of the quick default (seconds).
    #[arg(long)]
    pub full: bool,
    /// W1: how many `SELECT SLEEP(..)` queries.
    #[arg(long)]
    pub sleeps: Option<usize>,
    /// W1: how long each sleeps, in milliseconds.
    #[arg(long)]
    pub sleep_ms: Option<u64>,
    /// W1: the pool sizes, such as 1,5,10,20.
    #[arg(long, value_delimiter = ',')]
    pub pools: Option<Vec<u32>>,
    /// W2 and W3: how many point selects.
    #[arg(long)]
    pub ops: Option<usize>,
    /// W3: how many tasks, on a pool of as many connections.
    #[arg(long)]
    pub tasks: Option<usize>,
    /// W4 and W5: how many rows.
    #[arg(long)]
    pub rows: Option<usize>,
    /// W4: rows per multi-row INSERT, such as 1000,10000 (each batched variant runs
    /// with each).
    #[arg(long, value_delimiter = ',')]
    pub chunks: Option<Vec<usize>>,
    /// Timed runs after the warm-up (at least 3 for the method).
    #[arg(long)]
    pub repeats: Option<usize>,
    /// W4: the longest wait, after each run's clean-up, for InnoDB's purge (0: none).
    #[arg(long)]
    pub purge_wait_ms: Option<u64>,
    /// Run only these workloads, such as w2,w3 (for profiling one of them).
    #[arg(long, value_delimiter = ',', value_parser = ["w1", "w2", "w3", "w4", "w5"])]
    pub only: Option<Vec<String>>,
    /// Run only these stacks.
    #[arg(long, value_delimiter = ',')]
    pub stacks: Option<Vec<Stack>>,
    /// W5: run only the variants whose name contains this, such as `text protocol` or
    /// `exec_map` (for profiling one of them).
    #[arg(long)]
    pub variant: Option<String>,
    /// Also run W1 to W5 with SQLAlchemy (`text()`, Core and the ORM) in Python, from a
    /// virtual environment in target/python that is made from PyPI the first time.
    #[arg(long)]
    pub python: bool,
    /// Skip the C client's floor even when it is installed.
    #[arg(long)]
    pub no_floor: bool,
    /// Where to write the JSON results.
    #[arg(long, default_value = "target/lesson-6/results.json")]
    pub json: std::path::PathBuf,
    /// The directory for the SVG charts, lesson-6-w1.svg to lesson-6-w5.svg.
    #[arg(long, default_value = "target/lesson-6")]
    pub charts: std::path::PathBuf,
}

impl Args {
    /// The counts: quick or full, then each flag given.
    pub fn counts(&self) -> Result<Counts> {
        let mut c = if self.full {
            Counts::full()
        } else {
            Counts::quick()
        };
        c.sleeps = self.sleeps.unwrap_or(c.sleeps);
        c.sleep_ms = self.sleep_ms.unwrap_or(c.sleep_ms);
        c.pools = self.pools.clone().unwrap_or(c.pools);
        c.ops = self.ops.unwrap_or(c.ops);
        c.tasks = self.tasks.unwrap_or(c.tasks);
        c.rows = self.rows.unwrap_or(c.rows);
        c.chunks = self.chunks.clone().unwrap_or(c.chunks);
        c.repeats = self.repeats.unwrap_or(c.repeats);
        c.purge_wait_ms = self.purge_wait_ms.unwrap_or(c.purge_wait_ms);
        c.check()?;
        Ok(c)
    }

    /// The context the steps share, on the lesson database at `url`; step 2 fills in
    /// the seeded rows and the chosen ids.
    pub fn context(&self, url: &str, pool: MySqlPool) -> Result<Ctx> {
        let floor = match self.no_floor {
            true => None,
            false => Floor::find(url).context("cannot set up the C client's floor")?,
        };
        Ok(Ctx {
            url: url.to_owned(),
            pool,
            counts: self.counts()?,
            stacks: self.stacks.clone().unwrap_or(Stack::ALL.to_vec()),
            only: self.only.clone(),
            variant: self.variant.clone(),
            floor,
            sqlalchemy: Vec::new(),
            seeded: Seeded::default(),
            ids: Arc::from([]),
        })
    }
}

/// One of the five ways this workbook talks to MySQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Stack {
    /// `sqlx::query_as` with a `#[derive(FromRow)]` struct: SQL checked at run time.
    #[value(name = "sqlx-query-as")]
    SqlxQueryAs,
    /// `sqlx::query_as!`: SQL checked at compile time against the `.sqlx/` cache.
    #[value(name = "sqlx-macro")]
    SqlxMacro,
    /// sea-query builds the SQL; sea-query-sqlx binds the values; sqlx runs it.
    SeaQuery,
    /// diesel's query DSL, run by diesel-async on `mysql_async`.
    DieselAsync,
    /// SeaORM's entities: sea-query builds the SQL, sqlx runs it.
    #[value(name = "seaorm")]
    SeaOrm,
}

impl Stack {
    /// Every stack, in the order the tables show them.
    pub const ALL: [Stack; 5] = [
        Stack::SqlxQueryAs,
        Stack::SqlxMacro,
        Stack::SeaQuery,
        Stack::DieselAsync,
        Stack::SeaOrm,
    ];

    /// The name the tables, the JSON and the charts use.
    pub fn name(self) -> &'static str {
        match self {
            Stack::SqlxQueryAs => "sqlx query_as",
            Stack::SqlxMacro => "sqlx query_as!",
            Stack::SeaQuery => "sea-query",
            Stack::DieselAsync => "diesel-async",
            Stack::SeaOrm => "seaorm",
        }
    }

    /// The ways this stack inserts many rows (workload W4).
    pub fn insert_variants(self) -> &'static [InsertVariant] {
        match self {
            Stack::SqlxQueryAs => &[
                InsertVariant::RowByRow,
                InsertVariant::MultiRow,
                InsertVariant::BatchApi,
            ],
            Stack::SeaQuery => &[
                InsertVariant::RowByRow,
                InsertVariant::BatchApi,
                InsertVariant::Inlined,
            ],
            Stack::DieselAsync => &[
                InsertVariant::RowByRow,
                InsertVariant::BatchApi,
                InsertVariant::FixedArrays,
            ],
            _ => &[InsertVariant::RowByRow, InsertVariant::BatchApi],
        }
    }
}

impl fmt::Display for Stack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether a pool checks that a connection still works before handing it out: a round
/// trip each time, which W3 measures against trusting the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// The pools' default: sqlx's `test_before_acquire(true)` pings the server, and
    /// deadpool's `RecyclingMethod::Verified` runs a query, on every checkout.
    BeforeEachUse,
    /// sqlx's `test_before_acquire(false)` and deadpool's `RecyclingMethod::Fast`: a
    /// connection the server closed is found only by the query that uses it.
    Never,
}

/// How workload W4 inserts its rows, all inside one transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertVariant {
    /// One `INSERT` statement, one round trip, per row.
    RowByRow,
    /// A hand-written multi-row `INSERT ... VALUES (?, ?), (?, ?), ...` per chunk.
    MultiRow,
    /// The stack's own way to insert many rows at once, per chunk.
    BatchApi,
    /// sea-query's multi-row `INSERT` with the values escaped into the SQL text, sent
    /// over the text protocol (no prepared statement), per chunk.
    Inlined,
    /// diesel's batch insert of fixed-size arrays, whose prepared statement diesel caches.
    FixedArrays,
}

impl InsertVariant {
    /// The name the tables and the JSON use.
    pub fn name(self) -> &'static str {
        match self {
            InsertVariant::RowByRow => "row by row",
            InsertVariant::MultiRow => "multi-row SQL",
            InsertVariant::BatchApi => "batch API",
            InsertVariant::Inlined => "inlined values, text protocol",
            InsertVariant::FixedArrays => "batch API, arrays of",
        }
    }
}

/// A pool of connections for one stack, with every connection opened before it is
/// returned (see [`open_pool`]). Cloning it is cheap: the clones share the connections.
#[derive(Clone)]
pub enum Pool {
    /// sqlx's pool, shared by the three sqlx-based stacks.
    Sqlx(MySqlPool),
    /// deadpool with diesel-async's connection manager.
    Diesel(DieselPool<AsyncMysqlConnection>),
    /// SeaORM's `DatabaseConnection`: a sqlx pool underneath.
    SeaOrm(DatabaseConnection),
}

/// One connection taken from a [`Pool`]. Each step adds the methods that run its
/// workload on the connection's stack.
pub enum Conn {
    /// A sqlx connection.
    Sqlx(PoolConnection<MySql>),
    /// A diesel-async connection.
    Diesel(Object<AsyncMysqlConnection>),
    /// SeaORM has no connection to hold outside a transaction: each statement takes one
    /// from the pool, so this is the pool itself (a clone shares its connections).
    SeaOrm(DatabaseConnection),
}

impl Pool {
    /// Takes a connection from the pool, waiting for one if all are busy.
    pub async fn get(&self) -> Result<Conn> {
        Ok(match self {
            Pool::Sqlx(pool) => {
                Conn::Sqlx(pool.acquire().await.context("no sqlx connection")?)
            }
            Pool::Diesel(pool) => Conn::Diesel(
                pool.get()
                    .await
                    .map_err(|e| anyhow::anyhow!("no diesel-async connection: {e}"))?,
            ),
            Pool::SeaOrm(db) => Conn::SeaOrm(db.clone()),
        })
    }

    /// Closes every connection.
    pub async fn close(self) {
        match self {
            Pool::Sqlx(pool) => pool.close().await,
            Pool::Diesel(pool) => pool.close(),
            Pool::SeaOrm(db) => {
                // Closing twice is the only error, and this is the only close.
                let _ = db.close().await;
            }
        }
    }
}

/// The error for a connection of one stack handed to another stack's code.
fn mismatch(stack: Stack) -> anyhow::Error {
    anyhow::anyhow!("{stack} was given a connection of another stack")
}
