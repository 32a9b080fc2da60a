//! Lesson 5: transactions and failures. Each scenario's claim, asserted on data, at the
//! binary's default (quick) sizes or smaller. Scenarios 5 and 6 restart a server or
//! change a global setting: their tests start a private server, never touching the one
//! the other tests share.

use std::sync::Arc;
use std::time::Duration;

use lesson_5::report::{Edge, Library, Loose, Restart, Stale};
use lesson_5::s5_restart::Phases;
use lesson_5::{Failure, Increment, OnTimeout, RetryPolicy, ServerControl, Sizes};
use regex::Regex;
use sea_orm::SqlErr;
use workbook::{Server, TestDatabase, fresh_database};
use workbook_tests::{
    LessonCommand, ServerKind, TestResult, assert_matches_capture, mask, server_kind,
};

/// The figures of a full run that vary from run to run; the chapter lists them.
const MASKS: &[(&str, &str)] = &[
    (
        r"(SELECT n, then UPDATE SET n = \?\s+expected \d+, )got \d+, lost \d+.*",
        "${1}got N, lost N",
    ),
    (
        r"deadlocks \(1213\) retried: \d+",
        "deadlocks (1213) retried: N",
    ),
    (
        r"lock-wait timeouts \(1205\) retried: \d+",
        "lock-wait timeouts (1205) retried: N",
    ),
    (
        r"most retries of one transfer: \d+",
        "most retries of one transfer: N",
    ),
    (r"(?m)^acknowledged commits: \d+", "acknowledged commits: N"),
    (r"(?m)^errors: .*$", "errors: ..."),
    (
        r"cancelled in begin: \d+, in insert: \d+, in commit: \d+",
        "cancelled in begin: N, in insert: N, in commit: N",
    ),
    (
        r"\(cancelled in commit\): \d+ committed, \d+ not",
        "(cancelled in commit): N committed, N not",
    ),
    (
        r"work went on: \d+, of which committed: \d+",
        "work went on: N, of which committed: N",
    ),
    (
        r"rows in the table: \d+ \((.*) = \d+\)",
        "rows in the table: N ($1 = N)",
    ),
    (r"(?m)^pool\.close\(\) had not finished.*\n", ""),
    (
        r"requests before the kill: \d+ ok",
        "requests before the kill: N ok",
    ),
    (
        r"requests failed during the outage: .*",
        "requests failed during the outage: N (...)",
    ),
    (
        r"requests after recovery: \d+ ok",
        "requests after recovery: N ok",
    ),
    (
        r"acknowledged inserts: \d+, present after the restart: \d+",
        "acknowledged inserts: N, present after the restart: N",
    ),
    (
        r"no guards:(\s+)\d+ of (\d+) queries failed.*",
        "no guards:${1}N of $2 queries failed (...)",
    ),
    (r"(?m)^sql_mode: .*$", "sql_mode: ..."),
];

fn count_of(stdout: &str, pattern: &str) -> usize {
    Regex::new(pattern)
        .expect("valid pattern")
        .find_iter(stdout)
        .count()
}

#[tokio::test]
async fn binary_prints_what_the_book_shows() -> TestResult {
    // The default run, on a server of the run's kind that the child starts itself: every
    // scenario runs, the restart and the global setting included, and none of it reaches
    // the server the other tests share.
    let run = LessonCommand::new("lesson-5", None)
        .server_of_this_run()
        .time_limit(Duration::from_secs(180))
        .run();
    run.assert_success();
    let out = &run.stdout;
    let sizes = Sizes::default();
    let increments = sizes.tasks * sizes.increments;
    let exact = format!("expected {increments}, got {increments}, lost 0");
    assert_eq!(count_of(out, &exact), 2, "{out}");
    let transfers = 2 * sizes.transfers;
    let committed = format!("transfers committed: {transfers} of {transfers}");
    assert!(out.contains(&committed), "{out}");
    // Task A moves 1 from account 1 to 2, task B moves 2 back, each `transfers` times.
    let (one, two) = (1000 + sizes.transfers, 1000 - sizes.transfers);
    let balances = format!("balances: {one} and {two} (expected {one} and {two})");
    assert!(out.contains(&balances), "{out}");
    assert_eq!(
        count_of(out, r"lost acknowledged commits: 0, phantom rows: 0"),
        2
    );
    assert_eq!(
        count_of(out, r"open transactions of the lesson's connections: 0"),
        2
    );
    assert!(Regex::new(r"requests after recovery: \d+ ok, 0 failed")?.is_match(out));
    let acks =
        Regex::new(r"acknowledged inserts: (\d+), present after the restart: (\d+)")?;
    let caps = acks
        .captures(out)
        .expect("the restart step reports its inserts");
    assert_eq!(
        caps[1], caps[2],
        "every acknowledged insert survives the crash"
    );
    assert_eq!(count_of(out, r" 0 of 100 queries failed"), 2);
    let strings = sizes.strings;
    assert_eq!(
        count_of(out, &format!(r"{strings} written, +{strings} exact")),
        3
    );
    assert!(out.contains("-> StatementTimeout"));
    assert!(
        out.contains("rows it left: 0 (it had written 1 of 2)"),
        "{out}"
    );
    assert_matches_capture("lesson-5", out, MASKS);
    Ok(())
}

#[test]
fn the_default_sizes_are_small_and_the_flags_refuse_nonsense() {
    let parsed = Sizes::from_args(["lesson-5"]).expect("no flags is the default");
    assert_eq!(parsed, Sizes::default());
    let full = [
        "lesson-5",
        "--tasks",
        "50",
        "--increments",
        "100",
        "--transfers",
        "200",
        "--rounds",
        "1000",
        "--strings",
        "10000",
    ];
    let full = Sizes::from_args(full).expect("the chapter's full sizes parse");
    assert_eq!((full.tasks, full.rounds, full.strings), (50, 1_000, 10_000));
    for bad in [["--rounds", "0"], ["--tasks", "many"], ["--strings", "1"]] {
        let refused = Sizes::from_args(["lesson-5", bad[0], bad[1]]);
        assert!(refused.is_err(), "{bad:?} is refused");
    }
}

#[tokio::test]
async fn a_second_run_on_the_same_database_prints_the_same() -> TestResult {
    let db = fresh_database("lesson_5_twice").await?;
    let first = LessonCommand::new("lesson-5", Some(&db.url)).run();
    first.assert_success();
    let second = LessonCommand::new("lesson-5", Some(&db.url)).run();
    second.assert_success();
    assert_eq!(mask(&first.stdout, MASKS), mask(&second.stdout, MASKS));
    // On a server from DATABASE_URL, the restart and the global setting are skipped.
    assert_eq!(count_of(&first.stdout, r"(?m)^skipped: "), 2);
    // Nothing of the lesson's is left behind, and the article's table is as it was.
    let pool = workbook::connect(&db.url).await?;
    let left: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.tables \
         WHERE table_schema = DATABASE() AND table_name LIKE 'lesson5%'",
    )
    .fetch_one(&pool)
    .await?;
    assert_eq!(left, 0);
    let customers: Vec<String> = sqlx::query_scalar("SELECT name FROM customers")
        .fetch_all(&pool)
        .await?;
    assert_eq!(customers, ["Lynn"]);
    let orders: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders")
        .fetch_one(&pool)
        .await?;
    assert_eq!(orders, 0);
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn the_restart_and_the_global_setting_are_skipped_on_a_server_not_ours()
-> TestResult {
    let TestDatabase { db, pool } = TestDatabase::migrated("lesson_5_skips").await?;
    let ctx = lesson_5::Ctx {
        pool,
        url: db.url.clone(),
        sizes: Sizes::default(),
        server: None,
    };
    let restart = lesson_5::s5_restart::run(&ctx).await?;
    assert!(matches!(restart, Restart::Skipped), "{restart}");
    let stale = lesson_5::s6_stale::run(&ctx).await?;
    assert!(matches!(stale, Stale::Skipped), "{stale}");
    ctx.pool.close().await;
    Ok(())
}

async fn lesson_pool(
    prefix: &str,
) -> anyhow::Result<(workbook::FreshDatabase, sqlx::MySqlPool)> {
    let TestDatabase { db, pool } = TestDatabase::migrated(prefix).await?;
    lesson_5::create_tables(&pool).await?;
    Ok((db, pool))
}

#[tokio::test]
async fn a_duplicate_name_is_a_typed_error_with_sqlx_diesel_and_sea_orm() -> TestResult {
    let (db, pool) = lesson_pool("lesson_5_duplicates").await?;
    let report = lesson_5::s1_duplicates::duplicates(&pool, &db.url).await?;
    assert!(report.first_insert_ok);
    assert!(report.sqlx_name_taken, "{report}");
    assert!(report.diesel_name_taken, "{report}");
    assert!(report.sea_orm_name_taken, "{report}");
    // SeaORM's own words: an `Exec` error holding sqlx's, and sql_err()'s variant, whose
    // text is the server's message (the key's name in it differs between servers).
    let seen = &report.sea_orm_error;
    assert!(seen.message.starts_with("Execution Error: "), "{report}");
    assert!(seen.message.contains("1062 (23000)"), "{report}");
    let Some(SqlErr::UniqueConstraintViolation(message)) = &seen.sql_err else {
        panic!("sql_err() is not a unique violation: {report}");
    };
    // NOTE: MySQL names the key with its table, MariaDB without.
    let key = match server_kind() {
        ServerKind::MySql => "customers.UQ_name",
        ServerKind::MariaDb => "UQ_name",
    };
    let expected = format!("Duplicate entry 'Ada' for key '{key}'");
    assert_eq!(message, &expected, "{report}");
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers WHERE name = 'Ada'")
        .fetch_one(&pool)
        .await?;
    assert_eq!(n, 0, "the step deletes what it added");
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn errors_are_classified_by_number_1062_1213_1205_and_foreign_keys() -> TestResult {
    let (db, pool) = lesson_pool("lesson_5_classify").await?;
    let report = lesson_5::s1_duplicates::duplicates(&pool, &db.url).await?;
    let seen: Vec<(Option<u16>, Failure)> = report
        .classified
        .iter()
        .map(|c| (c.number, c.failure))
        .collect();
    assert_eq!(
        seen,
        [
            (Some(1062), Failure::UniqueViolation),
            (Some(1062), Failure::UniqueViolation),
            (Some(1452), Failure::ForeignKeyViolation),
            (Some(1451), Failure::ForeignKeyViolation),
        ]
    );
    let deadlock = lesson_5::s3_deadlocks::provoke_deadlock(&db.url).await?;
    assert_eq!(
        (deadlock.number, deadlock.failure),
        (Some(1213), Failure::Deadlock)
    );
    let timeout = lesson_5::s3_deadlocks::provoke_lock_wait_timeout(&db.url).await?;
    assert_eq!(
        (timeout.number, timeout.failure),
        (Some(1205), Failure::LockWaitTimeout)
    );
    // NOTE: with innodb_rollback_on_timeout OFF (the default), 1205 undoes only the
    // statement.
    if !lesson_5::s3_deadlocks::rollback_on_timeout(&pool).await? {
        assert_eq!(timeout.earlier_write_survived, Some(true));
    }
    pool.close().await;
    Ok(())
}

#[test]
fn sea_orm_errors_without_a_sqlx_error_inside_are_classified_by_their_own_kind() {
    use sea_orm::{ConnAcquireErr, DbErr};

    let timed_out = DbErr::ConnectionAcquire(ConnAcquireErr::Timeout);
    assert_eq!(lesson_5::classify_db_err(&timed_out), Failure::PoolTimedOut);
    let not_found = DbErr::RecordNotFound("customer 7".to_owned());
    assert_eq!(lesson_5::classify_db_err(&not_found), Failure::Other);
    assert!(not_found.sql_err().is_none());
}

#[tokio::test]
async fn read_modify_write_loses_updates_and_locking_or_atomic_updates_do_not()
-> TestResult {
    let (db, pool) = lesson_pool("lesson_5_counter").await?;
    let [naive, locked, atomic] =
        lesson_5::s2_lost_updates::lost_updates_compared(&db.url, 8, 25).await?;
    assert_eq!(naive.how, Increment::ReadThenWrite);
    assert!(naive.final_value <= 200, "{naive}");
    for exact in [locked, atomic] {
        assert_eq!(exact.final_value, 200, "{exact}");
        assert!(exact.errors.is_empty(), "{exact}");
        assert_eq!(exact.lost(), 0);
    }
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn every_deadlocked_transfer_commits_after_retries() -> TestResult {
    let (db, pool) = lesson_pool("lesson_5_deadlocks").await?;
    let report =
        lesson_5::s3_deadlocks::opposite_transfers(&db.url, 40, RetryPolicy::default())
            .await?;
    assert_eq!(report.committed, 80, "{report}");
    assert!(report.failed.is_empty(), "{report}");
    assert_eq!(
        report.balances,
        (1040, 960),
        "each transfer counted exactly once"
    );
    assert_eq!(report.balances, report.expected_balances);
    pool.close().await;
    Ok(())
}

#[test]
fn the_backoff_is_jittered_and_capped() {
    let policy = RetryPolicy::default();
    for failures in 1..20 {
        let delay = policy.delay(failures);
        assert!(
            delay <= policy.max_delay,
            "{delay:?} after {failures} failures"
        );
    }
    let first: Vec<Duration> = (0..50).map(|_| policy.delay(5)).collect();
    assert!(first.iter().any(|d| *d != first[0]), "the delays vary");
}

#[tokio::test]
async fn cancelled_rounds_leave_nothing_open_and_lose_no_acknowledged_commit()
-> TestResult {
    let (db, pool) = lesson_pool("lesson_5_cancel").await?;
    for mode in [OnTimeout::DropTheFuture, OnTimeout::DetachTheWork] {
        let r = lesson_5::s4_cancellation::cancellation(
            &db.url,
            150,
            Duration::from_millis(5),
            mode,
        )
        .await?;
        assert_eq!(r.rounds, 150);
        assert_eq!(r.lost, 0, "{r}");
        assert_eq!(r.phantom, 0, "{r}");
        assert_eq!(r.open_transactions, 0, "{r}");
        assert!(r.pool_serves, "{r}");
        assert_eq!(
            r.rows,
            r.acknowledged + r.unknown_committed + r.late_committed,
            "{r}"
        );
        if mode == OnTimeout::DetachTheWork {
            assert_eq!(r.cancelled_in_commit, 0, "no outcome is unknown: {r}");
        }
    }
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn a_cancelled_begin_leaves_a_transaction_open_unless_the_pool_guards_it()
-> TestResult {
    let (db, pool) = lesson_pool("lesson_5_begin").await?;
    // SeaORM's begin() is sqlx's underneath: the same leak, and the same cure.
    for library in [Library::Sqlx, Library::SeaOrm] {
        let cancelled = lesson_5::s4_cancellation::cancelled_begin;
        let plain = cancelled(&db.url, false, library).await?;
        assert_eq!(plain.open_transactions, 1, "{library:?} {plain}");
        assert!(!plain.visible_to_others, "{library:?} {plain}");
        assert!(
            !plain.kept_after_close,
            "the autocommit INSERT is lost: {library:?} {plain}"
        );
        let guarded = cancelled(&db.url, true, library).await?;
        assert_eq!(guarded.open_transactions, 0, "{library:?} {guarded}");
        assert!(
            guarded.visible_to_others && guarded.kept_after_close,
            "{library:?} {guarded}"
        );
    }
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn a_dropped_sea_orm_transaction_is_rolled_back_before_the_pool_hands_it_on()
-> TestResult {
    let (db, pool) = lesson_pool("lesson_5_sea_orm_drop").await?;
    let dropped = lesson_5::s4_cancellation::dropped_sea_orm_transaction(&db.url).await?;
    assert_eq!(dropped.rows_left, 0, "nothing half-written: {dropped}");
    assert!(dropped.same_connection, "{dropped}");
    assert_eq!(
        dropped.rollbacks, 1,
        "the queued ROLLBACK ran first: {dropped}"
    );
    assert_eq!(dropped.open_transactions, 0, "{dropped}");
    assert!(dropped.next_insert_visible, "{dropped}");
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM lesson5_events")
        .fetch_one(&pool)
        .await?;
    assert_eq!(left, 0, "the check deletes what it added");
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn hostile_strings_round_trip_exactly_and_too_long_ones_are_refused() -> TestResult
{
    let (db, pool) = lesson_pool("lesson_5_hostile").await?;
    let n = lesson_5::DEFAULT_STRINGS as usize;
    let report = lesson_5::s7_hostile::hostile_input(&pool, &db.url, n).await?;
    assert!(report.strict, "{report}");
    let [sqlx_binds, sea, diesel, inlined] = report.round_trips.as_slice() else {
        panic!("four round trips expected: {report}");
    };
    for r in [sqlx_binds, sea, diesel] {
        assert_eq!((r.written, r.exact, r.smuggled), (n, n, 0), "{r}");
        assert!(r.failed.is_empty(), "{r}");
    }
    assert!(inlined.exact < n, "{inlined}");
    assert!(!inlined.failed.is_empty(), "{inlined}");
    // 50 characters are stored by all three; 51 are refused by all three.
    let (fit, too_long): (Vec<&Edge>, Vec<&Edge>) = report
        .edges
        .iter()
        .partition(|e| e.chars == lesson_5::BODY_CHARS);
    assert_eq!((fit.len(), too_long.len()), (3, 3), "{report}");
    assert!(fit.iter().all(|e| e.refused.is_none()), "{report}");
    for edge in too_long {
        let (failure, message) =
            edge.refused.as_ref().expect("51 characters are refused");
        assert!(message.contains("Data too long"), "{edge}");
        if edge.via != "diesel" {
            assert_eq!(*failure, Some(Failure::DataTooLong), "{edge}");
        }
    }
    assert!(
        matches!(
            report.not_strict,
            Loose::Stored {
                stored_chars: 50,
                ..
            }
        ),
        "{report}"
    );
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn a_runaway_query_is_stopped_by_the_statement_time_limit() -> TestResult {
    let (_db, pool) = lesson_pool("lesson_5_runaway").await?;
    let report = lesson_5::s8_runaway::runaway_query(&pool).await?;
    let stopped = report
        .runaway
        .as_ref()
        .expect_err("the runaway query is stopped");
    assert_eq!(stopped.failure, Failure::StatementTimeout, "{report}");
    assert_eq!(report.quick.as_ref().ok(), Some(&1000));
    pool.close().await;
    Ok(())
}

/// A server of this test's own, of the run's kind (a container or a local server), for
/// the scenarios that kill it or change its global settings.
async fn private_server() -> anyhow::Result<(Arc<Server>, String)> {
    let server = tokio::task::spawn_blocking(Server::start_private).await??;
    let server = Arc::new(server);
    workbook::create_database(&server.url(), "lesson5").await?;
    let url = server.database_url("lesson5");
    let pool = workbook::connect(&url).await?;
    workbook::migrate(&pool).await?;
    lesson_5::create_tables(&pool).await?;
    pool.close().await;
    Ok((server, url))
}

#[tokio::test]
async fn the_pool_recovers_after_a_restart_of_a_private_server() -> TestResult {
    let (server, url) = private_server().await?;
    let ms = Duration::from_millis;
    let (to_kill, to_restart) = (server.clone(), server.clone());
    let control = ServerControl {
        kill: Arc::new(move || to_kill.kill()),
        restart: Arc::new(move || to_restart.restart()),
    };
    let phases = Phases {
        before: ms(300),
        down: ms(300),
        after: ms(300),
    };
    let report = lesson_5::s5_restart::server_restart(&control, &url, 2, phases).await?;
    assert!(report.ok_before > 0, "{report}");
    assert!(report.ok_after > 0, "{report}");
    assert_eq!(report.failed_after, 0, "none fail after recovery: {report}");
    assert_eq!(report.acknowledged, report.acknowledged_present, "{report}");
    Ok(())
}

#[tokio::test]
async fn stale_connections_fail_only_on_a_pool_without_guards() -> TestResult {
    let (_server, url) = private_server().await?;
    let report =
        lesson_5::s6_stale::stale_connections(&url, Duration::from_secs(3), 20).await?;
    assert!(report.unguarded.values().sum::<u64>() > 0, "{report}");
    assert!(
        report
            .unguarded
            .keys()
            .all(|k| *k == Failure::ConnectionLost),
        "{report}"
    );
    assert!(report.tested.is_empty(), "{report}");
    assert!(report.retired.is_empty(), "{report}");
    assert!(report.restored, "{report}");
    Ok(())
}
