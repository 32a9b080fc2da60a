//! Step 4: parallel tests. What they share and what each has alone; how a unique key and
//! an `AUTO_INCREMENT` make tests that share a database fail; and the fix.

use anyhow::{Result, ensure};
use sqlx::MySqlPool;

use crate::Ctx;
use crate::s1_sqlx_test::{MIGRATOR, add_customer};

// ANCHOR: two_tests
/// A test written as if it had the database to itself: the migrations seed Lynn as
/// customer 1, so Ada "must" become customer 2.
pub async fn ada_becomes_customer_2(pool: MySqlPool) -> Result<()> {
    let id = add_customer(&pool, "Ada", "Engineer").await?;
    ensure!(id == 2, "Ada became customer {id}, not 2");
    Ok(())
}

/// Another test of the same kind, by another author: Grace "must" be customer 2.
pub async fn grace_becomes_customer_2(pool: MySqlPool) -> Result<()> {
    let id = add_customer(&pool, "Grace", "Admiral").await?;
    ensure!(id == 2, "Grace became customer {id}, not 2");
    Ok(())
}
// ANCHOR_END: two_tests

// ANCHOR: shared_database
/// Both tests on one database, as when every test uses the same `DATABASE_URL`: the
/// first passes, and whichever runs second fails. Run twice, Ada's test also meets
/// her own row from the first run. Returns each run's outcome, as text.
pub async fn on_a_shared_database(pool: &MySqlPool) -> Result<Vec<String>> {
    let mut outcomes = Vec::new();
    for (test, outcome) in [
        ("Ada", ada_becomes_customer_2(pool.clone()).await),
        ("Grace", grace_becomes_customer_2(pool.clone()).await),
        ("Ada again", ada_becomes_customer_2(pool.clone()).await),
    ] {
        let said = match outcome {
            Ok(()) => "passed".to_owned(),
            Err(e) => format!("FAILED: {}", first_line(&e)),
        };
        outcomes.push(format!("{test}: {said}"));
    }
    Ok(outcomes)
}
// ANCHOR_END: shared_database

fn first_line(e: &anyhow::Error) -> String {
    let text = e.to_string();
    text.lines().next().unwrap_or_default().to_owned()
}

/// The failure on a shared database, then the same two tests at once, each in a fresh
/// database.
pub async fn run(ctx: &Ctx) -> Result<String> {
    let shared = ctx.make_database("s4").await?;
    let pool = ctx.pool_on(&shared).await?;
    MIGRATOR.run(&pool).await?;
    let mut lines =
        vec!["one shared database, the tests one after the other:".to_owned()];
    for outcome in on_a_shared_database(&pool).await? {
        lines.push(format!("  {outcome}"));
    }
    pool.close().await;
    ctx.drop_database(&shared).await?;
    let started = std::time::Instant::now();
    let (ada, grace) = tokio::join!(
        ctx.isolated("s4", true, None, ada_becomes_customer_2),
        ctx.isolated("s4", true, None, grace_becomes_customer_2),
    );
    let (ada, grace) = (ada.map(|_| "passed"), grace.map(|_| "passed"));
    ctx.record("database per test, two at once", 2, started.elapsed());
    lines.push("a database each, both at once:".to_owned());
    lines.push(format!("  Ada: {}", ada.unwrap_or("FAILED")));
    lines.push(format!("  Grace: {}", grace.unwrap_or("FAILED")));
    Ok(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    // ANCHOR: tests
    #[sqlx::test(migrator = "MIGRATOR")]
    async fn tests_that_share_a_database_interfere(pool: MySqlPool) -> Result<()> {
        let outcomes = on_a_shared_database(&pool).await?;
        ensure!(outcomes[0] == "Ada: passed", "{outcomes:?}");
        ensure!(outcomes[1] == "Grace: FAILED: Grace became customer 3, not 2");
        ensure!(
            outcomes[2].contains("Duplicate entry 'Ada'"),
            "{outcomes:?}"
        );
        Ok(())
    }

    // The fix: each test in a database of its own. The harness runs these two at once.
    #[sqlx::test(migrator = "MIGRATOR")]
    async fn ada_becomes_customer_2_in_a_database_of_her_own(
        pool: MySqlPool,
    ) -> Result<()> {
        ada_becomes_customer_2(pool).await
    }

    #[sqlx::test(migrator = "MIGRATOR")]
    async fn grace_becomes_customer_2_in_a_database_of_hers(
        pool: MySqlPool,
    ) -> Result<()> {
        grace_becomes_customer_2(pool).await
    }
    // ANCHOR_END: tests
}
