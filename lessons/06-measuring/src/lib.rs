//! Lesson 6: measuring which layer costs what, next to the floor that the round trip
//! sets.
//!
//! Five workloads (W1 to W5) run on four stacks (sqlx `query_as`, sqlx `query_as!`,
//! sea-query, diesel-async), and W2 and W3 also run on the server's own C client,
//! `mariadb-slap` or `mysqlslap`: the floor. The method: a release build, pools filled
//! before timing, one untimed warm-up, at least three timed repeats reported as minimum
//! and median, the same data and the same ids for every stack, and the machine and the
//! server's settings recorded.

// The exercises at the end of the chapter. With the `solutions` feature, the worked
// answers stand in their place, so that CI can check that every exercise is solvable.
#[cfg(not(feature = "solutions"))]
pub mod exercises;
#[cfg(feature = "solutions")]
#[path = "solutions.rs"]
pub mod exercises;

pub mod floor;
pub mod report;
pub mod stacks;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use diesel::prelude::{Queryable, Selectable};
use rand::Rng;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use serde::Serialize;
use sqlx::mysql::MySqlPool;

pub use floor::Floor;
pub use report::{ResultRow, print_table};
pub use stacks::{InsertVariant, Pool, Stack, open_pool};

// ANCHOR: structs
/// One row of `bench_customers`, as every stack reads it.
///
/// `id` is an `i32` because `bench_customers.id` is an `INT`: the article's
/// `customers.id` is a `SMALLINT`, which cannot hold 10,000 rows plus the ones W4 inserts
/// run after run.
#[derive(
    Debug, Clone, PartialEq, Eq, sqlx::FromRow, Queryable, Selectable, Serialize,
)]
#[diesel(table_name = stacks::schema::bench_customers)]
#[diesel(check_for_backend(diesel::mysql::Mysql))]
pub struct BenchCustomer {
    /// The primary key (`INT`).
    pub id: i32,
    /// The unique name.
    pub name: String,
    /// The job; the column is nullable.
    pub job: Option<String>,
}

/// A row to insert (W4, and the seed): the server picks the id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewCustomer {
    /// The unique name.
    pub name: String,
    /// The job, or `None` for SQL NULL.
    pub job: Option<String>,
}
// ANCHOR_END: structs

// ANCHOR: counts
/// How much work each workload does. `full()` is the issue's; `quick()` is for the tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// W1: how many `SELECT SLEEP(..)` queries.
    pub sleeps: usize,
    /// W1: how long each one sleeps, in milliseconds.
    pub sleep_ms: u64,
    /// W1: the pool sizes the concurrent runs use.
    pub pools: Vec<u32>,
    /// W2 and W3: how many point selects, each by a distinct id.
    pub ops: usize,
    /// W3: how many tasks share them, on a pool of as many connections.
    pub tasks: usize,
    /// W4 and W5: how many rows are inserted, and read.
    pub rows: usize,
    /// W4: how many rows go in one multi-row `INSERT`.
    pub chunk: usize,
    /// How many timed runs follow the untimed warm-up.
    pub repeats: usize,
}

impl Counts {
    /// The counts: 20 × 0.2 s, pools of 1, 5, 10, 20, 5,000 selects over 16
    /// tasks, 10,000 rows in chunks of 1,000, 3 repeats.
    pub fn full() -> Counts {
        Counts {
            sleeps: 20,
            sleep_ms: 200,
            pools: vec![1, 5, 10, 20],
            ops: 5_000,
            tasks: 16,
            rows: 10_000,
            chunk: 1_000,
            repeats: 3,
        }
    }

    /// Small counts that still run every workload on every stack, for the tests.
    pub fn quick() -> Counts {
        Counts {
            sleeps: 20,
            sleep_ms: 5,
            pools: vec![1, 5, 10, 20],
            ops: 200,
            tasks: 16,
            rows: 500,
            chunk: 100,
            repeats: 3,
        }
    }

    /// Rejects counts that cannot work, with a one-line reason.
    pub fn check(&self) -> Result<()> {
        if self.sleeps == 0 || self.ops == 0 || self.tasks == 0 || self.rows == 0 {
            bail!("--sleeps, --ops, --tasks and --rows must be at least 1");
        }
        if self.repeats == 0 {
            bail!("--repeats must be at least 1 (the method asks for 3 or more)");
        }
        if self.ops > self.rows {
            bail!(
                "--ops ({}) must be at most --rows ({}): every select reads a distinct id",
                self.ops,
                self.rows
            );
        }
        if self.rows > 1_000_000 {
            bail!("--rows must be at most 1000000");
        }
        if self.chunk == 0 || self.chunk > 30_000 {
            bail!(
                "--chunk must be between 1 and 30000 (MySQL allows 65,535 placeholders)"
            );
        }
        if self.pools.is_empty() || self.pools.iter().any(|&p| p == 0 || p > 100) {
            bail!("--pools must list sizes between 1 and 100, such as 1,5,10,20");
        }
        if self.tasks > 100 {
            bail!("--tasks must be at most 100");
        }
        if self.sleep_ms > 10_000 {
            bail!("--sleep-ms must be at most 10000");
        }
        Ok(())
    }
}
// ANCHOR_END: counts

/// The fixed seed behind the data and the ids. With `rand` pinned, every run, every stack
/// and every machine gets the same jobs and the same order of ids.
pub const SEED: u64 = 6;

/// The names of the rows lesson 6 seeds start with this; it deletes only rows named so.
pub const SEED_PREFIX: &str = "m6-";

/// The names of the rows W4 inserts (and deletes after each run) start with this.
pub const INSERT_PREFIX: &str = "m6w4-";

const JOBS: [&str; 6] = [
    "Backend Developer",
    "Frontend Developer",
    "Data Engineer",
    "Site Reliability Engineer",
    "Product Manager",
    "",
];

fn customers(prefix: &str, rows: usize, seed: u64) -> Vec<NewCustomer> {
    let mut rng = StdRng::seed_from_u64(seed);
    (1..=rows)
        .map(|i| {
            // About one job in ten is NULL, so that decoding `Option<String>` is measured
            // too.
            let job = if rng.random_ratio(1, 10) {
                None
            } else {
                JOBS.choose(&mut rng).map(|j| (*j).to_owned())
            };
            NewCustomer {
                name: format!("{prefix}{i:07}"),
                job,
            }
        })
        .collect()
}

/// The rows W4 inserts: `rows` customers named `m6w4-0000001` and on, with jobs from the
/// seed.
pub fn rows_to_insert(rows: usize) -> Vec<NewCustomer> {
    customers(INSERT_PREFIX, rows, SEED + 4)
}

/// Where lesson 6's seeded rows are: the ids `first..=last`, with no one else's rows
/// among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeded {
    /// The first id.
    pub first: i32,
    /// The last id.
    pub last: i32,
    /// Whether this call inserted them (`false`: they were already there).
    pub created: bool,
}

impl Seeded {
    /// How many rows: `last - first + 1`.
    pub fn rows(&self) -> usize {
        (self.last - self.first + 1) as usize
    }
}

// ANCHOR: seed
/// Makes sure `bench_customers` holds exactly `rows` of lesson 6's rows with consecutive
/// ids, inserting them (in one transaction, with explicit ids after the table's highest)
/// only when they are missing or a different number. Rows that other lessons own are
/// never touched.
pub async fn seed(pool: &MySqlPool, rows: usize) -> Result<Seeded> {
    let (count, first, last): (i64, Option<i32>, Option<i32>) = sqlx::query_as(
        "SELECT COUNT(*), MIN(id), MAX(id) FROM bench_customers WHERE name LIKE 'm6-%'",
    )
    .fetch_one(pool)
    .await?;
    if let (Some(first), Some(last)) = (first, last)
        && count == rows as i64
        && i64::from(last - first) + 1 == count
    {
        return Ok(Seeded {
            first,
            last,
            created: false,
        });
    }
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM bench_customers WHERE name LIKE 'm6-%'")
        .execute(&mut *tx)
        .await?;
    let highest: Option<i32> = sqlx::query_scalar("SELECT MAX(id) FROM bench_customers")
        .fetch_one(&mut *tx)
        .await?;
    let first = highest.unwrap_or(0) + 1;
    let data = customers(SEED_PREFIX, rows, SEED);
    for (n, part) in data.chunks(1_000).enumerate() {
        let mut insert = sqlx::QueryBuilder::<sqlx::MySql>::new(
            "INSERT INTO bench_customers (id, name, job) ",
        );
        insert.push_values(part.iter().enumerate(), |mut values, (i, row)| {
            let id = first + (n * 1_000 + i) as i32;
            values
                .push_bind(id)
                .push_bind(&row.name)
                .push_bind(&row.job);
        });
        insert.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(Seeded {
        first,
        last: first + rows as i32 - 1,
        created: true,
    })
}
// ANCHOR_END: seed

// ANCHOR: choose_ids
/// `n` distinct ids of the seeded rows, in an order fixed by [`SEED`]: W2, W3 and the
/// floor all read exactly these, in this order.
pub fn choose_ids(seeded: &Seeded, n: usize) -> Result<Vec<i32>> {
    if n > seeded.rows() {
        bail!("cannot choose {n} distinct ids from {} rows", seeded.rows());
    }
    let mut ids: Vec<i32> = (seeded.first..=seeded.last).collect();
    ids.shuffle(&mut StdRng::seed_from_u64(SEED));
    ids.truncate(n);
    Ok(ids)
}
// ANCHOR_END: choose_ids

/// Deletes the rows W4 inserted (named `m6w4-...`), and returns how many there were.
pub async fn delete_inserted(pool: &MySqlPool) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM bench_customers WHERE name LIKE 'm6w4-%'")
            .execute(pool)
            .await?
            .rows_affected(),
    )
}

/// The minimum and the median of the timed runs of one workload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// The fastest run.
    pub min: Duration,
    /// The median run (the mean of the middle two for an even count).
    pub median: Duration,
    /// How many timed runs.
    pub repeats: usize,
}

impl Timing {
    /// The minimum and the median of `runs`, which must not be empty.
    pub fn of(mut runs: Vec<Duration>) -> Result<Timing> {
        if runs.is_empty() {
            bail!("no timed runs");
        }
        runs.sort();
        let n = runs.len();
        let median = if n % 2 == 1 {
            runs[n / 2]
        } else {
            (runs[n / 2 - 1] + runs[n / 2]) / 2
        };
        Ok(Timing {
            min: runs[0],
            median,
            repeats: n,
        })
    }
}

// ANCHOR: measure
/// Runs `run` once untimed (the warm-up: statement caches, buffer pool, branch
/// predictors), then `repeats` times timed. Each run returns the time it measured itself,
/// so that set-up and clean-up stay out of it, and its result; the last result is
/// returned for checking.
pub async fn measure<T, F, Fut>(
    label: &str,
    repeats: usize,
    mut run: F,
) -> Result<(Timing, T)>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(Duration, T)>>,
{
    eprint!("lesson-6: {label}: warm-up");
    let (_, mut last) = run()
        .await
        .with_context(|| format!("{label}: the warm-up failed"))?;
    let mut runs = Vec::with_capacity(repeats);
    for i in 1..=repeats {
        let (took, result) = run()
            .await
            .with_context(|| format!("{label}: run {i} failed"))?;
        eprint!(", {}", report::duration(took));
        runs.push(took);
        last = result;
    }
    eprintln!();
    Ok((Timing::of(runs)?, last))
}

/// Times one future: its result and how long it took.
pub async fn timed<T>(work: impl Future<Output = Result<T>>) -> Result<(Duration, T)> {
    let start = Instant::now();
    let result = work.await?;
    Ok((start.elapsed(), result))
}
// ANCHOR_END: measure

/// What the run was measured on: the JSON's `machine` object and step 1's lines.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// The CPU model from `/proc/cpuinfo`, or `unknown`.
    pub cpu: String,
    /// The cores this process may use.
    pub cores: usize,
    /// `/proc/loadavg`'s 1, 5 and 15 minute load averages when the run started: anything
    /// well above 0 means other work shared the CPUs with the benchmark.
    pub load_average: String,
    /// `debug` or `release`: timings from a debug build are not worth comparing.
    pub build: &'static str,
    /// The server's `VERSION()`.
    pub server_version: String,
    /// `innodb_flush_log_at_trx_commit`: 1 flushes the log to disk at every commit (W4).
    pub innodb_flush_log_at_trx_commit: String,
    /// The floor's client, if one was found.
    pub floor_client: Option<String>,
    /// The counts the run used.
    pub counts: Counts,
}

// ANCHOR: machine
/// Records the machine, the build and the server's settings next to the figures.
pub async fn machine(
    pool: &MySqlPool,
    counts: &Counts,
    floor: Option<&Floor>,
) -> Result<Machine> {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let flush: String =
        sqlx::query_scalar("SELECT CAST(@@innodb_flush_log_at_trx_commit AS CHAR)")
            .fetch_one(pool)
            .await?;
    Ok(Machine {
        cpu,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        load_average: std::fs::read_to_string("/proc/loadavg")
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|_| "unknown".to_owned()),
        build: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        server_version: workbook::server_version(pool).await?,
        innodb_flush_log_at_trx_commit: flush,
        floor_client: floor.map(|f| f.client_name().to_owned()),
        counts: counts.clone(),
    })
}
// ANCHOR_END: machine

/// Prints step 1: the machine, the server and the counts.
pub fn print_machine(m: &Machine) {
    println!("cpu: {} ({} cores)", m.cpu, m.cores);
    println!("load: {} (1, 5, 15 min averages)", m.load_average);
    println!(
        "build: {}{}",
        m.build,
        if m.build == "debug" {
            " (figures from a debug build say little: use --release)"
        } else {
            ""
        }
    );
    println!(
        "server: {}, innodb_flush_log_at_trx_commit = {}",
        m.server_version, m.innodb_flush_log_at_trx_commit
    );
    match &m.floor_client {
        Some(client) => println!("floor: {client}"),
        None => println!(
            "floor: no mariadb-slap or mysqlslap found; the floor rows are skipped"
        ),
    }
    let c = &m.counts;
    println!(
        "counts: W1 {} x SLEEP({} ms), pools {:?}; W2/W3 {} selects, {} tasks; W4/W5 {} rows, \
         chunks of {}; {} timed runs after 1 warm-up",
        c.sleeps, c.sleep_ms, c.pools, c.ops, c.tasks, c.rows, c.chunk, c.repeats
    );
}

fn row(stack: &str, workload: &str, variant: &str, ops: usize, t: &Timing) -> ResultRow {
    ResultRow {
        stack: stack.to_owned(),
        workload: workload.to_owned(),
        variant: variant.to_owned(),
        ops,
        wall_ms: t.min.as_secs_f64() * 1e3,
        median_ms: t.median.as_secs_f64() * 1e3,
        repeats: t.repeats,
    }
}

// ANCHOR: w1
/// W1 on one stack: `n` sleeps one after another on one connection.
pub async fn sleeps_sequential(
    stack: Stack,
    pool: &Pool,
    n: usize,
    seconds: f64,
) -> Result<usize> {
    let mut conn = pool.get().await?;
    for _ in 0..n {
        conn.sleep(stack, seconds).await?;
    }
    Ok(n)
}

/// W1 on one stack: `n` sleeps at once; the pool's size decides how many really overlap.
pub async fn sleeps_concurrent(
    stack: Stack,
    pool: &Pool,
    n: usize,
    seconds: f64,
) -> Result<usize> {
    let sleeps = (0..n).map(|_| async move {
        let mut conn = pool.get().await?;
        conn.sleep(stack, seconds).await
    });
    Ok(futures::future::try_join_all(sleeps).await?.len())
}
// ANCHOR_END: w1

/// Step: W1 on every stack, sequential and then with each pool size; prints its table.
pub async fn run_w1(
    url: &str,
    counts: &Counts,
    stacks: &[Stack],
) -> Result<Vec<ResultRow>> {
    let seconds = counts.sleep_ms as f64 / 1e3;
    let n = counts.sleeps;
    let mut rows = Vec::new();
    for &stack in stacks {
        let pool = open_pool(stack, url, 1).await?;
        let label = format!("W1 {stack}, sequential");
        let (t, done) = measure(&label, counts.repeats, || {
            timed(sleeps_sequential(stack, &pool, n, seconds))
        })
        .await?;
        check_count(&label, done, n)?;
        rows.push(row(stack.name(), "W1", "sequential", n, &t));
        pool.close().await;
        for &size in &counts.pools {
            let pool = open_pool(stack, url, size).await?;
            let label = format!("W1 {stack}, pool of {size}");
            let (t, done) = measure(&label, counts.repeats, || {
                timed(sleeps_concurrent(stack, &pool, n, seconds))
            })
            .await?;
            check_count(&label, done, n)?;
            rows.push(row(stack.name(), "W1", &format!("pool of {size}"), n, &t));
            pool.close().await;
        }
    }
    print_table(&rows);
    Ok(rows)
}

/// Keeps the first stack's rows, and fails when a later stack's differ.
fn same_as_first(
    reference: &mut Option<Vec<BenchCustomer>>,
    found: Vec<BenchCustomer>,
    label: &str,
) -> Result<()> {
    match reference {
        None => *reference = Some(found),
        Some(first) if *first != found => {
            bail!("{label} returned other rows than the first stack")
        }
        Some(_) => {}
    }
    Ok(())
}

fn check_count(label: &str, got: usize, want: usize) -> Result<()> {
    if got != want {
        bail!("{label}: expected {want} results, got {got}");
    }
    Ok(())
}

// ANCHOR: w2
/// W2 on one stack: one select by primary key per id, one after another, on one
/// connection taken before the clock starts.
pub async fn point_selects(
    stack: Stack,
    pool: &Pool,
    ids: &[i32],
) -> Result<(Duration, Vec<BenchCustomer>)> {
    let mut conn = pool.get().await?;
    let mut found = Vec::with_capacity(ids.len());
    let start = Instant::now();
    for &id in ids {
        found.push(conn.select_one(stack, id).await?);
    }
    Ok((start.elapsed(), found))
}
// ANCHOR_END: w2

// ANCHOR: w3
/// W3 on one stack: the same selects spread over `tasks` tasks, each taking a connection
/// from the pool for every query, as a web handler does. The rows come back sorted by id.
pub async fn concurrent_point_selects(
    stack: Stack,
    pool: &Pool,
    ids: &Arc<[i32]>,
    tasks: usize,
) -> Result<(Duration, Vec<BenchCustomer>)> {
    let per_task = ids.len().div_ceil(tasks);
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let (pool, ids) = (pool.clone(), Arc::clone(ids));
            tokio::spawn(async move {
                let mine = ids.get(t * per_task..ids.len().min((t + 1) * per_task));
                let mut found = Vec::with_capacity(per_task);
                for &id in mine.unwrap_or_default() {
                    found.push(pool.get().await?.select_one(stack, id).await?);
                }
                anyhow::Ok(found)
            })
        })
        .collect();
    let mut found = Vec::with_capacity(ids.len());
    for handle in handles {
        found.extend(handle.await.context("a W3 task panicked")??);
    }
    let took = start.elapsed();
    found.sort_by_key(|c| c.id);
    Ok((took, found))
}
// ANCHOR_END: w3

/// Step: W2 (`tasks == None`) or W3 on every stack, after the floor; prints its table.
/// Every stack must return the same rows; the first stack's are returned.
pub async fn run_point_selects(
    url: &str,
    counts: &Counts,
    ids: &[i32],
    tasks: Option<usize>,
    floor: Option<&Floor>,
    stacks: &[Stack],
) -> Result<(Vec<ResultRow>, Vec<BenchCustomer>)> {
    let (workload, variant, clients) = match tasks {
        None => ("W2", "1 connection".to_owned(), 1),
        Some(n) => ("W3", format!("{n} tasks, pool of {n}"), n),
    };
    let mut rows = Vec::new();
    if let Some(floor) = floor {
        let label = format!("{workload} {}", floor.client_name());
        let (t, ops) = floor
            .measure(&label, ids, clients, counts.repeats)
            .await
            .with_context(|| format!("the floor ({}) failed", floor.client_name()))?;
        let variant = match tasks {
            None => "1 connection".to_owned(),
            Some(n) => format!("{n} clients"),
        };
        rows.push(row(floor.client_name(), workload, &variant, ops, &t));
    }
    let shared: Arc<[i32]> = ids.into();
    let mut reference: Option<Vec<BenchCustomer>> = None;
    for &stack in stacks {
        let pool = open_pool(stack, url, clients as u32).await?;
        let label = format!("{workload} {stack}");
        let (t, found) = match tasks {
            None => {
                measure(&label, counts.repeats, || point_selects(stack, &pool, ids))
                    .await?
            }
            Some(n) => {
                measure(&label, counts.repeats, || {
                    concurrent_point_selects(stack, &pool, &shared, n)
                })
                .await?
            }
        };
        pool.close().await;
        check_count(&label, found.len(), ids.len())?;
        same_as_first(&mut reference, found, &label)?;
        rows.push(row(stack.name(), workload, &variant, ids.len(), &t));
    }
    print_table(&rows);
    Ok((rows, reference.unwrap_or_default()))
}

// ANCHOR: w4
/// W4 on one stack and variant: inserts `data` in one transaction (timed), then deletes
/// those rows again (untimed), so that every run starts from the same table.
pub async fn bulk_insert(
    stack: Stack,
    variant: InsertVariant,
    pool: &Pool,
    cleanup: &MySqlPool,
    data: &[NewCustomer],
    chunk: usize,
) -> Result<(Duration, u64)> {
    let mut conn = pool.get().await?;
    let start = Instant::now();
    let inserted = conn.insert_all(stack, variant, data, chunk).await?;
    let took = start.elapsed();
    drop(conn);
    let deleted = delete_inserted(cleanup).await?;
    if deleted != inserted {
        bail!("inserted {inserted} rows but found {deleted} to delete");
    }
    Ok((took, inserted))
}
// ANCHOR_END: w4

/// Step: W4 on every stack and variant; prints its table.
pub async fn run_w4(
    url: &str,
    cleanup: &MySqlPool,
    counts: &Counts,
    stacks: &[Stack],
) -> Result<Vec<ResultRow>> {
    let data = rows_to_insert(counts.rows);
    // A run that was interrupted may have left its rows behind: start clean.
    delete_inserted(cleanup).await?;
    let mut rows = Vec::new();
    for &stack in stacks {
        let pool = open_pool(stack, url, 1).await?;
        for &variant in stack.insert_variants() {
            let label = format!("W4 {stack}, {}", variant.name());
            let (t, inserted) = measure(&label, counts.repeats, || {
                bulk_insert(stack, variant, &pool, cleanup, &data, counts.chunk)
            })
            .await?;
            check_count(&label, inserted as usize, data.len())?;
            let name = match variant {
                InsertVariant::RowByRow => variant.name().to_owned(),
                _ => format!("{}, chunks of {}", variant.name(), counts.chunk),
            };
            rows.push(row(stack.name(), "W4", &name, data.len(), &t));
        }
        pool.close().await;
    }
    print_table(&rows);
    Ok(rows)
}

// ANCHOR: w5
/// W5 on one stack: every seeded row, read into structs on one connection.
pub async fn read_all(
    stack: Stack,
    pool: &Pool,
    seeded: &Seeded,
) -> Result<(Duration, Vec<BenchCustomer>)> {
    let mut conn = pool.get().await?;
    let start = Instant::now();
    let found = conn.read_range(stack, seeded.first, seeded.last).await?;
    Ok((start.elapsed(), found))
}
// ANCHOR_END: w5

/// Step: W5 on every stack; prints its table. Every stack must read the same rows.
pub async fn run_w5(
    url: &str,
    counts: &Counts,
    seeded: &Seeded,
    stacks: &[Stack],
) -> Result<Vec<ResultRow>> {
    let mut rows = Vec::new();
    let mut reference: Option<Vec<BenchCustomer>> = None;
    for &stack in stacks {
        let pool = open_pool(stack, url, 1).await?;
        let label = format!("W5 {stack}");
        let (t, found) =
            measure(&label, counts.repeats, || read_all(stack, &pool, seeded)).await?;
        pool.close().await;
        check_count(&label, found.len(), seeded.rows())?;
        same_as_first(&mut reference, found, &label)?;
        rows.push(row(stack.name(), "W5", "fetch all", seeded.rows(), &t));
    }
    print_table(&rows);
    Ok(rows)
}
