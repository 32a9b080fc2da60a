//! How the steps' reports print, and the benchmark's JSON and charts. Plumbing: the
//! book shows what this prints, never this code.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::bench::{BenchResults, Point};
use crate::s8_load::Load;

/// A step's report: lines of text, printed in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lines(pub Vec<String>);

impl Lines {
    /// Adds a line.
    pub fn push(&mut self, line: String) {
        self.0.push(line);
    }
}

impl fmt::Display for Lines {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("\n"))
    }
}

/// A duration as people read it: `850 ms`, `1.2 s`, `300 µs`.
pub fn duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 1000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else if ms >= 1.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.0} µs", ms * 1000.0)
    }
}

/// The header of a load table.
pub fn load_header() -> String {
    format!(
        "{:<14} {:>9} {:>11} {:>10} {:>10} {:>6}",
        "", "requests", "per second", "p50", "p99", "non-2xx"
    )
}

/// One row of a load table.
pub fn load_row(label: &str, load: &Load) -> String {
    format!(
        "{label:<14} {:>9} {:>11.0} {:>7.2} ms {:>7.2} ms {:>6}",
        load.requests,
        load.throughput,
        load.p50_ms,
        load.p99_ms,
        load.requests - load.ok
    )
}

impl fmt::Display for BenchResults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.machine;
        writeln!(f, "cpu: {} ({} cores)", m.cpu, m.cores)?;
        writeln!(
            f,
            "load: {} before, {} after (1, 5, 15 min averages)",
            m.load_before, m.load_after
        )?;
        writeln!(f, "build: {}", m.build)?;
        writeln!(f, "server: {}", m.server_version)?;
        writeln!(f, "load driver: {}", m.driver)?;
        writeln!(f, "pinning: {}", m.pinning)?;
        if let Some(python) = &m.python {
            writeln!(f, "FastAPI side: {python}")?;
        }
        writeln!(
            f,
            "load: GET {} for {} s per point, after a 1 s warm-up",
            m.path, m.seconds
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "{:<22} {:>5} {:>7} {:>10} {:>9} {:>9} {:>8} {:>8}",
            "stack",
            "pool",
            "clients",
            "requests/s",
            "p50 ms",
            "p99 ms",
            "non-2xx",
            "RSS MiB"
        )?;
        for p in &self.points {
            writeln!(
                f,
                "{:<22} {:>5} {:>7} {:>10.0} {:>9.2} {:>9.2} {:>8} {:>8.1}",
                p.stack,
                p.pool,
                p.concurrency,
                p.measured.throughput,
                p.measured.p50_ms,
                p.measured.p99_ms,
                p.measured.non_2xx,
                p.rss_mib
            )?;
        }
        writeln!(f)?;
        for k in &self.knees {
            writeln!(
                f,
                "{} at {} clients: throughput stops rising beyond a pool of {} ({:.0} \
                 requests/s)",
                k.stack, k.concurrency, k.pool, k.throughput
            )?;
        }
        for s in &self.saturation {
            writeln!(
                f,
                "{} saturated (pool of {}, {} clients, each request holding its connection \
                 {} ms, acquire timeout {} ms): {} requests, {} answered 503, p99 {:.0} ms, \
                 slowest {:.0} ms",
                s.stack,
                s.pool,
                s.concurrency,
                s.hold_ms,
                s.acquire_timeout_ms,
                s.requests,
                s.non_2xx,
                s.p99_ms,
                s.max_ms
            )?;
        }
        Ok(())
    }
}

/// Writes the results as pretty JSON to `path`.
pub fn write_json(path: &Path, results: &BenchResults) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let json = serde_json::to_string_pretty(results)?;
    std::fs::write(path, json + "\n")
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Which figure of a point a chart draws.
type Figure = fn(&Point) -> f64;

/// Draws `lesson-8-throughput.svg` and `lesson-8-p99.svg` in `dir`: one line per stack
/// and number of clients, against the pool's size.
pub fn write_charts(dir: &Path, results: &BenchResults) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let suffix = match results.machine.server_version.contains("MariaDB") {
        true => "mariadb",
        false => "mysql",
    };
    let mut written = Vec::new();
    let charts: [(&str, &str, Figure); 2] = [
        ("throughput", "requests per second", |p| {
            p.measured.throughput
        }),
        ("p99", "99th percentile latency, ms", |p| p.measured.p99_ms),
    ];
    for (name, axis, value) in charts {
        let path = dir.join(format!("lesson-8-{name}-{suffix}.svg"));
        draw(&path, results, axis, value)?;
        written.push(path);
    }
    Ok(written)
}

fn draw(
    path: &Path,
    results: &BenchResults,
    axis: &str,
    value: fn(&Point) -> f64,
) -> Result<()> {
    use plotters::prelude::*;

    let points = &results.points;
    let max_pool = points.iter().map(|p| p.pool).max().unwrap_or(1);
    let top = points.iter().map(value).fold(0.0, f64::max) * 1.15 + 1e-3;
    let root = SVGBackend::new(path, (900, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let title = format!(
        "{axis} against pool size ({}, {} s a point)",
        results.machine.server_version, results.machine.seconds
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d((1.0..f64::from(max_pool.max(2))).log_scale(), 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc("connections in the pool")
        .y_desc(axis)
        .draw()?;
    let mut series: Vec<(String, u32)> = points
        .iter()
        .map(|p| (p.stack.clone(), p.concurrency))
        .collect();
    series.dedup();
    series.sort();
    series.dedup();
    for (i, (stack, clients)) in series.iter().enumerate() {
        let color = Palette99::pick(i).mix(0.9);
        let line: Vec<(f64, f64)> = points
            .iter()
            .filter(|p| &p.stack == stack && p.concurrency == *clients)
            .map(|p| (f64::from(p.pool), value(p)))
            .collect();
        chart
            .draw_series(LineSeries::new(line.clone(), color.stroke_width(2)))?
            .label(format!("{stack}, {clients} clients"))
            .legend(move |(x, y)| {
                PathElement::new([(x, y), (x + 18, y)], color.stroke_width(2))
            });
        chart.draw_series(
            line.iter()
                .map(|&(x, y)| Circle::new((x, y), 3, color.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    root.present()?;
    Ok(())
}
