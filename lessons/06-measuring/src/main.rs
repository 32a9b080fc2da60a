use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;
use lesson_6::{Counts, Floor, Stack};

/// Lesson 6: five workloads on four stacks, next to the floor that the server's own C
/// client sets. Run it with `--release`; a full run takes a few minutes and reports
/// progress on stderr.
#[derive(Parser)]
#[command(name = "lesson-6")]
struct Args {
    /// Small counts that still run every workload on every stack (for the tests).
    #[arg(long)]
    quick: bool,
    /// W1: how many `SELECT SLEEP(..)` queries.
    #[arg(long)]
    sleeps: Option<usize>,
    /// W1: how long each sleeps, in milliseconds.
    #[arg(long)]
    sleep_ms: Option<u64>,
    /// W1: the pool sizes, such as 1,5,10,20.
    #[arg(long, value_delimiter = ',')]
    pools: Option<Vec<u32>>,
    /// W2 and W3: how many point selects.
    #[arg(long)]
    ops: Option<usize>,
    /// W3: how many tasks, on a pool of as many connections.
    #[arg(long)]
    tasks: Option<usize>,
    /// W4 and W5: how many rows.
    #[arg(long)]
    rows: Option<usize>,
    /// W4: rows per multi-row INSERT.
    #[arg(long)]
    chunk: Option<usize>,
    /// Timed runs after the warm-up (at least 3 for the method).
    #[arg(long)]
    repeats: Option<usize>,
    /// Run only these workloads, such as w2,w3 (for profiling one of them).
    #[arg(long, value_delimiter = ',', value_parser = ["w1", "w2", "w3", "w4", "w5"])]
    only: Option<Vec<String>>,
    /// Run only these stacks.
    #[arg(long, value_delimiter = ',')]
    stacks: Option<Vec<Stack>>,
    /// Skip the C client's floor even when it is installed.
    #[arg(long)]
    no_floor: bool,
    /// Where to write the JSON results.
    #[arg(long, default_value = "target/lesson-6/results.json")]
    json: PathBuf,
    /// The directory for the SVG charts, lesson-6-w1.svg to lesson-6-w5.svg.
    #[arg(long, default_value = "target/lesson-6")]
    charts: PathBuf,
}

impl Args {
    fn wants(&self, workload: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| only.iter().any(|w| w == workload))
    }

    fn counts(&self) -> Result<Counts> {
        let mut c = if self.quick {
            Counts::quick()
        } else {
            Counts::full()
        };
        c.sleeps = self.sleeps.unwrap_or(c.sleeps);
        c.sleep_ms = self.sleep_ms.unwrap_or(c.sleep_ms);
        c.pools = self.pools.clone().unwrap_or(c.pools);
        c.ops = self.ops.unwrap_or(c.ops);
        c.tasks = self.tasks.unwrap_or(c.tasks);
        c.rows = self.rows.unwrap_or(c.rows);
        c.chunk = self.chunk.unwrap_or(c.chunk);
        c.repeats = self.repeats.unwrap_or(c.repeats);
        c.check()?;
        Ok(c)
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let counts = args.counts()?;
    let db = workbook::lesson_database().await?;
    let pool = workbook::connect(&db.url).await?;
    workbook::migrate(&pool).await?;
    let floor = if args.no_floor {
        None
    } else {
        Floor::find(&db.url).context("cannot set up the C client's floor")?
    };

    workbook::step("1", "The machine, the server and the counts");
    let machine = lesson_6::machine(&pool, &counts, floor.as_ref())
        .await
        .context("cannot describe the machine and the server")?;
    lesson_6::print_machine(&machine);

    workbook::step("2", "The data: lesson 6's rows in bench_customers");
    let seeded = lesson_6::seed(&pool, counts.rows)
        .await
        .context("cannot seed bench_customers")?;
    let ids = lesson_6::choose_ids(&seeded, counts.ops)?;
    println!(
        "{} rows named m6-..., with consecutive INT ids; {} distinct ids chosen with seed {}",
        seeded.rows(),
        ids.len(),
        lesson_6::SEED
    );
    eprintln!(
        "lesson-6: the seeded rows were {}",
        if seeded.created {
            "inserted now"
        } else {
            "already there"
        }
    );

    let stacks = args.stacks.clone().unwrap_or(Stack::ALL.to_vec());
    let (url, floor) = (db.url.as_str(), floor.as_ref());
    let mut rows = Vec::new();
    if args.wants("w1") {
        workbook::step("3", "W1: SELECT SLEEP, one after another, then at once");
        let w1 = lesson_6::run_w1(url, &counts, &stacks).await;
        rows.extend(w1.context("W1 failed")?);
    }
    if args.wants("w2") {
        workbook::step("4", "W2: point selects on one connection");
        let w2 =
            lesson_6::run_point_selects(url, &counts, &ids, None, floor, &stacks).await;
        rows.extend(w2.context("W2 failed")?.0);
    }
    if args.wants("w3") {
        workbook::step("5", "W3: the same point selects over many tasks");
        let tasks = Some(counts.tasks);
        let w3 =
            lesson_6::run_point_selects(url, &counts, &ids, tasks, floor, &stacks).await;
        rows.extend(w3.context("W3 failed")?.0);
    }
    if args.wants("w4") {
        workbook::step("6", "W4: many rows inserted in one transaction");
        let w4 = lesson_6::run_w4(url, &pool, &counts, &stacks).await;
        rows.extend(w4.context("W4 failed")?);
    }
    if args.wants("w5") {
        workbook::step("7", "W5: every row read into structs");
        let w5 = lesson_6::run_w5(url, &counts, &seeded, &stacks).await;
        rows.extend(w5.context("W5 failed")?);
    }

    workbook::step("8", "Each stack against the floor");
    lesson_6::report::print_comparisons(&rows);

    lesson_6::report::write_json(&args.json, &machine, &rows)?;
    let charts = lesson_6::report::write_charts(&args.charts, &machine, &rows)
        .context("cannot draw the charts")?;
    eprintln!("lesson-6: wrote {}", args.json.display());
    for chart in charts {
        eprintln!("lesson-6: wrote {}", chart.display());
    }
    pool.close().await;
    Ok(())
}
