//! What each step reports: plain data, printed as the lines the book shows, written as
//! JSON and drawn as an SVG chart. Nothing here is part of the lesson's teaching; the
//! tests assert on the fields.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::Flavor;

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// The median, 99th percentile and maximum of some durations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Summary {
    /// How many.
    pub n: usize,
    /// The median, in milliseconds.
    pub p50_ms: f64,
    /// The 99th percentile (nearest rank), in milliseconds.
    pub p99_ms: f64,
    /// The largest, in milliseconds.
    pub max_ms: f64,
}

impl Summary {
    /// Summarises `values`; all zero when there are none.
    pub fn of(values: &[Duration]) -> Summary {
        let mut sorted: Vec<f64> = values.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        sorted.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            let i =
                ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1));
            sorted.get(i - 1).copied().unwrap_or(0.0)
        };
        Summary {
            n: sorted.len(),
            p50_ms: rank(0.50),
            p99_ms: rank(0.99),
            max_ms: sorted.last().copied().unwrap_or(0.0),
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            self.p50_ms, self.p99_ms, self.max_ms
        )
    }
}

/// One replica's lag at one load.
#[derive(Debug, Clone, Serialize)]
pub struct ReplicaLag {
    /// `node2`, ...
    pub replica: String,
    /// Tasks writing meanwhile (0: idle).
    pub writers: u32,
    /// Rows the load wrote per second.
    pub rows_per_second: f64,
    /// The lag samples, summarised.
    pub lag: Summary,
}

/// Step 1: each replica's lag, idle and under load.
#[derive(Debug, Clone, Serialize)]
pub struct LagReport {
    /// The servers' kind.
    pub flavor: Flavor,
    /// The replicas' names.
    pub replicas: Vec<String>,
    /// Writers of the loaded run.
    pub writers: u32,
    /// A row per replica and load.
    pub rows: Vec<ReplicaLag>,
    /// Each replica's samples under load, in milliseconds, in order (for the chart).
    pub samples_ms: Vec<Vec<f64>>,
}

impl fmt::Display for LagReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "lag from the primary's acknowledgement to the replica's answer:"
        )?;
        for row in &self.rows {
            let load = match row.writers {
                0 => "idle".to_owned(),
                n => format!("{n} writers, {:.0} rows/s", row.rows_per_second),
            };
            write!(
                f,
                "\n  {} ({load}): {} samples, {}",
                row.replica, row.lag.n, row.lag
            )?;
        }
        Ok(())
    }
}

/// Step 2: where each kind of query went, by `@@server_id`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SplitReport {
    /// Writes (and the fresh read after each) by server id.
    pub writes: BTreeMap<i64, u32>,
    /// Reads through `reader()` by server id.
    pub reads: BTreeMap<i64, u32>,
    /// Whether each node is read-only.
    pub read_only: BTreeMap<String, bool>,
}

fn by_server(counts: &BTreeMap<i64, u32>) -> String {
    counts
        .iter()
        .map(|(id, n)| format!("server {id}: {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for SplitReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "writes and fresh reads (writer()): {}",
            by_server(&self.writes)
        )?;
        writeln!(
            f,
            "other reads (reader()):            {}",
            by_server(&self.reads)
        )?;
        let read_only: Vec<String> = self
            .read_only
            .iter()
            .map(|(node, on)| format!("{node} {}", if *on { "ON" } else { "OFF" }))
            .collect();
        write!(f, "read_only: {}", read_only.join(", "))
    }
}

/// Step 3: stale reads after a write, without and with the GTID wait.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReadYourWritesReport {
    /// Writes read back, each way.
    pub reads: u32,
    /// Tasks of background load.
    pub writers: u32,
    /// Reads that missed their own write, without the wait.
    pub stale_without_wait: u32,
    /// The same, with the wait.
    pub stale_with_wait: u32,
    /// Reads with the wait that went to the primary, the replica too far behind.
    pub from_primary: u32,
    /// Write + read, without the wait.
    pub without_wait: Summary,
    /// Write + wait + read.
    pub with_wait: Summary,
}

impl fmt::Display for ReadYourWritesReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} writes, each read back at once from a replica, with {} writers loading the primary:",
            self.reads, self.writers
        )?;
        writeln!(
            f,
            "  without the wait: {} of {} reads stale; write + read {}",
            self.stale_without_wait, self.reads, self.without_wait
        )?;
        write!(
            f,
            "  with the wait:    {} of {} reads stale, {} read from the primary after \
             {} s; write + wait + read {}",
            self.stale_with_wait,
            self.reads,
            self.from_primary,
            crate::s3_read_your_writes::WAIT_LIMIT.as_secs(),
            self.with_wait
        )
    }
}

/// One write attempt during a failover.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Attempt {
    /// When it ended, since the writers started.
    pub at: Duration,
    /// The order id it wrote.
    pub id: i64,
    /// Whether the server acknowledged it.
    pub ok: bool,
}

/// Step 4: one failover.
#[derive(Debug, Clone, Serialize)]
pub struct FailoverReport {
    /// Semi-synchronous replication on.
    pub semi_sync: bool,
    /// The dead primary and the promoted replica.
    pub from_to: (String, String),
    /// When the replicas were cut off, the primary killed, and the replica promoted.
    pub cut_at: Duration,
    /// When the primary was killed.
    pub killed_at: Duration,
    /// When the write pool pointed at the new primary.
    pub promoted_at: Duration,
    /// Writes acknowledged.
    pub acknowledged: usize,
    /// Writes refused (an error or no answer within 2 s).
    pub refused: usize,
    /// Writes acknowledged while the replicas were cut off, before the kill.
    pub acknowledged_during_cut: usize,
    /// How long no write was acknowledged: from the last before the kill to the first
    /// after it.
    pub longest_gap: Duration,
    /// Acknowledged writes missing on the new primary.
    pub lost: usize,
    /// Rows on the new primary whose write was not acknowledged.
    pub unacknowledged_present: usize,
    /// Writes acknowledged in each 50 ms since the writers started (what the chart draws).
    pub acknowledged_per_50ms: Vec<u32>,
    /// Every attempt (left out of the JSON, which keeps the counts above).
    #[serde(skip)]
    pub attempts: Vec<Attempt>,
}

impl FailoverReport {
    /// The report of one failover, from its attempts and the ids on the new primary.
    pub fn new(
        semi_sync: bool,
        from_to: (String, String),
        (cut_at, killed_at, promoted_at): (Duration, Duration, Duration),
        attempts: Vec<Attempt>,
        present: &[i64],
    ) -> FailoverReport {
        let present: BTreeSet<i64> = present.iter().copied().collect();
        let acked: BTreeSet<i64> =
            attempts.iter().filter(|a| a.ok).map(|a| a.id).collect();
        // From the last write acknowledged before the kill to the first after it (or to
        // the end, when none came).
        let ok_before = attempts
            .iter()
            .filter(|a| a.ok && a.at <= killed_at)
            .map(|a| a.at);
        let last_before = ok_before.max().unwrap_or_default();
        let end = attempts.iter().map(|a| a.at).max().unwrap_or_default();
        let first_after = attempts
            .iter()
            .filter(|a| a.ok && a.at > killed_at)
            .map(|a| a.at)
            .min()
            .unwrap_or(end);
        let longest_gap = first_after.saturating_sub(last_before);
        let mut acknowledged_per_50ms = vec![0u32; end.as_millis() as usize / 50 + 1];
        for a in attempts.iter().filter(|a| a.ok) {
            acknowledged_per_50ms[a.at.as_millis() as usize / 50] += 1;
        }
        FailoverReport {
            semi_sync,
            from_to,
            cut_at,
            killed_at,
            promoted_at,
            acknowledged: acked.len(),
            refused: attempts.iter().filter(|a| !a.ok).count(),
            acknowledged_during_cut: attempts
                .iter()
                .filter(|a| a.ok && a.at > cut_at && a.at <= killed_at)
                .count(),
            longest_gap,
            lost: acked.difference(&present).count(),
            acknowledged_per_50ms,
            unacknowledged_present: present.difference(&acked).count(),
            attempts,
        }
    }
}

impl fmt::Display for FailoverReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = if self.semi_sync {
            "with semi-sync"
        } else {
            "without semi-sync (asynchronous)"
        };
        writeln!(f, "{} -> {}, {how}:", self.from_to.0, self.from_to.1)?;
        writeln!(
            f,
            "  replicas cut off at {}, primary dead at {}, new primary in the pool at {}",
            ms(self.cut_at),
            ms(self.killed_at),
            ms(self.promoted_at)
        )?;
        writeln!(
            f,
            "  promotion took {}",
            ms(self.promoted_at.saturating_sub(self.killed_at))
        )?;
        writeln!(f, "  no write acknowledged for {}", ms(self.longest_gap))?;
        writeln!(
            f,
            "  writes acknowledged: {}, refused or timed out: {}",
            self.acknowledged, self.refused
        )?;
        writeln!(
            f,
            "  acknowledged while the replicas were cut off: {}",
            self.acknowledged_during_cut
        )?;
        write!(
            f,
            "  acknowledged writes lost: {}; unacknowledged writes present: {}",
            self.lost, self.unacknowledged_present
        )
    }
}

/// Step 5: one number of writers on the cluster.
#[derive(Debug, Clone, Serialize)]
pub struct ConflictRow {
    /// Tasks writing at once, spread over the nodes.
    pub writers: u32,
    /// Transactions committed.
    pub committed: u64,
    /// Attempts that failed with a retryable error, and were run again.
    pub failed_attempts: u64,
    /// The most retries one transaction needed.
    pub most_retries: u32,
}

/// Step 5: what losing nodes did to a write.
#[derive(Debug, Clone, Serialize)]
pub struct NodeLoss {
    /// Nodes lost so far.
    pub nodes_lost: usize,
    /// What happened to the last one: `node3 killed`, `node2 cut off`, `node2 paused`.
    pub what: String,
    /// How long until the outcome.
    pub took: Duration,
    /// The write's outcome on node1.
    pub outcome: Result<(), String>,
}

/// Step 5: the cluster.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterReport {
    /// Galera (MariaDB) or Group Replication (MySQL).
    pub flavor: Flavor,
    /// A row per number of writers.
    pub rows: Vec<ConflictRow>,
    /// Each node's sum of the counters, and the sum expected from the commits.
    pub totals: Vec<(i64, u64)>,
    /// One node lost, then two.
    pub losses: Vec<NodeLoss>,
}

impl fmt::Display for ClusterReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let engine = match self.flavor {
            Flavor::MariaDb => "Galera",
            Flavor::MySql => "Group Replication",
        };
        writeln!(
            f,
            "{engine}, 3 nodes; each transaction adds 1 to two of four hot rows:"
        )?;
        writeln!(
            f,
            "  writers  committed  failed attempts (retried)  conflict rate  most retries"
        )?;
        for r in &self.rows {
            let rate =
                r.failed_attempts as f64 / (r.committed + r.failed_attempts) as f64;
            writeln!(
                f,
                "  {:>7}  {:>9}  {:>25}  {:>12.1}%  {:>12}",
                r.writers,
                r.committed,
                r.failed_attempts,
                rate * 100.0,
                r.most_retries
            )?;
        }
        let same = self
            .totals
            .iter()
            .all(|(sum, expected)| *sum as u64 == *expected);
        let sums: Vec<String> = self.totals.iter().map(|(s, _)| s.to_string()).collect();
        write!(
            f,
            "  sum of the counters on each node: {} (expected {}): {}",
            sums.join(", "),
            self.totals.first().map_or(0, |t| t.1),
            if same {
                "no update lost"
            } else {
                "UPDATES LOST"
            }
        )?;
        for loss in &self.losses {
            let what = match &loss.outcome {
                Ok(()) => "a write on node1 commits".to_owned(),
                Err(e) => format!("a write on node1 fails: {e}"),
            };
            write!(
                f,
                "\n  {} ({} of 3 nodes lost): {what}, after {}",
                loss.what,
                loss.nodes_lost,
                ms(loss.took)
            )?;
        }
        Ok(())
    }
}

/// Everything a run measured, as the JSON file holds it.
#[derive(Debug, Serialize)]
pub struct Results<'a> {
    /// The servers' version.
    pub version: &'a str,
    /// Step 1.
    pub lag: &'a LagReport,
    /// Step 3.
    pub read_your_writes: &'a ReadYourWritesReport,
    /// Step 4.
    pub failovers: &'a [FailoverReport],
    /// Step 5.
    pub cluster: Option<&'a ClusterReport>,
}

/// The results' file stem for a flavor: `mariadb` or `mysql`.
pub fn stem(flavor: Flavor) -> &'static str {
    match flavor {
        Flavor::MariaDb => "mariadb",
        Flavor::MySql => "mysql",
    }
}

/// Writes `dir/STEM.json` and the chart `dir/STEM.svg`; returns their paths.
pub fn write_results(
    dir: &Path,
    flavor: Flavor,
    results: &Results<'_>,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let json = dir.join(format!("{}.json", stem(flavor)));
    std::fs::write(&json, serde_json::to_string_pretty(results)? + "\n")
        .with_context(|| format!("cannot write {}", json.display()))?;
    let svg = dir.join(format!("{}.svg", stem(flavor)));
    draw(&svg, results)?;
    Ok(vec![json, svg])
}

/// Two panels: the replicas' lag under load, sample by sample; and each failover's
/// acknowledged writes per 50 ms, with the cut, the kill and the promotion marked.
fn draw(path: &Path, results: &Results<'_>) -> Result<()> {
    use plotters::prelude::*;

    let root = SVGBackend::new(path, (960, 720)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(330);
    let samples = &results.lag.samples_ms;
    let n = samples.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let high = samples.iter().flatten().copied().fold(0.1, f64::max) * 1.1;
    let mut chart = ChartBuilder::on(&top)
        .caption(
            format!(
                "Replica lag under {} writers ({})",
                results.lag.writers, results.version
            ),
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d(0..n, 0.0..high)?;
    chart
        .configure_mesh()
        .x_desc("sample (one every ~10 ms)")
        .y_desc("lag, ms")
        .draw()?;
    for (i, (name, series)) in results.lag.replicas.iter().zip(samples).enumerate() {
        let color = Palette99::pick(i).mix(0.9);
        chart
            .draw_series(LineSeries::new(
                series.iter().copied().enumerate(),
                color.stroke_width(1),
            ))?
            .label(name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()?;

    let panels = bottom.split_evenly((1, results.failovers.len().max(1)));
    for (panel, failover) in panels.iter().zip(results.failovers) {
        let acked = &failover.acknowledged_per_50ms;
        let end = acked.len() as f64 * 50.0;
        let most = f64::from(acked.iter().copied().max().unwrap_or(1)) * 1.2 + 1.0;
        let title = format!(
            "{} -> {}, {}: {} lost",
            failover.from_to.0,
            failover.from_to.1,
            if failover.semi_sync {
                "semi-sync"
            } else {
                "async"
            },
            failover.lost
        );
        let mut chart = ChartBuilder::on(panel)
            .caption(title, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..end, 0.0..most)?;
        chart
            .configure_mesh()
            .x_desc("ms since the writers started")
            .y_desc("acked writes / 50 ms")
            .draw()?;
        chart.draw_series(LineSeries::new(
            acked
                .iter()
                .enumerate()
                .map(|(i, n)| (i as f64 * 50.0, f64::from(*n))),
            BLUE.stroke_width(2),
        ))?;
        for (at, color) in [
            (failover.cut_at, RGBColor(200, 140, 0)),
            (failover.killed_at, RED),
            (failover.promoted_at, GREEN),
        ] {
            let x = at.as_secs_f64() * 1e3;
            chart.draw_series(LineSeries::new(
                [(x, 0.0), (x, most)],
                color.stroke_width(1),
            ))?;
        }
    }
    root.present()?;
    Ok(())
}
