//! Exercises for lesson 3. Replace each `bail!` with your own code, then run
//! `just exercise 3` until its tests pass. The worked answers are in `solutions.rs`.
#![allow(unused_variables, unused_imports)]

use anyhow::{Result, bail};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncMysqlConnection, RunQueryDsl};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder, QuerySelect};

use crate::models::{Customer, Order};
use crate::schema::{customers, orders};
use crate::seaorm::{customer, order};

// ANCHOR: exercise_1
/// Exercise 3.1: the names of the customers who have no orders at all, sorted by name, in
/// one query built with diesel's DSL (no SQL strings).
pub async fn customers_without_orders(
    conn: &mut AsyncMysqlConnection,
) -> Result<Vec<String>> {
    bail!("exercise 3.1 is not solved yet")
}
// ANCHOR_END: exercise_1

// ANCHOR: exercise_2
/// Exercise 3.2: every customer's name with the total of their orders in cents (0 for a
/// customer without orders), sorted by name, in at most 2 statements whatever the number
/// of customers.
pub async fn order_totals(conn: &mut AsyncMysqlConnection) -> Result<Vec<(String, i64)>> {
    bail!("exercise 3.2 is not solved yet")
}
// ANCHOR_END: exercise_2

// ANCHOR: exercise_3
/// Exercise 3.3: delete the customer with primary key `id` together with all their
/// orders, in one transaction: all of it or none of it. Return how many orders went, or
/// `None` (having deleted nothing) when no customer has that id.
pub async fn delete_with_orders(
    conn: &mut AsyncMysqlConnection,
    id: i16,
) -> Result<Option<usize>> {
    bail!("exercise 3.3 is not solved yet")
}
// ANCHOR_END: exercise_3

// ANCHOR: exercise_4
/// Exercise 3.4, with SeaORM: the names of the customers who have no orders at all,
/// sorted by name, in one statement built from the entities (no SQL strings).
pub async fn customers_without_orders_seaorm(
    db: &impl ConnectionTrait,
) -> Result<Vec<String>> {
    bail!("exercise 3.4 is not solved yet")
}
// ANCHOR_END: exercise_4

// ANCHOR: exercise_5
/// Exercise 3.5, with SeaORM: every customer's name with the total of their orders in
/// cents (0 for a customer without orders), sorted by name, in one statement: the server
/// sums, and no SQL strings.
pub async fn order_totals_seaorm(
    db: &impl ConnectionTrait,
) -> Result<Vec<(String, i64)>> {
    bail!("exercise 3.5 is not solved yet")
}
// ANCHOR_END: exercise_5
