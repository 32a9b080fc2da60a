//! Step 3: the article's table, its seed row, and a struct for its rows.

use anyhow::{Context, Result};
use sqlx::MySqlPool;

// ANCHOR: schema
/// The article's DDL and its seed row, idempotent: a second run changes nothing.
pub async fn create_schema(pool: &MySqlPool) -> Result<()> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS customers (
           id SMALLINT NOT NULL AUTO_INCREMENT,
           name VARCHAR(50) NOT NULL,
           job VARCHAR(50) DEFAULT '',
           PRIMARY KEY (id),
           UNIQUE KEY UQ_name (name)
         )",
    )
    .execute(pool)
    .await
    .context("cannot create the customers table")?;
    // Unlike INSERT IGNORE, this spends no AUTO_INCREMENT value when Lynn is there.
    sqlx::query(
        "INSERT INTO customers (name, job)
         SELECT 'Lynn', 'Backend Developer' FROM DUAL
         WHERE NOT EXISTS (SELECT 1 FROM customers WHERE name = 'Lynn')",
    )
    .execute(pool)
    .await
    .context("cannot insert the seed row")?;
    Ok(())
}
// ANCHOR_END: schema

// ANCHOR: customer
/// A row of the article's `customers` table.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Customer {
    /// `SMALLINT NOT NULL AUTO_INCREMENT`: a 16-bit signed integer.
    pub id: i16,
    /// `VARCHAR(50) NOT NULL`.
    pub name: String,
    /// `VARCHAR(50) DEFAULT ''`: nullable, so an `Option`.
    pub job: Option<String>,
}
// ANCHOR_END: customer

// ANCHOR: all_customers
/// Every customer, by id.
pub async fn all_customers(pool: &MySqlPool) -> sqlx::Result<Vec<Customer>> {
    sqlx::query_as::<_, Customer>("SELECT id, name, job FROM customers ORDER BY id")
        .fetch_all(pool)
        .await
}
// ANCHOR_END: all_customers

/// Step 3's report: the table's rows after the schema step.
pub async fn run(ctx: &crate::Ctx) -> Result<crate::report::Customers> {
    create_schema(&ctx.pool).await?;
    let rows = all_customers(&ctx.pool)
        .await
        .context("cannot read the customers")?;
    Ok(crate::report::Customers(rows))
}
