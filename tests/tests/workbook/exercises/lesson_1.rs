//! Lesson 1's exercises: these fail until the exercises are solved.

use workbook::TestDatabase;
use workbook_tests::TestResult;

async fn customers(pool: &sqlx::MySqlPool) -> anyhow::Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT name FROM customers ORDER BY name")
            .fetch_all(pool)
            .await?,
    )
}

#[tokio::test]
async fn exercise_1_1_counts_customers_with_a_job_that_is_neither_empty_nor_null()
-> TestResult {
    let t = TestDatabase::migrated("exercise_1_1").await?;
    sqlx::query("INSERT INTO customers (name, job) VALUES ('Ada', ''), ('Grace', NULL)")
        .execute(&t.pool)
        .await?;
    sqlx::query("INSERT INTO customers (name) VALUES ('Edsger')")
        .execute(&t.pool)
        .await?;
    // Lynn (the seed row) is the only one with a job.
    assert_eq!(lesson_1::exercises::customers_with_a_job(&t.pool).await?, 1);
    t.pool.close().await;
    Ok(())
}

#[tokio::test]
async fn exercise_1_2_renames_a_customer_and_says_whether_anyone_was_renamed()
-> TestResult {
    let t = TestDatabase::migrated("exercise_1_2").await?;
    let hostile = "Lynn'; DELETE FROM customers; --";
    assert!(lesson_1::exercises::rename_customer(&t.pool, "Lynn", hostile).await?);
    assert_eq!(
        customers(&t.pool).await?,
        [hostile],
        "the new name is stored verbatim"
    );
    assert!(!lesson_1::exercises::rename_customer(&t.pool, "Nobody", "Somebody").await?);
    assert_eq!(
        customers(&t.pool).await?,
        [hostile],
        "renaming nobody changes nothing"
    );
    t.pool.close().await;
    Ok(())
}

#[tokio::test]
async fn exercise_1_3_inserts_all_customers_or_none_of_them() -> TestResult {
    let t = TestDatabase::migrated("exercise_1_3").await?;
    let failed = lesson_1::exercises::insert_all_or_none(
        &t.pool,
        &[
            ("Ada", "Analyst"),
            ("Lynn", "Duplicate"),
            ("Grace", "Admiral"),
        ],
    )
    .await;
    assert!(failed.is_err(), "a duplicate name is an error");
    assert_eq!(customers(&t.pool).await?, ["Lynn"], "nothing of it stayed");
    let inserted = lesson_1::exercises::insert_all_or_none(
        &t.pool,
        &[("Ada", "Analyst"), ("Grace", "Admiral")],
    )
    .await?;
    assert_eq!(inserted, 2);
    assert_eq!(customers(&t.pool).await?, ["Ada", "Grace", "Lynn"]);
    t.pool.close().await;
    Ok(())
}
