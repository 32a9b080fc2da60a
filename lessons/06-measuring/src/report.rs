//! What each step reports: plain data, printed as the tables the book shows, and the
//! JSON file and SVG charts of a whole run. Nothing here is part of the lesson's
//! teaching; the tests assert on the fields.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::{BenchCustomer, Counts, Seeded, Timing};

/// One measured row: a stack (or the floor) on one workload and variant. `bench.py`
/// prints its rows in the same shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultRow {
    /// `sqlx query_as`, `sqlx query_as!`, `sea-query`, `diesel-async` or the C client.
    pub stack: String,
    /// `W1` to `W5`.
    pub workload: String,
    /// How the workload ran, such as `pool of 5` or `batch API, chunks of 1000`.
    pub variant: String,
    /// How many operations (queries or rows) the workload did.
    pub ops: usize,
    /// The wall time of the whole workload, fastest run, in milliseconds.
    pub wall_ms: f64,
    /// The median run, in milliseconds.
    pub median_ms: f64,
    /// How many timed runs.
    pub repeats: usize,
}

impl ResultRow {
    /// The row of `stack` on `workload` and `variant`, from its timed runs.
    pub fn new(
        stack: &str,
        workload: &str,
        variant: &str,
        ops: usize,
        t: &Timing,
    ) -> Self {
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

    /// Whether this row is the C client's, the floor.
    pub fn is_floor(&self) -> bool {
        self.stack == "mariadb-slap" || self.stack == "mysqlslap"
    }

    /// The fastest run's time per operation, in milliseconds.
    pub fn per_op_ms(&self) -> f64 {
        self.wall_ms / self.ops.max(1) as f64
    }
}

/// Prints a workload's table and keeps its rows for step 9, the JSON and the charts.
pub fn show(table: Table, rows: &mut Vec<ResultRow>) {
    println!("{table}");
    rows.extend(table.rows);
}

/// A duration the way every table prints it: `1.23 s`, `45.6 ms` or `789 µs`.
pub fn duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1e3)
    } else if ms >= 1.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.0} µs", ms * 1e3)
    }
}

fn ms(value: f64) -> String {
    duration(Duration::from_secs_f64(value.max(0.0) / 1e3))
}

/// The rows of one workload's step, printed as a table: stack, variant, operations,
/// minimum, median, time per operation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// One row per stack (or floor) and variant.
    pub rows: Vec<ResultRow>,
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.rows.is_empty() {
            return write!(f, "(not measured in this run)");
        }
        write!(
            f,
            "{:<16} {:<28} {:>6} {:>10} {:>10} {:>10}",
            "stack", "variant", "ops", "min", "median", "per op"
        )?;
        for r in &self.rows {
            write!(
                f,
                "\n{:<16} {:<28} {:>6} {:>10} {:>10} {:>10}",
                r.stack,
                r.variant,
                r.ops,
                ms(r.wall_ms),
                ms(r.median_ms),
                ms(r.per_op_ms())
            )?;
        }
        Ok(())
    }
}

/// What step 9 sets against what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compared {
    /// W2's time per query over the C client's.
    W2PerQuery,
    /// W3's time per query over the C client's.
    W3PerQuery,
    /// W5's read of every row over the C client's.
    W5OverFloor,
    /// W4 row by row over the stack's best batched variant.
    W4RowByRowOverBatched,
    /// W5's wall time, in milliseconds, for this many rows.
    W5Wall {
        /// How many rows W5 read.
        rows: usize,
    },
    /// A Rust stack's best variant over the fastest SQLAlchemy stack on a workload.
    OverSqlAlchemy {
        /// `W2` to `W5`.
        workload: &'static str,
    },
}

impl fmt::Display for Compared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Compared::W2PerQuery => write!(f, "W2 per query / C client's"),
            Compared::W3PerQuery => write!(f, "W3 per query / C client's"),
            Compared::W5OverFloor => write!(f, "W5 read / C client's"),
            Compared::W4RowByRowOverBatched => write!(f, "W4 row by row / best batched"),
            Compared::W5Wall { rows } => write!(f, "W5 wall time, {rows} rows"),
            Compared::OverSqlAlchemy { workload } => {
                write!(f, "{workload} best / fastest SQLAlchemy")
            }
        }
    }
}

/// One stack's figure in one comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// What is compared.
    pub what: Compared,
    /// The stack.
    pub stack: String,
    /// A ratio, or for W5 a wall time in milliseconds.
    pub value: f64,
}

/// Step 9: every comparison, and the workloads that had no C client to compare with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Comparisons {
    /// One row per stack and comparison.
    pub rows: Vec<Comparison>,
    /// W2, W3 or W5, measured without a floor.
    pub without_floor: Vec<Compared>,
}

impl fmt::Display for Comparisons {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<34} {:<16} {:>10}", "comparison", "stack", "measured")?;
        for what in &self.without_floor {
            let what = what.to_string();
            write!(f, "\n{what:<34} (no C client: not measured)")?;
        }
        for c in &self.rows {
            let what = c.what.to_string();
            let value = match c.what {
                Compared::W5Wall { .. } => format!("{:>10}", ms(c.value)),
                Compared::W4RowByRowOverBatched => format!("{:>9.1}x", c.value),
                _ => format!("{:>9.2}x", c.value),
            };
            write!(f, "\n{what:<34} {:<16} {value}", c.stack)?;
        }
        Ok(())
    }
}

/// Keeps the first stack's rows of a workload, and fails when a later stack returns a
/// different number of rows, or other rows.
#[derive(Debug, Default)]
pub struct Reference(Option<Vec<BenchCustomer>>);

impl Reference {
    /// Checks `found`, from the stack that `label` names, against `want` rows and the
    /// first stack's rows.
    pub fn check(
        &mut self,
        label: &str,
        found: Vec<BenchCustomer>,
        want: usize,
    ) -> Result<()> {
        check_count(label, found.len(), want)?;
        match &self.0 {
            None => self.0 = Some(found),
            Some(first) if *first != found => {
                bail!("{label} returned other rows than the first stack")
            }
            Some(_) => {}
        }
        Ok(())
    }
}

/// Fails unless a workload got as many results as it asked for.
pub fn check_count(label: &str, got: usize, want: usize) -> Result<()> {
    if got != want {
        bail!("{label}: expected {want} results, got {got}");
    }
    Ok(())
}

/// Step 1: what the run was measured on, also the JSON's `machine` object.
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
    /// With `--python`: the Python, SQLAlchemy and driver versions of the SQLAlchemy side.
    pub sqlalchemy: Option<String>,
}

impl fmt::Display for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "cpu: {} ({} cores)", self.cpu, self.cores)?;
        writeln!(f, "load: {} (1, 5, 15 min averages)", self.load_average)?;
        let warning = match self.build {
            "debug" => " (figures from a debug build say little: use --release)",
            _ => "",
        };
        writeln!(f, "build: {}{warning}", self.build)?;
        writeln!(
            f,
            "server: {}, innodb_flush_log_at_trx_commit = {}",
            self.server_version, self.innodb_flush_log_at_trx_commit
        )?;
        match &self.floor_client {
            Some(client) => writeln!(f, "floor: {client}")?,
            None => writeln!(
                f,
                "floor: no mariadb-slap or mysqlslap found; the floor rows are skipped"
            )?,
        }
        let c = &self.counts;
        write!(
            f,
            "counts: W1 {} x SLEEP({} ms), pools {:?}; W2/W3 {} selects, {} tasks; \
             W4/W5 {} rows, chunks of {:?}; {} timed runs after 1 warm-up",
            c.sleeps, c.sleep_ms, c.pools, c.ops, c.tasks, c.rows, c.chunks, c.repeats
        )
    }
}

/// Step 2: where the seeded rows are, and the ids chosen from them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Data {
    /// The seeded rows.
    pub seeded: Seeded,
    /// The ids W2, W3 and the floor select, in order.
    pub ids: Vec<i32>,
    /// The seed they were drawn with.
    pub seed: u64,
}

impl fmt::Display for Data {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} rows named m6-..., with consecutive INT ids; {} distinct ids chosen with \
             seed {}",
            self.seeded.rows(),
            self.ids.len(),
            self.seed
        )
    }
}

#[derive(Serialize)]
struct Results<'a> {
    machine: &'a Machine,
    rows: &'a [ResultRow],
}

/// Writes `{"machine": {...}, "rows": [...]}` to `path`.
pub fn write_json(path: &Path, machine: &Machine, rows: &[ResultRow]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let json = serde_json::to_string_pretty(&Results { machine, rows })?;
    std::fs::write(path, json + "\n")
        .with_context(|| format!("cannot write {}", path.display()))
}

fn title(workload: &str, rows: &[&ResultRow], machine: &Machine) -> String {
    let c = &machine.counts;
    let what = match workload {
        "W1" => format!("{} x SELECT SLEEP({} ms)", c.sleeps, c.sleep_ms),
        "W2" => format!("{} point selects, one connection", c.ops),
        "W3" => format!("{} point selects, {} tasks", c.ops, c.tasks),
        "W4" => format!("{} rows inserted in one transaction", c.rows),
        _ => format!("{} rows read into structs", c.rows),
    };
    let repeats = rows.first().map_or(0, |r| r.repeats);
    format!(
        "{workload}: {what} ({} build, min of {repeats} runs)",
        machine.build
    )
}

/// Draws one horizontal bar chart per workload, `lesson-6-w1.svg` to `lesson-6-w5.svg` in
/// `dir`: a bar per row at its fastest run, with the median written beside it.
pub fn write_charts(
    dir: &Path,
    machine: &Machine,
    rows: &[ResultRow],
) -> Result<Vec<PathBuf>> {
    use plotters::prelude::*;
    use plotters::style::text_anchor::{HPos, Pos, VPos};

    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let mut written = Vec::new();
    for workload in ["W1", "W2", "W3", "W4", "W5"] {
        let mine: Vec<&ResultRow> =
            rows.iter().filter(|r| r.workload == workload).collect();
        if mine.is_empty() {
            continue;
        }
        let path = dir.join(format!("lesson-6-{}.svg", workload.to_lowercase()));
        let labels: Vec<String> = mine
            .iter()
            .map(|r| format!("{}, {}", r.stack, r.variant))
            .collect();
        let top = mine.iter().map(|r| r.median_ms).fold(0.0, f64::max) * 1.3 + 1e-3;
        let n = mine.len();
        let root = SVGBackend::new(&path, (960, 90 + 26 * n as u32)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title(workload, &mine, machine), ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(330)
            .build_cartesian_2d(0.0..top, (0..n).into_segmented())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .x_desc("milliseconds for the whole workload (bar: fastest run)")
            .draw()?;
        chart.draw_series(mine.iter().enumerate().map(|(i, r)| {
            let color = if r.is_floor() {
                BLACK.mix(0.8)
            } else {
                Palette99::pick(stack_index(&r.stack)).mix(0.9)
            };
            let mut bar = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(i)),
                    (r.wall_ms, SegmentValue::Exact(i + 1)),
                ],
                color.filled(),
            );
            bar.set_margin(3, 3, 0, 0);
            bar
        }))?;
        chart.draw_series(mine.iter().enumerate().map(|(i, r)| {
            Text::new(
                format!(" {} (median {})", ms(r.wall_ms), ms(r.median_ms)),
                (r.wall_ms, SegmentValue::CenterOf(i)),
                TextStyle::from(("sans-serif", 12).into_font())
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            )
        }))?;
        root.present()?;
        written.push(path.clone());
    }
    Ok(written)
}

fn stack_index(stack: &str) -> usize {
    let rust = crate::Stack::ALL.iter().map(|s| s.name());
    let python = crate::python::STACKS.into_iter();
    rust.chain(python).position(|s| s == stack).unwrap_or(9)
}
