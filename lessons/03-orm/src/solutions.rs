//! The worked answers to lesson 3's exercises. The `solutions` feature compiles this file
//! in place of `exercises.rs`.

use anyhow::Result;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::{AsyncMysqlConnection, RunQueryDsl};

use crate::RenameOutcome;
use crate::models::{Customer, Order};
use crate::schema::{customers, orders};

// ANCHOR: exercise_1
/// Exercise 3.1: the names of the customers who have no orders at all, sorted by name, in
/// one query built with diesel's DSL (no SQL strings).
pub async fn customers_without_orders(
    conn: &mut AsyncMysqlConnection,
) -> Result<Vec<String>> {
    // A LEFT JOIN keeps every customer; those without orders get NULL order columns.
    let names = customers::table
        .left_join(orders::table)
        .filter(orders::id.is_null())
        .select(customers::name)
        .order(customers::name.asc())
        .load(conn)
        .await?;
    Ok(names)
}
// ANCHOR_END: exercise_1

// ANCHOR: exercise_2
/// Exercise 3.2: every customer's name with the total of their orders in cents (0 for a
/// customer without orders), sorted by name, in at most 2 statements whatever the number
/// of customers.
pub async fn order_totals(conn: &mut AsyncMysqlConnection) -> Result<Vec<(String, i64)>> {
    // Eager loading: the customers, then all their orders in one query, grouped in
    // memory.
    let found: Vec<Customer> = customers::table
        .order(customers::name.asc())
        .select(Customer::as_select())
        .load(conn)
        .await?;
    let orders: Vec<Order> = Order::belonging_to(&found)
        .select(Order::as_select())
        .load(conn)
        .await?;
    let totals = orders
        .grouped_by(&found)
        .into_iter()
        .zip(found)
        .map(|(orders, customer)| {
            let total = orders.iter().map(|o| i64::from(o.amount_cents)).sum();
            (customer.name, total)
        })
        .collect();
    Ok(totals)
}
// ANCHOR_END: exercise_2

// ANCHOR: exercise_3
/// Exercise 3.3: rename the customer with primary key `id` to `new_name`. Tell apart the
/// three outcomes: renamed, no such customer, and the name already taken by another
/// customer (which must come back as `Ok(RenameOutcome::NameTaken)`, not as an error).
pub async fn rename_customer(
    conn: &mut AsyncMysqlConnection,
    id: i16,
    new_name: &str,
) -> Result<RenameOutcome> {
    let updated = diesel::update(customers::table.find(id))
        .set(customers::name.eq(new_name))
        .execute(conn)
        .await;
    // diesel-async asks MySQL for "found rows", not "changed rows": renaming a customer
    // to the name it already has counts 1, so 0 really means "no such id".
    match updated {
        Ok(0) => Ok(RenameOutcome::NotFound),
        Ok(_) => Ok(RenameOutcome::Renamed),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Ok(RenameOutcome::NameTaken)
        }
        Err(e) => Err(e.into()),
    }
}
// ANCHOR_END: exercise_3
