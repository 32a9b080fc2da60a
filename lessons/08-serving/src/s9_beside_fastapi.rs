//! Step 9: the measured benchmark. wrk on one core, the service on the other, each pool
//! size at two loads; then the FastAPI + SQLAlchemy service under the same load against
//! the same database; the knee of each curve, named from the figures.

use std::process::Command;

use anyhow::{Context, Result};

use crate::bench::BenchResults;

// ANCHOR: wrk_command
/// wrk on core 0 with one thread and `clients` connections, for `seconds`, printing its
/// latency percentiles. The service runs on core 1 (`taskset -c 1`); the database
/// server is not pinned and shares both.
pub fn wrk_command(url: &str, clients: u32, seconds: u64) -> Command {
    let mut wrk = Command::new("taskset");
    wrk.args(["-c", "0", "wrk", "-t1", "--latency", "--timeout", "10s"])
        .arg(format!("-c{clients}"))
        .arg(format!("-d{seconds}s"))
        .arg(url);
    wrk
}
// ANCHOR_END: wrk_command

// ANCHOR: rss
/// A process's resident memory, and its peak, in MiB: `VmRSS` and `VmHWM` from
/// `/proc/PID/status`, which Linux gives in kB.
pub fn memory_mib(pid: u32) -> Result<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("cannot read /proc/{pid}/status"))?;
    let field = |name: &str| {
        let line = status.lines().find(|l| l.starts_with(name));
        let kb = line.and_then(|l| l.split_whitespace().nth(1));
        kb.and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
    };
    let rss = field("VmRSS:").context("no VmRSS in /proc/PID/status")?;
    Ok((rss, field("VmHWM:").unwrap_or(rss)))
}
// ANCHOR_END: rss

// ANCHOR: knee
/// The pool size beyond which throughput stops rising: the smallest size that reaches
/// 95% of the best throughput any size reached. `points` are (size, requests/s).
pub fn knee(points: &[(u32, f64)]) -> Option<u32> {
    let best = points.iter().map(|&(_, rps)| rps).fold(0.0, f64::max);
    let mut sizes: Vec<&(u32, f64)> = points.iter().collect();
    sizes.sort_by_key(|&&(size, _)| size);
    sizes
        .into_iter()
        .find(|&&(_, rps)| rps >= 0.95 * best)
        .map(|&(size, _)| size)
}
// ANCHOR_END: knee

/// Step 9: the whole benchmark, as `args` asks.
pub async fn run(ctx: &crate::Ctx, args: &crate::Args) -> Result<BenchResults> {
    crate::bench::run(ctx, args).await
}
