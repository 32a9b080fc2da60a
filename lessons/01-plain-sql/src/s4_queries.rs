//! Step 4: reading with bound parameters: many rows, one row, maybe a row, one value.

use sqlx::{MySqlPool, Row};

use crate::s3_schema::Customer;

// ANCHOR: fetch_all
/// Every customer with this job: `fetch_all` gives a `Vec`, empty when nothing matches.
pub async fn customers_with_job(
    pool: &MySqlPool,
    job: &str,
) -> sqlx::Result<Vec<Customer>> {
    sqlx::query_as::<_, Customer>(
        "SELECT id, name, job FROM customers WHERE job = ? ORDER BY id",
    )
    .bind(job)
    .fetch_all(pool)
    .await
}
// ANCHOR_END: fetch_all

// ANCHOR: fetch_one
/// The customer named `name`, read column by column from a plain row. `fetch_one` fails
/// with `sqlx::Error::RowNotFound` when no row matches.
pub async fn customer_by_name(pool: &MySqlPool, name: &str) -> sqlx::Result<Customer> {
    let row = sqlx::query("SELECT id, name, job FROM customers WHERE name = ?")
        .bind(name)
        .fetch_one(pool)
        .await?;
    Ok(Customer {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        job: row.try_get("job")?,
    })
}
// ANCHOR_END: fetch_one

// ANCHOR: fetch_optional
/// The customer with this id, or `None`: `fetch_optional` gives the first row, if any.
pub async fn find_customer(pool: &MySqlPool, id: i16) -> sqlx::Result<Option<Customer>> {
    sqlx::query_as::<_, Customer>("SELECT id, name, job FROM customers WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await
}
// ANCHOR_END: fetch_optional

// ANCHOR: query_scalar
/// How many customers there are. `COUNT(*)` is a `BIGINT`, so an `i64`.
pub async fn count_customers(pool: &MySqlPool) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM customers")
        .fetch_one(pool)
        .await
}
// ANCHOR_END: query_scalar

/// Step 4's report: what each way of reading returned.
pub async fn run(ctx: &crate::Ctx) -> anyhow::Result<crate::report::Queries> {
    let pool = &ctx.pool;
    let lynn = customer_by_name(pool, "Lynn").await?;
    Ok(crate::report::Queries {
        developers: customers_with_job(pool, "Backend Developer").await?,
        found: find_customer(pool, lynn.id).await?,
        lynn,
        missing: find_customer(pool, -1).await?,
        count: count_customers(pool).await?,
    })
}
