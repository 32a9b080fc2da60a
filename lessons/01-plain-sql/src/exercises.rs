//! Exercises for lesson 1. Replace each `bail!` with your own code, then run
//! `just exercise 1` until its tests pass. The worked answers are in `solutions.rs`.
#![allow(unused_variables)]

use anyhow::{Result, bail};
use sqlx::mysql::MySqlPool;

// ANCHOR: exercise_1
/// Exercise 1.1: return how many customers have a job that is neither empty nor NULL.
pub async fn customers_with_a_job(pool: &MySqlPool) -> Result<i64> {
    bail!("exercise 1.1 is not solved yet")
}
// ANCHOR_END: exercise_1

// ANCHOR: exercise_2
/// Exercise 1.2: give the customer named `old` the name `new`, with bound parameters.
/// Return `true` if a customer was renamed, `false` if nobody is named `old`.
pub async fn rename_customer(pool: &MySqlPool, old: &str, new: &str) -> Result<bool> {
    bail!("exercise 1.2 is not solved yet")
}
// ANCHOR_END: exercise_2

// ANCHOR: exercise_3
/// Exercise 1.3: insert every `(name, job)` pair in one transaction: all of them, or, if
/// any insert fails (a duplicate name, say), none of them, returning the error. On
/// success, return how many rows were inserted.
pub async fn insert_all_or_none(
    pool: &MySqlPool,
    customers: &[(&str, &str)],
) -> Result<u64> {
    bail!("exercise 1.3 is not solved yet")
}
// ANCHOR_END: exercise_3
