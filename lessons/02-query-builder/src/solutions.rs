//! The worked answers to lesson 2's exercises. The `solutions` feature compiles this file
//! in place of `exercises.rs`.

use anyhow::Result;
use sea_query::{
    Cond, Expr, ExprTrait, InsertStatement, OnConflict, Order, Query, SelectStatement,
};

use crate::s1_tables::{Customers, Orders};

// ANCHOR: exercise_1
/// Exercise 2.1: the customers without a job, that is whose `job` is NULL or `''`, by
/// name. Select `id, name, job` so that `crate::s4_select::fetch_customers` can run it.
/// Hint: `Cond::any()`.
pub fn without_a_job() -> Result<SelectStatement> {
    Ok(Query::select()
        .columns([Customers::Id, Customers::Name, Customers::Job])
        .from(Customers::Table)
        .cond_where(
            Cond::any()
                .add(Expr::col(Customers::Job).is_null())
                .add(Expr::col(Customers::Job).eq("")),
        )
        .order_by(Customers::Name, Order::Asc)
        .to_owned())
}
// ANCHOR_END: exercise_1

// ANCHOR: exercise_2
/// Exercise 2.2: the `n` customers whose orders add up to the most, as `(name,
/// total_cents)` with `total_cents` a BIGINT: highest total first, equal totals by name.
/// Customers without orders are left out.
pub fn top_spenders(n: u64) -> Result<SelectStatement> {
    // NOTE: SUM of an INT is a DECIMAL in MySQL and MariaDB: CAST it to a BIGINT for an
    // i64.
    let total = Expr::col((Orders::Table, Orders::AmountCents))
        .sum()
        .cast_as("SIGNED");
    Ok(Query::select()
        .column((Customers::Table, Customers::Name))
        .expr_as(total.clone(), "total_cents")
        .from(Customers::Table)
        .inner_join(
            Orders::Table,
            Expr::col((Orders::Table, Orders::CustomerId))
                .equals((Customers::Table, Customers::Id)),
        )
        .group_by_columns([
            (Customers::Table, Customers::Id),
            (Customers::Table, Customers::Name),
        ])
        .order_by_expr(total, Order::Desc)
        .order_by((Customers::Table, Customers::Name), Order::Asc)
        .limit(n)
        .to_owned())
}
// ANCHOR_END: exercise_2

// ANCHOR: exercise_3
/// Exercise 2.3: one statement that inserts every `(name, job)` of `customers`, and for a
/// name that is already there sets its job instead.
pub fn upsert_customers_statement(
    customers: &[(&str, Option<&str>)],
) -> Result<InsertStatement> {
    let mut insert = Query::insert();
    insert
        .into_table(Customers::Table)
        .columns([Customers::Name, Customers::Job]);
    for (name, job) in customers {
        insert.values([(*name).into(), (*job).into()])?;
    }
    // `VALUES(job)` is each row's own new job, so one clause serves every row.
    insert.on_conflict(
        OnConflict::column(Customers::Name)
            .update_column(Customers::Job)
            .to_owned(),
    );
    Ok(insert.to_owned())
}
// ANCHOR_END: exercise_3
