//! Step 1: `#[sqlx::test]`: a fresh database per test, with migrations and fixtures.

use std::time::Duration;

use anyhow::{Result, ensure};
use sqlx::MySqlPool;
use sqlx::migrate::Migrator;

use crate::Ctx;

// ANCHOR: code_under_test
/// The schema the tests start from: the migrations of the application, embedded.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../shared/migrations");

/// Adds a customer and returns its id.
pub async fn add_customer(pool: &MySqlPool, name: &str, job: &str) -> sqlx::Result<u64> {
    let done = sqlx::query("INSERT INTO customers (name, job) VALUES (?, ?)")
        .bind(name)
        .bind(job)
        .execute(pool)
        .await?;
    Ok(done.last_insert_id())
}

/// Every customer's name, in alphabetical order.
pub async fn customer_names(pool: &MySqlPool) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT name FROM customers ORDER BY name")
        .fetch_all(pool)
        .await
}
// ANCHOR_END: code_under_test

// ANCHOR: scenarios
/// A new customer is listed beside the seed row that the migrations add.
pub async fn a_new_customer_is_listed(pool: MySqlPool) -> Result<()> {
    add_customer(&pool, "Ada", "Engineer").await?;
    ensure!(customer_names(&pool).await? == ["Ada", "Lynn"]);
    Ok(())
}

/// With the fixture's Ada in place, a second Ada is refused by the unique key.
pub async fn a_duplicate_name_is_refused(pool: MySqlPool) -> Result<()> {
    let refused = add_customer(&pool, "Ada", "Impostor").await;
    let duplicate = refused
        .as_ref()
        .err()
        .and_then(|e| e.as_database_error())
        .is_some_and(|e| e.is_unique_violation());
    ensure!(duplicate, "expected a unique violation, got {refused:?}");
    ensure!(customer_names(&pool).await? == ["Ada", "Grace", "Lynn"]);
    Ok(())
}
// ANCHOR_END: scenarios

/// The fixture, for `main`, which runs the scenarios without `#[sqlx::test]`.
pub const FIXTURE: &str = include_str!("fixtures/customers.sql");

/// Runs both scenarios as `#[sqlx::test]` would: a fresh database each, migrated, with
/// the fixture where the test asks for it.
pub async fn run(ctx: &Ctx) -> Result<String> {
    let listed = ctx
        .isolated("s1", true, None, a_new_customer_is_listed)
        .await?;
    let refused = ctx
        .isolated("s1", true, Some(FIXTURE), a_duplicate_name_is_refused)
        .await?;
    ctx.record("#[sqlx::test]-style database per test", 2, listed + refused);
    Ok(format!(
        "a new customer is listed beside the seed row: ok, in {}\n\
         a second customer with a taken name is refused: ok, in {}\n\
         each in a database of its own, migrated, then dropped",
        ms(listed),
        ms(refused)
    ))
}

/// A duration in milliseconds, one decimal.
pub(crate) fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    // ANCHOR: sqlx_tests
    #[sqlx::test(migrator = "MIGRATOR")]
    async fn a_new_customer_is_listed_beside_the_seed_row(pool: MySqlPool) -> Result<()> {
        a_new_customer_is_listed(pool).await
    }

    #[sqlx::test(migrator = "MIGRATOR", fixtures("customers"))]
    async fn a_second_customer_with_a_taken_name_is_refused(
        pool: MySqlPool,
    ) -> Result<()> {
        a_duplicate_name_is_refused(pool).await
    }
    // ANCHOR_END: sqlx_tests

    // ANCHOR: where_it_is
    #[sqlx::test]
    async fn each_test_gets_a_database_of_its_own(pool: MySqlPool) -> Result<()> {
        let name: String = sqlx::query_scalar("SELECT DATABASE()")
            .fetch_one(&pool)
            .await?;
        // `_sqlx_test_` and a hash of the test's path: 63 characters.
        ensure!(
            name.starts_with("_sqlx_test_") && name.len() == 63,
            "{name}"
        );
        Ok(())
    }
    // ANCHOR_END: where_it_is
}
