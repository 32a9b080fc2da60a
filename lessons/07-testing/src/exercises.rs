//! Exercises for lesson 7. Replace each `bail!` with your own code, then run
//! `just exercise 7` until its tests pass. The worked answers are in `solutions.rs`.
#![allow(unused_variables)]

use anyhow::{Result, bail};
use diesel_async::AsyncMysqlConnection;

// ANCHOR: exercise_1
/// Exercise 7.1: a database name for the test at `test_path` (such as
/// `crate::s4_parallel::tests::ada_becomes_customer_2`) in run `run`: at most 64
/// characters, only ASCII lowercase letters, digits and `_`, starting with `t_`, and
/// different for any two different `(test_path, run)` pairs, however long the paths.
pub fn test_database_name(test_path: &str, run: u32) -> Result<String> {
    bail!("exercise 7.1 is not solved yet")
}
// ANCHOR_END: exercise_1

// ANCHOR: exercise_2
/// Exercise 7.2: adds a customer named `name` through `conn` in a test transaction
/// that is never committed, and returns how many customers the connection then sees.
/// Once `conn` is dropped, nothing of it may remain.
pub async fn count_with_a_customer_added(
    conn: AsyncMysqlConnection,
    name: &str,
) -> Result<i64> {
    bail!("exercise 7.2 is not solved yet")
}
// ANCHOR_END: exercise_2
