//! Lesson 5: transactions and failures — what goes wrong, and how a Rust data layer
//! survives it.
//!
//! One module a step, in the chapter's order. Each starts with the code the book shows;
//! its `run`, at the end, is what `main.rs` calls, and returns a report of plain data
//! that [`report`] prints. The tests call the same functions with smaller counts.
//!
//! The lesson works in tables of its own, all named `lesson5_*`, which it creates and
//! drops ([`tables`]); it touches the article's `customers` and `orders` only to add rows
//! and delete exactly those.

pub mod s1_duplicates;
pub mod s2_lost_updates;
pub mod s3_deadlocks;
pub mod s4_cancellation;
pub mod s5_restart;
pub mod s6_stale;
pub mod s7_hostile;
pub mod s8_runaway;

pub mod entities;
pub mod reconcile;
pub mod reply_gate;
pub mod report;
pub mod schema;
pub mod tables;

// The exercises at the end of the chapter. With the `solutions` feature, the worked
// answers stand in their place, so that CI can check that every exercise is solvable.
#[cfg(not(feature = "solutions"))]
pub mod exercises;
#[cfg(feature = "solutions")]
#[path = "solutions.rs"]
pub mod exercises;

use std::sync::Arc;

pub use reply_gate::ReplyGate;
pub use s1_duplicates::{
    CustomerError, Failure, add_customer, add_customer_diesel, add_customer_sea_orm,
    classify, classify_db_err, mysql_error_number,
};
pub use s2_lost_updates::{Increment, increment};
pub use s3_deadlocks::{Retried, RetryPolicy, is_retryable, transfer, with_retry};
pub use s4_cancellation::{OnTimeout, guarded_pool, roll_back_leftovers};
pub use s5_restart::resilient_pool;
pub use s7_hostile::{BODY_CHARS, hostile_strings};
pub use s8_runaway::{ServerKind, with_time_limit};
pub use tables::{create_tables, drop_tables};

/// Step 2's default: tasks incrementing the counter, for each way.
pub const DEFAULT_TASKS: u32 = 10;
/// Step 2's default: increments per task.
pub const DEFAULT_INCREMENTS: u32 = 20;
/// Step 3's default: transfers per task.
pub const DEFAULT_TRANSFERS: u32 = 30;
/// Step 4's default: rounds for each way of timing out.
pub const DEFAULT_ROUNDS: u32 = 200;
/// Step 7's default: generated strings.
pub const DEFAULT_STRINGS: u32 = 200;

/// How much work each step does. The defaults make a whole run take seconds; the
/// chapter shows the flags for a larger run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Parser)]
#[command(about = "Lesson 5: transactions and failures, each run for real.")]
pub struct Sizes {
    /// Step 2: tasks incrementing the counter, for each way.
    #[arg(long, default_value_t = DEFAULT_TASKS, value_parser = at_least(1))]
    pub tasks: u32,
    /// Step 2: increments per task.
    #[arg(long, default_value_t = DEFAULT_INCREMENTS, value_parser = at_least(1))]
    pub increments: u32,
    /// Step 3: transfers per task, in each direction.
    #[arg(long, default_value_t = DEFAULT_TRANSFERS, value_parser = at_least(1))]
    pub transfers: u32,
    /// Step 4: rounds of begin / insert / commit, for each way of timing out.
    #[arg(long, default_value_t = DEFAULT_ROUNDS, value_parser = at_least(1))]
    pub rounds: u32,
    /// Step 7: generated strings (the first two are the edge cases).
    #[arg(long, default_value_t = DEFAULT_STRINGS, value_parser = at_least(2))]
    pub strings: u32,
}

/// A count of at least `min`, below a million.
fn at_least(min: i64) -> clap::builder::RangedI64ValueParser<u32> {
    clap::value_parser!(u32).range(min..1_000_000)
}

impl Sizes {
    /// The sizes from command-line arguments (the program's name first), or clap's
    /// error saying which flag is wrong.
    pub fn from_args<I, T>(args: I) -> Result<Sizes, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        <Sizes as clap::Parser>::try_parse_from(args)
    }
}

impl Default for Sizes {
    fn default() -> Self {
        Sizes {
            tasks: DEFAULT_TASKS,
            increments: DEFAULT_INCREMENTS,
            transfers: DEFAULT_TRANSFERS,
            rounds: DEFAULT_ROUNDS,
            strings: DEFAULT_STRINGS,
        }
    }
}

/// Something to do to the server that blocks until it is done: kill it, or start it
/// again.
pub type ServerAction = Arc<dyn Fn() -> anyhow::Result<()> + Send + Sync>;

/// What step 5 needs from a server the workbook started: a way to kill it as a crash
/// would, and a way to start it again on the same port and data.
#[derive(Clone)]
pub struct ServerControl {
    /// Kills the server at once (SIGKILL, or `docker stop --time 0`). Blocks.
    pub kill: ServerAction,
    /// Starts it again and returns once it accepts connections. Blocks.
    pub restart: ServerAction,
}

impl std::fmt::Debug for ServerControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerControl")
    }
}

/// What every step runs against.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// A small pool on the lesson's database, with the shared schema and the lesson's
    /// tables in it. Steps that teach pool settings open pools of their own on `url`.
    pub pool: sqlx::MySqlPool,
    /// The lesson's database URL. It may hold a password: never print it.
    pub url: String,
    /// How much work each step does.
    pub sizes: Sizes,
    /// Only for a server the workbook started: how to kill and restart it (step 5). With
    /// `None`, steps 5 and 6 (which changes a global setting) are skipped.
    pub server: Option<ServerControl>,
}

/// One connection of its own to `url`, outside any pool: for observers and for the
/// sessions whose settings the steps change.
pub(crate) async fn connect_one(url: &str) -> anyhow::Result<sqlx::MySqlConnection> {
    use anyhow::Context;
    use sqlx::Connection;

    sqlx::MySqlConnection::connect(url)
        .await
        .context("cannot open a connection of its own")
}
