//! Lesson 4: many tasks at once.
//!
//! Database requests are IO-bound: a task that waits for the server leaves the CPU free
//! for the others. This lesson runs many queries concurrently, each task with its own
//! connection, measures the wall time against the ideal, and shows the limits: the pool's
//! size, pool exhaustion, unbounded fan-out, and queries that outlive their timeout.
//!
//! One module a step, in the chapter's order. Each starts with the code the book shows;
//! its `run`, at the end, is what `main.rs` calls, and returns a report of plain data
//! that [`report`] prints.
//!
//! # One connection per task
//!
//! A connection runs one statement at a time, so sqlx's executor takes it as `&mut`. Two
//! concurrent futures on the same connection need two `&mut` borrows at once, and the
//! borrow checker refuses (E0499). This example is compiled by `cargo test --workspace`,
//! which checks that it keeps failing with that error:
//!
//! ```compile_fail,E0499
#![doc = include_str!("../compile_fail/shared_connection.rs")]
//! ```
//!
//! Give each task its own connection from the pool instead: [`sleepy_query`] does.

use std::path::PathBuf;
use std::time::Duration;

pub mod s1_concurrent;
pub mod s2_own_connection;
pub mod s3_pool_size;
pub mod s4_exhaustion;
pub mod s5_fan_out;
pub mod s6_cancellation;
pub mod s7_stacks;

pub mod report;

// The exercises at the end of the chapter. With the `solutions` feature, the worked
// answers stand in their place, so that CI can check that every exercise is solvable.
#[cfg(not(feature = "solutions"))]
pub mod exercises;
#[cfg(feature = "solutions")]
#[path = "solutions.rs"]
pub mod exercises;

pub use report::{Cancellation, Exhaustion, FanOut};
pub use s1_concurrent::{
    Customer, DEFAULT_QUERIES, DEFAULT_SLEEP_MS, Workload, delete_customers,
    mixed_concurrent, mixed_sequential, run_buffer_unordered, run_join_all, run_join_set,
    run_sequential, sized_pool, sleepy_query, task_label,
};
pub use s2_own_connection::connection_ids_of_tasks;
pub use s3_pool_size::POOL_SIZES;
pub use s4_exhaustion::exhaust_pool;
pub use s5_fan_out::{expected_fan_out_sum, measured_bounded, measured_unbounded};
pub use s6_cancellation::{
    CANCELLED_CUSTOMER, cancel_slow_query, open_transactions_in_this_database,
};
pub use s7_stacks::{diesel_pool, run_diesel, run_sea_query};

/// What every step runs against: the server, and the sizes from the command line.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The URL of the lesson's database, with the lesson's schema in it.
    pub url: String,
    /// N queries of t each (steps 1, 2, 3 and 7).
    pub work: Workload,
    /// How many work items step 5 fans out.
    pub items: u32,
    /// The pool's `acquire_timeout` in step 4.
    pub acquire_timeout: Duration,
}

/// Lesson 4: many tasks at once. Runs IO-bound queries sequentially and concurrently, at
/// several pool sizes, and shows the limits: exhaustion, fan-out, timeouts.
#[derive(Debug, clap::Parser)]
#[command(name = "lesson-4")]
pub struct Args {
    /// How many `SELECT SLEEP(t)` queries to run (N).
    #[arg(long, default_value_t = DEFAULT_QUERIES,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub queries: u32,
    /// How long each query sleeps on the server, in milliseconds (t; the article's: 200).
    #[arg(long, default_value_t = DEFAULT_SLEEP_MS,
          value_parser = clap::value_parser!(u64).range(1..=5000))]
    pub sleep_ms: u64,
    /// How many work items step 5 fans out.
    #[arg(long, default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub items: u32,
    /// The pool's acquire_timeout in step 4, in milliseconds.
    #[arg(long, default_value_t = 250,
          value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub acquire_timeout_ms: u64,
    /// Write every measurement to this file as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Where to write step 3's chart (SVG).
    #[arg(
        long,
        value_name = "FILE",
        default_value = "target/lesson-4-pool-sizes.svg"
    )]
    pub chart: PathBuf,
}

impl Args {
    /// The steps' context on the database at `url`.
    pub fn ctx(&self, url: &str) -> Ctx {
        Ctx {
            url: url.to_owned(),
            work: Workload {
                queries: self.queries,
                sleep: Duration::from_millis(self.sleep_ms),
            },
            items: self.items,
            acquire_timeout: Duration::from_millis(self.acquire_timeout_ms),
        }
    }
}
