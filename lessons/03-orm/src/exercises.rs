//! Exercises for lesson 3. Replace each `bail!` with your own code, then run
//! `just exercise 3` until its tests pass. The worked answers are in `solutions.rs`.
#![allow(unused_variables)]

use anyhow::{Result, bail};
use sqlx::mysql::MySqlPool;

// ANCHOR: exercise_1
/// Exercise 3.1: return how many customers have a job that is not empty.
pub async fn customers_with_a_job(pool: &MySqlPool) -> Result<i64> {
    bail!("exercise 3.1 is not solved yet")
}
// ANCHOR_END: exercise_1
