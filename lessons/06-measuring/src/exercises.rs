//! Exercises for lesson 6. Replace each `bail!` with your own code, then run
//! `just exercise 6` until its tests pass. The worked answers are in `solutions.rs`.
#![allow(unused_variables)]

use std::time::Duration;

use anyhow::{Result, bail};
use sqlx::mysql::{MySqlConnection, MySqlPool};

// ANCHOR: exercise_1
/// Exercise 6.1: the minimum and the median of some timed runs, in any order. With an
/// even number of runs the median is the mean of the middle two. No runs at all is an
/// error.
pub fn min_and_median(runs: &[Duration]) -> Result<(Duration, Duration)> {
    bail!("exercise 6.1 is not solved yet")
}
// ANCHOR_END: exercise_1

// ANCHOR: exercise_2
/// Exercise 6.2: run `SELECT name FROM bench_customers WHERE id = ?` once for each of
/// `ids` on `conn`, and return how many statements the server prepared for this session
/// while they ran (its `Com_stmt_prepare` counter, read before and after).
pub async fn statements_prepared(conn: &mut MySqlConnection, ids: &[i32]) -> Result<u64> {
    bail!("exercise 6.2 is not solved yet")
}
// ANCHOR_END: exercise_2

// ANCHOR: exercise_3
/// Exercise 6.3: insert one `bench_customers` row per name (its job left to the default,
/// `''`) in a single transaction, with one multi-row `INSERT` per `chunk` names, and
/// return how many `INSERT` statements (so round trips) it took. A `chunk` of 0 is an
/// error, and nothing is inserted.
pub async fn insert_in_chunks(
    pool: &MySqlPool,
    names: &[String],
    chunk: usize,
) -> Result<usize> {
    bail!("exercise 6.3 is not solved yet")
}
// ANCHOR_END: exercise_3
