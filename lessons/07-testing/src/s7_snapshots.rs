//! Step 7: snapshot tests of query output: the text a query's result makes, compared
//! with a file kept in the repository, and written anew on request.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use sqlx::MySqlPool;

use crate::Ctx;
use crate::s1_sqlx_test::FIXTURE;

// ANCHOR: code_under_test
/// The code under test: a small report of the customers and their orders.
pub async fn orders_report(pool: &MySqlPool) -> Result<String> {
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT c.name, COUNT(o.id), CAST(COALESCE(SUM(o.amount_cents), 0) AS SIGNED) \
         FROM customers c LEFT JOIN orders o ON o.customer_id = c.id \
         GROUP BY c.id, c.name ORDER BY c.name",
    )
    .fetch_all(pool)
    .await?;
    let mut out = format!("{:<10} {:>6} {:>10}\n", "customer", "orders", "total");
    for (name, orders, cents) in rows {
        let total = format!("{}.{:02}", cents / 100, cents % 100);
        out.push_str(&format!("{name:<10} {orders:>6} {total:>10}\n"));
    }
    Ok(out)
}
// ANCHOR_END: code_under_test

// ANCHOR: assert_snapshot
/// Compares `actual` with `snapshots/NAME.txt` in the crate. With `UPDATE_SNAPSHOTS=1`
/// it writes the file instead: review the diff, then commit it.
pub fn assert_snapshot(name: &str, actual: &str) -> Result<()> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")); // the crate, when compiled
    let path = dir.join("snapshots").join(format!("{name}.txt"));
    if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().context("no parent")?)?;
        return Ok(std::fs::write(&path, actual)?);
    }
    let expected = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "{}: no snapshot yet; run with UPDATE_SNAPSHOTS=1",
            path.display()
        )
    })?;
    if expected != actual {
        bail!(
            "{} differs (UPDATE_SNAPSHOTS=1 writes it anew)\n\
             --- expected ---\n{expected}--- actual ---\n{actual}",
            path.display()
        );
    }
    Ok(())
}
// ANCHOR_END: assert_snapshot

/// The fixture's customers with a few orders.
pub async fn some_orders(pool: &MySqlPool) -> Result<()> {
    sqlx::query(
        "INSERT INTO orders (customer_id, item, amount_cents) \
         SELECT id, 'Difference engine', 150000 FROM customers WHERE name = 'Ada' UNION ALL \
         SELECT id, 'Compiler', 4250 FROM customers WHERE name = 'Grace' UNION ALL \
         SELECT id, 'Nanosecond wire', 30 FROM customers WHERE name = 'Grace'",
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The report, in a fresh database with the fixture, compared with its snapshot.
pub async fn run(ctx: &Ctx) -> Result<String> {
    let started = std::time::Instant::now();
    let mut report = String::new();
    let out = &mut report;
    ctx.isolated("s7", true, Some(FIXTURE), |pool| async move {
        some_orders(&pool).await?;
        *out = orders_report(&pool).await?;
        Ok(())
    })
    .await?;
    let matches = match assert_snapshot("orders_report", &report) {
        Ok(()) => "yes".to_owned(),
        Err(e) => format!("NO: {e}"),
    };
    ctx.record("snapshot test, database per test", 1, started.elapsed());
    Ok(format!(
        "{report}matches snapshots/orders_report.txt: {matches}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s1_sqlx_test::MIGRATOR;

    // ANCHOR: test
    #[sqlx::test(migrator = "MIGRATOR", fixtures("customers"))]
    async fn the_orders_report_matches_its_snapshot(pool: MySqlPool) -> Result<()> {
        some_orders(&pool).await?;
        assert_snapshot("orders_report", &orders_report(&pool).await?)
    }
    // ANCHOR_END: test
}
