//! Step 8: the service under load, from a driver built in: throughput and latency
//! against the pool's size, and what saturation looks like with a short acquire
//! timeout: quick 503s, not a queue that grows without end.

use std::time::{Duration, Instant};

use anyhow::Result;
use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use crate::client::Http;
use crate::report::Lines;

/// What one request of a load saw: its status (0 when no answer came), whether it
/// carried `Retry-After`, and how long it took.
pub type Seen = (u16, bool, Duration);

// ANCHOR: drive_load
/// `concurrency` clients, each sending `GET path` again and again until `length` has
/// passed, each waiting for its answer before sending the next: a closed loop, as
/// wrk's connections are.
pub async fn drive_load(
    http: &Http,
    path: &str,
    concurrency: usize,
    length: Duration,
) -> Result<Load> {
    let (started, mut clients) = (Instant::now(), JoinSet::new());
    for _ in 0..concurrency {
        let (http, path) = (http.clone(), path.to_owned());
        clients.spawn(async move {
            let mut seen: Vec<Seen> = Vec::new();
            while started.elapsed() < length {
                let sent = Instant::now();
                let reply = http.get(&path).await.ok();
                let status = reply.as_ref().map_or(0, |r| r.status);
                let retry = reply.is_some_and(|r| r.retry_after.is_some());
                seen.push((status, retry, sent.elapsed()));
            }
            seen
        });
    }
    let mut seen = Vec::new();
    while let Some(client) = clients.join_next().await {
        seen.extend(client?);
    }
    Ok(Load::of(&seen, started.elapsed()))
}
// ANCHOR_END: drive_load

// ANCHOR: percentile
/// The `p`th percentile (0 to 100) of `sorted`, by the nearest-rank method: the
/// smallest value that at least `p`% of the values do not exceed.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
// ANCHOR_END: percentile

/// What one load measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Load {
    /// Requests answered or failed.
    pub requests: u64,
    /// Answered 200.
    pub ok: u64,
    /// Answered 503.
    pub busy: u64,
    /// Answered 503 with `Retry-After`.
    pub busy_with_retry_after: u64,
    /// Anything else, failed connections included.
    pub other: u64,
    /// How long the load ran, in seconds.
    pub seconds: f64,
    /// Requests per second.
    pub throughput: f64,
    /// The median latency, in milliseconds.
    pub p50_ms: f64,
    /// The 99th percentile latency, in milliseconds.
    pub p99_ms: f64,
    /// The slowest request, in milliseconds.
    pub max_ms: f64,
    /// The slowest 503, in milliseconds.
    pub max_busy_ms: f64,
}

impl Load {
    /// The figures of `seen`, a load that ran for `took`.
    pub fn of(seen: &[Seen], took: Duration) -> Load {
        let count =
            |f: &dyn Fn(&Seen) -> bool| seen.iter().filter(|s| f(s)).count() as u64;
        let mut latencies: Vec<Duration> = seen.iter().map(|s| s.2).collect();
        latencies.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let busy_max = seen.iter().filter(|s| s.0 == 503).map(|s| s.2).max();
        let requests = seen.len() as u64;
        Load {
            requests,
            ok: count(&|s| s.0 == 200),
            busy: count(&|s| s.0 == 503),
            busy_with_retry_after: count(&|s| s.0 == 503 && s.1),
            other: count(&|s| s.0 != 200 && s.0 != 503),
            seconds: took.as_secs_f64(),
            throughput: requests as f64 / took.as_secs_f64().max(1e-9),
            p50_ms: ms(percentile(&latencies, 50.0)),
            p99_ms: ms(percentile(&latencies, 99.0)),
            max_ms: ms(latencies.last().copied().unwrap_or_default()),
            max_busy_ms: ms(busy_max.unwrap_or_default()),
        }
    }
}

/// The path every load reads: the first page of 20 customers.
pub const LOAD_PATH: &str = "/customers?limit=20";

/// Step 8's report: a short load on a pool of 4; the same load on pools of 1 to 8;
/// then 32 clients on a pool of 2 whose every request holds its connection 200 ms.
pub async fn run(ctx: &crate::Ctx) -> Result<Lines> {
    crate::seed(&ctx.pool, 100).await?;
    let mut lines = Lines::default();
    lines.push(format!(
        "16 clients, GET {LOAD_PATH}, {} each, in this process:",
        crate::report::duration(ctx.load)
    ));
    lines.push(crate::report::load_header());
    let mut points = Vec::new();
    for pool in [1, 2, 4, 8] {
        let service = ctx.service(pool, crate::ACQUIRE_TIMEOUT).await?;
        drive_load(&service.http, LOAD_PATH, 16, ctx.load / 4).await?; // warm-up
        let load = drive_load(&service.http, LOAD_PATH, 16, ctx.load).await?;
        lines.push(crate::report::load_row(&format!("pool of {pool}"), &load));
        points.push((pool, load.throughput));
        service.stop().await?;
    }
    let knee = crate::s9_beside_fastapi::knee(&points);
    lines.push(format!(
        "throughput stops rising beyond a pool of {}",
        knee.unwrap_or(0)
    ));

    let service = ctx.service(2, Duration::from_millis(100)).await?;
    let load = drive_load(
        &service.http,
        "/demo/hold?ms=200",
        32,
        Duration::from_secs(1),
    )
    .await?;
    service.stop().await?;
    lines.push(
        "saturated: 32 clients, a pool of 2, each request holding its connection \
                200 ms, acquire timeout 100 ms:"
            .into(),
    );
    lines.push(format!(
        "  answered: {} of {}; 200: {}, 503: {} ({} with Retry-After), other: {}",
        load.ok + load.busy,
        load.requests,
        load.ok,
        load.busy,
        load.busy_with_retry_after,
        load.other
    ));
    lines.push(format!(
        "  slowest 503: {:.0} ms; slowest request: {:.0} ms",
        load.max_busy_ms, load.max_ms
    ));
    Ok(lines)
}
