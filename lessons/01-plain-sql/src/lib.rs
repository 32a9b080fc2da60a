//! Lesson 1: plain SQL with sqlx, the Rust form of SQLAlchemy's `text()` on an async engine.
//!
//! Each step of the chapter is a small public async function here; `main.rs` runs them in order
//! and prints what they return.

// The exercises at the end of the chapter. With the `solutions` feature, the worked answers
// stand in their place, so that CI can check that every exercise is solvable.
#[cfg(not(feature = "solutions"))]
pub mod exercises;
#[cfg(feature = "solutions")]
#[path = "solutions.rs"]
pub mod exercises;

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result};
use futures::TryStreamExt;
use log::LevelFilter;
use sqlx::mysql::{MySqlConnectOptions, MySqlDatabaseError, MySqlPool, MySqlPoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, MySql, MySqlExecutor, QueryBuilder, Row};

// ANCHOR: customer
/// A row of the article's `customers` table.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Customer {
    /// `SMALLINT NOT NULL AUTO_INCREMENT`: a 16-bit signed integer.
    pub id: i16,
    /// `VARCHAR(50) NOT NULL`.
    pub name: String,
    /// `VARCHAR(50) DEFAULT ''`: nullable, so an `Option`.
    pub job: Option<String>,
}
// ANCHOR_END: customer

// ANCHOR: logging
/// Sends sqlx's statement log to stderr, filtered by `RUST_LOG`: SQLAlchemy's `echo=True`.
///
/// `RUST_LOG=sqlx=info` shows every statement; without `RUST_LOG` only warnings (such as slow
/// statements) are shown. A `RUST_LOG` that is not a valid filter is a one-line error.
pub fn init_logging() -> Result<()> {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    use tracing_subscriber::filter::LevelFilter;

    let filter = EnvFilter::builder()
        .with_default_directive(LevelFilter::WARN.into())
        .from_env()
        .map_err(|e| {
            anyhow::anyhow!("RUST_LOG is not a valid log filter ({e}); try RUST_LOG=sqlx=info")
        })?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours for a terminal, plain text for a file or a pipe.
        .with_ansi(std::io::stderr().is_terminal())
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot set up logging: {e}"))
}
// ANCHOR_END: logging

// ANCHOR: connect
/// Opens the lesson's pool on `url`, with each option spelled out.
pub async fn connect(url: &str) -> Result<MySqlPool> {
    // Parsing the URL gives the connect options: host, port, user, password, database, TLS.
    let options: MySqlConnectOptions = url
        .parse()
        .map_err(|e: sqlx::Error| workbook::explain_connect_error(url, &e))?;
    let options = options
        // Every statement is logged at INFO (see it with RUST_LOG=sqlx=info) ...
        .log_statements(LevelFilter::Info)
        // ... and one that takes longer than a second at WARN, which is shown by default.
        .log_slow_statements(LevelFilter::Warn, Duration::from_secs(1));
    let pool = MySqlPoolOptions::new()
        // At most 5 connections open at once: SQLAlchemy's pool_size + max_overflow.
        .max_connections(5)
        // Keep at least one open, even when idle.
        .min_connections(1)
        // Wait at most 5 s for a free connection, then fail: pool_timeout.
        .acquire_timeout(Duration::from_secs(5))
        // Replace a connection after 30 minutes, before the server's wait_timeout: pool_recycle.
        .max_lifetime(Duration::from_secs(30 * 60))
        // Close connections (above min_connections) that sat idle for 10 minutes.
        .idle_timeout(Duration::from_secs(10 * 60))
        // Ping a connection before handing it out (the default): pool_pre_ping.
        .test_before_acquire(true)
        .connect_with(options)
        .await
        .map_err(|e| workbook::explain_connect_error(url, &e))?;
    Ok(pool)
}
// ANCHOR_END: connect

/// One line that says how `pool` was configured.
pub fn describe_pool(pool: &MySqlPool) -> String {
    let options = pool.options();
    let minutes =
        |d: Option<Duration>| d.map_or("never".to_owned(), |d| format!("{} min", d.as_secs() / 60));
    format!(
        "pool: {} to {} connections, acquire_timeout {} s, max_lifetime {}, idle_timeout {}, \
         test_before_acquire {}",
        options.get_min_connections(),
        options.get_max_connections(),
        options.get_acquire_timeout().as_secs(),
        minutes(options.get_max_lifetime()),
        minutes(options.get_idle_timeout()),
        options.get_test_before_acquire(),
    )
}

// ANCHOR: version
/// `SELECT VERSION()`.
pub async fn server_version(pool: &MySqlPool) -> Result<String> {
    let version: String = sqlx::query_scalar("SELECT VERSION()")
        .fetch_one(pool)
        .await?;
    Ok(version)
}
// ANCHOR_END: version

// ANCHOR: schema
/// The article's DDL and its seed row, idempotent: a second run changes nothing.
pub async fn create_schema(pool: &MySqlPool) -> Result<()> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS customers (
           id SMALLINT NOT NULL AUTO_INCREMENT,
           name VARCHAR(50) NOT NULL,
           job VARCHAR(50) DEFAULT '',
           PRIMARY KEY (id),
           UNIQUE KEY UQ_name (name)
         )",
    )
    .execute(pool)
    .await
    .context("cannot create the customers table")?;
    // Unlike INSERT IGNORE, this spends no AUTO_INCREMENT value when Lynn is already there.
    sqlx::query(
        "INSERT INTO customers (name, job)
         SELECT 'Lynn', 'Backend Developer' FROM DUAL
         WHERE NOT EXISTS (SELECT 1 FROM customers WHERE name = 'Lynn')",
    )
    .execute(pool)
    .await
    .context("cannot insert the seed row")?;
    Ok(())
}
// ANCHOR_END: schema

// ANCHOR: all_customers
/// Every customer, by id.
pub async fn all_customers(pool: &MySqlPool) -> Result<Vec<Customer>> {
    let rows = sqlx::query_as::<_, Customer>("SELECT id, name, job FROM customers ORDER BY id")
        .fetch_all(pool)
        .await?;
    Ok(rows)
}
// ANCHOR_END: all_customers

// ANCHOR: fetch_all
/// Every customer with this job: `fetch_all` gives a `Vec`, empty when nothing matches.
pub async fn customers_with_job(pool: &MySqlPool, job: &str) -> Result<Vec<Customer>> {
    let rows = sqlx::query_as::<_, Customer>(
        "SELECT id, name, job FROM customers WHERE job = ? ORDER BY id",
    )
    .bind(job)
    .fetch_all(pool)
    .await?;
    Ok(rows)
}
// ANCHOR_END: fetch_all

// ANCHOR: fetch_one
/// The customer named `name`, read column by column from a plain row. `fetch_one` fails with
/// `sqlx::Error::RowNotFound` when no row matches.
pub async fn customer_by_name(pool: &MySqlPool, name: &str) -> Result<Customer> {
    let row = sqlx::query("SELECT id, name, job FROM customers WHERE name = ?")
        .bind(name)
        .fetch_one(pool)
        .await?;
    Ok(Customer {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        job: row.try_get("job")?,
    })
}
// ANCHOR_END: fetch_one

// ANCHOR: fetch_optional
/// The customer with this id, or `None`: `fetch_optional` is for "zero or one row".
pub async fn find_customer(pool: &MySqlPool, id: i16) -> Result<Option<Customer>> {
    let customer =
        sqlx::query_as::<_, Customer>("SELECT id, name, job FROM customers WHERE id = ?")
            .bind(id)
            .fetch_optional(pool)
            .await?;
    Ok(customer)
}
// ANCHOR_END: fetch_optional

// ANCHOR: query_scalar
/// How many customers there are. `COUNT(*)` is a `BIGINT`, so an `i64`.
pub async fn count_customers(pool: &MySqlPool) -> Result<i64> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers")
        .fetch_one(pool)
        .await?;
    Ok(count)
}
// ANCHOR_END: query_scalar

// ANCHOR: insert
/// Inserts a customer and returns its new id, from the OK packet's `last_insert_id`.
///
/// It takes any executor: `&MySqlPool`, or `&mut *tx` inside a transaction. It returns
/// `sqlx::Result` so that a caller can look at a database error, such as a duplicate name.
pub async fn insert_customer<'e>(
    executor: impl MySqlExecutor<'e>,
    name: &str,
    job: Option<&str>,
) -> sqlx::Result<u64> {
    let done = sqlx::query("INSERT INTO customers (name, job) VALUES (?, ?)")
        .bind(name)
        .bind(job) // `None` is bound as NULL: the column's DEFAULT '' applies only when omitted.
        .execute(executor)
        .await?;
    Ok(done.last_insert_id())
}
// ANCHOR_END: insert

// ANCHOR: update_delete
/// Sets the job of customer `id`, and says how many rows matched.
///
/// NOTE: sqlx connects with `CLIENT_FOUND_ROWS`, so MySQL and MariaDB report the rows that
/// matched the `WHERE`, even when the new value equals the old one (the `mysql` client reports
/// only the rows it changed).
pub async fn set_job(pool: &MySqlPool, id: u64, job: &str) -> Result<u64> {
    let done = sqlx::query("UPDATE customers SET job = ? WHERE id = ?")
        .bind(job)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

/// Deletes customer `id`, and says how many rows went.
pub async fn delete_customer(pool: &MySqlPool, id: u64) -> Result<u64> {
    let done = sqlx::query("DELETE FROM customers WHERE id = ?")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}
// ANCHOR_END: update_delete

/// The name of a customer, by the id that [`insert_customer`] returned.
pub async fn name_of(pool: &MySqlPool, id: u64) -> Result<Option<String>> {
    let name = sqlx::query_scalar("SELECT name FROM customers WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(name)
}

// ANCHOR: hostile
/// A name written to end the statement and drop the table, if it were pasted into the SQL.
pub const HOSTILE_NAME: &str = "Robert'); DROP TABLE customers; --";
// ANCHOR_END: hostile

// ANCHOR: sort_key
/// The columns a caller may sort the customers by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// By name.
    Name,
    /// By job.
    Job,
}

impl SortKey {
    /// The column to sort by. Only these fixed strings can ever reach the SQL.
    fn column(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Job => "job",
        }
    }
}

/// Every customer, sorted by `key` (in descending order if `descending`), then by id.
///
/// A column name cannot be a bound parameter (`ORDER BY ?` sorts by a constant), so this SQL
/// is built at run time, and sqlx 0.9 asks us to vouch for it with `AssertSqlSafe`.
pub async fn customers_sorted(
    pool: &MySqlPool,
    key: SortKey,
    descending: bool,
) -> Result<Vec<Customer>> {
    let direction = if descending { "DESC" } else { "ASC" };
    // Safe: both parts come from the fixed strings above, never from input.
    let sql = format!(
        "SELECT id, name, job FROM customers ORDER BY {} {direction}, id",
        key.column()
    );
    let rows = sqlx::query_as::<_, Customer>(AssertSqlSafe(sql))
        .fetch_all(pool)
        .await?;
    Ok(rows)
}
// ANCHOR_END: sort_key

// ANCHOR: insert_both
/// What [`insert_both`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BothOrNeither {
    /// Both rows were committed; their new ids.
    Committed([u64; 2]),
    /// A name was taken: the transaction was rolled back and neither row stayed.
    RolledBack {
        /// The name that was already there.
        duplicate: String,
        /// `DatabaseError::code()`: the SQLSTATE, `23000` for any integrity error on MySQL.
        sqlstate: Option<String>,
        /// MySQL's own error number, `1062` (`ER_DUP_ENTRY`) for a duplicate key.
        number: Option<u16>,
    },
}

/// Inserts two customers in one transaction: both, or neither.
pub async fn insert_both(
    pool: &MySqlPool,
    first: (&str, &str),
    second: (&str, &str),
) -> Result<BothOrNeither> {
    let mut tx = pool.begin().await.context("cannot begin a transaction")?;
    let mut ids = [0; 2];
    for (i, (name, job)) in [first, second].into_iter().enumerate() {
        match insert_customer(&mut *tx, name, Some(job)).await {
            Ok(id) => ids[i] = id,
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                let sqlstate = e.code().map(|c| c.into_owned());
                let number = e
                    .try_downcast_ref::<MySqlDatabaseError>()
                    .map(|e| e.number());
                tx.rollback().await.context("cannot roll back")?;
                return Ok(BothOrNeither::RolledBack {
                    duplicate: name.to_owned(),
                    sqlstate,
                    number,
                });
            }
            // Any other error: `?` returns early and drops `tx`, which rolls it back.
            Err(e) => return Err(e).context("cannot insert a customer"),
        }
    }
    tx.commit().await.context("cannot commit")?;
    Ok(BothOrNeither::Committed(ids))
}
// ANCHOR_END: insert_both

/// How many customers are named `name`: 0 or 1, since names are unique.
pub async fn count_named<'e>(executor: impl MySqlExecutor<'e>, name: &str) -> Result<i64> {
    let count = sqlx::query_scalar("SELECT COUNT(*) FROM customers WHERE name = ?")
        .bind(name)
        .fetch_one(executor)
        .await?;
    Ok(count)
}

// ANCHOR: dropped_transaction
/// Inserts `name` in a transaction that is dropped without a commit. Returns how many rows
/// named `name` the connection saw inside the transaction, and then after the drop.
pub async fn drop_a_transaction(pool: &MySqlPool, name: &str) -> Result<(i64, i64)> {
    let mut conn = pool.acquire().await.context("cannot get a connection")?;
    let inside = {
        let mut tx = conn.begin().await.context("cannot begin a transaction")?;
        insert_customer(&mut *tx, name, Some("Never Committed")).await?;
        count_named(&mut *tx, name).await?
        // `tx` is dropped here, neither committed nor rolled back: sqlx queues a ROLLBACK on
        // the connection, which is sent before the connection's next statement.
    };
    // The same connection (so the same session, which would see its own uncommitted row).
    let after = count_named(&mut *conn, name).await?;
    Ok((inside, after))
}
// ANCHOR_END: dropped_transaction

/// How many rows step 7 streams.
pub const STREAM_ROWS: u32 = 10_000;

/// The jobs the streamed rows cycle through.
const STREAM_JOBS: [&str; 4] = [
    "Backend Developer",
    "Data Engineer",
    "Frontend Developer",
    "Site Reliability Engineer",
];

// ANCHOR: seed
/// Puts [`STREAM_ROWS`] rows named `stream-00001` ... into the shared `bench_customers` table,
/// unless an earlier run already did. Returns how many such rows the table holds.
pub async fn seed_stream_rows(pool: &MySqlPool) -> Result<i64> {
    let present = count_stream_rows(pool).await?;
    if present == i64::from(STREAM_ROWS) {
        return Ok(present); // Seeded by an earlier run: nothing to do.
    }
    let numbers: Vec<u32> = (1..=STREAM_ROWS).collect();
    let mut tx = pool.begin().await?;
    // 1,000 rows (2,000 bound values) per statement keeps each one well below the protocol's
    // limit of 65,535 placeholders and the server's max_allowed_packet.
    for chunk in numbers.chunks(1_000) {
        let mut insert = QueryBuilder::<MySql>::new("INSERT INTO bench_customers (name, job) ");
        insert.push_values(chunk, |mut row, n| {
            row.push_bind(format!("stream-{n:05}"))
                .push_bind(STREAM_JOBS[*n as usize % STREAM_JOBS.len()]);
        });
        // Rows left by an interrupted earlier run stay as they are.
        insert.push(" ON DUPLICATE KEY UPDATE id = id");
        insert.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    count_stream_rows(pool).await
}

async fn count_stream_rows(pool: &MySqlPool) -> Result<i64> {
    let count =
        sqlx::query_scalar("SELECT COUNT(*) FROM bench_customers WHERE name LIKE 'stream-%'")
            .fetch_one(pool)
            .await?;
    Ok(count)
}
// ANCHOR_END: seed

// ANCHOR: stream
/// A row of `bench_customers`: the same columns as `customers`, with an `INT` id.
#[derive(Debug, sqlx::FromRow)]
pub struct BenchCustomer {
    /// `INT NOT NULL AUTO_INCREMENT`.
    pub id: i32,
    /// `VARCHAR(50) NOT NULL`.
    pub name: String,
    /// `VARCHAR(50) DEFAULT ''`.
    pub job: Option<String>,
}

/// What [`stream_rows`] saw.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct StreamSummary {
    /// How many rows came through.
    pub rows: u64,
    /// How many rows had each job.
    pub by_job: BTreeMap<String, u64>,
    /// The last name, in id order.
    pub last_name: String,
}

/// Reads the streamed rows one at a time: only the row at hand is held in memory.
pub async fn stream_rows(pool: &MySqlPool) -> Result<StreamSummary> {
    let mut rows = sqlx::query_as::<_, BenchCustomer>(
        "SELECT id, name, job FROM bench_customers WHERE name LIKE 'stream-%' ORDER BY id",
    )
    .fetch(pool);
    let mut summary = StreamSummary::default();
    while let Some(row) = rows.try_next().await? {
        summary.rows += 1;
        *summary
            .by_job
            .entry(row.job.unwrap_or_default())
            .or_default() += 1;
        summary.last_name = row.name;
    }
    Ok(summary)
}
// ANCHOR_END: stream

// ANCHOR: checked
/// The customer named `name`. `query_as!` checks the SQL and the mapping into `Customer`
/// (types and nullability) when the program compiles.
pub async fn checked_customer_named(pool: &MySqlPool, name: &str) -> Result<Option<Customer>> {
    let customer = sqlx::query_as!(
        Customer,
        "SELECT id, name, job FROM customers WHERE name = ?",
        name
    )
    .fetch_optional(pool)
    .await?;
    Ok(customer)
}

/// How many customers have each job. `query!` makes an anonymous struct with one field per
/// column, typed from the database: `job` is an `Option<String>`, `customers` an `i64`.
pub async fn checked_jobs(pool: &MySqlPool) -> Result<Vec<(Option<String>, i64)>> {
    let rows =
        sqlx::query!("SELECT job, COUNT(*) AS customers FROM customers GROUP BY job ORDER BY job")
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().map(|r| (r.job, r.customers)).collect())
}
// ANCHOR_END: checked
