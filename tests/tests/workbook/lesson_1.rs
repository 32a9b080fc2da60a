//! Lesson 1: plain SQL with sqlx.

use std::process::Command;

use lesson_1::{BothOrNeither, HOSTILE_NAME, STREAM_ROWS, SortKey};
use sqlx::MySqlPool;
use workbook::fresh_database;
use workbook_tests::{
    LessonCommand, TestResult, assert_matches_capture, assert_matches_snapshot,
    lesson_binary, workspace_root,
};

/// A fresh database with the lesson's schema, and the lesson's own pool on it.
async fn lesson_pool(
    prefix: &str,
) -> anyhow::Result<(workbook::FreshDatabase, MySqlPool)> {
    let db = fresh_database(prefix).await?;
    let pool = lesson_1::connect(&db.url).await?;
    lesson_1::create_schema(&pool).await?;
    Ok((db, pool))
}

async fn names(pool: &MySqlPool) -> anyhow::Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT name FROM customers ORDER BY name")
            .fetch_all(pool)
            .await?,
    )
}

#[tokio::test]
async fn creates_the_article_table_with_its_seed_row() -> TestResult {
    let (_db, pool) = lesson_pool("lesson_1_schema").await?;
    lesson_1::create_schema(&pool).await?;
    let customers = lesson_1::all_customers(&pool).await?;
    assert_eq!(customers.len(), 1, "a second run adds nothing");
    assert_eq!(customers[0].name, "Lynn");
    assert_eq!(customers[0].job.as_deref(), Some("Backend Developer"));
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn pool_has_the_options_the_chapter_explains() -> TestResult {
    let (db, pool) = lesson_pool("lesson_1_pool").await?;
    let options = pool.options();
    assert_eq!(options.get_max_connections(), 5);
    assert_eq!(options.get_min_connections(), 1);
    assert_eq!(options.get_acquire_timeout().as_secs(), 5);
    assert!(options.get_test_before_acquire());
    let ctx = lesson_1::Ctx {
        pool,
        database: db.name.clone(),
        url: db.url.clone(),
    };
    let report = lesson_1::s1_connect::run(&ctx).await?;
    assert_eq!((report.min_connections, report.max_connections), (1, 5));
    assert_eq!(
        report.time_zone_with_events, "+00:00",
        "set by after_connect"
    );
    assert!(report.to_string().contains("1 to 5 connections"));
    ctx.pool.close().await;
    Ok(())
}

#[tokio::test]
async fn reads_rows_with_bound_parameters_and_counts_them() -> TestResult {
    let (_db, pool) = lesson_pool("lesson_1_reads").await?;
    sqlx::query(
        "INSERT INTO customers (name, job) VALUES ('Ada', 'Analyst'), ('Edsger', NULL)",
    )
    .execute(&pool)
    .await?;
    assert_eq!(lesson_1::count_customers(&pool).await?, 3);
    let developers = lesson_1::customers_with_job(&pool, "Backend Developer").await?;
    assert_eq!(developers.len(), 1);
    assert_eq!(developers[0].name, "Lynn");
    assert!(
        lesson_1::customers_with_job(&pool, "Nobody's job")
            .await?
            .is_empty()
    );
    let edsger = lesson_1::customer_by_name(&pool, "Edsger").await?;
    assert_eq!(edsger.job, None, "a NULL job comes back as None");
    assert_eq!(
        lesson_1::find_customer(&pool, edsger.id).await?,
        Some(edsger)
    );
    let missing = lesson_1::customer_by_name(&pool, "Nobody").await;
    assert!(missing.is_err(), "fetch_one on no row is an error");
    let sorted = lesson_1::customers_sorted(&pool, SortKey::Name, true).await?;
    let sorted: Vec<&str> = sorted.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(sorted, ["Lynn", "Edsger", "Ada"]);
    let by_job = lesson_1::customers_sorted(&pool, SortKey::Job, false).await?;
    assert_eq!(by_job[0].name, "Edsger", "NULL sorts first");
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn fetch_optional_on_a_missing_id_returns_none() -> TestResult {
    let (_db, pool) = lesson_pool("lesson_1_optional").await?;
    assert_eq!(lesson_1::find_customer(&pool, -1).await?, None);
    assert_eq!(lesson_1::find_customer(&pool, i16::MAX).await?, None);
    assert_eq!(
        lesson_1::checked_customer_named(&pool, "Nobody").await?,
        None
    );
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn insert_update_and_delete_report_ids_and_affected_rows() -> TestResult {
    let (_db, pool) = lesson_pool("lesson_1_writes").await?;
    let id = lesson_1::insert_customer(&pool, "Ada Lovelace", Some("Analyst")).await?;
    assert_eq!(
        lesson_1::name_of(&pool, id).await?.as_deref(),
        Some("Ada Lovelace")
    );
    assert_eq!(lesson_1::set_job(&pool, id, "Programmer").await?, 1);
    assert_eq!(
        lesson_1::set_job(&pool, id, "Programmer").await?,
        1,
        "sqlx asks for found rows, not changed rows"
    );
    let ada = lesson_1::customer_by_name(&pool, "Ada Lovelace").await?;
    assert_eq!(ada.job.as_deref(), Some("Programmer"));
    assert_eq!(lesson_1::delete_customer(&pool, id).await?, 1);
    assert_eq!(lesson_1::delete_customer(&pool, id).await?, 0);
    assert_eq!(names(&pool).await?, ["Lynn"]);
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn hostile_name_round_trips_exactly_and_the_table_survives() -> TestResult {
    let (_db, pool) = lesson_pool("lesson_1_hostile").await?;
    let id = lesson_1::insert_customer(&pool, HOSTILE_NAME, None).await?;
    assert_eq!(
        lesson_1::name_of(&pool, id).await?.as_deref(),
        Some(HOSTILE_NAME)
    );
    let found = lesson_1::customer_by_name(&pool, HOSTILE_NAME).await?;
    assert_eq!(found.name, HOSTILE_NAME);
    assert_eq!(
        lesson_1::count_customers(&pool).await?,
        2,
        "the table is still there"
    );
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn duplicate_insert_is_classified_as_a_unique_violation() -> TestResult {
    let (_db, pool) = lesson_pool("lesson_1_unique").await?;
    let err = lesson_1::insert_customer(&pool, "Lynn", Some("Impostor"))
        .await
        .expect_err("Lynn is already there");
    let db_err = err.as_database_error().expect("a database error");
    assert!(db_err.is_unique_violation());
    // The SQLSTATE is the generic class for integrity errors, shared with other
    // violations.
    assert_eq!(db_err.code().as_deref(), Some("23000"));
    let mysql = db_err.downcast_ref::<sqlx::mysql::MySqlDatabaseError>();
    assert_eq!(mysql.number(), 1062);
    assert_eq!(names(&pool).await?, ["Lynn"]);
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn transaction_commits_both_rows_or_leaves_nothing_behind() -> TestResult {
    let (_db, pool) = lesson_pool("lesson_1_transactions").await?;
    let committed = lesson_1::insert_both(
        &pool,
        ("Grace Hopper", "Compiler Engineer"),
        ("Margaret Hamilton", "Flight Software Lead"),
    )
    .await?;
    assert!(matches!(committed, BothOrNeither::Committed(_)));
    assert_eq!(
        names(&pool).await?,
        ["Grace Hopper", "Lynn", "Margaret Hamilton"]
    );
    let failed = lesson_1::insert_both(
        &pool,
        ("Katherine Johnson", "Mathematician"),
        ("Lynn", "Backend Developer"),
    )
    .await?;
    assert_eq!(
        failed,
        BothOrNeither::RolledBack {
            duplicate: "Lynn".to_owned(),
            sqlstate: Some("23000".to_owned()),
            number: Some(1062),
        }
    );
    assert_eq!(
        names(&pool).await?,
        ["Grace Hopper", "Lynn", "Margaret Hamilton"],
        "the failed transaction left nothing behind"
    );
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn dropped_transaction_rolls_back() -> TestResult {
    let (_db, pool) = lesson_pool("lesson_1_dropped").await?;
    let (inside, after) = lesson_1::drop_a_transaction(&pool, "Hedy Lamarr").await?;
    assert_eq!((inside, after), (1, 0));
    assert_eq!(lesson_1::count_named(&pool, "Hedy Lamarr").await?, 0);
    assert_eq!(names(&pool).await?, ["Lynn"]);
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn a_nested_transaction_rolls_back_to_its_savepoint_and_the_outer_commits()
-> TestResult {
    let (_db, pool) = lesson_pool("lesson_1_savepoint").await?;
    let counts = lesson_1::nested_rollback(&pool, "Kept", "Undone").await?;
    assert_eq!(counts, [1, 0]);
    assert_eq!(names(&pool).await?, ["Kept", "Lynn"]);
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn repeatable_read_keeps_its_snapshot_and_read_committed_sees_the_new_row()
-> TestResult {
    use lesson_1::Isolation;
    let (_db, pool) = lesson_pool("lesson_1_isolation").await?;
    let repeatable = lesson_1::two_reads(&pool, Isolation::RepeatableRead, "New").await?;
    let committed = lesson_1::two_reads(&pool, Isolation::ReadCommitted, "New").await?;
    assert_eq!(repeatable, [1, 1]);
    assert_eq!(committed, [1, 2]);
    assert_eq!(
        names(&pool).await?,
        ["Lynn"],
        "the inserted rows are deleted again"
    );
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn streamed_count_equals_the_table_count_and_seeding_twice_adds_nothing()
-> TestResult {
    let (_db, pool) = lesson_pool("lesson_1_stream").await?;
    workbook::migrate(&pool).await?;
    assert_eq!(
        lesson_1::seed_stream_rows(&pool).await?,
        i64::from(STREAM_ROWS)
    );
    assert_eq!(
        lesson_1::seed_stream_rows(&pool).await?,
        i64::from(STREAM_ROWS)
    );
    let in_table: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bench_customers")
        .fetch_one(&pool)
        .await?;
    let summary = lesson_1::stream_rows(&pool).await?;
    assert_eq!(summary.rows, u64::try_from(in_table)?);
    assert_eq!(summary.rows, u64::from(STREAM_ROWS));
    assert_eq!(summary.by_job.values().sum::<u64>(), summary.rows);
    assert_eq!(summary.by_job.len(), 4);
    assert_eq!(summary.last_name, "stream-10000");
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn checked_queries_agree_with_the_runtime_ones() -> TestResult {
    let (_db, pool) = lesson_pool("lesson_1_checked").await?;
    sqlx::query(
        "INSERT INTO customers (name, job) VALUES ('Ada', NULL), ('Grace', NULL)",
    )
    .execute(&pool)
    .await?;
    assert_eq!(
        lesson_1::checked_customer_named(&pool, "Lynn").await?,
        Some(lesson_1::customer_by_name(&pool, "Lynn").await?)
    );
    assert_eq!(
        lesson_1::checked_jobs(&pool).await?,
        [(None, 2), (Some("Backend Developer".to_owned()), 1)]
    );
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn binary_prints_what_the_book_shows_and_a_second_run_prints_the_same() -> TestResult
{
    let db = fresh_database("lesson_1_binary").await?;
    let first = LessonCommand::new("lesson-1", Some(&db.url)).run();
    first.assert_success();
    assert!(first.stdout.contains("name: \"Lynn\""), "{}", first.stdout);
    assert!(
        first.stdout.contains("streamed 10000 rows"),
        "{}",
        first.stdout
    );
    assert_matches_capture("lesson-1", &first.stdout, &[]);
    let second = LessonCommand::new("lesson-1", Some(&db.url)).run();
    second.assert_success();
    assert_eq!(first.stdout, second.stdout);
    // Only the seed row is left in `customers`: every run cleans up the rows it added.
    let pool = workbook::connect(&db.url).await?;
    assert_eq!(names(&pool).await?, ["Lynn"]);
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn logs_each_statement_on_stderr_with_rust_log_sqlx_info() -> TestResult {
    let db = fresh_database("lesson_1_logging").await?;
    let run = LessonCommand::new("lesson-1", Some(&db.url))
        .env("RUST_LOG", "sqlx=info")
        .run();
    run.assert_success();
    assert!(run.stderr.contains("sqlx::query"), "{}", run.stderr);
    assert!(run.stderr.contains("SELECT VERSION()"), "{}", run.stderr);
    assert!(
        !run.stdout.contains("sqlx::query"),
        "the log stays off stdout"
    );
    Ok(())
}

#[tokio::test]
async fn bad_rust_log_is_a_one_line_error() -> TestResult {
    let run = LessonCommand::new("lesson-1", None)
        .env("RUST_LOG", "sqlx=loud")
        .run();
    assert_eq!(run.code(), Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("RUST_LOG is not a valid log filter"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    Ok(())
}

/// Compiles `examples/stale-cache.rs`, whose query is not in `.sqlx/`, and keeps the
/// error the book shows (`captured/stale-cache.txt`) current. It builds in check mode
/// with the `stale-cache-demo` feature, so its artifacts never stand in for lesson-1's
/// usual ones.
#[test]
fn stale_offline_cache_fails_the_build_with_the_error_the_book_shows() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .current_dir(workspace_root())
        .args([
            "check",
            "--quiet",
            // The whole workspace's feature set, as `cargo clippy --workspace
            // --all-targets` builds it, so that the dependencies are already checked.
            "--workspace",
            "--features",
            "lesson-1/stale-cache-demo",
            "--example",
            "stale-cache",
        ])
        .env("SQLX_OFFLINE", "true")
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("DATABASE_URL")
        .env_remove("SQLX_OFFLINE_DIR")
        .output()
        .expect("cargo runs");
    assert!(!output.status.success(), "the stale query compiled");
    let stderr = String::from_utf8_lossy(&output.stderr);
    // The compiler's error lines and where they point; the rest (source excerpts, notes)
    // is formatted differently by different Rust versions.
    let errors: String = stderr
        .lines()
        .filter(|l| l.starts_with("error") || l.trim_start().starts_with("--> "))
        .map(|l| format!("{}\n", l.trim_end()))
        .collect();
    assert!(errors.contains("no cached data for this query"), "{stderr}");
    let captured = workspace_root().join("lessons/01-plain-sql/captured");
    assert_matches_snapshot(&captured, "stale-cache", &errors, &errors, &[]);
}

#[test]
fn with_database_without_a_command_says_how_to_use_it_and_exits_2() {
    let output = Command::new(lesson_binary("with-database"))
        .output()
        .expect("with-database runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("usage: with-database COMMAND"), "{stderr}");
}
