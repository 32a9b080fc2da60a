//! Lesson 6's exercises: these fail until the exercises are solved.

use std::time::Duration;

use sqlx::Connection;
use workbook::TestDatabase;
use workbook_tests::TestResult;

#[test]
fn exercise_6_1_finds_the_minimum_and_the_median_of_unsorted_runs() {
    let ms = Duration::from_millis;
    let odd = lesson_6::exercises::min_and_median(&[ms(30), ms(10), ms(20)]).ok();
    assert_eq!(odd, Some((ms(10), ms(20))));
    let even =
        lesson_6::exercises::min_and_median(&[ms(40), ms(10), ms(30), ms(20)]).ok();
    assert_eq!(even, Some((ms(10), ms(25))));
    assert!(lesson_6::exercises::min_and_median(&[]).is_err());
}

#[tokio::test]
async fn exercise_6_2_shows_that_sqlx_prepares_a_repeated_query_once() -> TestResult {
    let TestDatabase { db, pool } = TestDatabase::migrated("exercise_6_2").await?;
    sqlx::query("INSERT INTO bench_customers (name) VALUES ('Ada'), ('Grace')")
        .execute(&pool)
        .await?;
    let mut conn = sqlx::MySqlConnection::connect(&db.url).await?;
    let ids: Vec<i32> = (1..=50).collect();
    let prepared = lesson_6::exercises::statements_prepared(&mut conn, &ids).await?;
    assert_eq!(prepared, 1, "50 runs of one query, one prepare");
    let again = lesson_6::exercises::statements_prepared(&mut conn, &ids).await?;
    assert_eq!(again, 0, "the statement is still cached on this connection");
    conn.close().await?;
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn exercise_6_3_inserts_in_chunks_with_one_statement_per_chunk() -> TestResult {
    let t = TestDatabase::migrated("exercise_6_3").await?;
    let names: Vec<String> = (1..=25).map(|i| format!("chunked-{i:02}")).collect();
    assert!(
        lesson_6::exercises::insert_in_chunks(&t.pool, &names, 0)
            .await
            .is_err()
    );
    let statements = lesson_6::exercises::insert_in_chunks(&t.pool, &names, 10).await?;
    assert_eq!(statements, 3);
    let stored: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT name, job FROM bench_customers ORDER BY name")
            .fetch_all(&t.pool)
            .await?;
    let want: Vec<(String, Option<String>)> = names
        .iter()
        .map(|n| (n.clone(), Some(String::new())))
        .collect();
    assert_eq!(stored, want);
    t.pool.close().await;
    Ok(())
}
