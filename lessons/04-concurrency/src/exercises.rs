//! Exercises for lesson 4. Replace each `bail!` with your own code, then run
//! `just exercise 4` until its tests pass. The worked answers are in `solutions.rs`.
#![allow(unused_variables)]

use std::time::Duration;

use anyhow::{Result, bail};
use sqlx::mysql::MySqlPool;

// ANCHOR: exercise_1
/// Exercise 4.1: run `queries` statements `SELECT SLEEP(seconds)`, concurrently but never
/// more than `limit` at once, each on a connection of its own from `pool`. Return how
/// many ran.
pub async fn sleep_with_limit(
    pool: &MySqlPool,
    queries: u32,
    seconds: f64,
    limit: usize,
) -> Result<u32> {
    bail!("exercise 4.1 is not solved yet")
}
// ANCHOR_END: exercise_1

// ANCHOR: exercise_2
/// Exercise 4.2: return `SELECT CONNECTION_ID()` from a connection of `pool`, or
/// `Ok(None)` when no connection is free within `wait`: a busy pool is an answer here,
/// not an error. Other errors are still errors.
pub async fn connection_id_if_free(
    pool: &MySqlPool,
    wait: Duration,
) -> Result<Option<u64>> {
    bail!("exercise 4.2 is not solved yet")
}
// ANCHOR_END: exercise_2

// ANCHOR: exercise_3
/// Exercise 4.3: run `SELECT SLEEP(seconds)` on a connection of `pool` under a timeout of
/// `limit`. Return `true` if it finished in time. If it did not, stop it on the server
/// with `KILL QUERY` from another connection, so that it does not go on running there,
/// and return `false`.
pub async fn sleep_or_kill(
    pool: &MySqlPool,
    seconds: f64,
    limit: Duration,
) -> Result<bool> {
    bail!("exercise 4.3 is not solved yet")
}
// ANCHOR_END: exercise_3
