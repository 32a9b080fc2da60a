//! Lesson 6: measuring which layer costs what.

use workbook::fresh_database;
use workbook_tests::{LessonCommand, assert_matches_capture};

#[tokio::test]
async fn lesson_6_binary_prints_what_the_book_shows() -> anyhow::Result<()> {
    let db = fresh_database("lesson_6_binary").await?;
    let run = LessonCommand::new("lesson-6", Some(&db.url)).run();
    run.assert_success();
    assert_matches_capture("lesson-6", &run.stdout, &[]);
    Ok(())
}
