//! Lesson 3's exercises: these fail until the exercises are solved.

use workbook::fresh_database;

#[tokio::test]
async fn exercise_3_1_counts_customers_with_a_job() -> anyhow::Result<()> {
    let db = fresh_database("exercise_3_1").await?;
    let pool = workbook::connect(&db.url).await?;
    workbook::migrate(&pool).await?;
    sqlx::query("INSERT INTO customers (name, job) VALUES ('Ada', ''), ('Grace', NULL)")
        .execute(&pool)
        .await?;
    assert_eq!(lesson_3::exercises::customers_with_a_job(&pool).await?, 1);
    pool.close().await;
    Ok(())
}
