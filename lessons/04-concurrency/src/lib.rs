//! Lesson 4: many tasks at once.
//!
//! Database requests are IO-bound: a task that waits for the server leaves the CPU free
//! for the others. This lesson runs many queries concurrently, each task with its own
//! connection, measures the wall time against the ideal, and shows the limits: the pool's
//! size, pool exhaustion, unbounded fan-out, and queries that outlive their timeout.
//!
//! The steps are small public functions; `main.rs` runs them in order and prints what
//! they measured. The book's chapter includes them by anchor.
//!
//! # One connection per task
//!
//! A connection runs one statement at a time, so sqlx's executor takes it as `&mut`. Two
//! concurrent futures on the same connection need two `&mut` borrows at once, and the
//! borrow checker refuses (E0499). This example is compiled by `cargo test --workspace`,
//! which checks that it keeps failing with that error:
//!
//! ```compile_fail,E0499
#![doc = include_str!("../compile_fail/shared_connection.rs")]
//! ```
//!
//! Give each task its own connection from the pool instead: [`sleepy_query`] does.

// The exercises at the end of the chapter. With the `solutions` feature, the worked
// answers stand in their place, so that CI can check that every exercise is solvable.
#[cfg(not(feature = "solutions"))]
pub mod exercises;
#[cfg(feature = "solutions")]
#[path = "solutions.rs"]
pub mod exercises;

pub mod chart;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::{AssertSqlSafe, Connection};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// The article's number of concurrent queries.
pub const DEFAULT_QUERIES: u32 = 20;
/// How long each of the article's queries sleeps on the server, in milliseconds.
pub const DEFAULT_SLEEP_MS: u64 = 200;
/// The pool sizes that step 3 compares.
pub const POOL_SIZES: [u32; 5] = [1, 2, 5, 10, 20];

/// How many IO-bound queries to run, and how long each one waits on the server.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    /// The number of queries, N.
    pub queries: u32,
    /// How long each query sleeps on the server, t.
    pub sleep: Duration,
}

impl Workload {
    /// The best wall time that `pool_size` connections allow: ceil(N / P) · t.
    pub fn ideal(&self, pool_size: u32) -> Duration {
        let rounds = self.queries.div_ceil(pool_size.max(1));
        self.sleep * rounds
    }
}

/// One measured run, as the JSON file and the table show it.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// `sequential` or `concurrent`.
    pub mode: &'static str,
    /// The pool's `max_connections`.
    pub pool_size: u32,
    /// N, the number of queries.
    pub queries: u32,
    /// t, the server-side sleep of each query.
    pub sleep_ms: u64,
    /// The measured wall time.
    pub wall_ms: f64,
    /// The ideal wall time: N·t sequentially, ceil(N/P)·t concurrently.
    pub ideal_ms: f64,
}

impl Row {
    /// Measured over ideal: 1.000 is perfect, 1.030 is 3 % over.
    pub fn ratio(&self) -> f64 {
        self.wall_ms / self.ideal_ms
    }
}

/// Milliseconds, as a float, for printing and JSON.
pub fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

// ANCHOR: sized_pool
/// A pool of exactly `size` connections, opened and warmed up before it is returned, so
/// that the timings below measure queries, not connection set-up.
pub async fn sized_pool(
    url: &str,
    size: u32,
    acquire_timeout: Duration,
) -> Result<MySqlPool> {
    let options: MySqlConnectOptions = url
        .parse()
        .map_err(|e: sqlx::Error| workbook::explain_connect_error(url, &e))?;
    let pool = MySqlPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(acquire_timeout)
        .connect_with(options)
        .await
        .map_err(|e| workbook::explain_connect_error(url, &e))?;
    warm_up(&pool, size).await?;
    Ok(pool)
}
// ANCHOR_END: sized_pool

/// Opens `size` connections at once and prepares the lesson's sleeping query on each,
/// then waits until all of them are back in the pool.
async fn warm_up(pool: &MySqlPool, size: u32) -> Result<()> {
    let mut held = Vec::new();
    for _ in 0..size {
        let mut conn = pool
            .acquire()
            .await
            .context("cannot open the pool's connections")?;
        sleepy_query_on(&mut conn, 0, Duration::ZERO).await?;
        held.push(conn);
    }
    drop(held);
    // A dropped connection goes back to the pool in a background task (after a ping).
    let deadline = Instant::now() + Duration::from_secs(5);
    while pool.num_idle() < size as usize && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(())
}

// ANCHOR: sleepy_query
/// One IO-bound query: the server sleeps for `sleep`, then returns the task's number.
pub async fn sleepy_query(pool: &MySqlPool, task: u32, sleep: Duration) -> Result<u32> {
    // Each call takes its own connection from the pool and gives it back when done.
    let mut conn = pool.acquire().await?;
    sleepy_query_on(&mut conn, task, sleep).await
}

async fn sleepy_query_on(
    conn: &mut sqlx::MySqlConnection,
    task: u32,
    sleep: Duration,
) -> Result<u32> {
    let (task, _slept): (i64, i64) =
        sqlx::query_as("SELECT CAST(? AS SIGNED), CAST(SLEEP(?) AS SIGNED)")
            .bind(task)
            .bind(sleep.as_secs_f64())
            .fetch_one(conn)
            .await?;
    Ok(u32::try_from(task)?)
}
// ANCHOR_END: sleepy_query

// ANCHOR: sequential
/// The N queries one after another: each waits for the one before it.
pub async fn run_sequential(pool: &MySqlPool, work: Workload) -> Result<Vec<u32>> {
    let mut results = Vec::new();
    for task in 0..work.queries {
        results.push(sleepy_query(pool, task, work.sleep).await?);
    }
    Ok(results)
}
// ANCHOR_END: sequential

// ANCHOR: join_all
/// The N queries as N futures polled together on this task: `try_join_all` keeps their
/// order.
pub async fn run_join_all(pool: &MySqlPool, work: Workload) -> Result<Vec<u32>> {
    let queries = (0..work.queries).map(|task| sleepy_query(pool, task, work.sleep));
    futures::future::try_join_all(queries).await
}
// ANCHOR_END: join_all

// ANCHOR: join_set
/// The N queries as N spawned tasks: they may run on every worker thread, and finish in
/// any order, so the results are sorted.
pub async fn run_join_set(pool: &MySqlPool, work: Workload) -> Result<Vec<u32>> {
    let mut tasks = JoinSet::new();
    for task in 0..work.queries {
        // A pool is a cheap handle (an `Arc` inside): each task gets its own clone.
        let pool = pool.clone();
        tasks.spawn(async move { sleepy_query(&pool, task, work.sleep).await });
    }
    let mut results = Vec::new();
    while let Some(finished) = tasks.join_next().await {
        results.push(finished??);
    }
    results.sort_unstable();
    Ok(results)
}
// ANCHOR_END: join_set

// ANCHOR: buffer_unordered
/// The N queries as a stream with at most `limit` in flight at once.
pub async fn run_buffer_unordered(
    pool: &MySqlPool,
    work: Workload,
    limit: usize,
) -> Result<Vec<u32>> {
    let mut results: Vec<u32> = futures::stream::iter(0..work.queries)
        .map(|task| sleepy_query(pool, task, work.sleep))
        .buffer_unordered(limit)
        .try_collect()
        .await?;
    results.sort_unstable();
    Ok(results)
}
// ANCHOR_END: buffer_unordered

/// Runs `future` and returns its output with the wall time it took.
pub async fn timed<T>(future: impl Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let output = future.await;
    (output, started.elapsed())
}

/// A customer as the mixed workload reads it back.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, sqlx::FromRow)]
pub struct Customer {
    /// The customer's AUTO_INCREMENT id (it grows from run to run: not printed).
    pub id: i16,
    /// The customer's unique name.
    pub name: String,
    /// The customer's job.
    pub job: Option<String>,
}

/// The name one run of the mixed workload gives its customer number `task`: `lesson-4
/// task 004 (run 5f3a9c1e)`. Every run has a tag of its own, so no run inserts a name
/// that an earlier run deleted a moment ago.
pub fn task_customer_name(run: &str, task: u32) -> String {
    format!("lesson-4 task {task:03} (run {run})")
}

/// A name of the mixed workload without its run tag: `lesson-4 task 004`.
pub fn task_label(name: &str) -> &str {
    name.split(" (run ").next().unwrap_or(name)
}

/// A new tag for one run of the mixed workload: eight hex digits.
pub fn new_run_tag() -> String {
    use std::hash::BuildHasher;
    let random =
        std::collections::hash_map::RandomState::new().hash_one(std::process::id());
    format!("{:08x}", random as u32)
}

// ANCHOR: mixed_task
/// A realistic task: insert a customer, then read it back by primary key, on the task's
/// own connection.
pub async fn mixed_task(pool: &MySqlPool, run: &str, task: u32) -> Result<Customer> {
    let mut conn = pool.acquire().await?;
    let inserted = sqlx::query("INSERT INTO customers (name, job) VALUES (?, ?)")
        .bind(task_customer_name(run, task))
        .bind(format!("job {task}"))
        .execute(&mut *conn)
        .await?;
    let customer = sqlx::query_as("SELECT id, name, job FROM customers WHERE id = ?")
        .bind(inserted.last_insert_id())
        .fetch_one(&mut *conn)
        .await?;
    Ok(customer)
}
// ANCHOR_END: mixed_task

/// The mixed workload, `tasks` tasks one after another, as run `run`.
pub async fn mixed_sequential(
    pool: &MySqlPool,
    run: &str,
    tasks: u32,
) -> Result<Vec<Customer>> {
    let mut customers = Vec::new();
    for task in 0..tasks {
        customers.push(mixed_task(pool, run, task).await?);
    }
    Ok(customers)
}

/// The mixed workload, `tasks` tasks at once, as run `run`. The rows come back in task
/// order.
pub async fn mixed_concurrent(
    pool: &MySqlPool,
    run: &str,
    tasks: u32,
) -> Result<Vec<Customer>> {
    futures::future::try_join_all((0..tasks).map(|task| mixed_task(pool, run, task)))
        .await
}

/// Deletes the customers the mixed workload inserted, by id: only those rows.
pub async fn delete_customers(pool: &MySqlPool, customers: &[Customer]) -> Result<u64> {
    let mut deleted = 0;
    for customer in customers {
        deleted += sqlx::query("DELETE FROM customers WHERE id = ?")
            .bind(customer.id)
            .execute(pool)
            .await?
            .rows_affected();
    }
    Ok(deleted)
}

/// Deletes what an interrupted earlier run of the mixed workload may have left: the rows
/// named `lesson-4 task NNN (run TAG)`, and only those.
pub async fn delete_leftover_task_customers(pool: &MySqlPool) -> Result<u64> {
    let deleted =
        sqlx::query("DELETE FROM customers WHERE name LIKE 'lesson-4 task % (run %)'")
            .execute(pool)
            .await?
            .rows_affected();
    Ok(deleted)
}

// ANCHOR: one_connection_per_task
/// N tasks, each with its own connection for as long as it works: returns the distinct
/// `CONNECTION_ID()`s the tasks saw.
pub async fn connection_ids_of_tasks(
    pool: &MySqlPool,
    work: Workload,
) -> Result<Vec<u64>> {
    let mut tasks = JoinSet::new();
    for _ in 0..work.queries {
        let pool = pool.clone();
        tasks.spawn(async move {
            // The task's session: every statement below runs on this one connection.
            let mut conn = pool.acquire().await?;
            let id: u64 = sqlx::query_scalar("SELECT CONNECTION_ID()")
                .fetch_one(&mut *conn)
                .await?;
            sqlx::query("SELECT SLEEP(?)")
                .bind(work.sleep.as_secs_f64())
                .execute(&mut *conn)
                .await?;
            anyhow::Ok(id)
        });
    }
    let mut ids = Vec::new();
    while let Some(finished) = tasks.join_next().await {
        ids.push(finished??);
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}
// ANCHOR_END: one_connection_per_task

/// What step 4 saw when a third task asked a pool of two for a connection.
#[derive(Debug)]
pub struct Exhaustion {
    /// The pool's `max_connections`.
    pub pool_size: u32,
    /// How many transactions held a connection while the third task waited.
    pub held: u32,
    /// The pool's `acquire_timeout`.
    pub acquire_timeout: Duration,
    /// How long the third acquire waited before it gave up.
    pub waited: Duration,
    /// What the third acquire returned: `PoolTimedOut` is expected.
    pub outcome: std::result::Result<(), sqlx::Error>,
    /// Whether an acquire succeeded again once the transactions ended.
    pub recovered: bool,
}

// ANCHOR: exhaustion
/// A pool of 2, two transactions held open, and a third acquire that cannot be served.
pub async fn exhaust_pool(url: &str, acquire_timeout: Duration) -> Result<Exhaustion> {
    let pool = sized_pool(url, 2, acquire_timeout).await?;
    // Two tasks each hold a transaction, and so a connection, without finishing.
    let first = pool.begin().await?;
    let second = pool.begin().await?;

    let started = Instant::now();
    let outcome = match pool.acquire().await {
        Ok(_conn) => Ok(()),
        Err(e) => Err(e),
    };
    let waited = started.elapsed();

    // Ending the transactions gives their connections back; the pool serves again.
    first.rollback().await?;
    second.rollback().await?;
    let recovered = pool.acquire().await.is_ok();
    pool.close().await;
    Ok(Exhaustion {
        pool_size: 2,
        held: 2,
        acquire_timeout,
        waited,
        outcome,
        recovered,
    })
}
// ANCHOR_END: exhaustion

/// Counts how many of something are alive now, and the most that ever were at once.
#[derive(Debug, Default)]
pub struct HighWater {
    now: AtomicUsize,
    peak: AtomicUsize,
}

/// Keeps one count in a [`HighWater`] until dropped.
#[derive(Debug)]
pub struct Counted<'a>(&'a HighWater);

impl HighWater {
    /// Counts one more until the returned guard is dropped.
    pub fn enter(&self) -> Counted<'_> {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        Counted(self)
    }

    /// The most that were ever alive at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What step 5 counts while it fans out.
#[derive(Debug, Default)]
pub struct FanOutStats {
    /// Work items started and not yet finished (spawned tasks, or futures in a stream).
    pub items_alive: HighWater,
    /// Queries holding a connection and running on the server.
    pub in_flight: HighWater,
    /// The longest wait for a connection from the pool, in microseconds.
    pub longest_acquire_us: AtomicU64,
}

// ANCHOR: fan_out_item
/// One work item: a point query on a connection of its own, counted while it runs.
pub async fn fan_out_item(
    pool: &MySqlPool,
    item: u32,
    stats: &FanOutStats,
) -> Result<i64> {
    let _alive = stats.items_alive.enter();
    let asked = Instant::now();
    let mut conn = pool.acquire().await?;
    let waited = u64::try_from(asked.elapsed().as_micros()).unwrap_or(u64::MAX);
    stats.longest_acquire_us.fetch_max(waited, Ordering::SeqCst);
    let _in_flight = stats.in_flight.enter();
    let doubled: i64 = sqlx::query_scalar("SELECT CAST(? AS SIGNED) * 2")
        .bind(item)
        .fetch_one(&mut *conn)
        .await?;
    Ok(doubled)
}
// ANCHOR_END: fan_out_item

/// What a fan-out of many work items measured.
#[derive(Debug, Serialize)]
pub struct FanOut {
    /// `bounded` or `unbounded`.
    pub mode: &'static str,
    /// How many work items ran.
    pub items: u32,
    /// The pool's `max_connections`.
    pub pool_size: u32,
    /// The sum of every item's answer: the same for both modes.
    pub sum: i64,
    /// The most work items alive at once.
    pub peak_items_alive: usize,
    /// The most queries in flight at once.
    pub peak_in_flight: usize,
    /// The longest any item waited for a connection from the pool.
    pub longest_acquire_ms: f64,
    /// The wall time of the whole fan-out.
    pub wall_ms: f64,
    /// How far the process's peak resident memory rose above its resident memory at the
    /// start (Linux only: `/proc/self/status`), in KiB.
    pub peak_rss_growth_kib: Option<u64>,
}

// ANCHOR: bounded
/// `items` work items, never more than `limit` alive at once: a task is spawned only when
/// a semaphore permit is free.
pub async fn bounded_fan_out(
    pool: &MySqlPool,
    items: u32,
    limit: usize,
) -> Result<FanOut> {
    let stats = Arc::new(FanOutStats::default());
    let permits = Arc::new(Semaphore::new(limit));
    let rss = reset_peak_rss();
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    let mut sum = 0;
    for item in 0..items {
        // Waits here, before spawning, while `limit` items are running.
        let permit = Arc::clone(&permits).acquire_owned().await?;
        let (pool, stats) = (pool.clone(), Arc::clone(&stats));
        tasks.spawn(async move {
            let answer = fan_out_item(&pool, item, &stats).await;
            drop(permit);
            answer
        });
        // Collect what has finished, so that finished tasks do not pile up either.
        while let Some(finished) = tasks.try_join_next() {
            sum += finished??;
        }
    }
    while let Some(finished) = tasks.join_next().await {
        sum += finished??;
    }
    Ok(fan_out_report(
        "bounded", pool, items, sum, &stats, started, rss,
    ))
}
// ANCHOR_END: bounded

// ANCHOR: unbounded
/// `items` work items, all spawned at once: they queue inside the pool for a connection.
pub async fn unbounded_fan_out(pool: &MySqlPool, items: u32) -> Result<FanOut> {
    let stats = Arc::new(FanOutStats::default());
    let rss = reset_peak_rss();
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for item in 0..items {
        let (pool, stats) = (pool.clone(), Arc::clone(&stats));
        tasks.spawn(async move { fan_out_item(&pool, item, &stats).await });
    }
    let mut sum = 0;
    while let Some(finished) = tasks.join_next().await {
        sum += finished??;
    }
    Ok(fan_out_report(
        "unbounded",
        pool,
        items,
        sum,
        &stats,
        started,
        rss,
    ))
}
// ANCHOR_END: unbounded

fn fan_out_report(
    mode: &'static str,
    pool: &MySqlPool,
    items: u32,
    sum: i64,
    stats: &FanOutStats,
    started: Instant,
    rss_at_start: Option<u64>,
) -> FanOut {
    let wall = started.elapsed();
    let peak_rss_growth_kib = rss_at_start
        .zip(peak_rss_kib())
        .map(|(start, peak)| peak.saturating_sub(start));
    FanOut {
        mode,
        items,
        pool_size: pool.options().get_max_connections(),
        sum,
        peak_items_alive: stats.items_alive.peak(),
        peak_in_flight: stats.in_flight.peak(),
        longest_acquire_ms: stats.longest_acquire_us.load(Ordering::SeqCst) as f64
            / 1000.0,
        wall_ms: millis(wall),
        peak_rss_growth_kib,
    }
}

/// The sum both fan-outs must return: every item doubled.
pub fn expected_fan_out_sum(items: u32) -> i64 {
    (0..i64::from(items)).map(|i| i * 2).sum()
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets the kernel's peak-RSS mark (`VmHWM`) to the current resident size and returns
/// that size in KiB. Linux only: `None` elsewhere.
fn reset_peak_rss() -> Option<u64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    status_kib("VmRSS:")
}

fn peak_rss_kib() -> Option<u64> {
    status_kib("VmHWM:")
}

/// What the server showed for a connection whose query outlived its timeout.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ServerThread {
    /// `information_schema.processlist.COMMAND`: `Query`, or `Execute` for a prepared
    /// statement, while a statement runs; `Sleep` when the connection is idle.
    pub command: String,
    /// `STATE`, such as `User sleep`.
    pub state: Option<String>,
    /// `INFO`: the statement still running, if any.
    pub info: Option<String>,
}

/// What step 6 saw, in order.
#[derive(Debug, Serialize)]
pub struct Cancellation {
    /// The server-side id of the connection the slow query ran on (not printed: it
    /// varies).
    pub connection_id: u64,
    /// The timeout around the slow query.
    pub timeout_ms: f64,
    /// How long the timed-out call took to give up.
    pub gave_up_after_ms: f64,
    /// The processlist row of that connection right after the timeout.
    pub server_after_timeout: Option<ServerThread>,
    /// Open InnoDB transactions of that connection right after the timeout.
    pub open_transactions_after_timeout: i64,
    /// Whether `KILL QUERY` was needed and sent.
    pub killed: bool,
    /// What the connection said when it was next used (`Ok` or the error).
    pub connection_after_kill: String,
    /// Open InnoDB transactions of that connection at the end.
    pub open_transactions_at_end: i64,
    /// Whether the row inserted before the slow query is still in the table.
    pub inserted_row_kept: bool,
    /// Whether the pool answered `SELECT 1` afterwards.
    pub pool_answers: bool,
}

/// The name of the customer step 6 inserts in the transaction that it then abandons.
pub const CANCELLED_CUSTOMER: &str = "lesson-4 cancelled";

// ANCHOR: server_thread
/// The processlist row of connection `id`, as another connection sees it.
///
/// NOTE: MySQL 8 deprecates `information_schema.processlist` in favour of
/// `performance_schema.processlist`; both still answer this query on MySQL 8.4 and
/// MariaDB.
pub async fn server_thread(pool: &MySqlPool, id: u64) -> Result<Option<ServerThread>> {
    let row = sqlx::query_as(
        "SELECT COMMAND AS command, STATE AS state, INFO AS info \
         FROM information_schema.processlist WHERE ID = ?",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(row)
}

/// How many InnoDB transactions connection `id` has open.
pub async fn open_transactions_of(pool: &MySqlPool, id: u64) -> Result<i64> {
    let n = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.innodb_trx WHERE trx_mysql_thread_id = ?",
    )
    .bind(id)
    .fetch_one(pool)
    .await?;
    Ok(n)
}
// ANCHOR_END: server_thread

/// How many InnoDB transactions are open on connections whose current database is the
/// pool's: the leftovers a lesson could have caused in its own database.
pub async fn open_transactions_in_this_database(pool: &MySqlPool) -> Result<i64> {
    let n = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.innodb_trx t \
         JOIN information_schema.processlist p ON p.ID = t.trx_mysql_thread_id \
         WHERE p.DB = DATABASE()",
    )
    .fetch_one(pool)
    .await?;
    Ok(n)
}

// ANCHOR: cancellation
/// A transaction inserts a row, then runs `SELECT SLEEP(5)` under `tokio::time::timeout`.
/// Shows what the timeout leaves behind on the server, and cleans it up.
pub async fn cancel_slow_query(
    pool: &MySqlPool,
    timeout: Duration,
) -> Result<Cancellation> {
    let mut conn = pool.acquire().await?;
    let connection_id: u64 = sqlx::query_scalar("SELECT CONNECTION_ID()")
        .fetch_one(&mut *conn)
        .await?;

    let mut tx = conn.begin().await?;
    sqlx::query("INSERT INTO customers (name, job) VALUES (?, 'cancelled')")
        .bind(CANCELLED_CUSTOMER)
        .execute(&mut *tx)
        .await?;
    let started = Instant::now();
    let slow = sqlx::query("SELECT SLEEP(5)").execute(&mut *tx);
    if tokio::time::timeout(timeout, slow).await.is_ok() {
        bail!("SELECT SLEEP(5) finished within {timeout:?}: nothing was cancelled");
    }
    let gave_up_after = started.elapsed();
    // Dropping the transaction only queues a ROLLBACK on the connection: nothing is sent
    // yet.
    drop(tx);

    // The server knows nothing of our timeout: the statement is still running there, and
    // the transaction still holds the row it inserted.
    let server_after_timeout = server_thread(pool, connection_id).await?;
    let open_transactions_after_timeout =
        open_transactions_of(pool, connection_id).await?;

    // Stop the statement from another connection. KILL takes no placeholder; the id is a
    // number the server gave us, so formatting it into the SQL is safe.
    let still_running = server_after_timeout
        .as_ref()
        .is_some_and(|thread| thread.info.is_some());
    if still_running {
        sqlx::query(AssertSqlSafe(format!("KILL QUERY {connection_id}")))
            .execute(pool)
            .await?;
    }

    // Our connection still has the killed statement's answer, and the queued ROLLBACK, to
    // read. A ping reads both; if that fails, the connection is closed, not reused.
    let connection_after_kill = match conn.ping().await {
        Ok(()) => {
            drop(conn);
            "ping ok: it goes back to the pool".to_owned()
        }
        Err(e) => {
            // Closing ends the session; the server rolls back what it still had open. A
            // connection in this state may also fail to say goodbye: that error changes
            // nothing, so it is not reported.
            let _ = conn.close().await;
            format!("ping failed ({e}): closed, not reused")
        }
    };

    let open_transactions_at_end = wait_for_no_transactions(pool, connection_id).await?;
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers WHERE name = ?")
        .bind(CANCELLED_CUSTOMER)
        .fetch_one(pool)
        .await?;
    let one: i32 = sqlx::query_scalar("SELECT 1").fetch_one(pool).await?;

    Ok(Cancellation {
        connection_id,
        timeout_ms: millis(timeout),
        gave_up_after_ms: millis(gave_up_after),
        server_after_timeout,
        open_transactions_after_timeout,
        killed: still_running,
        connection_after_kill,
        open_transactions_at_end,
        inserted_row_kept: kept > 0,
        pool_answers: one == 1,
    })
}
// ANCHOR_END: cancellation

/// Waits up to 5 s for connection `id`'s transactions to end (a closed connection is
/// rolled back by the server shortly after it goes), and returns how many are still open.
///
/// NOTE: InnoDB answers `information_schema.innodb_trx` from a cache that it refreshes
/// only when the last read is more than 0.1 s old (MySQL and MariaDB alike), so polling
/// it faster than that keeps reading the same stale rows.
async fn wait_for_no_transactions(pool: &MySqlPool, id: u64) -> Result<i64> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let open = open_transactions_of(pool, id).await?;
        if open == 0 || Instant::now() > deadline {
            return Ok(open);
        }
    }
}

/// One stack's run of the concurrent pattern in step 7.
#[derive(Debug, Clone, Serialize)]
pub struct StackRun {
    /// Which stack: `sqlx`, `sea-query + sqlx` or `diesel-async + deadpool`.
    pub stack: &'static str,
    /// The pool's size.
    pub pool_size: u32,
    /// N.
    pub queries: u32,
    /// The measured wall time.
    pub wall_ms: f64,
    /// ceil(N/P)·t.
    pub ideal_ms: f64,
    /// Whether the answers were 0..N, as the sequential run's.
    pub same_results: bool,
}

// ANCHOR: sea_query
/// The sleeping query built with sea-query and run through the sqlx pool.
pub async fn sea_query_sleepy(
    pool: &MySqlPool,
    task: u32,
    sleep: Duration,
) -> Result<u32> {
    use sea_query::{Expr, ExprTrait, Func, MysqlQueryBuilder, Query};
    use sea_query_sqlx::SqlxBinder;

    let (sql, values) = Query::select()
        .expr(Expr::val(task).cast_as("SIGNED"))
        .expr(Func::cust("SLEEP").arg(sleep.as_secs_f64()))
        .build_sqlx(MysqlQueryBuilder);
    let task: i64 = sqlx::query_scalar_with(AssertSqlSafe(sql), values)
        .fetch_one(pool)
        .await?;
    Ok(u32::try_from(task)?)
}

/// N sea-query tasks at once.
pub async fn run_sea_query(pool: &MySqlPool, work: Workload) -> Result<Vec<u32>> {
    let queries = (0..work.queries).map(|task| sea_query_sleepy(pool, task, work.sleep));
    futures::future::try_join_all(queries).await
}
// ANCHOR_END: sea_query

// ANCHOR: diesel_async
/// A diesel-async pool (deadpool) of `size` connections, warmed up.
pub async fn diesel_pool(
    url: &str,
    size: u32,
) -> Result<
    diesel_async::pooled_connection::deadpool::Pool<diesel_async::AsyncMysqlConnection>,
> {
    use diesel_async::AsyncMysqlConnection;
    use diesel_async::pooled_connection::AsyncDieselConnectionManager;
    use diesel_async::pooled_connection::deadpool::Pool;

    let manager = AsyncDieselConnectionManager::<AsyncMysqlConnection>::new(url);
    let pool = Pool::builder(manager)
        .max_size(size as usize)
        .build()
        .context("cannot build the diesel-async pool")?;
    // Open every connection now, as `sized_pool` does.
    let mut held = Vec::new();
    for _ in 0..size {
        held.push(
            pool.get()
                .await
                .map_err(|e| anyhow::anyhow!(workbook::redact_text(&e.to_string())))?,
        );
    }
    drop(held);
    Ok(pool)
}

#[derive(diesel::QueryableByName)]
struct Slept {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    task: i64,
}

/// The sleeping query through diesel-async, on a connection from its pool.
pub async fn diesel_sleepy(
    pool: &diesel_async::pooled_connection::deadpool::Pool<
        diesel_async::AsyncMysqlConnection,
    >,
    task: u32,
    sleep: Duration,
) -> Result<u32> {
    use diesel::sql_types::{BigInt, Double};
    use diesel_async::RunQueryDsl;

    let mut conn = pool.get().await?;
    let row: Slept =
        diesel::sql_query("SELECT CAST(? AS SIGNED) AS task, SLEEP(?) AS slept")
            .bind::<BigInt, _>(i64::from(task))
            .bind::<Double, _>(sleep.as_secs_f64())
            .get_result(&mut conn)
            .await?;
    Ok(u32::try_from(row.task)?)
}

/// N diesel-async tasks at once.
pub async fn run_diesel(
    pool: &diesel_async::pooled_connection::deadpool::Pool<
        diesel_async::AsyncMysqlConnection,
    >,
    work: Workload,
) -> Result<Vec<u32>> {
    let queries = (0..work.queries).map(|task| diesel_sleepy(pool, task, work.sleep));
    futures::future::try_join_all(queries).await
}
// ANCHOR_END: diesel_async

/// Everything the lesson measured, as `--json FILE` writes it.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// Sequential and concurrent runs of N sleeping queries at each pool size.
    pub rows: Vec<Row>,
    /// Step 1's concurrent strategies (`join_all`, `JoinSet`, `buffer_unordered`).
    pub strategies: Vec<Strategy>,
    /// Step 1's mixed workload of inserts and point selects.
    pub mixed: Vec<Strategy>,
    /// Step 4's exhausted pool.
    pub exhaustion: Option<ExhaustionReport>,
    /// Step 5's fan-outs.
    pub fan_out: Vec<FanOut>,
    /// Step 6's cancelled query.
    pub cancellation: Option<Cancellation>,
    /// Step 7's stacks.
    pub stacks: Vec<StackRun>,
}

/// One named way of running the work, timed.
#[derive(Debug, Clone, Serialize)]
pub struct Strategy {
    /// Its name, as printed.
    pub name: String,
    /// The pool's size.
    pub pool_size: u32,
    /// How many tasks or queries.
    pub queries: u32,
    /// The measured wall time.
    pub wall_ms: f64,
    /// The ideal, where one exists (the mixed workload has none).
    pub ideal_ms: Option<f64>,
    /// Whether it returned the same results as the sequential run.
    pub same_results: bool,
}

/// Step 4's figures, as the JSON file holds them.
#[derive(Debug, Serialize)]
pub struct ExhaustionReport {
    /// The pool's `max_connections`.
    pub pool_size: u32,
    /// Transactions held open.
    pub held: u32,
    /// The pool's `acquire_timeout`.
    pub acquire_timeout_ms: f64,
    /// How long the third acquire waited.
    pub waited_ms: f64,
    /// The error it returned, as text.
    pub error: String,
}

impl Report {
    /// Writes the report as pretty JSON to `path`.
    pub fn write_json(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_string_pretty(self)?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("cannot write {}", path.display()))
    }
}
