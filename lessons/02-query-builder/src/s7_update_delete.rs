//! Step 7: an update, then the deletes that remove what the run added.

use anyhow::{Context, Result};
use sea_query::{
    DeleteStatement, Expr, ExprTrait, MysqlQueryBuilder, Query, UpdateStatement,
};
use sqlx::mysql::MySqlPool;

use crate::s1_tables::{Customers, Orders};
use crate::s3_writing::{SAMPLE_CUSTOMERS, execute};
use crate::s5_dynamic::{Filters, search};

// ANCHOR: set_job
/// `UPDATE customers SET job = ? WHERE name = ?`: `update().where().values()` in Core.
pub fn set_job_statement(name: &str, job: Option<&str>) -> UpdateStatement {
    Query::update()
        .table(Customers::Table)
        .value(Customers::Job, job)
        .and_where(Expr::col(Customers::Name).eq(name))
        .to_owned()
}
// ANCHOR_END: set_job

// ANCHOR: delete
/// Deletes the orders of the customers called `names`: a DELETE with a subquery.
pub fn delete_orders_of_statement(names: &[&str]) -> DeleteStatement {
    let ids = Query::select()
        .column(Customers::Id)
        .from(Customers::Table)
        .and_where(Expr::col(Customers::Name).is_in(names.iter().copied()))
        .to_owned();
    Query::delete()
        .from_table(Orders::Table)
        .and_where(Expr::col(Orders::CustomerId).in_subquery(ids))
        .to_owned()
}

/// Deletes the customers called `names` (their orders must be gone first: the foreign
/// key).
pub fn delete_customers_statement(names: &[&str]) -> DeleteStatement {
    Query::delete()
        .from_table(Customers::Table)
        .and_where(Expr::col(Customers::Name).is_in(names.iter().copied()))
        .to_owned()
}
// ANCHOR_END: delete

// ANCHOR: clean_up
/// The sample customers' names.
pub fn sample_names() -> Vec<&'static str> {
    SAMPLE_CUSTOMERS.iter().map(|(name, _)| *name).collect()
}

/// Removes what a run added: the sample customers' orders, then the sample customers.
/// Returns the rows deleted from each table.
pub async fn clean_up(pool: &MySqlPool) -> Result<(u64, u64)> {
    let names = sample_names();
    let orders = execute(pool, &delete_orders_of_statement(&names))
        .await
        .context("cannot delete the sample orders")?;
    let customers = execute(pool, &delete_customers_statement(&names))
        .await
        .context("cannot delete the sample customers")?;
    Ok((orders, customers))
}
// ANCHOR_END: clean_up

/// Step 7's report: the statements, the rows each changed, and the customers left.
pub async fn run(ctx: &crate::Ctx) -> Result<crate::report::UpdateDelete> {
    let pool = &ctx.pool;
    let update = set_job_statement("Grace", Some("Engineering Manager"));
    let updated = execute(pool, &update)
        .await
        .context("cannot update Grace's job")?;
    let names = sample_names();
    let delete_orders = delete_orders_of_statement(&names).build(MysqlQueryBuilder);
    let delete_customers = delete_customers_statement(&names).build(MysqlQueryBuilder);
    let (orders_deleted, customers_deleted) = clean_up(pool).await?;
    let left = search(pool, &Filters::default())
        .await
        .context("cannot list the customers")?;
    Ok(crate::report::UpdateDelete {
        update: update.build(MysqlQueryBuilder).into(),
        updated,
        delete_orders: delete_orders.into(),
        delete_customers: delete_customers.into(),
        orders_deleted,
        customers_deleted,
        left: left.into_iter().map(|c| c.name).collect(),
    })
}
