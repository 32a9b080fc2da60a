//! Step 4: the floor. W2's and W3's selects, and W5's read, run by the server's own C client,
//! `mariadb-slap` (MariaDB) or `mysqlslap` (MySQL), as a child process. No Rust layer can
//! beat the round trip it measures.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tempfile::NamedTempFile;

use crate::Timing;
use crate::report::{ResultRow, Table};

/// How many times a crashed run of the C client is run again before the floor gives up.
const CRASH_RETRIES: usize = 2;

/// How many times each timed run of the C client reads W5's rows; a run's time is divided
/// by it, so each read is timed over a run long enough to time well.
const FLOOR_READS: usize = 10;

/// A C benchmark client found on this machine, and where it connects.
#[derive(Debug, Clone)]
pub struct Floor {
    binary: PathBuf,
    client: &'static str,
    host: String,
    port: u16,
    user: String,
    password: Option<String>,
    database: String,
}

// ANCHOR: slap
/// The command for one run of the C client: the queries in `query_file`, over `clients`
/// connections, which it opens before its clock starts.
fn slap_command(
    floor: &Floor,
    query_file: &Path,
    queries: usize,
    clients: usize,
) -> Command {
    let mut cmd = Command::new(&floor.binary);
    cmd.arg(format!("--host={}", floor.host))
        .arg(format!("--port={}", floor.port))
        .arg("--protocol=TCP")
        .arg(format!("--user={}", floor.user))
        .arg(format!("--create-schema={}", floor.database))
        .arg("--no-drop")
        .arg(format!("--query={}", query_file.display()))
        .arg("--delimiter=;")
        .arg(format!("--concurrency={clients}"))
        .arg(format!("--number-of-queries={queries}"))
        .arg("--iterations=1");
    // The password goes through the environment, never onto a command line `ps` shows.
    match &floor.password {
        Some(password) => cmd.env("MYSQL_PWD", password),
        None => cmd.env_remove("MYSQL_PWD"),
    };
    cmd
}
// ANCHOR_END: slap

// ANCHOR: query_file
/// Writes one `SELECT` per id, one per line, in the order the stacks read them.
fn query_file(ids: &[i32]) -> Result<NamedTempFile> {
    let mut file = NamedTempFile::new().context("cannot write the query file")?;
    let mut out = std::io::BufWriter::new(file.as_file_mut());
    for id in ids {
        writeln!(
            out,
            "SELECT id, name, job FROM bench_customers WHERE id = {id};"
        )?;
    }
    out.flush()?;
    drop(out);
    Ok(file)
}
// ANCHOR_END: query_file

/// Writes W5's one `SELECT` of every seeded row, for the C client to run `reads` times.
fn range_file(first: i32, last: i32) -> Result<NamedTempFile> {
    let mut file = NamedTempFile::new().context("cannot write the query file")?;
    writeln!(
        file,
        "SELECT id, name, job FROM bench_customers WHERE id BETWEEN {first} AND {last} \
         ORDER BY id;"
    )?;
    Ok(file)
}

// ANCHOR: parse_slap
/// Reads `Average number of seconds to run all queries: 1.096 seconds`, the number of
/// clients and the queries per client from the C client's report.
pub fn parse_slap_output(stdout: &str) -> Result<(Duration, usize)> {
    let field = |name: &str| -> Option<f64> {
        stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse().ok())
    };
    let seconds = field("Average number of seconds to run all queries:");
    let clients = field("Number of clients running queries:");
    let per_client = field("Average number of queries per client:");
    match (seconds, clients, per_client) {
        (Some(s), Some(c), Some(q)) => Ok((Duration::from_secs_f64(s), (c * q) as usize)),
        _ => bail!("cannot read the C client's report: {stdout:?}"),
    }
}
// ANCHOR_END: parse_slap

/// The first of `names` that is an executable file on `PATH` (or in `/usr/bin`).
fn find_program(names: &[&'static str]) -> Option<(PathBuf, &'static str)> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    dirs.push(PathBuf::from("/usr/bin"));
    names.iter().find_map(|name| {
        dirs.iter()
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
            .map(|p| (p, *name))
    })
}

/// Decodes `%XX` escapes, as URLs carry user names and passwords.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Floor {
    /// Finds `mariadb-slap` or `mysqlslap` and reads where to connect from the database
    /// URL. `Ok(None)` when neither client is installed.
    pub fn find(database_url: &str) -> Result<Option<Floor>> {
        let Some((binary, client)) = find_program(&["mariadb-slap", "mysqlslap"]) else {
            return Ok(None);
        };
        let url = url::Url::parse(database_url)
            .map_err(|e| anyhow::anyhow!("cannot read the database URL: {e}"))?;
        let database = url.path().trim_start_matches('/').to_owned();
        if database.is_empty() {
            bail!("the database URL names no database");
        }
        Ok(Some(Floor {
            binary,
            client,
            host: url.host_str().unwrap_or("127.0.0.1").to_owned(),
            port: url.port().unwrap_or(3306),
            user: percent_decode(url.username()),
            password: url.password().map(percent_decode),
            database,
        }))
    }

    /// `mariadb-slap` or `mysqlslap`.
    pub fn client_name(&self) -> &'static str {
        self.client
    }

    /// One run of the C client: its own timing, and how many queries it ran. A run that
    /// the C client does not survive (killed by a signal) is run again, up to
    /// [`CRASH_RETRIES`] times, and said on stderr.
    fn run_once(
        &self,
        file: &Path,
        queries: usize,
        clients: usize,
    ) -> Result<(Duration, usize)> {
        let mut crashes = 0;
        loop {
            let output = slap_command(self, file, queries, clients)
                .output()
                .with_context(|| format!("cannot run {}", self.binary.display()))?;
            if output.status.success() {
                return parse_slap_output(&String::from_utf8_lossy(&output.stdout));
            }
            // The password went through the environment, so the message cannot hold it.
            let stderr = String::from_utf8_lossy(&output.stderr);
            let first = stderr.lines().next().unwrap_or("no message");
            // NOTE: bookworm's mariadb-slap sometimes dies with "double free or corruption"
            // when many clients end at once; the crash is in the client, not the server.
            if output.status.code().is_none() && crashes < CRASH_RETRIES {
                crashes += 1;
                eprint!(" ({} crashed: {first}; running it again)", self.client);
                continue;
            }
            bail!("{} failed ({}): {first}", self.client, output.status);
        }
    }

    /// The floor for W2 (`clients == 1`) or W3: one warm-up and `repeats` timed runs of
    /// the C client over the same ids, in the same order, as the stacks.
    pub async fn measure(
        &self,
        label: &str,
        ids: &[i32],
        clients: usize,
        repeats: usize,
    ) -> Result<(Timing, usize)> {
        let file = query_file(ids)?;
        self.timed_runs(label, file, ids.len(), clients, repeats, 1)
            .await
    }

    /// The floor for W5: each timed run reads every seeded row `reads` times on one
    /// connection; its time is per read.
    pub async fn measure_reads(
        &self,
        label: &str,
        seeded: &crate::Seeded,
        reads: usize,
        repeats: usize,
    ) -> Result<Timing> {
        let file = range_file(seeded.first, seeded.last)?;
        let (t, _) = self
            .timed_runs(label, file, reads, 1, repeats, reads)
            .await?;
        Ok(t)
    }

    /// One warm-up and `repeats` timed runs of `queries` queries from `file`, each run's
    /// time divided by `per`, on a thread of their own.
    async fn timed_runs(
        &self,
        label: &str,
        file: NamedTempFile,
        queries: usize,
        clients: usize,
        repeats: usize,
        per: usize,
    ) -> Result<(Timing, usize)> {
        let (floor, label) = (self.clone(), label.to_owned());
        let per = u32::try_from(per.max(1)).context("too many reads")?;
        tokio::task::spawn_blocking(move || {
            eprint!("lesson-6: {label}: warm-up");
            floor.run_once(file.path(), queries, clients)?;
            let (mut runs, mut ops) = (Vec::with_capacity(repeats), 0);
            for _ in 0..repeats {
                let (took, ran) = floor.run_once(file.path(), queries, clients)?;
                let took = took / per;
                eprint!(", {took:.1?}");
                runs.push(took);
                ops = ran;
            }
            eprintln!();
            Ok((Timing::of(runs)?, ops))
        })
        .await
        .context("the floor's thread panicked")?
    }
}

/// Step 4's report: the C client on W2's selects (one connection) and on W3's (as many
/// clients as W3 has tasks). Empty when no C client is installed.
pub async fn run(ctx: &crate::Ctx) -> Result<Table> {
    let Some(floor) = &ctx.floor else {
        return Ok(Table::default());
    };
    let name = floor.client_name();
    let mut rows = Vec::new();
    let tasks = ctx.counts.tasks;
    let shapes = [
        ("W2", 1, "1 connection".to_owned()),
        ("W3", tasks, format!("{tasks} clients")),
    ];
    for (workload, clients, variant) in shapes {
        if !ctx.wants(workload) {
            continue;
        }
        let label = format!("{workload} {name}");
        let (t, ops) = floor
            .measure(&label, &ctx.ids, clients, ctx.counts.repeats)
            .await
            .with_context(|| format!("the floor ({name}) failed"))?;
        rows.push(ResultRow::new(name, workload, &variant, ops, &t));
    }
    if ctx.wants("w5") {
        let label = format!("W5 {name}");
        let t = floor
            .measure_reads(&label, &ctx.seeded, FLOOR_READS, ctx.counts.repeats)
            .await
            .with_context(|| format!("the floor ({name}) failed"))?;
        let variant = format!("1 connection, {FLOOR_READS} reads");
        rows.push(ResultRow::new(name, "W5", &variant, ctx.seeded.rows(), &t));
    }
    Ok(Table { rows })
}
