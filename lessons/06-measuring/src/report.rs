//! The results: the table on stdout, the comparisons, the JSON file and the SVG charts.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::Machine;

/// One measured row: a stack (or the floor) on one workload and variant.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    /// The fastest run's time per operation, in milliseconds.
    pub fn per_op_ms(&self) -> f64 {
        self.wall_ms / self.ops.max(1) as f64
    }
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

/// Prints `rows` as a table: stack, variant, operations, minimum, median, time per
/// operation.
pub fn print_table(rows: &[ResultRow]) {
    println!(
        "{:<16} {:<28} {:>6} {:>10} {:>10} {:>10}",
        "stack", "variant", "ops", "min", "median", "per op"
    );
    for r in rows {
        println!(
            "{:<16} {:<28} {:>6} {:>10} {:>10} {:>10}",
            r.stack,
            r.variant,
            r.ops,
            ms(r.wall_ms),
            ms(r.median_ms),
            ms(r.per_op_ms())
        );
    }
}

fn is_floor(r: &ResultRow) -> bool {
    r.stack == "mariadb-slap" || r.stack == "mysqlslap"
}

/// Prints how each stack compares: W2 and W3 as the time per query over the C client's,
/// W4 as row by row over the best batched variant, W5 as the wall time.
pub fn print_comparisons(rows: &[ResultRow]) {
    println!("{:<34} {:<16} {:>10}", "comparison", "stack", "measured");
    for workload in ["W2", "W3"] {
        let what = format!("{workload} per query / C client's");
        let Some(floor) = rows.iter().find(|r| r.workload == workload && is_floor(r))
        else {
            println!("{what:<34} (no C client: not measured)");
            continue;
        };
        for r in rows
            .iter()
            .filter(|r| r.workload == workload && !is_floor(r))
        {
            let ratio = r.per_op_ms() / floor.per_op_ms();
            println!("{what:<34} {:<16} {:>9.2}x", r.stack, ratio);
        }
    }
    let w4: Vec<&ResultRow> = rows.iter().filter(|r| r.workload == "W4").collect();
    let mut stacks: Vec<&str> = w4.iter().map(|r| r.stack.as_str()).collect();
    stacks.dedup();
    for stack in stacks {
        let mine = w4.iter().filter(|r| r.stack == stack);
        let row_by_row = mine.clone().find(|r| r.variant == "row by row");
        let batched = mine
            .filter(|r| r.variant != "row by row")
            .map(|r| r.wall_ms)
            .fold(f64::INFINITY, f64::min);
        if let Some(slow) = row_by_row {
            let speedup = slow.wall_ms / batched;
            println!(
                "{:<34} {:<16} {:>9.1}x",
                "W4 row by row / best batched", stack, speedup
            );
        }
    }
    for r in rows.iter().filter(|r| r.workload == "W5") {
        println!(
            "{:<34} {:<16} {:>10}",
            format!("W5 wall time, {} rows", r.ops),
            r.stack,
            ms(r.wall_ms)
        );
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

// ANCHOR: charts
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
            let color = if is_floor(r) {
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
// ANCHOR_END: charts

fn stack_index(stack: &str) -> usize {
    crate::Stack::ALL
        .iter()
        .position(|s| s.name() == stack)
        .unwrap_or(5)
}
