//! Exercises for lesson 5. Replace each `bail!` with your own code, then run
//! `just exercise 5` until its tests pass. The worked answers are in `solutions.rs`.
#![allow(unused_variables)]

use anyhow::{Result, bail};
use sea_orm::DatabaseConnection;
use sqlx::mysql::MySqlPool;

// ANCHOR: exercise_1
/// Exercise 5.1: the names of the customers whose name contains `fragment` literally, in
/// alphabetical order. `%`, `_` and `\` in `fragment` match only themselves.
pub async fn customers_named_like(
    pool: &MySqlPool,
    fragment: &str,
) -> Result<Vec<String>> {
    bail!("exercise 5.1 is not solved yet")
}
// ANCHOR_END: exercise_1

// ANCHOR: exercise_2
/// What [`rename_customer`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Renamed {
    /// The customer has the new name.
    Done,
    /// Another customer already has that name; nothing changed.
    NameTaken,
    /// No customer has this id.
    NoSuchCustomer,
}

/// Exercise 5.2: gives customer `id` the name `new_name`, and says what happened. Any
/// other database error is an `Err`.
pub async fn rename_customer(
    pool: &MySqlPool,
    id: i16,
    new_name: &str,
) -> Result<Renamed> {
    bail!("exercise 5.2 is not solved yet")
}
// ANCHOR_END: exercise_2

// ANCHOR: exercise_3
/// Exercise 5.3: takes `quantity` items of product `product` from the table
/// `stock (product INT PRIMARY KEY, left_in_stock INT NOT NULL)`, if that many are left.
/// Returns whether it did. Many tasks call this at once: stock must never go below zero,
/// and every `true` must have taken its items.
pub async fn reserve(pool: &MySqlPool, product: i32, quantity: i32) -> Result<bool> {
    bail!("exercise 5.3 is not solved yet")
}
// ANCHOR_END: exercise_3

// ANCHOR: exercise_4
/// Exercise 5.4: exercise 5.2 with SeaORM, through the entity
/// `crate::entities::customer`: gives customer `id` the name `new_name`, and says what
/// happened. Any other database error is an `Err`.
pub async fn rename_customer_sea_orm(
    db: &DatabaseConnection,
    id: i16,
    new_name: &str,
) -> Result<Renamed> {
    bail!("exercise 5.4 is not solved yet")
}
// ANCHOR_END: exercise_4
