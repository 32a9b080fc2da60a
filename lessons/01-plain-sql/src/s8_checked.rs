//! Step 8: SQL checked when the program compiles, with `query_as!` and `query!`.

use sqlx::MySqlPool;

use crate::s3_schema::Customer;

// ANCHOR: query_as_checked
/// The customer named `name`. `query_as!` checks the SQL and the mapping into
/// `Customer` (types and nullability) when the program compiles.
pub async fn checked_customer_named(
    pool: &MySqlPool,
    name: &str,
) -> sqlx::Result<Option<Customer>> {
    sqlx::query_as!(
        Customer,
        "SELECT id, name, job FROM customers WHERE name = ?",
        name
    )
    .fetch_optional(pool)
    .await
}
// ANCHOR_END: query_as_checked

// ANCHOR: query_checked
/// How many customers have each job. `query!` makes an anonymous struct with one field
/// per column, typed from the database: `job` is an `Option<String>`, `customers` an
/// `i64`.
pub async fn checked_jobs(pool: &MySqlPool) -> sqlx::Result<Vec<(Option<String>, i64)>> {
    let rows = sqlx::query!(
        "SELECT job, COUNT(*) AS customers FROM customers GROUP BY job ORDER BY job"
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.job, r.customers)).collect())
}
// ANCHOR_END: query_checked

/// Step 8's report: what the checked queries returned.
pub async fn run(ctx: &crate::Ctx) -> anyhow::Result<crate::report::Checked> {
    Ok(crate::report::Checked {
        lynn: checked_customer_named(&ctx.pool, "Lynn").await?,
        jobs: checked_jobs(&ctx.pool).await?,
    })
}
