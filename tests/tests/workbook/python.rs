//! The SQLAlchemy side: each of lessons 1 to 4 has a Python twin that runs on a fresh
//! database with the shared schema, prints what the book shows, and leaves the data as it
//! found it.

use std::time::Duration;

use workbook::TestDatabase;
use workbook_tests::{
    LessonCommand, TestResult, as_in_the_book, assert_matches_snapshot, lesson_dir, mask,
    with_anchors,
};

/// Runs lesson `number`'s Python twin twice on one fresh database: the first run must
/// match the capture, the second must print the same, and the data must be as it was.
/// `premask` masks what varies in that lesson's output beyond the shared masks, before
/// the capture is written or compared (lesson 4's timings, as its Rust test does).
async fn twin_prints_what_the_book_shows(
    number: u32,
    premask: fn(&str) -> String,
) -> TestResult {
    let t = TestDatabase::migrated(&format!("python_{number}")).await?;
    let first = premask(
        &LessonCommand::python(number, Some(t.url()))
            .run()
            .assert_success()
            .stdout,
    );
    let dir = lesson_dir(&format!("lesson-{number}")).join("python");
    let fresh = with_anchors(&as_in_the_book(&first));
    assert_matches_snapshot(&dir, "output", &first, &fresh, &[]);

    let second = premask(
        &LessonCommand::python(number, Some(t.url()))
            .run()
            .assert_success()
            .stdout,
    );
    assert_eq!(mask(&first, &[]), mask(&second, &[]));

    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM customers ORDER BY id")
        .fetch_all(&t.pool)
        .await?;
    assert_eq!(names, ["Lynn"], "the twin left rows in customers");
    let left: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM bench_customers)",
    )
    .fetch_one(&t.pool)
    .await?;
    assert_eq!(left, (0, 0), "the twin left orders or bench_customers rows");
    Ok(())
}

#[tokio::test]
async fn python_twin_of_lesson_1_prints_what_the_book_shows_and_cleans_up() -> TestResult
{
    twin_prints_what_the_book_shows(1, str::to_owned).await
}

#[tokio::test]
async fn python_twin_of_lesson_2_prints_what_the_book_shows_and_cleans_up() -> TestResult
{
    twin_prints_what_the_book_shows(2, str::to_owned).await
}

#[tokio::test]
async fn python_twin_of_lesson_3_prints_what_the_book_shows_and_cleans_up() -> TestResult
{
    twin_prints_what_the_book_shows(3, str::to_owned).await
}

#[tokio::test]
async fn python_twin_of_lesson_4_prints_what_the_book_shows_and_cleans_up() -> TestResult
{
    // Step 6 kills queries on the server: never beside the Rust lesson's step 6.
    let _step_6 = crate::lesson_4::STEP_6.lock().await;
    twin_prints_what_the_book_shows(4, crate::lesson_4::mask_lesson_4).await
}

#[test]
fn a_python_twin_without_database_url_says_so_in_one_line() {
    for number in 1..=4 {
        let run = LessonCommand::python(number, None)
            .time_limit(Duration::from_secs(60))
            .run();
        assert_eq!(run.code(), Some(2), "lesson {number}: {}", run.stderr);
        assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
        assert!(run.stderr.contains("DATABASE_URL"), "{}", run.stderr);
    }
}

#[test]
fn python_lesson_names_the_lessons_that_have_a_twin() {
    let run = LessonCommand::new("python-lesson", None)
        .args(["5"])
        .time_limit(Duration::from_secs(60))
        .run();
    assert_eq!(run.code(), Some(2), "{}", run.stderr);
    assert_eq!(
        run.stderr.trim(),
        "python-lesson: lesson 5 has no Python twin; lessons 1 to 4 have one"
    );
    let run = LessonCommand::new("python-lesson", None)
        .args(["one"])
        .time_limit(Duration::from_secs(60))
        .run();
    assert_eq!(run.code(), Some(2), "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("python-lesson: `one` is not a lesson number")
    );
}

#[test]
fn without_python3_python_lesson_says_what_to_install_in_one_line() {
    let empty = tempfile::tempdir().unwrap();
    let run = LessonCommand::new("python-lesson", None)
        .args(["1"])
        .env("PATH", empty.path())
        .env("CARGO_TARGET_DIR", empty.path())
        .time_limit(Duration::from_secs(60))
        .run();
    assert_eq!(run.code(), Some(2), "{}", run.stderr);
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("needs Python 3.11 or later")
            && run.stderr.contains("python3-venv"),
        "{}",
        run.stderr
    );
}
