//! The worked answers to lesson 3's exercises. The `solutions` feature compiles this file
//! in place of `exercises.rs`.

use anyhow::Result;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncMysqlConnection, RunQueryDsl};
use sea_orm::QuerySelect;
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::models::{Customer, Order};
use crate::schema::{customers, orders};
use crate::seaorm::{customer, order};

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
/// Exercise 3.3: delete the customer with primary key `id` together with all their
/// orders, in one transaction: all of it or none of it. Return how many orders went, or
/// `None` (having deleted nothing) when no customer has that id.
pub async fn delete_with_orders(
    conn: &mut AsyncMysqlConnection,
    id: i16,
) -> Result<Option<usize>> {
    conn.transaction(async |conn| {
        // The foreign key refuses to delete a customer who still has orders, so the
        // orders go first.
        let orders_gone =
            diesel::delete(orders::table.filter(orders::customer_id.eq(id)))
                .execute(conn)
                .await?;
        let customers_gone = diesel::delete(customers::table.find(id))
            .execute(conn)
            .await?;
        Ok::<_, anyhow::Error>((customers_gone == 1).then_some(orders_gone))
    })
    .await
}
// ANCHOR_END: exercise_3

// ANCHOR: exercise_4
/// Exercise 3.4, with SeaORM: the names of the customers who have no orders at all,
/// sorted by name, in one statement built from the entities (no SQL strings).
pub async fn customers_without_orders_seaorm(
    db: &impl ConnectionTrait,
) -> Result<Vec<String>> {
    // The relation gives the LEFT JOIN its ON; a customer without orders gets NULL order
    // columns.
    let names = customer::Entity::find()
        .select_only()
        .column(customer::Column::Name)
        .left_join(order::Entity)
        .filter(order::Column::Id.is_null())
        .order_by_asc(customer::Column::Name)
        .into_tuple()
        .all(db)
        .await?;
    Ok(names)
}
// ANCHOR_END: exercise_4

// ANCHOR: exercise_5
/// Exercise 3.5, with SeaORM: every customer's name with the total of their orders in
/// cents (0 for a customer without orders), sorted by name, in one statement: the server
/// sums, and no SQL strings.
pub async fn order_totals_seaorm(
    db: &impl ConnectionTrait,
) -> Result<Vec<(String, i64)>> {
    // MySQL's SUM of an INT is a DECIMAL, and NULL over no rows: COALESCE gives the 0,
    // and CAST(... AS SIGNED) a BIGINT, which reads as an i64.
    let sum = Func::sum(Expr::col((order::Entity, order::Column::AmountCents)));
    let total: Expr =
        Func::cast_as(Func::coalesce([sum.into(), Expr::val(0)]), "SIGNED").into();
    let totals = customer::Entity::find()
        .select_only()
        .column(customer::Column::Name)
        .column_as(total, "total")
        .left_join(order::Entity)
        // NOTE: MySQL would take the id alone (the name depends on the primary key);
        // MariaDB's ONLY_FULL_GROUP_BY, when it is on, wants the name listed too.
        .group_by(customer::Column::Id)
        .group_by(customer::Column::Name)
        .order_by_asc(customer::Column::Name)
        .into_tuple()
        .all(db)
        .await?;
    Ok(totals)
}
// ANCHOR_END: exercise_5
