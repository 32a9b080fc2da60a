//! Step 4: selects: WHERE, ORDER BY and LIMIT, IN and LIKE, GROUP BY, and a join.

use anyhow::{Context, Result};
use sea_query::{
    Expr, ExprTrait, Func, MysqlQueryBuilder, Order, Query, SelectStatement,
};
use sea_query_sqlx::SqlxBinder;
use sqlx::AssertSqlSafe;
use sqlx::mysql::MySqlPool;

use crate::s1_tables::{Customer, Customers, Orders, customer_columns};

// ANCHOR: fetch_customers
/// Runs a SELECT whose columns are `id, name, job` and maps each row to a [`Customer`].
pub async fn fetch_customers(
    pool: &MySqlPool,
    query: &SelectStatement,
) -> Result<Vec<Customer>> {
    let (sql, values) = query.build_sqlx(MysqlQueryBuilder);
    // The same assertion as in `execute`: the SQL text is the builder's, values are
    // bound.
    let rows = sqlx::query_as_with::<_, Customer, _>(AssertSqlSafe(sql), values)
        .fetch_all(pool)
        .await?;
    Ok(rows)
}
// ANCHOR_END: fetch_customers

// ANCHOR: by_job
/// Customers with the job `job`, by name, at most `limit` of them.
pub fn by_job(job: &str, limit: u64) -> SelectStatement {
    Query::select()
        .columns(customer_columns())
        .from(Customers::Table)
        .and_where(Expr::col(Customers::Job).eq(job))
        .order_by(Customers::Name, Order::Asc)
        .limit(limit)
        .to_owned()
}
// ANCHOR_END: by_job

// ANCHOR: named
/// Customers whose name is one of `names`, by name.
pub fn named(names: &[&str]) -> SelectStatement {
    Query::select()
        .columns(customer_columns())
        .from(Customers::Table)
        .and_where(Expr::col(Customers::Name).is_in(names.iter().copied()))
        .order_by(Customers::Name, Order::Asc)
        .to_owned()
}
// ANCHOR_END: named

// ANCHOR: name_like
/// Customers whose name matches the LIKE `pattern` as it is, `%` and `_` being wildcards.
pub fn name_like(pattern: &str) -> SelectStatement {
    Query::select()
        .columns(customer_columns())
        .from(Customers::Table)
        .and_where(Expr::col(Customers::Name).like(pattern))
        .order_by(Customers::Name, Order::Asc)
        .to_owned()
}
// ANCHOR_END: name_like

// ANCHOR: count_by_job_statement
/// How many customers have each job: `COUNT(id)` and `GROUP BY job`.
pub fn count_by_job_statement() -> SelectStatement {
    Query::select()
        .column(Customers::Job)
        .expr_as(Expr::col(Customers::Id).count(), "customers")
        .from(Customers::Table)
        .group_by_col(Customers::Job)
        .order_by(Customers::Job, Order::Asc)
        .to_owned()
}
// ANCHOR_END: count_by_job_statement

// ANCHOR: count_by_job
/// Runs [`count_by_job_statement`]: each job, `None` for NULL, with its customers.
pub async fn count_by_job(pool: &MySqlPool) -> Result<Vec<(Option<String>, i64)>> {
    let (sql, values) = count_by_job_statement().build_sqlx(MysqlQueryBuilder);
    // `COUNT` is a BIGINT: an `i64`. The SQL text is the builder's, as in `execute`.
    let rows: Vec<(Option<String>, i64)> =
        sqlx::query_as_with(AssertSqlSafe(sql), values)
            .fetch_all(pool)
            .await?;
    Ok(rows)
}
// ANCHOR_END: count_by_job

// ANCHOR: customer_totals
/// A customer with the number and the total of their orders.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CustomerTotals {
    /// The customer's name.
    pub name: String,
    /// How many orders they have: `COUNT(orders.id)`, 0 when none.
    pub orders: i64,
    /// The sum of their orders' `amount_cents`, 0 when none.
    pub total_cents: i64,
}
// ANCHOR_END: customer_totals

// ANCHOR: totals_statement
/// Each customer with the number and the total of their orders, by name: a LEFT JOIN, so
/// that customers without orders are there too.
pub fn totals_statement() -> SelectStatement {
    // NOTE: SUM of an INT column is a DECIMAL in MySQL and MariaDB, which sqlx cannot
    // read into an i64. `CAST(... AS SIGNED)` makes it a BIGINT; COALESCE makes "no
    // orders" a 0, not NULL.
    let total = Func::coalesce([
        Expr::col((Orders::Table, Orders::AmountCents)).sum(),
        Expr::val(0),
    ])
    .cast_as("SIGNED");
    Query::select()
        .column((Customers::Table, Customers::Name))
        .expr_as(Expr::col((Orders::Table, Orders::Id)).count(), "orders")
        .expr_as(total, "total_cents")
        .from(Customers::Table)
        .left_join(
            Orders::Table,
            Expr::col((Orders::Table, Orders::CustomerId))
                .equals((Customers::Table, Customers::Id)),
        )
        .group_by_columns([
            (Customers::Table, Customers::Id),
            (Customers::Table, Customers::Name),
        ])
        .order_by((Customers::Table, Customers::Name), Order::Asc)
        .to_owned()
}
// ANCHOR_END: totals_statement

// ANCHOR: totals
/// Runs [`totals_statement`].
pub async fn totals(pool: &MySqlPool) -> Result<Vec<CustomerTotals>> {
    let (sql, values) = totals_statement().build_sqlx(MysqlQueryBuilder);
    // The SQL text is the builder's; its only value (the 0) is bound.
    let rows = sqlx::query_as_with::<_, CustomerTotals, _>(AssertSqlSafe(sql), values)
        .fetch_all(pool)
        .await?;
    Ok(rows)
}
// ANCHOR_END: totals

/// Step 4's report: each select's statement, with the rows it returned.
pub async fn run(ctx: &crate::Ctx) -> Result<crate::report::Selects> {
    let pool = &ctx.pool;
    let mut customers = Vec::new();
    for query in [
        by_job("Backend Developer", 10),
        named(&["Ada", "Linus", "Nobody"]),
        name_like("L%"),
    ] {
        let rows = fetch_customers(pool, &query)
            .await
            .context("cannot select customers")?;
        customers.push(crate::report::Selected {
            statement: query.build(MysqlQueryBuilder).into(),
            rows,
        });
    }
    let by_job = crate::report::Selected {
        statement: count_by_job_statement().build(MysqlQueryBuilder).into(),
        rows: count_by_job(pool)
            .await
            .context("cannot count the customers by job")?,
    };
    let totals = crate::report::Selected {
        statement: totals_statement().build(MysqlQueryBuilder).into(),
        rows: totals(pool).await.context("cannot total the orders")?,
    };
    Ok(crate::report::Selects {
        customers,
        by_job,
        totals,
    })
}
