//! Exercises for lesson 2. Replace each `bail!` with your own code, then run
//! `just exercise 2` until its tests pass. The worked answers are in `solutions.rs`.
#![allow(unused_variables)]

use anyhow::{Result, bail};
use sea_query::{InsertStatement, SelectStatement};

// ANCHOR: exercise_1
/// Exercise 2.1: the customers without a job, that is whose `job` is NULL or `''`, by
/// name. Select `id, name, job` so that `crate::s4_select::fetch_customers` can run it.
/// Hint: `Cond::any()`.
pub fn without_a_job() -> Result<SelectStatement> {
    bail!("exercise 2.1 is not solved yet")
}
// ANCHOR_END: exercise_1

// ANCHOR: exercise_2
/// Exercise 2.2: the `n` customers whose orders add up to the most, as `(name,
/// total_cents)` with `total_cents` a BIGINT: highest total first, equal totals by name.
/// Customers without orders are left out.
pub fn top_spenders(n: u64) -> Result<SelectStatement> {
    bail!("exercise 2.2 is not solved yet")
}
// ANCHOR_END: exercise_2

// ANCHOR: exercise_3
/// Exercise 2.3: one statement that inserts every `(name, job)` of `customers`, and for a
/// name that is already there sets its job instead.
pub fn upsert_customers_statement(
    customers: &[(&str, Option<&str>)],
) -> Result<InsertStatement> {
    bail!("exercise 2.3 is not solved yet")
}
// ANCHOR_END: exercise_3
