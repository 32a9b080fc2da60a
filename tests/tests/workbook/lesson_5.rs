//! Lesson 5: transactions and failures.

use workbook::fresh_database;
use workbook_tests::{LessonCommand, assert_matches_capture};

#[tokio::test]
async fn lesson_5_binary_prints_what_the_book_shows() -> anyhow::Result<()> {
    let db = fresh_database("lesson_5_binary").await?;
    let run = LessonCommand::new("lesson-5", Some(&db.url)).run();
    run.assert_success();
    assert_matches_capture("lesson-5", &run.stdout, &[]);
    Ok(())
}
