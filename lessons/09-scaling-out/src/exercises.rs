//! Exercises for lesson 9. Replace each `bail!` (or `None`) with your own code, then run
//! `just exercise 9` until its tests pass. The worked answers are in `solutions.rs`.
#![allow(unused_variables)]

use std::time::Duration;

use anyhow::{Result, bail};

// ANCHOR: exercise_1
/// Exercise 9.1: whether a MariaDB replica at GTID position `have` has applied
/// everything in `want`, as `MASTER_GTID_WAIT` would decide without waiting. Positions
/// are comma-separated `domain-server-sequence` triples, one per domain; a domain that
/// `want` names and `have` lacks is not reached. A malformed position is an error.
pub fn reached(have: &str, want: &str) -> Result<bool> {
    bail!("exercise 9.1 is not solved yet")
}
// ANCHOR_END: exercise_1

// ANCHOR: exercise_2
/// Exercise 9.2: the replica to read from: the one with the smallest lag that is known
/// (`Some`) and at most `limit`. `None` when no replica qualifies, and the read goes to
/// the primary.
pub fn pick_reader(lags: &[Option<Duration>], limit: Duration) -> Option<usize> {
    None
}
// ANCHOR_END: exercise_2
