//! Lesson 7: testing against a real server. The lesson's own tests run in its crate
//! (`cargo test -p lesson-7`); here its binary runs every way of testing once, on a
//! server of this run's kind, and must print what the book shows, with every database
//! it made dropped again.

use std::time::Duration;

use regex::Regex;
use workbook_tests::{LessonCommand, TestResult, assert_matches_capture};

/// What varies from run to run besides timings: the lesson's own database names.
const MASKS: &[(&str, &str)] = &[(r"lesson7_\w+", "lesson7_N"), (r" +<time>", " <time>")];

#[tokio::test]
#[ignore = "needs a Docker daemon for steps 2 and 6; run with `-- --include-ignored`"]
async fn binary_prints_what_the_book_shows_and_drops_what_it_made() -> TestResult {
    workbook::docker_available().map_err(anyhow::Error::msg)?;
    let run = LessonCommand::new("lesson-7", None)
        .server_of_this_run()
        .time_limit(Duration::from_secs(400))
        .run();
    run.assert_success();
    let out = &run.stdout;
    let counts = Regex::new(r"(?m)^databases made: (\d+), dropped: (\d+)$")?;
    let caps = counts.captures(out).expect("the summary counts databases");
    assert_eq!(caps[1], caps[2], "every database made is dropped\n{out}");
    assert!(out.contains("customers named Ada left in the lesson's database: 0"));
    assert!(
        out.contains("Grace: FAILED: Grace became customer 3, not 2"),
        "{out}"
    );
    assert!(
        out.contains("matches snapshots/orders_report.txt: yes"),
        "{out}"
    );
    assert!(
        out.contains("container removed when its owner dropped it: yes"),
        "{out}"
    );
    assert_matches_capture("lesson-7", out, MASKS);
    Ok(())
}
