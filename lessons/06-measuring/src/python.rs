//! `--python`: runs `python/bench.py`, the SQLAlchemy side of W1 to W5, on the same
//! database with the same ids and rows, and reads its rows back. Plumbing: the chapter
//! shows `bench.py` itself.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::report::ResultRow;
use crate::{Counts, Ctx, NewCustomer, Seeded, rows_to_insert};

/// The stacks `bench.py` measures, named as the JSON and the tables name them.
pub const STACKS: [&str; 3] = ["sqlalchemy-text", "sqlalchemy-core", "sqlalchemy-orm"];

/// What `bench.py` reads on stdin.
#[derive(Serialize)]
struct Request<'a> {
    counts: &'a Counts,
    workloads: Vec<String>,
    stacks: [&'static str; 3],
    seeded: SeededRange,
    ids: &'a [i32],
    insert_rows: Vec<NewCustomer>,
}

#[derive(Serialize)]
struct SeededRange {
    first: i32,
    last: i32,
}

/// What `bench.py` prints on stdout.
#[derive(Deserialize)]
struct Response {
    python: String,
    sqlalchemy: String,
    driver: String,
    rows: Vec<ResultRow>,
}

/// The SQLAlchemy side's measured rows, and what it ran on.
#[derive(Debug, Clone, Default)]
pub struct SqlAlchemy {
    /// Its rows, stacks named as in [`STACKS`].
    pub rows: Vec<ResultRow>,
    /// Such as `Python 3.11.7, SQLAlchemy 2.1.9, asyncmy 0.2.18`.
    pub versions: String,
}

/// The benchmark script beside this crate's sources.
pub fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("python")
        .join("bench.py")
}

/// Runs `bench.py` with `python` on every workload `ctx` wants, after step 2 has seeded
/// the rows and chosen the ids, and prints one line naming its versions. Its progress
/// goes to stderr as it runs.
pub async fn run(ctx: &Ctx, python: &Path) -> Result<SqlAlchemy> {
    let all = ["w1", "w2", "w3", "w4", "w5"];
    let workloads = all.iter().filter(|w| ctx.wants(w)).map(|w| w.to_string());
    let Seeded { first, last, .. } = ctx.seeded;
    let request = Request {
        counts: &ctx.counts,
        workloads: workloads.collect(),
        stacks: STACKS,
        seeded: SeededRange { first, last },
        ids: &ctx.ids,
        insert_rows: rows_to_insert(ctx.counts.rows),
    };
    let input = serde_json::to_vec(&request)?;
    let (python, url) = (python.to_owned(), ctx.url.clone());
    let output = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(&python)
            .arg(script())
            .env("DATABASE_URL", url)
            .env("PYTHONPATH", workbook::python_path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start the Python benchmark")?;
        let mut stdin = child.stdin.take().context("no stdin for the Python")?;
        stdin
            .write_all(&input)
            .context("cannot send the Python its work")?;
        drop(stdin);
        child
            .wait_with_output()
            .context("the Python benchmark did not finish")
    })
    .await??;
    if !output.status.success() {
        bail!(
            "the Python benchmark failed ({}); its error is above",
            output.status
        );
    }
    let response: Response = serde_json::from_slice(&output.stdout)
        .context("the Python benchmark printed something other than its JSON")?;
    let versions = format!(
        "Python {}, SQLAlchemy {}, {}",
        response.python, response.sqlalchemy, response.driver
    );
    println!("the SQLAlchemy side: {versions}, measured beside the Rust");
    Ok(SqlAlchemy {
        rows: response.rows,
        versions,
    })
}
