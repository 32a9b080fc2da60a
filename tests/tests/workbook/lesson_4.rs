//! Lesson 4: many tasks at once. The tests use few queries and short sleeps; the binary's
//! captured run uses its defaults, 20 queries of 20 ms (the article's 200 ms is a flag).

use std::time::Duration;

use lesson_4::Workload;
use regex::Regex;
use workbook::fresh_database;
use workbook_tests::{LessonCommand, TestResult, assert_matches_capture};

/// A quick workload for tests: 6 queries of 20 ms.
const QUICK: Workload = Workload {
    queries: 6,
    sleep: Duration::from_millis(20),
};

/// Held by every test that runs step 6, one at a time. InnoDB refreshes its
/// `information_schema.innodb_trx` cache only when the last read, by anyone, is more than
/// 0.1 s old: two step 6s polling it at once keep each other's reads stale.
pub(crate) static STEP_6: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Masks what varies between runs of lesson 4 (the timings and the counts that depend on
/// scheduling) and keeps the width of each field, so that the captured table stays
/// aligned.
pub(crate) fn mask_lesson_4(stdout: &str) -> String {
    // Each pattern's group 1 is replaced by a mark. In the tables (a run of spaces before
    // the figure) the mark keeps the field's width, so that the columns stay aligned;
    // elsewhere it keeps the spaces and replaces the figure.
    let patterns = [
        // Measured times print with one decimal; the ideals are whole milliseconds.
        (r"(\s*\b\d+\.\d ms\b)", "<ms>", true),
        // wall/ideal ratios.
        (r"(\s*\b\d+\.\d{3}\b)", "<ratio>", true),
        // Counts that depend on scheduling and on the allocator.
        (
            r"(?:items alive at peak|peak RSS growth|queries in flight, peak)(\s+\d+)",
            "<n>",
            false,
        ),
    ];
    let mut text = stdout.to_owned();
    for (pattern, mark, in_tables) in patterns {
        let re = Regex::new(pattern).expect("valid pattern");
        text = re
            .replace_all(&text, |caps: &regex::Captures| {
                let (all, masked) = (&caps[0], &caps[1]);
                let prefix = &all[..all.len() - masked.len()];
                let figure = masked.trim_start();
                let spaces = &masked[..masked.len() - figure.len()];
                if in_tables && spaces.len() >= 2 {
                    let width = masked.chars().count();
                    format!("{prefix}{mark:>width$}")
                } else {
                    format!("{prefix}{spaces}{mark}")
                }
            })
            .into_owned();
    }
    text
}

#[tokio::test]
async fn binary_prints_what_the_book_shows() -> TestResult {
    let db = fresh_database("lesson_4_binary").await?;
    let _step_6 = STEP_6.lock().await;
    let run = LessonCommand::new("lesson-4", Some(&db.url)).run();
    run.assert_success();
    assert_matches_capture("lesson-4", &mask_lesson_4(&run.stdout), &[]);
    Ok(())
}

#[tokio::test]
async fn prints_the_same_twice_and_writes_its_json_and_chart() -> TestResult {
    let db = fresh_database("lesson_4_twice").await?;
    let _step_6 = STEP_6.lock().await;
    let dir = tempfile::tempdir()?;
    let json = dir.path().join("run.json");
    let chart = dir.path().join("chart.svg");
    let quick = [
        "--queries",
        "4",
        "--sleep-ms",
        "20",
        "--items",
        "50",
        "--acquire-timeout-ms",
        "200",
    ];
    let mut outputs = Vec::new();
    for _ in 0..2 {
        let run = LessonCommand::new("lesson-4", Some(&db.url))
            .args(quick)
            .args([
                "--json".as_ref(),
                json.as_os_str(),
                "--chart".as_ref(),
                chart.as_os_str(),
            ])
            .run();
        run.assert_success();
        outputs.push(workbook_tests::mask(&mask_lesson_4(&run.stdout), &[]));
    }
    assert_eq!(outputs[0], outputs[1]);

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json)?)?;
    let rows = report["rows"].as_array().expect("rows is an array");
    assert_eq!(rows.len(), 1 + lesson_4::POOL_SIZES.len());
    assert_eq!(rows[0]["mode"], "sequential");
    for row in rows {
        assert_eq!(row["queries"], 4);
        assert_eq!(row["sleep_ms"], 20);
        assert!(row["wall_ms"].as_f64().is_some_and(|ms| ms > 0.0));
    }
    let pool_2 = rows
        .iter()
        .find(|r| r["mode"] == "concurrent" && r["pool_size"] == 2)
        .expect("a row for a pool of 2");
    assert_eq!(pool_2["ideal_ms"], 40.0);
    assert_eq!(report["exhaustion"]["pool_size"], 2);
    assert_eq!(report["fan_out"].as_array().map(Vec::len), Some(2));
    assert_eq!(report["stacks"].as_array().map(Vec::len), Some(3));

    let svg = std::fs::read_to_string(&chart)?;
    assert!(
        svg.starts_with("<svg"),
        "not an SVG: {}",
        &svg[..svg.len().min(80)]
    );
    assert!(svg.contains("pool size"));
    Ok(())
}

#[tokio::test]
async fn rejects_a_bad_count_with_one_clear_line() -> TestResult {
    let run = LessonCommand::new("lesson-4", Some("mysql://127.0.0.1:1/none"))
        .args(["--queries", "0"])
        .time_limit(Duration::from_secs(30))
        .run();
    assert_eq!(run.code(), Some(2), "stderr: {}", run.stderr);
    assert!(run.stderr.contains("--queries"), "stderr: {}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "stderr: {}", run.stderr);
    Ok(())
}

#[tokio::test]
async fn concurrent_runs_return_the_same_rows_as_sequential_ones() -> TestResult {
    let db = fresh_database("lesson_4_same_rows").await?;
    let pool = lesson_4::sized_pool(&db.url, 3, Duration::from_secs(10)).await?;
    let sequential = lesson_4::run_sequential(&pool, QUICK).await?;
    assert_eq!(sequential, (0..QUICK.queries).collect::<Vec<_>>());
    assert_eq!(lesson_4::run_join_all(&pool, QUICK).await?, sequential);
    assert_eq!(lesson_4::run_join_set(&pool, QUICK).await?, sequential);
    assert_eq!(
        lesson_4::run_buffer_unordered(&pool, QUICK, 2).await?,
        sequential
    );
    assert_eq!(lesson_4::run_sea_query(&pool, QUICK).await?, sequential);
    let diesel = lesson_4::diesel_pool(&db.url, 3).await?;
    assert_eq!(lesson_4::run_diesel(&diesel, QUICK).await?, sequential);
    diesel.close();

    // The mixed workload: the same names and jobs either way, and nothing left behind.
    workbook::migrate(&pool).await?;
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers")
        .fetch_one(&pool)
        .await?;
    let seq = lesson_4::mixed_sequential(&pool, "seq00001", 5).await?;
    assert_eq!(lesson_4::delete_customers(&pool, &seq).await?, 5);
    let conc = lesson_4::mixed_concurrent(&pool, "conc0001", 5).await?;
    assert_eq!(lesson_4::delete_customers(&pool, &conc).await?, 5);
    let names = |rows: &[lesson_4::Customer]| {
        rows.iter()
            .map(|c| (lesson_4::task_label(&c.name).to_owned(), c.job.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&seq), names(&conc));
    assert_eq!(conc[4].name, "lesson-4 task 004 (run conc0001)");
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers")
        .fetch_one(&pool)
        .await?;
    assert_eq!(before, after);
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn each_task_runs_on_a_connection_of_its_own() -> TestResult {
    let db = fresh_database("lesson_4_own_connection").await?;
    let pool = lesson_4::sized_pool(&db.url, 4, Duration::from_secs(10)).await?;
    let work = Workload {
        queries: 4,
        sleep: Duration::from_millis(200),
    };
    let ids = lesson_4::connection_ids_of_tasks(&pool, work).await?;
    assert_eq!(ids.len(), 4, "connection ids: {ids:?}");
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn an_exhausted_pool_times_out_with_pool_timed_out_within_its_timeout() -> TestResult
{
    let db = fresh_database("lesson_4_exhaustion").await?;
    let timeout = Duration::from_millis(300);
    let ex = lesson_4::exhaust_pool(&db.url, timeout).await?;
    assert!(
        matches!(ex.outcome, Err(sqlx::Error::PoolTimedOut)),
        "{:?}",
        ex.outcome
    );
    // A correctness bound, not a speed figure: it waits for the timeout, and not much
    // longer.
    assert!(
        ex.waited >= timeout - Duration::from_millis(20),
        "{:?}",
        ex.waited
    );
    assert!(
        ex.waited < timeout + Duration::from_secs(2),
        "{:?}",
        ex.waited
    );
    assert!(ex.recovered);
    Ok(())
}

#[tokio::test]
async fn bounded_fan_out_never_has_more_queries_in_flight_than_the_pool() -> TestResult {
    let db = fresh_database("lesson_4_fan_out").await?;
    let pool = lesson_4::sized_pool(&db.url, 3, Duration::from_secs(10)).await?;
    let bounded = lesson_4::measured_bounded(&pool, 200, 3).await?;
    assert_eq!(bounded.sum, lesson_4::expected_fan_out_sum(200));
    assert!(bounded.peak_in_flight <= 3, "{bounded:?}");
    assert!(bounded.peak_items_alive <= 3, "{bounded:?}");
    assert!(bounded.peak_in_flight >= 1, "{bounded:?}");

    let unbounded = lesson_4::measured_unbounded(&pool, 200).await?;
    assert_eq!(unbounded.sum, bounded.sum);
    // The pool still bounds the queries; nothing bounds the tasks waiting for it.
    assert!(unbounded.peak_in_flight <= 3, "{unbounded:?}");
    assert!(unbounded.peak_items_alive > 3, "{unbounded:?}");
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn a_timed_out_query_leaves_no_transaction_behind_and_the_pool_answers()
-> TestResult {
    let db = fresh_database("lesson_4_cancel").await?;
    let _step_6 = STEP_6.lock().await;
    let pool = lesson_4::sized_pool(&db.url, 2, Duration::from_secs(10)).await?;
    workbook::migrate(&pool).await?;
    let c = lesson_4::cancel_slow_query(&pool, Duration::from_millis(200)).await?;
    let thread = c
        .server_after_timeout
        .clone()
        .expect("the server shows the connection");
    assert_eq!(thread.info.as_deref(), Some("SELECT SLEEP(5)"), "{c:?}");
    assert_eq!(c.open_transactions_after_timeout, 1, "{c:?}");
    assert!(c.killed, "{c:?}");
    assert_eq!(c.open_transactions_at_end, 0, "{c:?}");
    assert!(!c.inserted_row_kept, "{c:?}");
    assert!(c.pool_answers);

    // InnoDB refreshes its transaction list for information_schema only when the last
    // read is more than 0.1 s old: wait that long so this read is fresh.
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        lesson_4::open_transactions_in_this_database(&pool).await?,
        0
    );
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers WHERE name = ?")
        .bind(lesson_4::CANCELLED_CUSTOMER)
        .fetch_one(&pool)
        .await?;
    assert_eq!(kept, 0);
    let one: i32 = sqlx::query_scalar("SELECT 1").fetch_one(&pool).await?;
    assert_eq!(one, 1);
    pool.close().await;
    Ok(())
}

/// The steps' context on `url`, with the quick workload and a short acquire_timeout.
fn quick_ctx(url: &str) -> lesson_4::Ctx {
    lesson_4::Ctx {
        url: url.to_owned(),
        work: QUICK,
        items: 50,
        acquire_timeout: Duration::from_millis(200),
    }
}

#[tokio::test]
async fn each_step_reports_what_it_measured_as_data() -> TestResult {
    let db = workbook::TestDatabase::migrated("lesson_4_reports").await?;
    let ctx = quick_ctx(db.url());

    let s1 = lesson_4::s1_concurrent::run(&ctx).await?;
    let names: Vec<&str> = s1.strategies.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["sequential", "join_all", "JoinSet", "buffer_unordered(6)"]
    );
    assert!(s1.strategies.iter().all(|s| s.same_results), "{s1:?}");
    assert!(s1.mixed.iter().all(|s| s.same_results), "{s1:?}");
    assert_eq!(s1.read_back.len(), 6);
    assert_eq!(s1.read_back[5].0, "lesson-4 task 005");

    let s3 = lesson_4::s3_pool_size::run(&ctx).await?;
    assert_eq!(s3.rows.len(), 1 + lesson_4::POOL_SIZES.len());
    assert_eq!(s3.rows[0].mode, "sequential");
    let pool_2 = s3
        .rows
        .iter()
        .find(|r| r.pool_size == 2)
        .expect("a pool of 2");
    assert_eq!(pool_2.ideal_ms, 60.0, "ceil(6 / 2) x 20 ms");

    let s4 = lesson_4::s4_exhaustion::run(&ctx).await?;
    assert!(matches!(s4.outcome, Err(sqlx::Error::PoolTimedOut)));
    assert!(s4.recovered);

    let s5 = lesson_4::s5_fan_out::run(&ctx).await?;
    assert!(s5.runs.iter().all(|r| r.sum == s5.expected_sum), "{s5:?}");

    let s7 = lesson_4::s7_stacks::run(&ctx).await?;
    let stacks: Vec<&str> = s7.0.iter().map(|s| s.stack).collect();
    assert_eq!(
        stacks,
        ["sqlx", "sea-query + sqlx", "diesel-async + deadpool"]
    );
    assert!(s7.0.iter().all(|s| s.same_results), "{s7:?}");
    Ok(())
}
