//! Lesson 3: the ORM with diesel-async.

use workbook::fresh_database;
use workbook_tests::{LessonCommand, assert_matches_capture};

#[tokio::test]
async fn lesson_3_binary_prints_what_the_book_shows() -> anyhow::Result<()> {
    let db = fresh_database("lesson_3_binary").await?;
    let run = LessonCommand::new("lesson-3", Some(&db.url)).run();
    run.assert_success();
    assert_matches_capture("lesson-3", &run.stdout, &[]);
    Ok(())
}
