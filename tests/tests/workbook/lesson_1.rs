//! Lesson 1: plain SQL with sqlx.

use workbook::fresh_database;
use workbook_tests::{LessonCommand, assert_matches_capture};

#[tokio::test]
async fn lesson_1_creates_the_article_table_with_its_seed_row() -> anyhow::Result<()> {
    let db = fresh_database("lesson_1_schema").await?;
    let pool = lesson_1::connect(&db.url).await?;
    lesson_1::create_schema(&pool).await?;
    lesson_1::create_schema(&pool).await?;
    let customers = lesson_1::all_customers(&pool).await?;
    assert_eq!(customers.len(), 1, "a second run adds nothing");
    assert_eq!(customers[0].name, "Lynn");
    assert_eq!(customers[0].job.as_deref(), Some("Backend Developer"));
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn lesson_1_binary_prints_what_the_book_shows_and_a_second_run_prints_the_same()
-> anyhow::Result<()> {
    let db = fresh_database("lesson_1_binary").await?;
    let first = LessonCommand::new("lesson-1", Some(&db.url)).run();
    first.assert_success();
    assert!(first.stdout.contains("name: \"Lynn\""), "{}", first.stdout);
    assert_matches_capture("lesson-1", &first.stdout, &[]);
    let second = LessonCommand::new("lesson-1", Some(&db.url)).run();
    second.assert_success();
    assert_eq!(first.stdout, second.stdout);
    Ok(())
}
