//! The benchmark's plumbing: each service started as a process of its own on core 1,
//! wrk (or the built-in driver) on core 0, each point measured after a warm-up, memory
//! read from `/proc`, and the results gathered. The chapter shows what it prints.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::client::Http;
use crate::s8_load::{LOAD_PATH, drive_load};
use crate::s9_beside_fastapi::{knee, memory_mib, wrk_command};

/// The Rust stack's name in the tables, the JSON and the charts.
pub const AXUM: &str = "axum + sqlx";
/// The Python stack's name.
pub const FASTAPI: &str = "FastAPI + SQLAlchemy";

/// What the run was measured on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Machine {
    /// The CPU model.
    pub cpu: String,
    /// The machine's cores.
    pub cores: usize,
    /// `/proc/loadavg` before the run.
    pub load_before: String,
    /// `/proc/loadavg` after the run.
    pub load_after: String,
    /// `release` or `debug`.
    pub build: String,
    /// The database server's `VERSION()`.
    pub server_version: String,
    /// `wrk` and its version, or the built-in driver.
    pub driver: String,
    /// Which core ran what.
    pub pinning: String,
    /// The FastAPI side's versions, when it ran.
    pub python: Option<String>,
    /// The path every point loads.
    pub path: String,
    /// Seconds of load per point.
    pub seconds: u64,
}

/// One point: a stack with a pool of `pool` under `concurrency` clients.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Point {
    /// [`AXUM`] or [`FASTAPI`].
    pub stack: String,
    /// The pool's size.
    pub pool: u32,
    /// Concurrent connections of the load.
    pub concurrency: u32,
    /// What the load measured.
    #[serde(flatten)]
    pub measured: Measured,
    /// The service's resident memory after the point, MiB.
    pub rss_mib: f64,
    /// The service's peak resident memory so far, MiB.
    pub peak_rss_mib: f64,
}

/// Where throughput stops rising, for one stack and load.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Knee {
    /// The stack.
    pub stack: String,
    /// The load's concurrent connections.
    pub concurrency: u32,
    /// The knee's pool size.
    pub pool: u32,
    /// The throughput there.
    pub throughput: f64,
}

/// A saturated service: each request holds its connection longer than the acquire
/// timeout allows others to wait.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Saturation {
    /// The stack.
    pub stack: String,
    /// The pool's size.
    pub pool: u32,
    /// Concurrent connections.
    pub concurrency: u32,
    /// How long each request holds its connection, ms.
    pub hold_ms: u32,
    /// The pool's acquire timeout, ms.
    pub acquire_timeout_ms: u64,
    /// Requests completed.
    pub requests: u64,
    /// Answers other than 2xx (the 503s), and socket errors.
    pub non_2xx: u64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// Slowest request, ms.
    pub max_ms: f64,
}

/// Everything the benchmark measured: what `--json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchResults {
    /// The machine and the settings.
    pub machine: Machine,
    /// Every point.
    pub points: Vec<Point>,
    /// The knee of each stack and load, from `points`.
    pub knees: Vec<Knee>,
    /// Each stack saturated.
    pub saturation: Vec<Saturation>,
}

/// A load's figures, from wrk or from the built-in driver.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    /// Requests completed.
    pub requests: u64,
    /// Non-2xx answers and socket errors.
    pub non_2xx: u64,
    /// Requests per second.
    pub throughput: f64,
    /// Median, ms.
    pub p50_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Slowest, ms.
    pub max_ms: f64,
}

/// A wrk latency such as `415.00us`, `1.23ms` or `2.01s`, in milliseconds.
fn wrk_ms(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    match unit {
        "us" => Some(number / 1000.0),
        "ms" => Some(number),
        "s" => Some(number * 1000.0),
        "m" => Some(number * 60_000.0),
        _ => None,
    }
}

/// Reads wrk's report (run with `--latency`).
pub fn parse_wrk(text: &str) -> Result<Measured> {
    let mut m = Measured::default();
    let mut errors = 0;
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Latency", _avg, _stdev, max, ..] if m.max_ms == 0.0 => {
                m.max_ms = wrk_ms(max).unwrap_or_default();
            }
            ["50%", value] => m.p50_ms = wrk_ms(value).context("wrk's p50")?,
            ["99%", value] => m.p99_ms = wrk_ms(value).context("wrk's p99")?,
            [count, "requests", "in", ..] => m.requests = count.parse()?,
            ["Non-2xx", "or", "3xx", "responses:", count] => {
                m.non_2xx += count.parse::<u64>()?
            }
            ["Requests/sec:", rate] => m.throughput = rate.parse()?,
            ["Socket", "errors:", rest @ ..] => {
                for number in rest.iter().map(|w| w.trim_end_matches(',')) {
                    errors += number.parse::<u64>().unwrap_or(0);
                }
            }
            _ => {}
        }
    }
    if m.requests == 0 {
        bail!("wrk completed no request: {}", text.trim());
    }
    m.non_2xx += errors;
    Ok(m)
}

/// How the load is driven.
#[derive(Debug, Clone)]
pub enum Driver {
    /// wrk, pinned to core 0.
    Wrk(String),
    /// The built-in driver, in this process, pinned to core 0 when taskset allows.
    BuiltIn,
}

impl Driver {
    /// wrk when it is on PATH (with taskset), else the built-in driver.
    pub fn find() -> Driver {
        let version = Command::new("wrk").arg("--version").output();
        let taskset = Command::new("taskset").arg("--version").output();
        match (version, taskset) {
            (Ok(out), Ok(_)) => {
                let text = String::from_utf8_lossy(&out.stdout).into_owned()
                    + &String::from_utf8_lossy(&out.stderr);
                let first = text.lines().next().unwrap_or("wrk");
                let version = first.split(" Copyright").next().unwrap_or(first);
                Driver::Wrk(version.trim().to_owned())
            }
            _ => Driver::BuiltIn,
        }
    }

    async fn measure(
        &self,
        base: &str,
        path: &str,
        clients: u32,
        seconds: u64,
    ) -> Result<Measured> {
        match self {
            Driver::Wrk(_) => {
                let url = format!("{base}{path}");
                let mut wrk = wrk_command(&url, clients, seconds);
                let out = tokio::task::spawn_blocking(move || wrk.output())
                    .await?
                    .context("cannot run wrk")?;
                if !out.status.success() {
                    bail!(
                        "wrk failed: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    );
                }
                parse_wrk(&String::from_utf8_lossy(&out.stdout))
            }
            Driver::BuiltIn => {
                let http = Http::new(base, clients as usize);
                let length = Duration::from_secs(seconds);
                let load = drive_load(&http, path, clients as usize, length).await?;
                Ok(Measured {
                    requests: load.requests,
                    non_2xx: load.requests - load.ok,
                    throughput: load.throughput,
                    p50_ms: load.p50_ms,
                    p99_ms: load.p99_ms,
                    max_ms: load.max_ms,
                })
            }
        }
    }
}

/// A service running as a process of its own.
struct Service {
    child: Child,
    base: String,
}

impl Service {
    /// This binary with `--serve`, on core 1, on a free port, over `url`.
    fn axum(url: &str, pool: u32, acquire_timeout_ms: u64) -> Result<Service> {
        let exe = std::env::current_exe().context("cannot find this program")?;
        let mut child = Command::new("taskset")
            .args(["-c", "1"])
            .arg(exe)
            .args(["--serve", "--port", "0"])
            .arg(format!("--pool={pool}"))
            .arg(format!("--acquire-timeout-ms={acquire_timeout_ms}"))
            .env("DATABASE_URL", url)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start the axum service")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut first = String::new();
        BufReader::new(stdout).read_line(&mut first)?;
        let Some(base) = first.trim().strip_prefix("listening on ") else {
            child.kill().ok();
            bail!("the axum service did not start: {first:?}");
        };
        let base = base.to_owned();
        Ok(Service { child, base })
    }

    /// uvicorn serving `python/app.py` on core 1, on a free port, over `url`.
    fn fastapi(
        python: &Path,
        url: &str,
        pool: u32,
        acquire_timeout_ms: u64,
    ) -> Result<Service> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = uvicorn_command(python, url, pool, acquire_timeout_ms, port, Some(1))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start uvicorn")?;
        Ok(Service {
            child,
            base: format!("http://127.0.0.1:{port}"),
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits (up to 30 s) for `GET /ready` to answer 200.
    async fn until_ready(&mut self) -> Result<()> {
        let http = Http::new(&self.base, 1);
        for _ in 0..300 {
            if let Ok(reply) = http.get("/ready").await
                && reply.status == 200
            {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("the service at {} exited ({status})", self.base);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("the service at {} never became ready", self.base)
    }

    /// SIGTERM (a graceful shutdown), then SIGKILL after 10 s.
    async fn stop(mut self) -> Result<()> {
        Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .ok();
        for _ in 0..100 {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.child.kill().ok();
        self.child.wait()?;
        Ok(())
    }
}

/// uvicorn serving the FastAPI app with one worker on 127.0.0.1:`port`, over `url`, with
/// a pool of `pool` and its acquire timeout; on core `core` when given (with taskset).
pub fn uvicorn_command(
    python: &Path,
    url: &str,
    pool: u32,
    acquire_timeout_ms: u64,
    port: u16,
    core: Option<u32>,
) -> Command {
    let mut command = match core {
        Some(core) => {
            let mut taskset = Command::new("taskset");
            taskset.arg("-c").arg(core.to_string()).arg(python);
            taskset
        }
        None => Command::new(python),
    };
    command
        .args([
            "-m",
            "uvicorn",
            "app:app",
            "--host",
            "127.0.0.1",
            "--workers",
            "1",
        ])
        .args(["--no-access-log", "--log-level", "warning", "--app-dir"])
        .arg(app_dir())
        .arg(format!("--port={port}"))
        .env("DATABASE_URL", url)
        .env("POOL_SIZE", pool.to_string())
        .env("ACQUIRE_TIMEOUT_MS", acquire_timeout_ms.to_string());
    command
}

/// `lessons/08-serving/python`, where the FastAPI app lives.
pub fn app_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("python")
}

/// The Python, FastAPI, SQLAlchemy, asyncmy and uvicorn versions of `python`.
fn python_versions(python: &Path) -> Result<String> {
    let script = "import platform, importlib.metadata as m; print(f'Python \
                  {platform.python_version()}, ' + ', '.join(f'{p} {m.version(p)}' for p in \
                  ('fastapi', 'uvicorn', 'SQLAlchemy', 'asyncmy')))";
    let out = Command::new(python).args(["-c", script]).output()?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// One stack at every pool size and load, then saturated.
async fn sweep(
    stack: &str,
    start: &dyn Fn(u32, u64) -> Result<Service>,
    driver: &Driver,
    args: &crate::Args,
    results: &mut BenchResults,
) -> Result<()> {
    let acquire = args.acquire_timeout_ms;
    for &pool in &args.pools {
        let mut service = start(pool, acquire)?;
        service.until_ready().await?;
        for &clients in &args.concurrency {
            eprintln!("lesson-8: {stack}, pool of {pool}, {clients} clients");
            driver.measure(&service.base, LOAD_PATH, clients, 1).await?; // warm-up
            let m = driver
                .measure(&service.base, LOAD_PATH, clients, args.seconds)
                .await?;
            let (rss_mib, peak_rss_mib) = memory_mib(service.pid())?;
            results.points.push(Point {
                stack: stack.to_owned(),
                pool,
                concurrency: clients,
                measured: m,
                rss_mib,
                peak_rss_mib,
            });
        }
        service.stop().await?;
    }
    for &clients in &args.concurrency {
        let mine: Vec<(u32, f64)> = results
            .points
            .iter()
            .filter(|p| p.stack == stack && p.concurrency == clients)
            .map(|p| (p.pool, p.measured.throughput))
            .collect();
        if let Some(pool) = knee(&mine) {
            let throughput = mine.iter().find(|p| p.0 == pool).map_or(0.0, |p| p.1);
            let stack = stack.to_owned();
            results.knees.push(Knee {
                stack,
                concurrency: clients,
                pool,
                throughput,
            });
        }
    }
    // Saturated: 32 clients, a pool of 2, each request holding its connection 200 ms.
    let (pool, clients, hold_ms, acquire_timeout_ms) = (2, 32, 200, 100);
    eprintln!("lesson-8: {stack}, saturated");
    let mut service = start(pool, acquire_timeout_ms)?;
    service.until_ready().await?;
    let path = format!("/demo/hold?ms={hold_ms}");
    let m = driver
        .measure(&service.base, &path, clients, args.seconds)
        .await?;
    service.stop().await?;
    results.saturation.push(Saturation {
        stack: stack.to_owned(),
        pool,
        concurrency: clients,
        hold_ms,
        acquire_timeout_ms,
        requests: m.requests,
        non_2xx: m.non_2xx,
        p50_ms: m.p50_ms,
        p99_ms: m.p99_ms,
        max_ms: m.max_ms,
    });
    Ok(())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn cpu_model() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    info.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown".to_owned(), |(_, model)| model.trim().to_owned())
}

/// The whole benchmark: the axum service, then (with `--python`) the FastAPI one, each
/// over every pool size and load, on the lesson's database.
pub async fn run(ctx: &crate::Ctx, args: &crate::Args) -> Result<BenchResults> {
    let python = match args.python {
        true => Some(tokio::task::spawn_blocking(workbook_python).await??),
        false => None,
    };
    let driver = Driver::find();
    if matches!(driver, Driver::BuiltIn) {
        // Best effort: the driver's threads on core 0, as wrk would be.
        let pid = std::process::id().to_string();
        Command::new("taskset")
            .args(["-a", "-p", "-c", "0", &pid])
            .output()
            .ok();
    }
    let server_version: String = sqlx::query_scalar("SELECT VERSION()")
        .fetch_one(&ctx.pool)
        .await?;
    crate::seed(&ctx.pool, 100).await?;
    let mut results = BenchResults {
        machine: Machine {
            cpu: cpu_model(),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            load_before: load_average(),
            load_after: String::new(),
            build: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
            .to_owned(),
            server_version,
            driver: match &driver {
                Driver::Wrk(version) => version.clone(),
                Driver::BuiltIn => {
                    "the built-in driver (wrk is not installed)".to_owned()
                }
            },
            pinning: "load on core 0, service on core 1, database server unpinned"
                .to_owned(),
            python: match &python {
                Some(python) => Some(python_versions(python)?),
                None => None,
            },
            path: LOAD_PATH.to_owned(),
            seconds: args.seconds,
        },
        points: Vec::new(),
        knees: Vec::new(),
        saturation: Vec::new(),
    };
    let url = ctx.url.clone();
    let axum = |pool, acquire| Service::axum(&url, pool, acquire);
    sweep(AXUM, &axum, &driver, args, &mut results).await?;
    if let Some(python) = &python {
        let fastapi = |pool, acquire| Service::fastapi(python, &url, pool, acquire);
        sweep(FASTAPI, &fastapi, &driver, args, &mut results).await?;
    }
    results.machine.load_after = load_average();
    Ok(results)
}

/// The workbook's Python environment. A function of its own, so that the step files
/// never name the helper crate.
fn workbook_python() -> Result<PathBuf> {
    workbook::python()
}

/// `--bench`: runs step 9, prints its results, and writes the JSON and the charts.
pub async fn record(ctx: &crate::Ctx, args: &crate::Args) -> Result<()> {
    let results = crate::s9_beside_fastapi::run(ctx, args).await?;
    println!("{results}");
    crate::report::write_json(&args.json, &results)?;
    eprintln!("lesson-8: wrote {}", args.json.display());
    for chart in crate::report::write_charts(&args.charts, &results)? {
        eprintln!("lesson-8: wrote {}", chart.display());
    }
    Ok(())
}
