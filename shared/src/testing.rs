//! For tests only (the `testing` feature): a fresh database per test, kept when the test
//! fails.

use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context, Result};
use sqlx::Connection;
use sqlx::mysql::MySqlPool;
use tokio::sync::OnceCell;

use crate::database::{
    check_name, connect, connect_one, create_database, drop_database, migrate,
};
use crate::redact::redact;
use crate::server::server;

/// The prefix of every database that [`fresh_database`] makes.
const FRESH_PREFIX: &str = "wbt";

static FRESH_COUNTER: AtomicU32 = AtomicU32::new(0);

thread_local! {
    /// Set when the test running on this thread has failed through an error (not a
    /// panic).
    static FAILED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Marks the test running on this thread as failed: every [`FreshDatabase`] it drops from
/// now on is kept for inspection, as after a panic. The tests' error type calls it on
/// every `?`.
pub fn keep_databases_of_this_test() {
    FAILED.with(|failed| failed.set(true));
}

static SWEPT: OnceCell<()> = OnceCell::const_new();

/// A uniquely named, empty `utf8mb4` database on the shared server, for one test.
///
/// Dropping the guard drops the database, unless the test failed (the thread is
/// panicking, or [`keep_databases_of_this_test`] was called): then the database is kept
/// for inspection and its name printed. Leftovers of earlier runs are swept the next time
/// a test process starts.
pub struct FreshDatabase {
    /// The database's URL.
    pub url: String,
    /// The database's name: `wbt_<pid>_<n>_<prefix>`.
    pub name: String,
    server_url: String,
}

impl std::fmt::Debug for FreshDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FreshDatabase")
            .field("url", &redact(&self.url))
            .finish()
    }
}

/// Creates a fresh database whose name carries `prefix`. See [`FreshDatabase`].
pub async fn fresh_database(prefix: &str) -> Result<FreshDatabase> {
    let server = server().await?;
    let server_url = server.url();
    SWEPT
        .get_or_try_init(|| sweep_leftovers(&server_url))
        .await?;
    // A new database starts a new test on this thread (tests may share a thread).
    FAILED.with(|failed| failed.set(false));
    let n = FRESH_COUNTER.fetch_add(1, Ordering::Relaxed);
    let prefix: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let mut name = format!("{FRESH_PREFIX}_{}_{n}_{prefix}", std::process::id());
    name.truncate(64);
    create_database(&server_url, &name).await?;
    Ok(FreshDatabase {
        url: server.database_url(&name),
        name,
        server_url,
    })
}

/// A fresh database with the shared schema's migrations run, and a pool on it: the one
/// way a test sets up. Dropping it drops the pool (closing its connections) and then the
/// database, which is kept when the test failed, as [`FreshDatabase`] says.
pub struct TestDatabase {
    /// The pool on the database (at most 5 connections).
    pub pool: MySqlPool,
    /// The database; its `url` and `name` are what a test passes on.
    pub db: FreshDatabase,
}

impl TestDatabase {
    /// A fresh database named after `prefix`, migrated, with a pool on it.
    pub async fn migrated(prefix: &str) -> Result<TestDatabase> {
        let db = fresh_database(prefix).await?;
        let pool = connect(&db.url).await?;
        migrate(&pool).await?;
        Ok(TestDatabase { pool, db })
    }

    /// The database's URL.
    pub fn url(&self) -> &str {
        &self.db.url
    }
}

/// Drops the `wbt_<pid>_...` databases of test processes that are gone.
/// [`fresh_database`] calls it once per process.
pub async fn sweep_leftovers(server_url: &str) -> Result<()> {
    if !std::path::Path::new("/proc/self").exists() {
        return Ok(()); // Without /proc we cannot tell live from dead: keep everything.
    }
    let mut conn = connect_one(server_url).await?;
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata \
         WHERE schema_name LIKE 'wbt\\_%'",
    )
    .fetch_all(&mut conn)
    .await
    .context("cannot list leftover test databases")?;
    for name in names {
        let pid = name.split('_').nth(1).unwrap_or_default();
        let alive =
            !pid.is_empty() && std::path::Path::new(&format!("/proc/{pid}")).exists();
        if !alive && check_name(&name).is_ok() {
            drop_database(&mut conn, &name).await?;
        }
    }
    conn.close().await.ok();
    Ok(())
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        if std::thread::panicking() || FAILED.with(std::cell::Cell::get) {
            eprintln!(
                "workbook: the test failed; keeping its database `{}` for inspection",
                self.name
            );
            return;
        }
        // Drop runs inside the test's runtime, which cannot be blocked on: use a thread
        // with a runtime of its own.
        let server_url = self.server_url.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut conn = connect_one(&server_url).await?;
                drop_database(&mut conn, &name).await?;
                conn.close().await.ok();
                anyhow::Ok(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("workbook: could not drop the test database `{}`", self.name);
        }
    }
}
