//! The Rust types that rows become, and that become rows: the declarative model's part.

use std::fmt;

use diesel::mysql::Mysql;
use diesel::prelude::*;

use crate::schema::{customers, orders};

// ANCHOR: customer
/// A row of `customers`, as loaded. `check_for_backend(Mysql)` makes the compiler check
/// each field's type against the column's SQL type, with a readable error when they
/// disagree.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = customers, check_for_backend(Mysql))]
pub struct Customer {
    /// The primary key (`SMALLINT`, so `i16`).
    pub id: i16,
    /// The unique name.
    pub name: String,
    /// The job; `None` is SQL `NULL`.
    pub job: Option<String>,
}
// ANCHOR_END: customer

// ANCHOR: new_customer
/// A customer to insert: no `id`, the server assigns it.
#[derive(Debug, Insertable)]
#[diesel(table_name = customers)]
pub struct NewCustomer<'a> {
    /// The unique name.
    pub name: &'a str,
    /// The job. `None` inserts the column's `DEFAULT` (''), not `NULL`: that is diesel's
    /// rule for `Option` fields of an `Insertable`.
    pub job: Option<&'a str>,
}

/// Changes to a customer: each `None` leaves its column alone. `job: Some(None)` sets
/// `NULL`.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = customers)]
pub struct CustomerChanges<'a> {
    /// A new name, if any.
    pub name: Option<&'a str>,
    /// A new job, if any; `Some(None)` clears it to `NULL`.
    pub job: Option<Option<&'a str>>,
}
// ANCHOR_END: new_customer

// ANCHOR: order
/// A row of `orders`. `belongs_to(Customer)` gives `Order::belonging_to(&customers)`.
#[derive(
    Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable, Associations,
)]
#[diesel(table_name = orders, belongs_to(Customer), check_for_backend(Mysql))]
pub struct Order {
    /// The primary key.
    pub id: i32,
    /// The customer who placed it.
    pub customer_id: i16,
    /// What was ordered.
    pub item: String,
    /// The price in whole cents.
    pub amount_cents: i32,
}

/// An order to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = orders)]
pub struct NewOrder<'a> {
    /// The customer who places it.
    pub customer_id: i16,
    /// What is ordered.
    pub item: &'a str,
    /// The price in whole cents.
    pub amount_cents: i32,
}
// ANCHOR_END: order

/// Shows a customer without the `id`, which changes from run to run.
impl fmt::Display for Customer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.job {
            Some(job) => write!(f, "{} ({job:?})", self.name),
            None => write!(f, "{} (NULL)", self.name),
        }
    }
}

/// Shows an order without its ids, and its price in dollars.
impl fmt::Display for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.item, dollars(i64::from(self.amount_cents)))
    }
}

/// Whole cents as dollars, e.g. `12.50`.
pub fn dollars(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{sign}{}.{:02}", cents / 100, cents % 100)
}
