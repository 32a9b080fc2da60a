use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;
use lesson_4::{
    Cancellation, ExhaustionReport, FanOut, Report, Row, StackRun, Strategy, Workload,
    millis, timed,
};

/// Lesson 4: many tasks at once. Runs IO-bound queries sequentially and concurrently, at
/// several pool sizes, and shows the limits: exhaustion, fan-out, timeouts.
#[derive(Debug, Parser)]
#[command(name = "lesson-4")]
struct Args {
    /// How many `SELECT SLEEP(t)` queries to run (N).
    #[arg(long, default_value_t = lesson_4::DEFAULT_QUERIES,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    queries: u32,
    /// How long each query sleeps on the server, in milliseconds (t).
    #[arg(long, default_value_t = lesson_4::DEFAULT_SLEEP_MS,
          value_parser = clap::value_parser!(u64).range(1..=5000))]
    sleep_ms: u64,
    /// How many work items step 5 fans out.
    #[arg(long, default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    items: u32,
    /// The pool's acquire_timeout in step 4, in milliseconds.
    #[arg(long, default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=60_000))]
    acquire_timeout_ms: u64,
    /// Write every measurement to this file as JSON.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Where to write step 3's chart (SVG).
    #[arg(
        long,
        value_name = "FILE",
        default_value = "target/lesson-4-pool-sizes.svg"
    )]
    chart: PathBuf,
}

/// The largest pool the lesson opens: more queries than this share the connections.
const MAX_POOL: u32 = 20;
/// The pool size of step 5's fan-out.
const FAN_OUT_POOL: u32 = 5;
/// How long a pool waits for a free connection in the timing steps.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

fn wall(ms: f64) -> String {
    format!("{:>11}", format!("{ms:.1} ms"))
}

fn ideal(ms: f64) -> String {
    format!("{:>9}", format!("{ms:.0} ms"))
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "NO" }
}

fn print_header() {
    println!(
        "{:<24} {:>4} {:>11} {:>9} {:>10}  same rows",
        "strategy", "pool", "wall", "ideal", "wall/ideal"
    );
}

fn print_strategy(s: &Strategy) {
    match s.ideal_ms {
        Some(ideal_ms) => println!(
            "{:<24} {:>4} {} {} {:>10.3}  {}",
            s.name,
            s.pool_size,
            wall(s.wall_ms),
            ideal(ideal_ms),
            s.wall_ms / ideal_ms,
            yes(s.same_results)
        ),
        None => println!(
            "{:<24} {:>4} {} {:>9} {:>10}  {}",
            s.name,
            s.pool_size,
            wall(s.wall_ms),
            "-",
            "-",
            yes(s.same_results)
        ),
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let db = workbook::lesson_database().await?;
    let setup = workbook::connect(&db.url).await?;
    workbook::migrate(&setup).await?;

    let work = Workload {
        queries: args.queries,
        sleep: Duration::from_millis(args.sleep_ms),
    };
    let pool_size = args.queries.min(MAX_POOL);
    let mut report = Report::default();

    workbook::step("1", "Sequential against concurrent");
    let pool = lesson_4::sized_pool(&db.url, pool_size, ACQUIRE_TIMEOUT)
        .await
        .context("cannot open the step's pool")?;
    println!(
        "{} queries of SELECT SLEEP({}), a pool of {pool_size} connections",
        work.queries,
        work.sleep.as_secs_f64()
    );
    let (sequential, seq_wall) = timed(lesson_4::run_sequential(&pool, work)).await;
    let sequential = sequential.context("the sequential run failed")?;
    let seq_ideal = work.sleep * work.queries;
    report.rows.push(Row {
        mode: "sequential",
        pool_size,
        queries: work.queries,
        sleep_ms: args.sleep_ms,
        wall_ms: millis(seq_wall),
        ideal_ms: millis(seq_ideal),
    });
    let mut strategies = vec![Strategy {
        name: "sequential".into(),
        pool_size,
        queries: work.queries,
        wall_ms: millis(seq_wall),
        ideal_ms: Some(millis(seq_ideal)),
        same_results: true,
    }];
    let ideal_ms = millis(work.ideal(pool_size));
    let (rows, t) = timed(lesson_4::run_join_all(&pool, work)).await;
    let rows = rows.context("the join_all run failed")?;
    strategies.push(Strategy {
        name: "join_all".into(),
        pool_size,
        queries: work.queries,
        wall_ms: millis(t),
        ideal_ms: Some(ideal_ms),
        same_results: rows == sequential,
    });
    let (rows, t) = timed(lesson_4::run_join_set(&pool, work)).await;
    let rows = rows.context("the JoinSet run failed")?;
    strategies.push(Strategy {
        name: "JoinSet".into(),
        pool_size,
        queries: work.queries,
        wall_ms: millis(t),
        ideal_ms: Some(ideal_ms),
        same_results: rows == sequential,
    });
    let limit = pool_size as usize;
    let (rows, t) = timed(lesson_4::run_buffer_unordered(&pool, work, limit)).await;
    let rows = rows.context("the buffer_unordered run failed")?;
    strategies.push(Strategy {
        name: format!("buffer_unordered({limit})"),
        pool_size,
        queries: work.queries,
        wall_ms: millis(t),
        ideal_ms: Some(ideal_ms),
        same_results: rows == sequential,
    });
    print_header();
    strategies.iter().for_each(print_strategy);
    report.strategies = strategies;

    println!();
    println!(
        "a mixed workload: {} tasks, each an INSERT and a point SELECT",
        work.queries
    );
    lesson_4::delete_leftover_task_customers(&pool)
        .await
        .context("cannot delete an earlier run's leftover rows")?;
    // NOTE: InnoDB keeps a deleted row's key until purge removes it, and an INSERT of
    // that very key takes shared locks that deadlock with the other INSERTs (error 1213,
    // seen on MySQL). So the two runs insert names of their own.
    let (seq_run, conc_run) = (lesson_4::new_run_tag(), lesson_4::new_run_tag());
    let (seq_rows, seq_t) =
        timed(lesson_4::mixed_sequential(&pool, &seq_run, work.queries)).await;
    let seq_rows = seq_rows.context("the sequential mixed run failed")?;
    lesson_4::delete_customers(&pool, &seq_rows)
        .await
        .context("cannot delete the mixed run's rows")?;
    let (conc_rows, conc_t) =
        timed(lesson_4::mixed_concurrent(&pool, &conc_run, work.queries)).await;
    let conc_rows = conc_rows.context("the concurrent mixed run failed")?;
    lesson_4::delete_customers(&pool, &conc_rows)
        .await
        .context("cannot delete the mixed run's rows")?;
    // The ids and run tags differ between the two runs; the rest of the names and the
    // jobs must not.
    let without_ids = |rows: &[lesson_4::Customer]| {
        rows.iter()
            .map(|c| (lesson_4::task_label(&c.name).to_owned(), c.job.clone()))
            .collect::<Vec<_>>()
    };
    let mixed = vec![
        Strategy {
            name: "mixed, sequential".into(),
            pool_size,
            queries: work.queries,
            wall_ms: millis(seq_t),
            ideal_ms: None,
            same_results: true,
        },
        Strategy {
            name: "mixed, join_all".into(),
            pool_size,
            queries: work.queries,
            wall_ms: millis(conc_t),
            ideal_ms: None,
            same_results: without_ids(&conc_rows) == without_ids(&seq_rows),
        },
    ];
    print_header();
    mixed.iter().for_each(print_strategy);
    if let (Some(first), Some(last)) = (conc_rows.first(), conc_rows.last()) {
        let job = |c: &lesson_4::Customer| c.job.clone().unwrap_or_else(|| "NULL".into());
        println!(
            "rows read back: {} ({}) ... {} ({}); all deleted again",
            lesson_4::task_label(&first.name),
            job(first),
            lesson_4::task_label(&last.name),
            job(last)
        );
    }
    report.mixed = mixed;

    workbook::step("2", "One connection per task");
    let ids = lesson_4::connection_ids_of_tasks(&pool, work)
        .await
        .context("cannot run the tasks")?;
    println!(
        "{} tasks, a pool of {pool_size}: the tasks ran on {} distinct connections (CONNECTION_ID())",
        work.queries,
        ids.len()
    );
    println!(
        "sharing one `&mut` connection between tasks does not compile: see the chapter"
    );
    pool.close().await;

    workbook::step("3", "Pool size bounds concurrency");
    println!(
        "{} queries of SELECT SLEEP({}); ideal = ceil(N/P) x t",
        work.queries,
        work.sleep.as_secs_f64()
    );
    println!(
        "{:<11} {:>4} {:>7} {:>9} {:>11} {:>10}",
        "mode", "pool", "queries", "ideal", "wall", "wall/ideal"
    );
    let seq = report.rows[0].clone();
    let print_row = |r: &Row| {
        println!(
            "{:<11} {:>4} {:>7} {} {} {:>10.3}",
            r.mode,
            r.pool_size,
            r.queries,
            ideal(r.ideal_ms),
            wall(r.wall_ms),
            r.ratio()
        )
    };
    print_row(&seq);
    for size in lesson_4::POOL_SIZES {
        let pool = lesson_4::sized_pool(&db.url, size, ACQUIRE_TIMEOUT)
            .await
            .context("cannot open the step's pool")?;
        let (rows, t) = timed(lesson_4::run_join_all(&pool, work)).await;
        let rows =
            rows.with_context(|| format!("the run with a pool of {size} failed"))?;
        if rows != sequential {
            bail!("a pool of {size} returned other rows than the sequential run");
        }
        pool.close().await;
        let row = Row {
            mode: "concurrent",
            pool_size: size,
            queries: work.queries,
            sleep_ms: args.sleep_ms,
            wall_ms: millis(t),
            ideal_ms: millis(work.ideal(size)),
        };
        print_row(&row);
        report.rows.push(row);
    }
    lesson_4::chart::write_pool_size_chart(&report.rows, &args.chart)
        .context("cannot write the chart")?;
    println!("wrote the chart to {}", args.chart.display());

    workbook::step("4", "Pool exhaustion");
    let acquire_timeout = Duration::from_millis(args.acquire_timeout_ms);
    let ex = lesson_4::exhaust_pool(&db.url, acquire_timeout)
        .await
        .context("cannot run the exhaustion step")?;
    println!(
        "a pool of {}, {} transactions held open, acquire_timeout = {} ms",
        ex.pool_size, ex.held, args.acquire_timeout_ms
    );
    let error = match &ex.outcome {
        Err(e @ sqlx::Error::PoolTimedOut) => {
            println!(
                "third acquire: Err(PoolTimedOut) after {}: {e}",
                wall(millis(ex.waited)).trim()
            );
            e.to_string()
        }
        Err(e) => {
            bail!("the third acquire failed with another error than PoolTimedOut: {e}")
        }
        Ok(()) => bail!("the third acquire succeeded: the pool was not exhausted"),
    };
    println!(
        "after both transactions ended, an acquire succeeds again: {}",
        yes(ex.recovered)
    );
    report.exhaustion = Some(ExhaustionReport {
        pool_size: ex.pool_size,
        held: ex.held,
        acquire_timeout_ms: millis(ex.acquire_timeout),
        waited_ms: millis(ex.waited),
        error,
    });

    workbook::step("5", "Bounded fan-out");
    let pool = lesson_4::sized_pool(&db.url, FAN_OUT_POOL, ACQUIRE_TIMEOUT)
        .await
        .context("cannot open the step's pool")?;
    let bounded = lesson_4::bounded_fan_out(&pool, args.items, FAN_OUT_POOL as usize)
        .await
        .context("the bounded fan-out failed")?;
    let unbounded = lesson_4::unbounded_fan_out(&pool, args.items)
        .await
        .context("the unbounded fan-out failed")?;
    pool.close().await;
    let expected = lesson_4::expected_fan_out_sum(args.items);
    println!(
        "{} work items (SELECT ? * 2), a pool of {FAN_OUT_POOL}",
        args.items
    );
    let print_fan_out = |f: &FanOut| {
        println!("{}:", f.mode);
        println!(
            "  sum of answers          {} (expected: {})",
            f.sum,
            yes(f.sum == expected)
        );
        println!("  items alive at peak     {}", f.peak_items_alive);
        println!(
            "  queries in flight, peak {} (at most the pool's {}: {})",
            f.peak_in_flight,
            f.pool_size,
            yes(f.peak_in_flight <= f.pool_size as usize)
        );
        println!("  longest acquire wait {}", wall(f.longest_acquire_ms));
        println!("  wall time            {}", wall(f.wall_ms));
        match f.peak_rss_growth_kib {
            Some(kib) => println!("  peak RSS growth         {kib} KiB"),
            None => println!("  peak RSS growth         (not measured: Linux only)"),
        }
    };
    print_fan_out(&bounded);
    print_fan_out(&unbounded);
    report.fan_out = vec![bounded, unbounded];

    workbook::step("6", "Timeouts and cancellation");
    let pool = lesson_4::sized_pool(&db.url, 2, ACQUIRE_TIMEOUT)
        .await
        .context("cannot open the step's pool")?;
    let c: Cancellation = lesson_4::cancel_slow_query(&pool, Duration::from_millis(500))
        .await
        .context("cannot run the cancellation step")?;
    println!(
        "in a transaction: INSERT a customer, then SELECT SLEEP(5) under tokio::time::timeout({} ms)",
        c.timeout_ms
    );
    println!(
        "the timeout fired after {}: the future was dropped",
        wall(c.gave_up_after_ms).trim()
    );
    match &c.server_after_timeout {
        Some(t) => println!(
            "the server still runs it: processlist command={} state={} info={}",
            t.command,
            t.state.as_deref().unwrap_or("NULL"),
            t.info.as_deref().unwrap_or("NULL")
        ),
        None => println!("the server shows no such connection"),
    }
    println!(
        "open InnoDB transactions on that connection: {}",
        c.open_transactions_after_timeout
    );
    if c.killed {
        println!("KILL QUERY <id> sent from another connection");
    }
    println!("the connection: {}", c.connection_after_kill);
    println!(
        "open InnoDB transactions on that connection afterwards: {}",
        c.open_transactions_at_end
    );
    println!(
        "the INSERT before the timeout was rolled back: {}",
        yes(!c.inserted_row_kept)
    );
    println!("the pool still answers SELECT 1: {}", yes(c.pool_answers));
    pool.close().await;
    report.cancellation = Some(c);

    workbook::step("7", "All three stacks");
    let pool = lesson_4::sized_pool(&db.url, pool_size, ACQUIRE_TIMEOUT)
        .await
        .context("cannot open the step's pool")?;
    let (rows, t) = timed(lesson_4::run_join_all(&pool, work)).await;
    let rows = rows.context("the sqlx run failed")?;
    let mut stacks = vec![StackRun {
        stack: "sqlx",
        pool_size,
        queries: work.queries,
        wall_ms: millis(t),
        ideal_ms,
        same_results: rows == sequential,
    }];
    let (rows, t) = timed(lesson_4::run_sea_query(&pool, work)).await;
    let rows = rows.context("the sea-query run failed")?;
    stacks.push(StackRun {
        stack: "sea-query + sqlx",
        pool_size,
        queries: work.queries,
        wall_ms: millis(t),
        ideal_ms,
        same_results: rows == sequential,
    });
    pool.close().await;
    let diesel = lesson_4::diesel_pool(&db.url, pool_size)
        .await
        .context("cannot open the diesel-async pool")?;
    let (rows, t) = timed(lesson_4::run_diesel(&diesel, work)).await;
    let rows = rows.context("the diesel-async run failed")?;
    diesel.close();
    stacks.push(StackRun {
        stack: "diesel-async + deadpool",
        pool_size,
        queries: work.queries,
        wall_ms: millis(t),
        ideal_ms,
        same_results: rows == sequential,
    });
    println!(
        "{:<24} {:>4} {:>11} {:>9} {:>10}  same rows",
        "stack", "pool", "wall", "ideal", "wall/ideal"
    );
    for s in &stacks {
        println!(
            "{:<24} {:>4} {} {} {:>10.3}  {}",
            s.stack,
            s.pool_size,
            wall(s.wall_ms),
            ideal(s.ideal_ms),
            s.wall_ms / s.ideal_ms,
            yes(s.same_results)
        );
    }
    report.stacks = stacks;

    if let Some(path) = &args.json {
        report.write_json(path)?;
        println!();
        println!("wrote the measurements to {}", path.display());
    }
    setup.close().await;
    Ok(())
}
