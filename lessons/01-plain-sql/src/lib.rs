//! Lesson 1: plain SQL with sqlx, the Rust form of SQLAlchemy's `text()` on an async
//! engine.
//!
//! One module a step, in the chapter's order. Each starts with the code the book shows;
//! its `run`, at the end, is what `main.rs` calls, and returns a report of plain data
//! that [`report`] prints.

pub mod s1_connect;
pub mod s2_version;
pub mod s3_schema;
pub mod s4_queries;
pub mod s5_writing;
pub mod s6_transactions;
pub mod s7_streaming;
pub mod s8_checked;
pub mod s9_close;

pub mod report;

// The exercises at the end of the chapter. With the `solutions` feature, the worked
// answers stand in their place, so that CI can check that every exercise is solvable.
#[cfg(not(feature = "solutions"))]
pub mod exercises;
#[cfg(feature = "solutions")]
#[path = "solutions.rs"]
pub mod exercises;

pub use s1_connect::{connect, connect_with_events, init_logging, session_time_zone};
pub use s2_version::server_version;
pub use s3_schema::{Customer, all_customers, create_schema};
pub use s4_queries::{
    count_customers, customer_by_name, customers_with_job, find_customer,
};
pub use s5_writing::{
    HOSTILE_NAME, SortKey, customers_sorted, delete_customer, insert_customer, name_of,
    set_job,
};
pub use s6_transactions::{
    BothOrNeither, Isolation, count_named, drop_a_transaction, insert_both,
    nested_rollback, two_reads,
};
pub use s7_streaming::{STREAM_ROWS, StreamSummary, seed_stream_rows, stream_rows};
pub use s8_checked::{checked_customer_named, checked_jobs};

/// What every step runs against: the lesson's pool, and the name of its database.
#[derive(Clone)]
pub struct Ctx {
    /// The pool that step 1 opens.
    pub pool: sqlx::MySqlPool,
    /// The database the pool's URL names.
    pub database: String,
    /// The URL the pool was opened on, for the steps that open a pool of their own.
    pub url: String,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: never print it.
        f.debug_struct("Ctx")
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}
