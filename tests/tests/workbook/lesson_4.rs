//! Lesson 4: many tasks at once.

use workbook::fresh_database;
use workbook_tests::{LessonCommand, assert_matches_capture};

#[tokio::test]
async fn lesson_4_binary_prints_what_the_book_shows() -> anyhow::Result<()> {
    let db = fresh_database("lesson_4_binary").await?;
    let run = LessonCommand::new("lesson-4", Some(&db.url)).run();
    run.assert_success();
    assert_matches_capture("lesson-4", &run.stdout, &[]);
    Ok(())
}
