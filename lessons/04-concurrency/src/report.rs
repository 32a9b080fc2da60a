//! What each step reports: plain data, printed as the lines the book shows, and the
//! JSON file and chart of a run. Nothing here is part of the lesson's teaching; the
//! tests assert on the fields.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::s1_concurrent::Workload;

mod chart;
pub use chart::write_pool_size_chart;

/// Milliseconds, as a float, for printing and JSON.
pub fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A measured time as the tables print it: one decimal, right-aligned.
fn wall(ms: f64) -> String {
    format!("{:>11}", format!("{ms:.1} ms"))
}

/// An ideal time as the tables print it: whole milliseconds, right-aligned.
fn ideal(ms: f64) -> String {
    format!("{:>9}", format!("{ms:.0} ms"))
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "NO" }
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

fn strategy_table(f: &mut fmt::Formatter<'_>, strategies: &[Strategy]) -> fmt::Result {
    write!(
        f,
        "{:<24} {:>4} {:>11} {:>9} {:>10}  same rows",
        "strategy", "pool", "wall", "ideal", "wall/ideal"
    )?;
    for s in strategies {
        let (ideal_ms, ratio) = match s.ideal_ms {
            Some(i) => (ideal(i), format!("{:>10.3}", s.wall_ms / i)),
            None => (format!("{:>9}", "-"), format!("{:>10}", "-")),
        };
        write!(
            f,
            "\n{:<24} {:>4} {} {} {}  {}",
            s.name,
            s.pool_size,
            wall(s.wall_ms),
            ideal_ms,
            ratio,
            yes(s.same_results)
        )?;
    }
    Ok(())
}

/// Step 1: the strategies timed against each other, and the mixed workload.
#[derive(Debug, Clone)]
pub struct Concurrency {
    /// N queries of t each.
    pub work: Workload,
    /// The pool's size.
    pub pool_size: u32,
    /// Sequential, then `join_all`, `JoinSet` and `buffer_unordered`.
    pub strategies: Vec<Strategy>,
    /// The mixed workload, sequential then concurrent.
    pub mixed: Vec<Strategy>,
    /// The names (without run tags) and jobs that the concurrent mixed run read back.
    pub read_back: Vec<(String, Option<String>)>,
}

impl fmt::Display for Concurrency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} queries of SELECT SLEEP({}), a pool of {} connections",
            self.work.queries,
            self.work.sleep.as_secs_f64(),
            self.pool_size
        )?;
        strategy_table(f, &self.strategies)?;
        write!(
            f,
            "\n\na mixed workload: {} tasks, each an INSERT and a point SELECT\n",
            self.work.queries
        )?;
        strategy_table(f, &self.mixed)?;
        let job = |(_, job): &(String, Option<String>)| {
            job.clone().unwrap_or_else(|| "NULL".into())
        };
        if let (Some(first), Some(last)) = (self.read_back.first(), self.read_back.last())
        {
            write!(
                f,
                "\nrows read back: {} ({}) ... {} ({}); all deleted again",
                first.0,
                job(first),
                last.0,
                job(last)
            )?;
        }
        Ok(())
    }
}

/// Step 2: how many distinct connections the tasks ran on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnConnections {
    /// How many tasks ran.
    pub tasks: u32,
    /// The pool's size.
    pub pool_size: u32,
    /// How many distinct `CONNECTION_ID()`s they saw.
    pub distinct_connections: usize,
}

impl fmt::Display for OwnConnections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} tasks, a pool of {}: the tasks ran on {} distinct connections \
             (CONNECTION_ID())",
            self.tasks, self.pool_size, self.distinct_connections
        )?;
        write!(
            f,
            "sharing one `&mut` connection between tasks does not compile: see the chapter"
        )
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

/// Step 3: the sequential run, then a concurrent run at each pool size.
#[derive(Debug, Clone)]
pub struct PoolSizes {
    /// N queries of t each.
    pub work: Workload,
    /// The sequential row first, then one concurrent row a pool size.
    pub rows: Vec<Row>,
}

impl fmt::Display for PoolSizes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} queries of SELECT SLEEP({}); ideal = ceil(N/P) x t",
            self.work.queries,
            self.work.sleep.as_secs_f64()
        )?;
        write!(
            f,
            "{:<11} {:>4} {:>7} {:>9} {:>11} {:>10}",
            "mode", "pool", "queries", "ideal", "wall", "wall/ideal"
        )?;
        for r in &self.rows {
            write!(
                f,
                "\n{:<11} {:>4} {:>7} {} {} {:>10.3}",
                r.mode,
                r.pool_size,
                r.queries,
                ideal(r.ideal_ms),
                wall(r.wall_ms),
                r.ratio()
            )?;
        }
        Ok(())
    }
}

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
    pub outcome: sqlx::Result<()>,
    /// Whether an acquire succeeded again once the transactions ended.
    pub recovered: bool,
}

impl fmt::Display for Exhaustion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "a pool of {}, {} transactions held open, acquire_timeout = {} ms",
            self.pool_size,
            self.held,
            self.acquire_timeout.as_millis()
        )?;
        let waited = wall(millis(self.waited));
        match &self.outcome {
            Err(e @ sqlx::Error::PoolTimedOut) => writeln!(
                f,
                "third acquire: Err(PoolTimedOut) after {}: {e}",
                waited.trim()
            )?,
            Err(e) => writeln!(f, "third acquire: Err after {}: {e}", waited.trim())?,
            Ok(()) => writeln!(f, "third acquire: Ok after {}", waited.trim())?,
        }
        write!(
            f,
            "after both transactions ended, an acquire succeeds again: {}",
            yes(self.recovered)
        )
    }
}

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

/// Step 5: the same work items fanned out bounded, then unbounded.
#[derive(Debug)]
pub struct FanOuts {
    /// How many work items.
    pub items: u32,
    /// The pool's size.
    pub pool_size: u32,
    /// The sum every fan-out must return.
    pub expected_sum: i64,
    /// Bounded, then unbounded.
    pub runs: Vec<FanOut>,
}

impl fmt::Display for FanOuts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} work items (SELECT ? * 2), a pool of {}",
            self.items, self.pool_size
        )?;
        for run in &self.runs {
            write!(f, "\n{}:", run.mode)?;
            let expected = yes(run.sum == self.expected_sum);
            write!(
                f,
                "\n  sum of answers          {} (expected: {expected})",
                run.sum
            )?;
            write!(f, "\n  items alive at peak     {}", run.peak_items_alive)?;
            write!(
                f,
                "\n  queries in flight, peak {} (at most the pool's {}: {})",
                run.peak_in_flight,
                run.pool_size,
                yes(run.peak_in_flight <= run.pool_size as usize)
            )?;
            write!(
                f,
                "\n  longest acquire wait {}",
                wall(run.longest_acquire_ms)
            )?;
            write!(f, "\n  wall time            {}", wall(run.wall_ms))?;
            match run.peak_rss_growth_kib {
                Some(kib) => write!(f, "\n  peak RSS growth         {kib} KiB")?,
                None => {
                    write!(f, "\n  peak RSS growth         (not measured: Linux only)")?
                }
            }
        }
        Ok(())
    }
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
#[derive(Debug, Clone, Serialize)]
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
    /// The error the connection's next use (a ping) returned, if any: then it was
    /// closed, not reused.
    pub ping_error: Option<String>,
    /// Open InnoDB transactions of that connection at the end.
    pub open_transactions_at_end: i64,
    /// Whether the row inserted before the slow query is still in the table.
    pub inserted_row_kept: bool,
    /// Whether the pool answered `SELECT 1` afterwards.
    pub pool_answers: bool,
}

impl fmt::Display for Cancellation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "in a transaction: INSERT a customer, then SELECT SLEEP(5) under \
             tokio::time::timeout({} ms)",
            self.timeout_ms
        )?;
        writeln!(
            f,
            "the timeout fired after {}: the future was dropped",
            wall(self.gave_up_after_ms).trim()
        )?;
        let null = |s: &Option<String>| s.clone().unwrap_or_else(|| "NULL".into());
        match &self.server_after_timeout {
            Some(t) => writeln!(
                f,
                "the server still runs it: processlist command={} state={} info={}",
                t.command,
                null(&t.state),
                null(&t.info)
            )?,
            None => writeln!(f, "the server shows no such connection")?,
        }
        writeln!(
            f,
            "open InnoDB transactions on that connection: {}",
            self.open_transactions_after_timeout
        )?;
        if self.killed {
            writeln!(f, "KILL QUERY <id> sent from another connection")?;
        }
        match &self.ping_error {
            None => writeln!(f, "the connection: ping ok: it goes back to the pool")?,
            Some(e) => {
                writeln!(f, "the connection: ping failed ({e}): closed, not reused")?
            }
        }
        writeln!(
            f,
            "open InnoDB transactions on that connection afterwards: {}",
            self.open_transactions_at_end
        )?;
        writeln!(
            f,
            "the INSERT before the timeout was rolled back: {}",
            yes(!self.inserted_row_kept)
        )?;
        write!(
            f,
            "the pool still answers SELECT 1: {}",
            yes(self.pool_answers)
        )
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

/// Step 7: the concurrent pattern on each stack.
#[derive(Debug, Clone)]
pub struct Stacks(pub Vec<StackRun>);

impl fmt::Display for Stacks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<24} {:>4} {:>11} {:>9} {:>10}  same rows",
            "stack", "pool", "wall", "ideal", "wall/ideal"
        )?;
        for s in &self.0 {
            write!(
                f,
                "\n{:<24} {:>4} {} {} {:>10.3}  {}",
                s.stack,
                s.pool_size,
                wall(s.wall_ms),
                ideal(s.ideal_ms),
                s.wall_ms / s.ideal_ms,
                yes(s.same_results)
            )?;
        }
        Ok(())
    }
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

/// Everything the lesson measured, as `--json FILE` writes it.
#[derive(Debug, Serialize)]
pub struct Measurements {
    /// Step 3's sequential and concurrent runs of N sleeping queries at each pool size.
    pub rows: Vec<Row>,
    /// Step 1's strategies (sequential, `join_all`, `JoinSet`, `buffer_unordered`).
    pub strategies: Vec<Strategy>,
    /// Step 1's mixed workload of inserts and point selects.
    pub mixed: Vec<Strategy>,
    /// Step 4's exhausted pool.
    pub exhaustion: ExhaustionReport,
    /// Step 5's fan-outs.
    pub fan_out: Vec<FanOut>,
    /// Step 6's cancelled query.
    pub cancellation: Cancellation,
    /// Step 7's stacks.
    pub stacks: Vec<StackRun>,
}

impl Measurements {
    /// Gathers the reports of the steps that measure something.
    pub fn new(
        s1: Concurrency,
        s3: PoolSizes,
        s4: &Exhaustion,
        s5: FanOuts,
        s6: Cancellation,
        s7: Stacks,
    ) -> Measurements {
        let error = match &s4.outcome {
            Err(e) => e.to_string(),
            Ok(()) => String::new(),
        };
        Measurements {
            rows: s3.rows,
            strategies: s1.strategies,
            mixed: s1.mixed,
            exhaustion: ExhaustionReport {
                pool_size: s4.pool_size,
                held: s4.held,
                acquire_timeout_ms: millis(s4.acquire_timeout),
                waited_ms: millis(s4.waited),
                error,
            },
            fan_out: s5.runs,
            cancellation: s6,
            stacks: s7.0,
        }
    }

    /// Writes the measurements as pretty JSON to `path`.
    pub fn write_json(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_string_pretty(self)?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("cannot write {}", path.display()))
    }
}
