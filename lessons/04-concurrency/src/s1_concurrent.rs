//! Step 1: N IO-bound queries one after another, then concurrently in three ways, and a
//! realistic mix of inserts and point selects.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use futures::{StreamExt, TryStreamExt};
use sqlx::mysql::{MySqlPool, MySqlPoolOptions};
use tokio::task::JoinSet;

use crate::report::{Concurrency, Strategy, millis};

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

// ANCHOR: sized_pool
/// A pool of exactly `size` connections, opened and warmed up before it is returned, so
/// that the timings below measure queries, not connection set-up.
pub async fn sized_pool(
    url: &str,
    size: u32,
    acquire_timeout: Duration,
) -> Result<MySqlPool> {
    let pool = MySqlPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(acquire_timeout)
        .connect(url)
        .await
        .context("cannot open a pool")?;
    warm_up(&pool, size).await?;
    Ok(pool)
}
// ANCHOR_END: sized_pool

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

/// The article's number of concurrent queries.
pub const DEFAULT_QUERIES: u32 = 20;
/// How long each query sleeps on the server by default, in milliseconds: short, so that
/// a whole run takes seconds. The article's is 200 (`--sleep-ms 200`).
pub const DEFAULT_SLEEP_MS: u64 = 20;
/// The largest pool the lesson opens: more queries than this share the connections.
pub const MAX_POOL: u32 = 20;
/// How long a pool waits for a free connection in the timing steps.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

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

    /// The pool the steps open for this workload: a connection a query, up to
    /// [`MAX_POOL`].
    pub fn pool_size(&self) -> u32 {
        self.queries.min(MAX_POOL)
    }

    /// What every run must return: the task numbers 0..N, in order.
    pub fn expected(&self) -> Vec<u32> {
        (0..self.queries).collect()
    }
}

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

/// The names without their run tags, and the jobs: what two runs must share.
pub fn labels(customers: &[Customer]) -> Vec<(String, Option<String>)> {
    customers
        .iter()
        .map(|c| (task_label(&c.name).to_owned(), c.job.clone()))
        .collect()
}

/// The sequential run and the three concurrent strategies, timed.
async fn strategies(pool: &MySqlPool, work: Workload) -> Result<Vec<Strategy>> {
    let pool_size = work.pool_size();
    let (sequential, wall) = timed(run_sequential(pool, work)).await;
    let sequential = sequential.context("the sequential run failed")?;
    let ideal = Some(millis(work.ideal(pool_size)));
    let strategy = |name: String, wall: Duration, ideal, rows: &[u32]| Strategy {
        name,
        pool_size,
        queries: work.queries,
        wall_ms: millis(wall),
        ideal_ms: ideal,
        same_results: rows == sequential,
    };
    let mut strategies = vec![strategy(
        "sequential".into(),
        wall,
        Some(millis(work.sleep * work.queries)),
        &sequential,
    )];
    let (rows, t) = timed(run_join_all(pool, work)).await;
    let rows = rows.context("the join_all run failed")?;
    strategies.push(strategy("join_all".into(), t, ideal, &rows));
    let (rows, t) = timed(run_join_set(pool, work)).await;
    let rows = rows.context("the JoinSet run failed")?;
    strategies.push(strategy("JoinSet".into(), t, ideal, &rows));
    let limit = pool_size as usize;
    let (rows, t) = timed(run_buffer_unordered(pool, work, limit)).await;
    let rows = rows.context("the buffer_unordered run failed")?;
    let name = format!("buffer_unordered({limit})");
    strategies.push(strategy(name, t, ideal, &rows));
    Ok(strategies)
}

/// The mixed workload, sequentially then concurrently, each run's rows deleted again.
/// Returns the two runs, and the names and jobs the concurrent run read back.
async fn mixed(
    pool: &MySqlPool,
    work: Workload,
) -> Result<(Vec<Strategy>, Vec<(String, Option<String>)>)> {
    delete_leftover_task_customers(pool)
        .await
        .context("cannot delete an earlier run's leftover rows")?;
    // NOTE: InnoDB keeps a deleted row's key until purge removes it, and an INSERT of
    // that very key takes shared locks that deadlock with the other INSERTs (error 1213,
    // seen on MySQL). So the two runs insert names of their own.
    let (seq_run, conc_run) = (new_run_tag(), new_run_tag());
    let (seq_rows, seq_t) = timed(mixed_sequential(pool, &seq_run, work.queries)).await;
    let seq_rows = seq_rows.context("the sequential mixed run failed")?;
    delete_customers(pool, &seq_rows).await?;
    let (conc_rows, conc_t) =
        timed(mixed_concurrent(pool, &conc_run, work.queries)).await;
    let conc_rows = conc_rows.context("the concurrent mixed run failed")?;
    delete_customers(pool, &conc_rows).await?;
    let strategy = |name: &str, wall: Duration, same_results| Strategy {
        name: name.into(),
        pool_size: work.pool_size(),
        queries: work.queries,
        wall_ms: millis(wall),
        ideal_ms: None,
        same_results,
    };
    // The ids and run tags differ between the two runs; the rest must not.
    let same = labels(&conc_rows) == labels(&seq_rows);
    let runs = vec![
        strategy("mixed, sequential", seq_t, true),
        strategy("mixed, join_all", conc_t, same),
    ];
    Ok((runs, labels(&conc_rows)))
}

/// Step 1's report: the strategies timed against each other, and the mixed workload.
pub async fn run(ctx: &crate::Ctx) -> Result<Concurrency> {
    let work = ctx.work;
    let pool = sized_pool(&ctx.url, work.pool_size(), ACQUIRE_TIMEOUT)
        .await
        .context("cannot open the step's pool")?;
    let strategies = strategies(&pool, work).await?;
    let (mixed, read_back) = mixed(&pool, work).await?;
    pool.close().await;
    Ok(Concurrency {
        work,
        pool_size: work.pool_size(),
        strategies,
        mixed,
        read_back,
    })
}
