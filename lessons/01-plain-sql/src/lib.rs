//! Lesson 1: plain SQL with sqlx, the Rust form of SQLAlchemy's `text()` on an async engine.

// The exercises at the end of the chapter. With the `solutions` feature, the worked answers
// stand in their place, so that CI can check that every exercise is solvable.
#[cfg(not(feature = "solutions"))]
pub mod exercises;
#[cfg(feature = "solutions")]
#[path = "solutions.rs"]
pub mod exercises;

use anyhow::{Context, Result};
use sqlx::mysql::{MySqlPool, MySqlPoolOptions};

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

// ANCHOR: connect
/// Opens a pool on `url`.
pub async fn connect(url: &str) -> Result<MySqlPool> {
    let pool = MySqlPoolOptions::new()
        .max_connections(5)
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect(url)
        .await
        .map_err(|e| workbook::explain_connect_error(url, &e))?;
    Ok(pool)
}
// ANCHOR_END: connect

// ANCHOR: version
/// `SELECT VERSION()`.
pub async fn server_version(pool: &MySqlPool) -> Result<String> {
    let version: String = sqlx::query_scalar("SELECT VERSION()")
        .fetch_one(pool)
        .await?;
    Ok(version)
}
// ANCHOR_END: version

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

// ANCHOR: all_customers
/// Every customer, by id.
pub async fn all_customers(pool: &MySqlPool) -> Result<Vec<Customer>> {
    let rows = sqlx::query_as::<_, Customer>("SELECT id, name, job FROM customers ORDER BY id")
        .fetch_all(pool)
        .await?;
    Ok(rows)
}
// ANCHOR_END: all_customers
