//! The error a stale offline cache gives. This is `checked_customer_named` from
//! `src/s8_checked.rs` after an edit to its SQL (`LIMIT 1` was added) without `cargo
//! sqlx prepare`: `.sqlx/` has no entry for the new text, so the build fails.
//!
//! It is compiled only with the `stale-cache-demo` feature, by a test that captures the
//! error into `captured/stale-cache.txt` for the book. Refreshing the cache would make it
//! compile.

use anyhow::{Context, Result};
use lesson_1::Customer;
use sqlx::mysql::MySqlPool;

// ANCHOR: edited
/// `checked_customer_named`, with an edited query.
pub async fn checked_customer_named(
    pool: &MySqlPool,
    name: &str,
) -> Result<Option<Customer>> {
    let customer = sqlx::query_as!(
        Customer,
        "SELECT id, name, job FROM customers WHERE name = ? LIMIT 1",
        name
    )
    .fetch_optional(pool)
    .await?;
    Ok(customer)
}
// ANCHOR_END: edited

#[tokio::main]
async fn main() -> Result<()> {
    let url = std::env::var("DATABASE_URL").context("set DATABASE_URL")?;
    let pool = MySqlPool::connect(&url).await?;
    let lynn = checked_customer_named(&pool, "Lynn")
        .await
        .context("cannot read Lynn")?;
    println!("{lynn:?}");
    pool.close().await;
    Ok(())
}
