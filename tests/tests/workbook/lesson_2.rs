//! Lesson 2: the Core-style query builder with sea-query.

use workbook::fresh_database;
use workbook_tests::{LessonCommand, assert_matches_capture};

#[tokio::test]
async fn lesson_2_binary_prints_what_the_book_shows() -> anyhow::Result<()> {
    let db = fresh_database("lesson_2_binary").await?;
    let run = LessonCommand::new("lesson-2", Some(&db.url)).run();
    run.assert_success();
    assert_matches_capture("lesson-2", &run.stdout, &[]);
    Ok(())
}
