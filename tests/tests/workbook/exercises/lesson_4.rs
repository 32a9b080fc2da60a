//! Lesson 4's exercises: these fail until the exercises are solved.

use std::time::{Duration, Instant};

use sqlx::mysql::{MySqlPool, MySqlPoolOptions};
use workbook::fresh_database;
use workbook_tests::TestResult;

async fn pool_of(
    url: &str,
    size: u32,
    acquire_timeout: Duration,
) -> anyhow::Result<MySqlPool> {
    Ok(MySqlPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(acquire_timeout)
        .connect(url)
        .await?)
}

/// How many sessions in this test's database are running a `SLEEP` right now.
async fn sleeping_sessions(watcher: &MySqlPool) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.processlist \
         WHERE DB = DATABASE() AND INFO LIKE 'SELECT SLEEP%'",
    )
    .fetch_one(watcher)
    .await?)
}

#[tokio::test]
async fn exercise_4_1_runs_the_queries_concurrently_but_never_more_than_the_limit()
-> TestResult {
    let db = fresh_database("exercise_4_1").await?;
    let pool = pool_of(&db.url, 10, Duration::from_secs(10)).await?;
    let watcher = pool_of(&db.url, 1, Duration::from_secs(10)).await?;
    let work = tokio::spawn({
        let pool = pool.clone();
        async move { lesson_4::exercises::sleep_with_limit(&pool, 6, 0.4, 3).await }
    });
    // Count the sleeping sessions on the server while the work runs: a count, not a
    // timing.
    let mut peak = 0;
    while !work.is_finished() {
        peak = peak.max(sleeping_sessions(&watcher).await?);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(work.await??, 6);
    assert!(
        peak >= 2,
        "never more than {peak} query at once: not concurrent"
    );
    assert!(
        peak <= 3,
        "{peak} queries at once: more than the limit of 3"
    );
    Ok(())
}

#[tokio::test]
async fn exercise_4_2_answers_none_when_the_pool_is_busy() -> TestResult {
    let db = fresh_database("exercise_4_2").await?;
    let pool = pool_of(&db.url, 1, Duration::from_secs(10)).await?;
    let wait = Duration::from_millis(200);
    let id = lesson_4::exercises::connection_id_if_free(&pool, wait).await?;
    assert!(id.is_some_and(|id| id > 0));

    let held = pool.acquire().await?;
    let started = Instant::now();
    assert_eq!(
        lesson_4::exercises::connection_id_if_free(&pool, wait).await?,
        None
    );
    // A correctness bound: it gave up at its own deadline, not at the pool's 10 s.
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(held);
    assert!(
        lesson_4::exercises::connection_id_if_free(&pool, Duration::from_secs(5))
            .await?
            .is_some()
    );
    Ok(())
}

#[tokio::test]
async fn exercise_4_3_kills_the_query_that_outlives_its_timeout() -> TestResult {
    let db = fresh_database("exercise_4_3").await?;
    let pool = pool_of(&db.url, 3, Duration::from_secs(10)).await?;
    let watcher = pool_of(&db.url, 1, Duration::from_secs(10)).await?;
    assert!(
        lesson_4::exercises::sleep_or_kill(&pool, 0.01, Duration::from_secs(5)).await?
    );
    assert!(
        !lesson_4::exercises::sleep_or_kill(&pool, 30.0, Duration::from_millis(200))
            .await?
    );
    // The 30 s sleep must not go on running on the server.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut sleeping = sleeping_sessions(&watcher).await?;
    while sleeping > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        sleeping = sleeping_sessions(&watcher).await?;
    }
    assert_eq!(sleeping, 0, "the timed-out SLEEP still runs on the server");
    let one: i32 = sqlx::query_scalar("SELECT 1").fetch_one(&pool).await?;
    assert_eq!(one, 1);
    Ok(())
}
