//! Lesson 5: transactions and failures — what goes wrong, and how a Rust data layer
//! survives it.
//!
//! Each step is a scenario that runs for real and returns a report of its figures:
//! operations, errors by kind, retries, and the final state against what was expected.
//! `main.rs` prints the reports; the tests assert on their fields with smaller counts.
//!
//! The lesson works in tables of its own, all named `lesson5_*`, which it creates and
//! drops; it touches the article's `customers` and `orders` only to add rows and delete
//! exactly those.

// The exercises at the end of the chapter. With the `solutions` feature, the worked
// answers stand in their place, so that CI can check that every exercise is solvable.
#[cfg(not(feature = "solutions"))]
pub mod exercises;
#[cfg(feature = "solutions")]
#[path = "solutions.rs"]
pub mod exercises;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures::future::BoxFuture;
use sqlx::error::ErrorKind;
use sqlx::mysql::{
    MySqlConnectOptions, MySqlConnection, MySqlDatabaseError, MySqlPool, MySqlPoolOptions,
};
use sqlx::{AssertSqlSafe, Connection, MySqlTransaction, Row};
use workbook::Server;

// ---------------------------------------------------------------------------------------
// The lesson's own tables
// ---------------------------------------------------------------------------------------

/// The tables this lesson creates for itself (and drops at the end). All are `utf8mb4`.
const TABLES: &[(&str, &str)] = &[
    (
        "lesson5_counter",
        "CREATE TABLE IF NOT EXISTS lesson5_counter (
           id INT NOT NULL PRIMARY KEY,
           n INT NOT NULL
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    ),
    (
        "lesson5_accounts",
        "CREATE TABLE IF NOT EXISTS lesson5_accounts (
           id INT NOT NULL PRIMARY KEY,
           balance INT NOT NULL
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    ),
    (
        "lesson5_events",
        "CREATE TABLE IF NOT EXISTS lesson5_events (
           k INT NOT NULL PRIMARY KEY
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    ),
    (
        "lesson5_load",
        "CREATE TABLE IF NOT EXISTS lesson5_load (
           k BIGINT NOT NULL PRIMARY KEY
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    ),
    (
        "lesson5_strings",
        "CREATE TABLE IF NOT EXISTS lesson5_strings (
           id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
           via VARCHAR(16) NOT NULL,
           k INT NOT NULL,
           body VARCHAR(50) NOT NULL,
           KEY ix_via_k (via, k)
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    ),
    (
        "lesson5_digits",
        "CREATE TABLE IF NOT EXISTS lesson5_digits (
           d TINYINT NOT NULL PRIMARY KEY
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    ),
];

/// Creates the lesson's own `lesson5_*` tables, if they are not there yet.
pub async fn create_tables(pool: &MySqlPool) -> Result<()> {
    for (name, ddl) in TABLES {
        sqlx::query(*ddl)
            .execute(pool)
            .await
            .with_context(|| format!("cannot create the table {name}"))?;
    }
    Ok(())
}

/// Drops the lesson's own `lesson5_*` tables, and nothing else.
pub async fn drop_tables(pool: &MySqlPool) -> Result<()> {
    for (name, _) in TABLES {
        // The names are the constants above, never input.
        let sql = format!("DROP TABLE IF EXISTS `{name}`");
        sqlx::query(AssertSqlSafe(sql))
            .execute(pool)
            .await
            .with_context(|| format!("cannot drop the table {name}"))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Step 1: classifying errors, and duplicates as a typed domain error
// ---------------------------------------------------------------------------------------

// ANCHOR: failure
/// What went wrong, in the terms a caller acts on: retry, tell the user, or give up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Failure {
    /// 1062 (and its siblings): a `UNIQUE` or primary key already holds the value.
    UniqueViolation,
    /// 1452 (no parent row) or 1451 (the row is still referenced).
    ForeignKeyViolation,
    /// 1213: InnoDB chose this transaction as a deadlock victim and rolled all of it
    /// back.
    Deadlock,
    /// 1205: a lock wait outlasted `innodb_lock_wait_timeout`; only the statement was
    /// undone.
    LockWaitTimeout,
    /// 1020 (MariaDB 11.6.2+): a row this transaction read has changed since; run all
    /// of it again.
    RecordChanged,
    /// 1406: a value is longer than its column, under a strict `sql_mode`.
    DataTooLong,
    /// 3024 (MySQL `MAX_EXECUTION_TIME`) or 1969 (MariaDB `max_statement_time`).
    StatementTimeout,
    /// 1064 (cannot parse) or 1136 (the values do not match the columns): malformed SQL.
    MalformedSql,
    /// The connection broke: I/O errors, or MySQL 8's 4031 "disconnected for inactivity".
    ConnectionLost,
    /// No connection could be had from the pool in time (the server may be down).
    PoolTimedOut,
    /// Anything else.
    Other,
}

/// The MySQL error number of a database error, such as 1062, if `err` is one.
pub fn mysql_error_number(err: &sqlx::Error) -> Option<u16> {
    err.as_database_error()?
        .try_downcast_ref::<MySqlDatabaseError>()
        .map(MySqlDatabaseError::number)
}

/// Sorts any sqlx error into a [`Failure`]: sqlx's portable [`ErrorKind`] first, then the
/// MySQL error number for what sqlx does not name.
pub fn classify(err: &sqlx::Error) -> Failure {
    match err {
        sqlx::Error::Database(db) => match db.kind() {
            ErrorKind::UniqueViolation => Failure::UniqueViolation,
            ErrorKind::ForeignKeyViolation => Failure::ForeignKeyViolation,
            _ => match mysql_error_number(err) {
                Some(1213) => Failure::Deadlock,
                Some(1205) => Failure::LockWaitTimeout,
                // NOTE: MariaDB 11.6.2+ (innodb_snapshot_isolation on) says 1020 where
                // MySQL and older MariaDB let a read-then-write lose an update.
                Some(1020) => Failure::RecordChanged,
                Some(1406) => Failure::DataTooLong,
                // NOTE: MySQL says 3024 for MAX_EXECUTION_TIME; MariaDB says 1969 for
                // max_statement_time.
                Some(3024 | 1969) => Failure::StatementTimeout,
                Some(1064 | 1136) => Failure::MalformedSql,
                // NOTE: MySQL 8.0.24+ sends 4031 before closing an idle connection;
                // MariaDB just closes it, which sqlx reports as an I/O error.
                Some(4031) => Failure::ConnectionLost,
                _ => Failure::Other,
            },
        },
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => {
            Failure::ConnectionLost
        }
        sqlx::Error::PoolTimedOut => Failure::PoolTimedOut,
        _ => Failure::Other,
    }
}
// ANCHOR_END: failure

// ANCHOR: customer_error
/// Why a customer could not be added: the caller's business, not a crash.
#[derive(Debug)]
pub enum CustomerError {
    /// Another customer already has this name (`UQ_name`): SQLAlchemy's `IntegrityError`.
    NameTaken(String),
    /// Anything else the database said, kept whole for the logs.
    Database(Box<dyn std::error::Error + Send + Sync>),
}

impl fmt::Display for CustomerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CustomerError::NameTaken(name) => {
                write!(f, "a customer named {name:?} already exists")
            }
            CustomerError::Database(e) => write!(f, "the database failed: {e}"),
        }
    }
}

impl std::error::Error for CustomerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CustomerError::NameTaken(_) => None,
            CustomerError::Database(e) => Some(e.as_ref()),
        }
    }
}

/// Adds a customer with sqlx; a duplicate name becomes [`CustomerError::NameTaken`].
pub async fn add_customer(
    pool: &MySqlPool,
    name: &str,
    job: &str,
) -> Result<u64, CustomerError> {
    let added = sqlx::query("INSERT INTO customers (name, job) VALUES (?, ?)")
        .bind(name)
        .bind(job)
        .execute(pool)
        .await;
    match added {
        Ok(done) => Ok(done.last_insert_id()),
        // `is_unique_violation()` is sqlx's portable test; here it means MySQL error
        // 1062.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Err(CustomerError::NameTaken(name.to_owned()))
        }
        Err(e) => Err(CustomerError::Database(Box::new(e))),
    }
}
// ANCHOR_END: customer_error

/// The diesel schema of the tables the lesson writes through diesel.
mod reply_gate;

pub use reply_gate::ReplyGate;

pub mod schema {
    diesel::table! {
        /// The article's `customers` table.
        customers (id) {
            /// `SMALLINT AUTO_INCREMENT`.
            id -> SmallInt,
            /// `VARCHAR(50) NOT NULL`, unique.
            name -> Varchar,
            /// `VARCHAR(50) DEFAULT ''`.
            job -> Nullable<Varchar>,
        }
    }

    diesel::table! {
        /// The lesson's table for hostile strings.
        lesson5_strings (id) {
            /// The row's id.
            id -> Integer,
            /// Which library wrote the row.
            via -> Varchar,
            /// The string's number in the generated list.
            k -> Integer,
            /// `VARCHAR(50) NOT NULL`.
            body -> Varchar,
        }
    }
}

// ANCHOR: customer_error_diesel
/// Adds a customer with diesel-async; a duplicate name becomes
/// [`CustomerError::NameTaken`].
pub async fn add_customer_diesel(
    conn: &mut diesel_async::AsyncMysqlConnection,
    name: &str,
    job: &str,
) -> Result<(), CustomerError> {
    use diesel::result::{DatabaseErrorKind, Error as DieselError};
    use diesel::{ExpressionMethods, insert_into};
    use diesel_async::RunQueryDsl;
    use schema::customers;

    let added = insert_into(customers::table)
        .values((customers::name.eq(name), customers::job.eq(job)))
        .execute(conn)
        .await;
    match added {
        Ok(_) => Ok(()),
        // diesel-async maps MySQL's 1062 (and 1586, 1859) to UniqueViolation.
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Err(CustomerError::NameTaken(name.to_owned()))
        }
        Err(e) => Err(CustomerError::Database(Box::new(e))),
    }
}
// ANCHOR_END: customer_error_diesel

/// One error the database returned, as the lesson prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    /// What was attempted.
    pub attempt: String,
    /// The MySQL error number, such as 1062.
    pub number: Option<u16>,
    /// The SQLSTATE, such as `23000`.
    pub sqlstate: Option<String>,
    /// How [`classify`] sorted it.
    pub failure: Failure,
}

impl fmt::Display for Classified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let number = self.number.map_or("-".to_owned(), |n| n.to_string());
        let state = self.sqlstate.as_deref().unwrap_or("-");
        write!(
            f,
            "{:<44} {number:>5}  {state:<6} {:?}",
            self.attempt, self.failure
        )
    }
}

fn classified(attempt: &str, err: &sqlx::Error) -> Classified {
    Classified {
        attempt: attempt.to_owned(),
        number: mysql_error_number(err),
        sqlstate: err
            .as_database_error()
            .and_then(|e| e.code())
            .map(|c| c.into_owned()),
        failure: classify(err),
    }
}

/// What step 1 saw.
#[derive(Debug)]
pub struct DuplicatesReport {
    /// The first insert of a new name.
    pub first_insert_ok: bool,
    /// The second insert of the same name, through sqlx.
    pub sqlx_second: Result<(), String>,
    /// Whether that was [`CustomerError::NameTaken`].
    pub sqlx_name_taken: bool,
    /// The same insert through diesel.
    pub diesel_second: Result<(), String>,
    /// Whether that was [`CustomerError::NameTaken`].
    pub diesel_name_taken: bool,
    /// The errors provoked on purpose, classified.
    pub classified: Vec<Classified>,
}

impl fmt::Display for DuplicatesReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |r: &Result<(), String>| match r {
            Ok(()) => "Ok".to_owned(),
            Err(e) => format!("Err({e})"),
        };
        writeln!(
            f,
            "add_customer(\"Ada\") with sqlx, first time: {}",
            if self.first_insert_ok { "Ok" } else { "failed" }
        )?;
        writeln!(
            f,
            "add_customer(\"Ada\") with sqlx, again:      {}",
            show(&self.sqlx_second)
        )?;
        writeln!(
            f,
            "add_customer_diesel(\"Ada\"), again:         {}",
            show(&self.diesel_second)
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "{:<44} {:>5}  {:<6} classified as",
            "provoked on purpose", "errno", "state"
        )?;
        for c in &self.classified {
            writeln!(f, "{c}")?;
        }
        Ok(())
    }
}

/// Step 1: a duplicate name through sqlx and diesel, and foreign-key errors, classified.
///
/// Adds the customer "Ada" and one order for her, and deletes both before returning.
pub async fn duplicates(pool: &MySqlPool, url: &str) -> Result<DuplicatesReport> {
    use diesel_async::AsyncConnection;

    // Start from a clean slate if an earlier run was interrupted halfway.
    remove_ada(pool).await?;
    let first = add_customer(pool, "Ada", "Analyst").await;
    let first_insert_ok = first.is_ok();
    let ada_id = first.map_err(|e| anyhow::anyhow!("{e}"))?;

    let second = add_customer(pool, "Ada", "Analyst").await;
    let sqlx_name_taken = matches!(second, Err(CustomerError::NameTaken(_)));
    let sqlx_second = second.map(|_| ()).map_err(|e| e.to_string());

    let mut diesel_conn = diesel_async::AsyncMysqlConnection::establish(url)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "diesel cannot connect: {}",
                workbook::redact_text(&e.to_string())
            )
        })?;
    let third = add_customer_diesel(&mut diesel_conn, "Ada", "Analyst").await;
    let diesel_name_taken = matches!(third, Err(CustomerError::NameTaken(_)));
    let diesel_second = third.map_err(|e| e.to_string());
    drop(diesel_conn);

    let mut classified_errors = Vec::new();
    let dup = sqlx::query("INSERT INTO customers (name, job) VALUES ('Ada', '')")
        .execute(pool)
        .await;
    if let Err(e) = &dup {
        classified_errors.push(classified("INSERT a second customer named Ada", e));
    }
    let orphan = sqlx::query(
        "INSERT INTO orders (customer_id, item, amount_cents) VALUES (-1, 'ghost', 100)",
    )
    .execute(pool)
    .await;
    if let Err(e) = &orphan {
        classified_errors.push(classified("INSERT an order for customer -1", e));
    }
    sqlx::query(
        "INSERT INTO orders (customer_id, item, amount_cents) VALUES (?, 'slide rule', 1999)",
    )
    .bind(ada_id)
    .execute(pool)
    .await
    .context("cannot add an order for Ada")?;
    let referenced = sqlx::query("DELETE FROM customers WHERE id = ?")
        .bind(ada_id)
        .execute(pool)
        .await;
    if let Err(e) = &referenced {
        classified_errors.push(classified("DELETE Ada while she has an order", e));
    }
    remove_ada(pool).await?;

    Ok(DuplicatesReport {
        first_insert_ok,
        sqlx_second,
        sqlx_name_taken,
        diesel_second,
        diesel_name_taken,
        classified: classified_errors,
    })
}

/// Deletes the customer "Ada" that step 1 adds, and her orders.
async fn remove_ada(pool: &MySqlPool) -> Result<()> {
    sqlx::query(
        "DELETE o FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.name = 'Ada'",
    )
    .execute(pool)
    .await
    .context("cannot delete Ada's orders")?;
    sqlx::query("DELETE FROM customers WHERE name = 'Ada'")
        .execute(pool)
        .await
        .context("cannot delete the customer Ada")?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Step 2: lost updates
// ---------------------------------------------------------------------------------------

/// How each task adds one to the counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Increment {
    /// `SELECT n`, then `UPDATE ... SET n = <what was read + 1>`, in a transaction.
    ReadThenWrite,
    /// The same, but the `SELECT ... FOR UPDATE` locks the row until the commit.
    SelectForUpdate,
    /// One statement: `UPDATE ... SET n = n + 1`.
    AtomicUpdate,
}

impl Increment {
    /// The counter row this way increments, so that the three can run side by side.
    pub fn counter(self) -> i32 {
        match self {
            Increment::ReadThenWrite => 1,
            Increment::SelectForUpdate => 2,
            Increment::AtomicUpdate => 3,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Increment::ReadThenWrite => "SELECT n, then UPDATE SET n = ?",
            Increment::SelectForUpdate => "SELECT n FOR UPDATE, then UPDATE",
            Increment::AtomicUpdate => "UPDATE SET n = n + 1",
        }
    }
}

// ANCHOR: increments
/// Adds one to counter `id`, the way `how` says.
pub async fn increment(
    pool: &MySqlPool,
    id: i32,
    how: Increment,
) -> Result<(), sqlx::Error> {
    match how {
        Increment::ReadThenWrite | Increment::SelectForUpdate => {
            let select = if how == Increment::SelectForUpdate {
                "SELECT n FROM lesson5_counter WHERE id = ? FOR UPDATE"
            } else {
                // Under REPEATABLE READ this reads the transaction's snapshot, and takes
                // no lock.
                "SELECT n FROM lesson5_counter WHERE id = ?"
            };
            let mut tx = pool.begin().await?;
            let n: i32 = sqlx::query_scalar(select)
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            sqlx::query("UPDATE lesson5_counter SET n = ? WHERE id = ?")
                .bind(n + 1)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        }
        Increment::AtomicUpdate => {
            sqlx::query("UPDATE lesson5_counter SET n = n + 1 WHERE id = ?")
                .bind(id)
                .execute(pool)
                .await?;
            Ok(())
        }
    }
}
// ANCHOR_END: increments

/// What one way of incrementing did under contention.
#[derive(Debug, Clone)]
pub struct CounterReport {
    /// How the tasks incremented.
    pub how: Increment,
    /// Tasks × increments.
    pub expected: i64,
    /// The counter at the end.
    pub final_value: i64,
    /// Increments that returned an error, by kind (none are retried).
    pub errors: BTreeMap<Failure, u64>,
}

impl CounterReport {
    /// Increments that reported success but are not in the counter.
    pub fn lost(&self) -> i64 {
        let failed: u64 = self.errors.values().sum();
        self.expected - i64::try_from(failed).unwrap_or(i64::MAX) - self.final_value
    }
}

impl fmt::Display for CounterReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<34} expected {}, got {}, lost {}",
            self.how.describe(),
            self.expected,
            self.final_value,
            self.lost()
        )?;
        if !self.errors.is_empty() {
            write!(f, ", errors {}", errors_by_kind(&self.errors))?;
        }
        Ok(())
    }
}

fn errors_by_kind(errors: &BTreeMap<Failure, u64>) -> String {
    if errors.is_empty() {
        return "none".to_owned();
    }
    errors
        .iter()
        .map(|(kind, n)| format!("{kind:?} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Step 2: the three ways side by side, each on its own counter and its own pool.
pub async fn lost_updates_compared(
    url: &str,
    tasks: usize,
    per_task: usize,
) -> Result<[CounterReport; 3]> {
    let (a, b, c) = tokio::try_join!(
        lost_updates(url, Increment::ReadThenWrite, tasks, per_task),
        lost_updates(url, Increment::SelectForUpdate, tasks, per_task),
        lost_updates(url, Increment::AtomicUpdate, tasks, per_task),
    )?;
    Ok([a, b, c])
}

/// Step 2: `tasks` tasks each increment one counter `per_task` times, concurrently, on a
/// pool of ten connections.
pub async fn lost_updates(
    url: &str,
    how: Increment,
    tasks: usize,
    per_task: usize,
) -> Result<CounterReport> {
    let pool = MySqlPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(Duration::from_secs(30))
        .connect(url)
        .await
        .map_err(|e| workbook::explain_connect_error(url, &e))?;
    let id = how.counter();
    sqlx::query(
        "INSERT INTO lesson5_counter (id, n) VALUES (?, 0) ON DUPLICATE KEY UPDATE n = 0",
    )
    .bind(id)
    .execute(&pool)
    .await
    .context("cannot reset the counter")?;

    let mut handles = Vec::new();
    for _ in 0..tasks {
        let pool = pool.clone();
        handles.push(tokio::spawn(async move {
            let mut errors: BTreeMap<Failure, u64> = BTreeMap::new();
            for _ in 0..per_task {
                if let Err(e) = increment(&pool, id, how).await {
                    *errors.entry(classify(&e)).or_default() += 1;
                }
            }
            errors
        }));
    }
    let mut errors: BTreeMap<Failure, u64> = BTreeMap::new();
    for handle in handles {
        for (kind, n) in handle.await.context("an increment task failed")? {
            *errors.entry(kind).or_default() += n;
        }
    }
    let final_value: i32 =
        sqlx::query_scalar("SELECT n FROM lesson5_counter WHERE id = ?")
            .bind(id)
            .fetch_one(&pool)
            .await
            .context("cannot read the counter")?;
    pool.close().await;
    Ok(CounterReport {
        how,
        expected: i64::try_from(tasks * per_task)?,
        final_value: i64::from(final_value),
        errors,
    })
}

// ---------------------------------------------------------------------------------------
// Step 3: deadlocks, lock-wait timeouts, and retrying the whole transaction
// ---------------------------------------------------------------------------------------

// ANCHOR: retry_policy
/// How often, and how patiently, [`with_retry`] re-runs a transaction.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The backoff ceiling after the first failure; it doubles after each one...
    pub base_delay: Duration,
    /// ...up to this cap.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 20,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(100),
        }
    }
}

impl RetryPolicy {
    /// The pause before attempt `failures + 1`: "full jitter", a random time between zero
    /// and a ceiling that doubles with each failure, capped. The randomness keeps two
    /// transactions that just deadlocked from colliding again in lockstep.
    pub fn delay(&self, failures: u32) -> Duration {
        let doubling = 1u32 << failures.saturating_sub(1).min(16);
        let ceiling = self.base_delay.saturating_mul(doubling).min(self.max_delay);
        let micros = u64::try_from(ceiling.as_micros()).unwrap_or(u64::MAX);
        Duration::from_micros(rand::random_range(0..=micros))
    }
}

/// True for the errors after which re-running the whole transaction can succeed: deadlock
/// (1213), lock-wait timeout (1205), and MariaDB 11.6.2+'s "record has changed" (1020).
pub fn is_retryable(err: &sqlx::Error) -> bool {
    matches!(mysql_error_number(err), Some(1213 | 1205 | 1020))
}
// ANCHOR_END: retry_policy

/// A value from [`with_retry`], with the errors it retried past.
#[derive(Debug)]
pub struct Retried<T> {
    /// What the transaction returned.
    pub value: T,
    /// The MySQL error numbers of the failed attempts, in order.
    pub retried: Vec<u16>,
}

// ANCHOR: with_retry
/// Runs `body` in a transaction and commits it; on a deadlock or a lock-wait timeout,
/// rolls the whole transaction back and runs `body` again from the start, after a
/// jittered pause.
///
/// `body` gets the transaction and must do all of its work through it, so that every
/// attempt re-reads what it depends on. It may run several times: keep side effects
/// (emails, HTTP calls) out of it.
pub async fn with_retry<T, F>(
    pool: &MySqlPool,
    policy: RetryPolicy,
    mut body: F,
) -> Result<Retried<T>, sqlx::Error>
where
    F: for<'t> FnMut(
        &'t mut MySqlTransaction<'static>,
    ) -> BoxFuture<'t, Result<T, sqlx::Error>>,
{
    let mut retried = Vec::new();
    loop {
        let mut tx = pool.begin().await?;
        let outcome = match body(&mut tx).await {
            Ok(value) => tx.commit().await.map(|()| value),
            Err(e) => {
                // After 1213 InnoDB has already rolled back; after 1205 only the
                // statement was undone, and this releases the locks that the earlier
                // statements still hold.
                tx.rollback().await?;
                Err(e)
            }
        };
        match outcome {
            Ok(value) => return Ok(Retried { value, retried }),
            Err(e)
                if is_retryable(&e)
                    && (retried.len() as u32) + 1 < policy.max_attempts =>
            {
                retried.extend(mysql_error_number(&e));
                tokio::time::sleep(policy.delay(retried.len() as u32)).await;
            }
            Err(e) => return Err(e),
        }
    }
}
// ANCHOR_END: with_retry

// ANCHOR: transfer
/// Moves `amount` from account `from` to account `to`, locking `from` first.
pub async fn transfer(
    tx: &mut MySqlConnection,
    from: i32,
    to: i32,
    amount: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE lesson5_accounts SET balance = balance - ? WHERE id = ?")
        .bind(amount)
        .bind(from)
        .execute(&mut *tx)
        .await?;
    // A moment between the two locks, as real work would take: it lets the task running
    // the opposite transfer take its first lock, so that both wait for each other.
    tokio::time::sleep(Duration::from_millis(1)).await;
    sqlx::query("UPDATE lesson5_accounts SET balance = balance + ? WHERE id = ?")
        .bind(amount)
        .bind(to)
        .execute(&mut *tx)
        .await?;
    Ok(())
}
// ANCHOR_END: transfer

/// What step 3's opposite-order transfers did.
#[derive(Debug, Clone)]
pub struct DeadlockReport {
    /// Transfers attempted: two tasks × rounds.
    pub attempted: u64,
    /// Transfers committed.
    pub committed: u64,
    /// Deadlocks (1213) retried past.
    pub deadlocks: u64,
    /// Lock-wait timeouts (1205) retried past.
    pub lock_wait_timeouts: u64,
    /// The most retries any one transfer needed.
    pub max_retries: usize,
    /// Transfers that failed even after retrying, by kind.
    pub failed: BTreeMap<Failure, u64>,
    /// Account 1 and 2 at the end.
    pub balances: (i32, i32),
    /// What they must be if every committed transfer counted exactly once.
    pub expected_balances: (i32, i32),
}

impl fmt::Display for DeadlockReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "transfers committed: {} of {}",
            self.committed, self.attempted
        )?;
        writeln!(f, "deadlocks (1213) retried: {}", self.deadlocks)?;
        writeln!(
            f,
            "lock-wait timeouts (1205) retried: {}",
            self.lock_wait_timeouts
        )?;
        writeln!(f, "most retries of one transfer: {}", self.max_retries)?;
        writeln!(f, "failed after retrying: {}", errors_by_kind(&self.failed))?;
        write!(
            f,
            "balances: {} and {} (expected {} and {})",
            self.balances.0,
            self.balances.1,
            self.expected_balances.0,
            self.expected_balances.1
        )
    }
}

/// Step 3: two tasks transfer between accounts 1 and 2 in opposite order, `rounds` times
/// each, through [`with_retry`]. Task A moves 1 from account 1 to 2; task B moves 2 from
/// 2 to 1.
pub async fn opposite_transfers(
    url: &str,
    rounds: u32,
    policy: RetryPolicy,
) -> Result<DeadlockReport> {
    let pool = MySqlPoolOptions::new()
        .max_connections(2)
        .connect(url)
        .await
        .map_err(|e| workbook::explain_connect_error(url, &e))?;
    sqlx::query("DELETE FROM lesson5_accounts")
        .execute(&pool)
        .await
        .context("cannot clear the accounts")?;
    sqlx::query("INSERT INTO lesson5_accounts (id, balance) VALUES (1, 1000), (2, 1000)")
        .execute(&pool)
        .await
        .context("cannot open the accounts")?;

    let mut handles = Vec::new();
    for (from, to, amount) in [(1, 2, 1), (2, 1, 2)] {
        let pool = pool.clone();
        handles.push(tokio::spawn(async move {
            let mut committed = 0u64;
            let mut retried_numbers = Vec::new();
            let mut max_retries = 0usize;
            let mut failed: BTreeMap<Failure, u64> = BTreeMap::new();
            for _ in 0..rounds {
                // ANCHOR: call_with_retry
                let done = with_retry(&pool, policy, |tx| {
                    Box::pin(async move { transfer(tx, from, to, amount).await })
                })
                .await;
                // ANCHOR_END: call_with_retry
                match done {
                    Ok(r) => {
                        committed += 1;
                        max_retries = max_retries.max(r.retried.len());
                        retried_numbers.extend(r.retried);
                    }
                    Err(e) => *failed.entry(classify(&e)).or_default() += 1,
                }
            }
            (committed, retried_numbers, max_retries, failed)
        }));
    }
    let mut report = DeadlockReport {
        attempted: 2 * u64::from(rounds),
        committed: 0,
        deadlocks: 0,
        lock_wait_timeouts: 0,
        max_retries: 0,
        failed: BTreeMap::new(),
        balances: (0, 0),
        expected_balances: (0, 0),
    };
    let mut committed_by_task = Vec::new();
    for handle in handles {
        let (committed, numbers, max_retries, failed) =
            handle.await.context("a transfer task failed")?;
        committed_by_task.push(i32::try_from(committed)?);
        report.committed += committed;
        report.deadlocks += numbers.iter().filter(|n| **n == 1213).count() as u64;
        report.lock_wait_timeouts +=
            numbers.iter().filter(|n| **n == 1205).count() as u64;
        report.max_retries = report.max_retries.max(max_retries);
        for (kind, n) in failed {
            *report.failed.entry(kind).or_default() += n;
        }
    }
    let balances: Vec<i32> =
        sqlx::query_scalar("SELECT balance FROM lesson5_accounts ORDER BY id")
            .fetch_all(&pool)
            .await
            .context("cannot read the balances")?;
    report.balances = (
        balances.first().copied().unwrap_or_default(),
        balances.get(1).copied().unwrap_or_default(),
    );
    // Only committed transfers count: task A moved 1 to account 2, task B 2 to account 1.
    let (a, b) = (committed_by_task[0], committed_by_task[1]);
    report.expected_balances = (1000 - a + 2 * b, 1000 + a - 2 * b);
    pool.close().await;
    Ok(report)
}

/// What one provoked error looked like.
#[derive(Debug, Clone)]
pub struct Provoked {
    /// The error as the server worded it (number, SQLSTATE, message).
    pub message: String,
    /// The error's MySQL number.
    pub number: Option<u16>,
    /// How [`classify`] sorted it.
    pub failure: Failure,
    /// What the failed transaction still saw of its own earlier write (lock-wait timeout
    /// only).
    pub earlier_write_survived: Option<bool>,
}

async fn connect_one(url: &str) -> Result<MySqlConnection> {
    MySqlConnection::connect(url)
        .await
        .map_err(|e| workbook::explain_connect_error(url, &e))
}

/// Step 3: one deadlock, provoked on purpose with two connections that each lock one
/// account and then ask for the other's.
pub async fn provoke_deadlock(url: &str) -> Result<Provoked> {
    let mut a = connect_one(url).await?;
    let mut b = connect_one(url).await?;
    sqlx::query(
        "INSERT INTO lesson5_accounts (id, balance) VALUES (1, 1000), (2, 1000) \
                 ON DUPLICATE KEY UPDATE balance = balance",
    )
    .execute(&mut a)
    .await
    .context("cannot open the accounts")?;
    let mut ta = a.begin().await?;
    let mut tb = b.begin().await?;
    sqlx::query("UPDATE lesson5_accounts SET balance = balance WHERE id = 1")
        .execute(&mut *ta)
        .await?;
    sqlx::query("UPDATE lesson5_accounts SET balance = balance WHERE id = 2")
        .execute(&mut *tb)
        .await?;
    // A waits for B's row; then B asks for A's row, and InnoDB sees the cycle at once.
    let a_waits =
        sqlx::query("UPDATE lesson5_accounts SET balance = balance WHERE id = 2")
            .execute(&mut *ta);
    let b_closes_the_cycle = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        sqlx::query("UPDATE lesson5_accounts SET balance = balance WHERE id = 1")
            .execute(&mut *tb)
            .await
    };
    let (ra, rb) = tokio::join!(a_waits, b_closes_the_cycle);
    let victim = match (ra, rb) {
        (Err(e), _) | (_, Err(e)) => e,
        (Ok(_), Ok(_)) => {
            bail!("no deadlock happened, although both transactions crossed")
        }
    };
    ta.rollback().await.ok();
    tb.rollback().await.ok();
    a.close().await.ok();
    b.close().await.ok();
    Ok(Provoked {
        message: victim.to_string(),
        number: mysql_error_number(&victim),
        failure: classify(&victim),
        earlier_write_survived: None,
    })
}

/// Step 3: one lock-wait timeout, provoked on purpose. B updates account 2, then waits
/// for account 1, which A holds, for one second (a session setting on B's own
/// connection).
pub async fn provoke_lock_wait_timeout(url: &str) -> Result<Provoked> {
    let mut a = connect_one(url).await?;
    let mut b = connect_one(url).await?;
    sqlx::query(
        "INSERT INTO lesson5_accounts (id, balance) VALUES (1, 1000), (2, 1000) \
                 ON DUPLICATE KEY UPDATE balance = balance",
    )
    .execute(&mut a)
    .await
    .context("cannot open the accounts")?;
    // A session variable: it changes only B's connection, which is closed below.
    sqlx::query("SET SESSION innodb_lock_wait_timeout = 1")
        .execute(&mut b)
        .await?;
    let mut ta = a.begin().await?;
    sqlx::query("UPDATE lesson5_accounts SET balance = balance WHERE id = 1")
        .execute(&mut *ta)
        .await?;
    let mut tb = b.begin().await?;
    let before: i32 =
        sqlx::query_scalar("SELECT balance FROM lesson5_accounts WHERE id = 2")
            .fetch_one(&mut *tb)
            .await?;
    sqlx::query("UPDATE lesson5_accounts SET balance = balance + 5 WHERE id = 2")
        .execute(&mut *tb)
        .await?;
    let waited =
        sqlx::query("UPDATE lesson5_accounts SET balance = balance + 5 WHERE id = 1")
            .execute(&mut *tb)
            .await;
    let Err(err) = waited else {
        bail!("B's update did not wait for A's lock");
    };
    // Still inside B's transaction: is B's first update still there?
    let seen: i32 =
        sqlx::query_scalar("SELECT balance FROM lesson5_accounts WHERE id = 2")
            .fetch_one(&mut *tb)
            .await?;
    tb.rollback().await?;
    ta.rollback().await?;
    a.close().await.ok();
    b.close().await.ok();
    Ok(Provoked {
        message: err.to_string(),
        number: mysql_error_number(&err),
        failure: classify(&err),
        earlier_write_survived: Some(seen == before + 5),
    })
}

/// `@@innodb_rollback_on_timeout`: when ON, a lock-wait timeout rolls back the whole
/// transaction, as a deadlock does. It is OFF by default on both MySQL and MariaDB.
pub async fn rollback_on_timeout(pool: &MySqlPool) -> Result<bool> {
    let on: i64 = sqlx::query_scalar("SELECT @@innodb_rollback_on_timeout + 0")
        .fetch_one(pool)
        .await
        .context("cannot read innodb_rollback_on_timeout")?;
    Ok(on != 0)
}

// ---------------------------------------------------------------------------------------
// Step 4: cancellation
// ---------------------------------------------------------------------------------------

// ANCHOR: guarded_pool
/// A pool of `size` connections whose connections are never handed out inside a
/// transaction.
///
/// When a `begin()` is cancelled after `BEGIN` went to the server but before its reply
/// came back, sqlx has not counted the transaction yet, so nothing rolls it back: the
/// connection returns to the pool with a transaction open, and the next user's
/// "autocommit" statements land in it. `after_release` runs on every connection going
/// back to the pool; a `ROLLBACK` there ends any such leftover (outside a transaction it
/// does nothing), for one round trip.
pub async fn guarded_pool(url: &str, size: u32) -> Result<MySqlPool> {
    MySqlPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(Duration::from_secs(5))
        .after_release(|conn, _meta| Box::pin(roll_back_leftovers(conn)))
        .connect(url)
        .await
        .map_err(|e| workbook::explain_connect_error(url, &e))
}

/// The guard itself: `ROLLBACK`, then a check that the connection is in step with the
/// server, all within a second. A future cancelled halfway through reading a reply can
/// leave unread replies behind, and the next statement would read an old answer as its
/// own. So the guard asks for a random number: the wrong one back, or none within the
/// second, and the connection is given up: the error makes sqlx close it, and open a new
/// one when needed.
pub async fn roll_back_leftovers(
    conn: &mut MySqlConnection,
) -> Result<bool, sqlx::Error> {
    let token: u32 = rand::random();
    let check = async {
        sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await?;
        let echo = format!("SELECT CAST({token} AS SIGNED)");
        let row = sqlx::raw_sql(AssertSqlSafe(echo))
            .fetch_one(&mut *conn)
            .await?;
        Ok::<_, sqlx::Error>(row.try_get::<i64, _>(0)? == i64::from(token))
    };
    let out_of_step = |why: &str| {
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, why.to_owned());
        Err(sqlx::Error::Io(io))
    };
    match tokio::time::timeout(Duration::from_secs(1), check).await {
        Ok(Ok(true)) => Ok(true),
        Ok(Ok(false)) => out_of_step("the connection answered an older statement"),
        Ok(Err(e)) => Err(e),
        Err(_) => out_of_step("the connection did not answer within 1 s"),
    }
}
// ANCHOR_END: guarded_pool

/// The connections a pool opened, recorded by an `after_connect` hook, so that the check
/// for open transactions looks at exactly the lesson's own connections.
#[derive(Debug, Clone, Default)]
pub struct ConnectionIds(Arc<Mutex<Vec<u64>>>);

impl ConnectionIds {
    /// The ids recorded so far.
    pub fn get(&self) -> Vec<u64> {
        self.0.lock().map(|ids| ids.clone()).unwrap_or_default()
    }
}

async fn pool_of_one(
    options: MySqlConnectOptions,
    guarded: bool,
    ids: &ConnectionIds,
) -> Result<MySqlPool> {
    let ids = ids.clone();
    let mut pool = MySqlPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .after_connect(move |conn, _meta| {
            let ids = ids.clone();
            Box::pin(async move {
                let id: u64 = sqlx::query_scalar("SELECT CONNECTION_ID()")
                    .fetch_one(&mut *conn)
                    .await?;
                if let Ok(mut ids) = ids.0.lock() {
                    ids.push(id);
                }
                Ok(())
            })
        });
    if guarded {
        pool = pool.after_release(|conn, _meta| Box::pin(roll_back_leftovers(conn)));
    }
    pool.connect_with(options)
        .await
        .context("cannot connect the pool of one")
}

/// Open InnoDB transactions of the connections in `ids`, seen from a separate connection.
pub async fn open_transactions(url: &str, ids: &[u64]) -> Result<i64> {
    // NOTE: InnoDB serves information_schema.innodb_trx from a cache that it refreshes
    // only when nobody has read it for 0.1 s, so a read right after another can miss a
    // transaction.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut observer = connect_one(url).await?;
    let mut open = 0i64;
    for id in ids {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM information_schema.innodb_trx WHERE trx_mysql_thread_id = ?",
        )
        .bind(id)
        .fetch_one(&mut observer)
        .await
        .context("cannot read information_schema.innodb_trx")?;
        open += n;
    }
    observer.close().await.ok();
    Ok(open)
}

/// How the rounds of step 4 treat a timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnTimeout {
    /// `tokio::time::timeout` around the transaction: the future is dropped wherever it
    /// is.
    DropTheFuture,
    /// The transaction runs in its own task; the timeout only stops the waiting for it,
    /// and the work finishes (and reports) on its own.
    DetachTheWork,
}

const STAGE_BEGIN: u8 = 0;
const STAGE_INSERT: u8 = 1;
const STAGE_COMMIT: u8 = 2;

// ANCHOR: one_round
/// One round: begin, insert row `k`, commit. `stage` says how far it got, for when it is
/// cancelled.
pub async fn insert_in_transaction(
    pool: &MySqlPool,
    k: i32,
    stage: &AtomicU8,
) -> Result<(), sqlx::Error> {
    stage.store(STAGE_BEGIN, Ordering::Relaxed);
    let mut tx = pool.begin().await?;
    stage.store(STAGE_INSERT, Ordering::Relaxed);
    sqlx::query("INSERT INTO lesson5_events (k) VALUES (?)")
        .bind(k)
        .execute(&mut *tx)
        .await?;
    stage.store(STAGE_COMMIT, Ordering::Relaxed);
    // If the timeout fires during this await, the COMMIT may already be on the server:
    // the outcome is unknown to us until we look.
    tx.commit().await
}
// ANCHOR_END: one_round

/// What step 4's rounds did, reconciled with the rows in the table.
#[derive(Debug, Clone, Default)]
pub struct CancellationReport {
    /// Rounds run.
    pub rounds: u32,
    /// Rounds whose `commit()` returned `Ok` within the timeout.
    pub acknowledged: u32,
    /// Rounds that returned an error within the timeout, by kind.
    pub errors: BTreeMap<Failure, u32>,
    /// Rounds cancelled while acquiring a connection or in `BEGIN`.
    pub cancelled_in_begin: u32,
    /// Rounds cancelled during the `INSERT`.
    pub cancelled_in_insert: u32,
    /// Rounds cancelled during the `COMMIT`: their outcome was unknown until reconciled.
    pub cancelled_in_commit: u32,
    /// Of those, how many turned out committed.
    pub unknown_committed: u32,
    /// Rounds whose caller gave up waiting while the work went on (`DetachTheWork`).
    pub gave_up_waiting: u32,
    /// Of those, how many the detached task reported committed.
    pub late_committed: u32,
    /// Rows in the table.
    pub rows: u32,
    /// Acknowledged commits whose row is missing.
    pub lost: u32,
    /// Rows that no round can account for.
    pub phantom: u32,
    /// Open InnoDB transactions of the lesson's connections afterwards.
    pub open_transactions: i64,
    /// Whether the pool answered a query afterwards.
    pub pool_serves: bool,
    /// Whether `pool.close()` failed to finish within 5 s (a connection never came back).
    pub close_hung: bool,
}

impl fmt::Display for CancellationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "rounds: {}", self.rounds)?;
        writeln!(f, "acknowledged commits: {}", self.acknowledged)?;
        let errors: BTreeMap<Failure, u64> = self
            .errors
            .iter()
            .map(|(k, v)| (*k, u64::from(*v)))
            .collect();
        writeln!(f, "errors: {}", errors_by_kind(&errors))?;
        writeln!(
            f,
            "cancelled in begin: {}, in insert: {}, in commit: {}",
            self.cancelled_in_begin, self.cancelled_in_insert, self.cancelled_in_commit
        )?;
        writeln!(
            f,
            "unknown outcomes (cancelled in commit): {} committed, {} not",
            self.unknown_committed,
            self.cancelled_in_commit - self.unknown_committed
        )?;
        writeln!(
            f,
            "gave up waiting, work went on: {}, of which committed: {}",
            self.gave_up_waiting, self.late_committed
        )?;
        writeln!(
            f,
            "rows in the table: {} (acknowledged + unknown committed + late committed = {})",
            self.rows,
            self.acknowledged + self.unknown_committed + self.late_committed
        )?;
        writeln!(
            f,
            "lost acknowledged commits: {}, phantom rows: {}",
            self.lost, self.phantom
        )?;
        writeln!(
            f,
            "open transactions of the lesson's connections: {}",
            self.open_transactions
        )?;
        write!(
            f,
            "the pool still serves: {}",
            if self.pool_serves { "yes" } else { "no" }
        )?;
        if self.close_hung {
            write!(
                f,
                "\npool.close() had not finished after 5 s: a connection never came back"
            )?;
        }
        Ok(())
    }
}

/// Step 4: `rounds` rounds of begin / insert / commit on a guarded pool of one
/// connection, each under a random timeout of 0 to `max_timeout`; then the rows are
/// reconciled with what each round was told.
pub async fn cancellation(
    url: &str,
    rounds: u32,
    max_timeout: Duration,
    on_timeout: OnTimeout,
) -> Result<CancellationReport> {
    let ids = ConnectionIds::default();
    let options: MySqlConnectOptions = url.parse()?;
    let pool = pool_of_one(options, true, &ids).await?;
    sqlx::query("DELETE FROM lesson5_events")
        .execute(&pool)
        .await
        .context("cannot clear the events")?;

    #[derive(Clone, Copy, PartialEq)]
    enum Told {
        Acknowledged,
        Failed,
        CancelledBefore,
        Unknown,
        Late,
    }
    let mut told = Vec::new();
    // A round whose caller gave up waiting, still running. The next round first waits for
    // it: detached work must still be bounded, or a slow server gathers an ever longer
    // queue.
    let mut late: Option<(i32, tokio::task::JoinHandle<Result<(), sqlx::Error>>)> = None;
    let mut late_ok = BTreeSet::new();
    let mut report = CancellationReport {
        rounds,
        ..CancellationReport::default()
    };
    let max_micros = u64::try_from(max_timeout.as_micros())?;
    for round in 0..rounds {
        if let Some((k, work)) = late.take() {
            // Its result is known, just later than the caller wanted it.
            match work.await.context("a round's task failed")? {
                Ok(()) => {
                    late_ok.insert(k);
                }
                Err(e) => *report.errors.entry(classify(&e)).or_default() += 1,
            }
        }
        let k = i32::try_from(round)?;
        let budget = Duration::from_micros(rand::random_range(0..=max_micros));
        let outcome = match on_timeout {
            OnTimeout::DropTheFuture => {
                let stage = AtomicU8::new(STAGE_BEGIN);
                match tokio::time::timeout(
                    budget,
                    insert_in_transaction(&pool, k, &stage),
                )
                .await
                {
                    Ok(Ok(())) => {
                        report.acknowledged += 1;
                        Told::Acknowledged
                    }
                    Ok(Err(e)) => {
                        *report.errors.entry(classify(&e)).or_default() += 1;
                        if stage.load(Ordering::Relaxed) == STAGE_COMMIT {
                            Told::Unknown
                        } else {
                            Told::Failed
                        }
                    }
                    Err(_elapsed) => match stage.load(Ordering::Relaxed) {
                        STAGE_BEGIN => {
                            report.cancelled_in_begin += 1;
                            Told::CancelledBefore
                        }
                        STAGE_INSERT => {
                            report.cancelled_in_insert += 1;
                            Told::CancelledBefore
                        }
                        _ => {
                            report.cancelled_in_commit += 1;
                            Told::Unknown
                        }
                    },
                }
            }
            OnTimeout::DetachTheWork => {
                // ANCHOR: detach
                let mut work = {
                    let pool = pool.clone();
                    tokio::spawn(async move {
                        let stage = AtomicU8::new(STAGE_BEGIN);
                        insert_in_transaction(&pool, k, &stage).await
                    })
                };
                match tokio::time::timeout(budget, &mut work).await {
                    // ANCHOR_END: detach
                    Ok(Ok(Ok(()))) => {
                        report.acknowledged += 1;
                        Told::Acknowledged
                    }
                    Ok(Ok(Err(e))) => {
                        *report.errors.entry(classify(&e)).or_default() += 1;
                        Told::Failed
                    }
                    Ok(Err(join)) => return Err(join).context("a round's task failed"),
                    Err(_elapsed) => {
                        report.gave_up_waiting += 1;
                        late = Some((k, work));
                        Told::Late
                    }
                }
            }
        };
        told.push(outcome);
    }
    if let Some((k, work)) = late.take() {
        match work.await.context("a round's task failed")? {
            Ok(()) => {
                late_ok.insert(k);
            }
            Err(e) => *report.errors.entry(classify(&e)).or_default() += 1,
        }
    }
    report.late_committed = u32::try_from(late_ok.len())?;

    // The pool must still serve; this also waits until its one connection is back.
    let present: Vec<i32> =
        match sqlx::query_scalar("SELECT k FROM lesson5_events ORDER BY k")
            .fetch_all(&pool)
            .await
        {
            Ok(rows) => {
                report.pool_serves = true;
                rows
            }
            Err(_) => {
                let mut fresh = connect_one(url).await?;
                let rows = sqlx::query_scalar("SELECT k FROM lesson5_events ORDER BY k")
                    .fetch_all(&mut fresh)
                    .await
                    .context("cannot read the events")?;
                fresh.close().await.ok();
                rows
            }
        };
    let present: BTreeSet<i32> = present.into_iter().collect();
    report.rows = u32::try_from(present.len())?;
    for (k, outcome) in told.iter().enumerate() {
        let k = i32::try_from(k)?;
        let there = present.contains(&k);
        match outcome {
            Told::Acknowledged if !there => report.lost += 1,
            Told::Failed | Told::CancelledBefore if there => report.phantom += 1,
            Told::Unknown if there => report.unknown_committed += 1,
            Told::Late if there != late_ok.contains(&k) => report.phantom += 1,
            _ => {}
        }
    }
    report.open_transactions = open_transactions(url, &ids.get()).await?;
    // NOTE: on a busy server we saw `close()` wait forever after these cancelled rounds:
    // a connection was never given back. Bound it, and say so.
    report.close_hung = tokio::time::timeout(Duration::from_secs(5), pool.close())
        .await
        .is_err();
    Ok(report)
}

/// What the deliberately cancelled `begin()` left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CancelledBegin {
    /// Whether the pool had the `after_release` guard.
    pub guarded: bool,
    /// Open InnoDB transactions on the pool's connection after an autocommit `INSERT`.
    pub open_transactions: i64,
    /// Whether another connection could see the autocommit `INSERT`.
    pub visible_to_others: bool,
    /// Whether the row was there after the pool closed.
    pub kept_after_close: bool,
}

impl fmt::Display for CancelledBegin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let yes = |b: bool| if b { "yes" } else { "no" };
        write!(
            f,
            "{:<26} open transactions {}, autocommit INSERT visible to others: {}, kept after close: {}",
            if self.guarded {
                "with the after_release guard:"
            } else {
                "plain pool:"
            },
            self.open_transactions,
            yes(self.visible_to_others),
            yes(self.kept_after_close)
        )
    }
}

// ANCHOR: cancelled_begin
/// Cancels a `begin()` after the server got `BEGIN` but before its reply came back, then
/// runs an autocommit `INSERT` on the same pooled connection and looks at it from another
/// one.
pub async fn cancelled_begin(url: &str, guarded: bool) -> Result<CancelledBegin> {
    // The pool talks to the server through a proxy that can hold the server's replies, so
    // the cancellation lands at the same moment on every run.
    let options: MySqlConnectOptions = url.parse()?;
    let upstream = tokio::net::lookup_host((options.get_host(), options.get_port()))
        .await?
        .next()
        .context("the server's host has no address")?;
    let gate = ReplyGate::start(upstream).await?;
    let via_gate = options.host("127.0.0.1").port(gate.addr().port());
    let ids = ConnectionIds::default();
    let pool = pool_of_one(via_gate, guarded, &ids).await?;
    sqlx::query("DELETE FROM lesson5_events WHERE k = -1")
        .execute(&pool)
        .await
        .context("cannot clear the events")?;

    let mut conn = pool.acquire().await?;
    gate.hold(); // BEGIN reaches the server; its "OK" waits in the proxy
    let begun = tokio::time::timeout(Duration::from_millis(200), conn.begin()).await;
    gate.release();
    drop(begun); // the timeout dropped begin(): sqlx never counted the transaction
    drop(conn); // back to the pool

    // Later, someone else's plain autocommit INSERT gets the same connection.
    sqlx::query("INSERT INTO lesson5_events (k) VALUES (-1)")
        .execute(&pool)
        .await
        .context("cannot insert the event")?;
    let open = open_transactions(url, &ids.get()).await?;
    let mut observer = connect_one(url).await?;
    let visible: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM lesson5_events WHERE k = -1")
            .fetch_one(&mut observer)
            .await?;
    pool.close().await;
    let kept: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM lesson5_events WHERE k = -1")
            .fetch_one(&mut observer)
            .await?;
    sqlx::query("DELETE FROM lesson5_events WHERE k = -1")
        .execute(&mut observer)
        .await?;
    observer.close().await.ok();
    Ok(CancelledBegin {
        guarded,
        open_transactions: open,
        visible_to_others: visible == 1,
        kept_after_close: kept == 1,
    })
}
// ANCHOR_END: cancelled_begin

// ---------------------------------------------------------------------------------------
// Step 5: a server restart under load
// ---------------------------------------------------------------------------------------

/// What the load saw while the server was killed and restarted.
#[derive(Debug, Clone, Default)]
pub struct RestartReport {
    /// Requests that succeeded before the kill.
    pub ok_before: u64,
    /// Requests that failed between the kill and the first success after it, by kind.
    pub failed_during_outage: BTreeMap<Failure, u64>,
    /// From the kill to the first successful request after it.
    pub outage: Duration,
    /// How long `restart()` took (the server's crash recovery and start-up).
    pub restart_took: Duration,
    /// Requests started after the recovery that succeeded.
    pub ok_after: u64,
    /// Requests started after the recovery that failed.
    pub failed_after: u64,
    /// Inserts acknowledged (before or after the outage).
    pub acknowledged: u64,
    /// Of those, how many rows are in the table after the restart.
    pub acknowledged_present: u64,
}

impl fmt::Display for RestartReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "requests before the kill: {} ok", self.ok_before)?;
        let failed: u64 = self.failed_during_outage.values().sum();
        writeln!(
            f,
            "requests failed during the outage: {} ({})",
            failed,
            errors_by_kind(&self.failed_during_outage)
        )?;
        writeln!(
            f,
            "server restart (crash recovery) took {:.1} s",
            self.restart_took.as_secs_f64()
        )?;
        writeln!(
            f,
            "time to recover, kill to first success: {:.1} s",
            self.outage.as_secs_f64()
        )?;
        writeln!(
            f,
            "requests after recovery: {} ok, {} failed",
            self.ok_after, self.failed_after
        )?;
        write!(
            f,
            "acknowledged inserts: {}, present after the restart: {}",
            self.acknowledged, self.acknowledged_present
        )
    }
}

struct Request {
    started: Instant,
    finished: Instant,
    key: i64,
    outcome: Result<(), Failure>,
}

// ANCHOR: restart_pool
/// The pool for a service that must ride out restarts: a short acquire timeout, so that
/// requests fail fast while the server is down instead of piling up, and a ping before
/// each acquire (sqlx's default), so that connections the restart killed are replaced,
/// not used.
pub async fn resilient_pool(url: &str, size: u32) -> Result<MySqlPool> {
    MySqlPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(Duration::from_millis(500))
        .test_before_acquire(true)
        .connect(url)
        .await
        .map_err(|e| workbook::explain_connect_error(url, &e))
}
// ANCHOR_END: restart_pool

/// Step 5: `workers` tasks insert rows steadily; after `before`, the server is killed (as
/// a crash would), left down for `down`, restarted on the same port and data directory,
/// and the load goes on for `after` past the first success.
///
/// Only for a server the workbook started (a local one or a container): the shared
/// `workbook::server().await?`, or a private one from `Server::start_private` in an
/// `Arc`.
pub async fn server_restart<S>(
    server: S,
    url: &str,
    workers: usize,
    before: Duration,
    down: Duration,
    after: Duration,
) -> Result<RestartReport>
where
    S: Deref<Target = Server> + Clone + Send + Sync + 'static,
{
    let pool = resilient_pool(url, u32::try_from(workers)?).await?;
    sqlx::query("DELETE FROM lesson5_load")
        .execute(&pool)
        .await
        .context("cannot clear the load table")?;

    let stop = Arc::new(AtomicBool::new(false));
    let next_key = Arc::new(AtomicU64::new(1));
    let mut handles = Vec::new();
    for _ in 0..workers {
        let (pool, stop, next_key) = (pool.clone(), stop.clone(), next_key.clone());
        handles.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let key =
                    i64::try_from(next_key.fetch_add(1, Ordering::Relaxed)).unwrap_or(-1);
                let started = Instant::now();
                let outcome = sqlx::query("INSERT INTO lesson5_load (k) VALUES (?)")
                    .bind(key)
                    .execute(&pool)
                    .await
                    .map(|_| ())
                    .map_err(|e| classify(&e));
                seen.push(Request {
                    started,
                    finished: Instant::now(),
                    key,
                    outcome,
                });
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            seen
        }));
    }

    tokio::time::sleep(before).await;
    let to_kill = server.clone();
    tokio::task::spawn_blocking(move || to_kill.kill())
        .await
        .context("the task that kills the server failed")?
        .context("cannot kill the server")?;
    // The server is surely down from here: stopping a container takes a moment, and
    // requests started during that moment may still succeed.
    let killed_at = Instant::now();
    tokio::time::sleep(down).await;
    let restarting = Instant::now();
    let to_restart = server.clone();
    tokio::task::spawn_blocking(move || to_restart.restart())
        .await
        .context("the task that restarts the server failed")?
        .context("cannot restart the server")?;
    let restart_took = restarting.elapsed();

    // Let the load run until `after` has passed since the first success after the kill.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        tokio::time::sleep(after).await;
        if Instant::now() > deadline {
            break;
        }
        let probe = sqlx::query("SELECT 1").execute(&pool).await;
        if probe.is_ok() {
            tokio::time::sleep(after).await;
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut requests = Vec::new();
    for handle in handles {
        requests.extend(handle.await.context("a load task failed")?);
    }

    let recovered_at = requests
        .iter()
        // Started after the kill: a request in flight at the kill may still have
        // succeeded.
        .filter(|r| r.started > killed_at && r.outcome.is_ok())
        .map(|r| r.finished)
        .min()
        .context("no request succeeded after the restart")?;
    let mut report = RestartReport {
        outage: recovered_at - killed_at,
        restart_took,
        ..RestartReport::default()
    };
    let mut acknowledged = BTreeSet::new();
    for r in &requests {
        if r.outcome.is_ok() {
            acknowledged.insert(r.key);
        }
        if r.started >= recovered_at {
            match r.outcome {
                Ok(()) => report.ok_after += 1,
                Err(_) => report.failed_after += 1,
            }
        } else if r.finished < killed_at {
            if r.outcome.is_ok() {
                report.ok_before += 1;
            }
        } else if let Err(kind) = r.outcome {
            *report.failed_during_outage.entry(kind).or_default() += 1;
        }
    }
    let present: Vec<i64> = sqlx::query_scalar("SELECT k FROM lesson5_load")
        .fetch_all(&pool)
        .await
        .context("cannot read the load table")?;
    let present: BTreeSet<i64> = present.into_iter().collect();
    report.acknowledged = acknowledged.len() as u64;
    report.acknowledged_present = acknowledged.intersection(&present).count() as u64;
    pool.close().await;
    Ok(report)
}

// ---------------------------------------------------------------------------------------
// Step 6: stale connections
// ---------------------------------------------------------------------------------------

/// What 100 queries after an idle spell did on each pool.
#[derive(Debug, Clone)]
pub struct StaleReport {
    /// `@@GLOBAL.wait_timeout` before the step (restored afterwards).
    pub original_wait_timeout: u64,
    /// Queries run on each pool.
    pub queries: u32,
    /// Failures on a pool with neither guard, by kind.
    pub unguarded: BTreeMap<Failure, u64>,
    /// Failures with `test_before_acquire` only.
    pub tested: BTreeMap<Failure, u64>,
    /// Failures with `idle_timeout` and `max_lifetime` below `wait_timeout` only.
    pub retired: BTreeMap<Failure, u64>,
    /// Whether `wait_timeout` is back at its original value.
    pub restored: bool,
}

impl fmt::Display for StaleReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = |m: &BTreeMap<Failure, u64>| m.values().sum::<u64>();
        writeln!(
            f,
            "no guards:                        {} of {} queries failed ({})",
            count(&self.unguarded),
            self.queries,
            errors_by_kind(&self.unguarded)
        )?;
        writeln!(
            f,
            "test_before_acquire:              {} of {} queries failed",
            count(&self.tested),
            self.queries
        )?;
        writeln!(
            f,
            "idle_timeout 1 s, max_lifetime:   {} of {} queries failed",
            count(&self.retired),
            self.queries
        )?;
        write!(
            f,
            "wait_timeout restored to {}: {}",
            self.original_wait_timeout,
            if self.restored { "yes" } else { "no" }
        )
    }
}

// ANCHOR: stale_pools
/// Three pools of `size`: with neither guard, with a ping before each acquire, and with
/// idle connections retired before the server's `wait_timeout` (2 s in this step) closes
/// them.
async fn stale_pools(url: &str, size: u32) -> Result<[MySqlPool; 3]> {
    let base = || {
        MySqlPoolOptions::new()
            .max_connections(size)
            .acquire_timeout(Duration::from_secs(5))
            .idle_timeout(None)
            .max_lifetime(None)
    };
    let unguarded = base().test_before_acquire(false);
    let tested = base().test_before_acquire(true);
    let retired = base()
        .test_before_acquire(false)
        .idle_timeout(Duration::from_secs(1))
        .max_lifetime(Duration::from_secs(30 * 60));
    let mut pools = Vec::new();
    for options in [unguarded, tested, retired] {
        pools.push(
            options
                .connect(url)
                .await
                .map_err(|e| workbook::explain_connect_error(url, &e))?,
        );
    }
    pools
        .try_into()
        .map_err(|_| anyhow::anyhow!("three pools expected"))
}
// ANCHOR_END: stale_pools

/// Step 6: sets `wait_timeout` to 2 s server-wide, warms three pools, stays idle for
/// `idle`, then runs `queries` queries on each; restores `wait_timeout` whatever happens.
///
/// Changes a global setting: only for a server the workbook started.
pub async fn stale_connections(
    url: &str,
    idle: Duration,
    queries: u32,
) -> Result<StaleReport> {
    let mut admin = connect_one(url).await?;
    let original: u64 = sqlx::query_scalar("SELECT @@GLOBAL.wait_timeout")
        .fetch_one(&mut admin)
        .await
        .context("cannot read wait_timeout")?;
    sqlx::query("SET GLOBAL wait_timeout = 2")
        .execute(&mut admin)
        .await
        .context("cannot set wait_timeout")?;
    let outcome = stale_connections_inner(url, idle, queries).await;
    sqlx::query("SET GLOBAL wait_timeout = ?")
        .bind(original)
        .execute(&mut admin)
        .await
        .context("cannot restore wait_timeout")?;
    let now: u64 = sqlx::query_scalar("SELECT @@GLOBAL.wait_timeout")
        .fetch_one(&mut admin)
        .await
        .context("cannot read wait_timeout")?;
    admin.close().await.ok();
    let [unguarded, tested, retired] = outcome?;
    Ok(StaleReport {
        original_wait_timeout: original,
        queries,
        unguarded,
        tested,
        retired,
        restored: now == original,
    })
}

async fn stale_connections_inner(
    url: &str,
    idle: Duration,
    queries: u32,
) -> Result<[BTreeMap<Failure, u64>; 3]> {
    const SIZE: u32 = 5;
    let pools = stale_pools(url, SIZE).await?;
    // Open all five connections of each pool: hold them at once, then give them back.
    for pool in &pools {
        let mut held = Vec::new();
        for _ in 0..SIZE {
            held.push(pool.acquire().await?);
        }
    }
    tokio::time::sleep(idle).await;
    let mut results = Vec::new();
    for pool in &pools {
        let mut failures: BTreeMap<Failure, u64> = BTreeMap::new();
        for _ in 0..queries {
            if let Err(e) = sqlx::query("SELECT 1").execute(pool).await {
                *failures.entry(classify(&e)).or_default() += 1;
            }
        }
        results.push(failures);
        pool.close().await;
    }
    results
        .try_into()
        .map_err(|_| anyhow::anyhow!("three results expected"))
}

// ---------------------------------------------------------------------------------------
// Step 7: hostile input
// ---------------------------------------------------------------------------------------

/// Pieces that break hand-built SQL: quotes, backslashes, NUL, `LIKE` wildcards, comment
/// markers, control characters, 4-byte emoji, and an attempt to smuggle in a second row.
const PIECES: &[&str] = &[
    "'",
    "''",
    "\"",
    "\\",
    "\\'",
    "\0",
    "%",
    "_",
    "😀",
    "🦀",
    "𝄞",
    "é",
    "中",
    ";",
    "--",
    "/*",
    "*/",
    "#",
    "`",
    "\n",
    "\r",
    "\t",
    "\u{1a}",
    " ",
    "a",
    "Z",
    "7",
    "?",
    "$1",
    "NULL",
    " OR 1=1",
    "'), ('inlined', -1, '",
];

/// The longest `body` the table takes: `VARCHAR(50)` counts characters, not bytes.
pub const BODY_CHARS: usize = 50;

// ANCHOR: hostile_strings
/// `n` strings of 0 to 50 characters made of [`PIECES`], the same for the same `seed`.
/// The first two are the edges: the empty string and 50 four-byte emoji.
pub fn hostile_strings(n: usize, seed: u64) -> Vec<String> {
    use rand::rngs::StdRng;
    use rand::seq::IndexedRandom;
    use rand::{Rng, SeedableRng};

    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = vec![String::new(), "😀".repeat(BODY_CHARS)];
    while out.len() < n {
        let target = rng.random_range(1..=BODY_CHARS);
        let mut s = String::new();
        while s.chars().count() < target {
            let piece = PIECES.choose(&mut rng).copied().unwrap_or("a");
            s.push_str(piece);
        }
        out.push(s.chars().take(target).collect());
    }
    out.truncate(n);
    out
}
// ANCHOR_END: hostile_strings

/// How many strings went in and came back exactly, through one way of writing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundTrip {
    /// The library or method.
    pub via: &'static str,
    /// Strings written.
    pub written: usize,
    /// Strings read back byte for byte equal.
    pub exact: usize,
    /// Writes that failed, by kind.
    pub failed: BTreeMap<Failure, u64>,
    /// Rows that no string was meant to write (smuggled in by an input).
    pub smuggled: usize,
}

impl fmt::Display for RoundTrip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let failed: u64 = self.failed.values().sum();
        write!(
            f,
            "{:<24} {:>6} written, {:>6} exact, {:>5} failed, {:>3} smuggled rows",
            self.via, self.written, self.exact, failed, self.smuggled
        )?;
        if failed > 0 {
            write!(f, " ({})", errors_by_kind(&self.failed))?;
        }
        Ok(())
    }
}

/// What step 7 found.
#[derive(Debug, Clone)]
pub struct HostileReport {
    /// The session `sql_mode` the lesson's sqlx connections have.
    pub sql_mode: String,
    /// Whether it has `STRICT_TRANS_TABLES` or `STRICT_ALL_TABLES`.
    pub strict: bool,
    /// sqlx binds, sea-query, diesel, and the inlined control case.
    pub round_trips: Vec<RoundTrip>,
    /// Writing 50 and 51 characters through each library: what happened.
    pub edges: Vec<String>,
    /// What 51 characters did with `sql_mode` emptied on one session.
    pub not_strict: String,
}

impl fmt::Display for HostileReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "sql_mode: {}", self.sql_mode)?;
        writeln!(
            f,
            "strict (too long is an error, not a truncation): {}",
            if self.strict { "yes" } else { "no" }
        )?;
        for r in &self.round_trips {
            writeln!(f, "{r}")?;
        }
        for e in &self.edges {
            writeln!(f, "{e}")?;
        }
        write!(f, "{}", self.not_strict)
    }
}

/// Rows written at a time.
const CHUNK: usize = 500;

// ANCHOR: write_sqlx
/// Writes `strings` as rows (`via`, k, body) with sqlx's `QueryBuilder`: one multi-row
/// `INSERT` per chunk, every value a bind parameter.
pub async fn write_with_sqlx(
    pool: &MySqlPool,
    via: &str,
    strings: &[String],
) -> Result<(), sqlx::Error> {
    for (c, chunk) in strings.chunks(CHUNK).enumerate() {
        let mut insert = sqlx::QueryBuilder::<sqlx::MySql>::new(
            "INSERT INTO lesson5_strings (via, k, body) ",
        );
        insert.push_values(chunk.iter().enumerate(), |mut row, (i, body)| {
            let k = i32::try_from(c * CHUNK + i).unwrap_or(i32::MAX);
            row.push_bind(via).push_bind(k).push_bind(body.as_str());
        });
        insert.build().execute(pool).await?;
    }
    Ok(())
}
// ANCHOR_END: write_sqlx

/// sea-query's names for the strings table.
#[derive(sea_query::Iden)]
enum Strings {
    #[iden = "lesson5_strings"]
    Table,
    Via,
    K,
    Body,
}

// ANCHOR: write_sea_query
/// Writes `strings` with sea-query: the builder collects the values, and `build_sqlx`
/// hands them to sqlx as bind parameters.
pub async fn write_with_sea_query(pool: &MySqlPool, strings: &[String]) -> Result<()> {
    use sea_query::{MysqlQueryBuilder, Query};
    use sea_query_sqlx::SqlxBinder;

    for (c, chunk) in strings.chunks(CHUNK).enumerate() {
        let mut insert = Query::insert();
        insert.into_table(Strings::Table).columns([
            Strings::Via,
            Strings::K,
            Strings::Body,
        ]);
        for (i, body) in chunk.iter().enumerate() {
            let k = i32::try_from(c * CHUNK + i)?;
            insert.values(["sea-query".into(), k.into(), body.as_str().into()])?;
        }
        let (sql, values) = insert.build_sqlx(MysqlQueryBuilder);
        sqlx::query_with(AssertSqlSafe(sql), values)
            .execute(pool)
            .await?;
    }
    Ok(())
}
// ANCHOR_END: write_sea_query

// ANCHOR: write_diesel
/// Writes `strings` with diesel-async: a batch `insert_into(...).values(&rows)`.
pub async fn write_with_diesel(
    conn: &mut diesel_async::AsyncMysqlConnection,
    strings: &[String],
) -> Result<(), diesel::result::Error> {
    use diesel::{ExpressionMethods, insert_into};
    use diesel_async::RunQueryDsl;
    use schema::lesson5_strings::dsl;

    for (c, chunk) in strings.chunks(CHUNK).enumerate() {
        let rows: Vec<_> = chunk
            .iter()
            .enumerate()
            .map(|(i, body)| {
                let k = i32::try_from(c * CHUNK + i).unwrap_or(i32::MAX);
                (
                    dsl::via.eq("diesel"),
                    dsl::k.eq(k),
                    dsl::body.eq(body.as_str()),
                )
            })
            .collect();
        insert_into(dsl::lesson5_strings)
            .values(&rows)
            .execute(conn)
            .await?;
    }
    Ok(())
}
// ANCHOR_END: write_diesel

// ANCHOR: write_inlined
/// The control case, never to be copied: each string pasted into the SQL text between
/// quotes.
pub async fn write_inlined(
    pool: &MySqlPool,
    strings: &[String],
) -> Result<BTreeMap<Failure, u64>> {
    let mut failed: BTreeMap<Failure, u64> = BTreeMap::new();
    // One transaction around them all, only to spare a disk flush per row; a failed
    // statement undoes only itself.
    let mut tx = pool.begin().await?;
    for (k, body) in strings.iter().enumerate() {
        let sql = format!(
            "INSERT INTO lesson5_strings (via, k, body) VALUES ('inlined', {k}, '{body}')"
        );
        // `persistent(false)`: ten thousand one-off statements must not fill the
        // statement cache.
        let done = sqlx::query(AssertSqlSafe(sql))
            .persistent(false)
            .execute(&mut *tx)
            .await;
        if let Err(e) = done {
            *failed.entry(classify(&e)).or_default() += 1;
        }
    }
    tx.commit().await?;
    Ok(failed)
}
// ANCHOR_END: write_inlined

async fn read_back_sqlx(pool: &MySqlPool, via: &str) -> Result<Vec<(i32, String)>> {
    let rows = sqlx::query_as(
        "SELECT k, body FROM lesson5_strings WHERE via = ? ORDER BY k, id",
    )
    .bind(via)
    .fetch_all(pool)
    .await
    .context("cannot read the strings back")?;
    Ok(rows)
}

async fn read_back_sea_query(pool: &MySqlPool) -> Result<Vec<(i32, String)>> {
    use sea_query::{Expr, ExprTrait, MysqlQueryBuilder, Order, Query};
    use sea_query_sqlx::SqlxBinder;
    let (sql, values) = Query::select()
        .columns([Strings::K, Strings::Body])
        .from(Strings::Table)
        .and_where(Expr::col(Strings::Via).eq("sea-query"))
        .order_by(Strings::K, Order::Asc)
        .build_sqlx(MysqlQueryBuilder);
    let rows = sqlx::query_as_with(AssertSqlSafe(sql), values)
        .fetch_all(pool)
        .await
        .context("cannot read the strings back")?;
    Ok(rows)
}

async fn read_back_diesel(
    conn: &mut diesel_async::AsyncMysqlConnection,
) -> Result<Vec<(i32, String)>> {
    use diesel::{ExpressionMethods, QueryDsl};
    use diesel_async::RunQueryDsl;
    use schema::lesson5_strings::dsl;
    let rows = dsl::lesson5_strings
        .filter(dsl::via.eq("diesel"))
        .order(dsl::k.asc())
        .select((dsl::k, dsl::body))
        .load::<(i32, String)>(conn)
        .await
        .context("cannot read the strings back")?;
    Ok(rows)
}

fn compare(
    via: &'static str,
    strings: &[String],
    rows: &[(i32, String)],
    failed: BTreeMap<Failure, u64>,
) -> RoundTrip {
    let mut exact = 0;
    let mut smuggled = 0;
    for (k, body) in rows {
        match usize::try_from(*k).ok().and_then(|k| strings.get(k)) {
            Some(expected) if expected == body => exact += 1,
            Some(_) => {}
            None => smuggled += 1,
        }
    }
    RoundTrip {
        via,
        written: strings.len(),
        exact,
        failed,
        smuggled,
    }
}

async fn diesel_connect(url: &str) -> Result<diesel_async::AsyncMysqlConnection> {
    use diesel_async::AsyncConnection;
    diesel_async::AsyncMysqlConnection::establish(url)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "diesel cannot connect to {}: {}",
                workbook::redact(url),
                workbook::redact_text(&e.to_string())
            )
        })
}

// ANCHOR: sql_mode
/// The session's `sql_mode`, and whether it is strict: only then is a too-long value an
/// error rather than a warning and a silently cut string.
pub async fn strict_mode(pool: &MySqlPool) -> Result<(String, bool)> {
    let mode: String = sqlx::query_scalar("SELECT @@SESSION.sql_mode")
        .fetch_one(pool)
        .await
        .context("cannot read sql_mode")?;
    let strict = mode
        .split(',')
        .any(|m| m == "STRICT_TRANS_TABLES" || m == "STRICT_ALL_TABLES");
    Ok((mode, strict))
}
// ANCHOR_END: sql_mode

/// Step 7: `n` generated strings through sqlx binds, sea-query, diesel and, as the
/// control case, pasted into the SQL text; then 50 and 51 characters through each
/// library.
pub async fn hostile_input(
    pool: &MySqlPool,
    url: &str,
    n: usize,
) -> Result<HostileReport> {
    let (sql_mode, strict) = strict_mode(pool).await?;
    if !strict {
        bail!(
            "this server's sql_mode ({sql_mode}) is not strict, so too-long strings would be \
             cut silently: add STRICT_TRANS_TABLES to it (MySQL 8 and MariaDB 10.2+ have it by \
             default)"
        );
    }
    sqlx::query("DELETE FROM lesson5_strings")
        .execute(pool)
        .await
        .context("cannot clear the strings")?;
    let strings = hostile_strings(n, 5);
    let mut diesel_conn = diesel_connect(url).await?;
    let mut round_trips = Vec::new();

    let failed = tally_one(write_with_sqlx(pool, "sqlx", &strings).await.err().as_ref());
    let rows = read_back_sqlx(pool, "sqlx").await?;
    round_trips.push(compare("sqlx binds", &strings, &rows, failed));

    let failed = match write_with_sea_query(pool, &strings).await {
        Ok(()) => BTreeMap::new(),
        Err(e) => tally_one(e.downcast_ref::<sqlx::Error>()),
    };
    let rows = read_back_sea_query(pool).await?;
    round_trips.push(compare("sea-query", &strings, &rows, failed));

    let mut failed = BTreeMap::new();
    if write_with_diesel(&mut diesel_conn, &strings).await.is_err() {
        failed.insert(Failure::Other, 1);
    }
    let rows = read_back_diesel(&mut diesel_conn).await?;
    round_trips.push(compare("diesel", &strings, &rows, failed));

    let failed = write_inlined(pool, &strings).await?;
    let rows = read_back_sqlx(pool, "inlined").await?;
    round_trips.push(compare("inlined (control case)", &strings, &rows, failed));

    let edges = length_edges(pool, &mut diesel_conn).await?;
    let not_strict = not_strict(url).await?;
    sqlx::query("DELETE FROM lesson5_strings")
        .execute(pool)
        .await
        .context("cannot clear the strings")?;
    Ok(HostileReport {
        sql_mode,
        strict,
        round_trips,
        edges,
        not_strict,
    })
}

fn tally_one(err: Option<&sqlx::Error>) -> BTreeMap<Failure, u64> {
    err.map(|e| BTreeMap::from([(classify(e), 1)]))
        .unwrap_or_default()
}

// ANCHOR: length_edges
async fn length_edges(
    pool: &MySqlPool,
    diesel_conn: &mut diesel_async::AsyncMysqlConnection,
) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    for chars in [BODY_CHARS, BODY_CHARS + 1] {
        let body = vec!["😀".repeat(chars)];
        let sqlx_said = match write_with_sqlx(pool, "edge", &body).await {
            Ok(()) => "stored".to_owned(),
            Err(e) => format!("{:?}: {e}", classify(&e)),
        };
        let sea_said = match write_with_sea_query(pool, &body).await {
            Ok(()) => "stored".to_owned(),
            Err(e) => match e.downcast_ref::<sqlx::Error>() {
                Some(e) => format!("{:?}", classify(e)),
                None => e.to_string(),
            },
        };
        let diesel_said = match write_with_diesel(diesel_conn, &body).await {
            Ok(()) => "stored".to_owned(),
            Err(e) => format!("error: {e}"),
        };
        lines.push(format!("{chars} emoji with sqlx: {sqlx_said}"));
        lines.push(format!("{chars} emoji with sea-query: {sea_said}"));
        lines.push(format!("{chars} emoji with diesel: {diesel_said}"));
    }
    Ok(lines)
}
// ANCHOR_END: length_edges

/// What 51 characters do on one session whose `sql_mode` is emptied (and closed after).
async fn not_strict(url: &str) -> Result<String> {
    let mut conn = connect_one(url).await?;
    sqlx::query("SET SESSION sql_mode = ''")
        .execute(&mut conn)
        .await?;
    let done =
        sqlx::query("INSERT INTO lesson5_strings (via, k, body) VALUES ('loose', 0, ?)")
            .bind("x".repeat(BODY_CHARS + 1))
            .execute(&mut conn)
            .await;
    let line = match done {
        Ok(_) => {
            // NOTE: MySQL refuses to prepare `SELECT @@warning_count` (error 1295), and
            // sqlx prepares every `query`; `raw_sql` sends it as plain text, which both
            // servers take.
            let row = sqlx::raw_sql("SELECT @@warning_count")
                .fetch_one(&mut conn)
                .await?;
            let warnings: u64 = row.try_get(0)?;
            let stored: i64 = sqlx::query_scalar(
                "SELECT CHAR_LENGTH(body) FROM lesson5_strings WHERE via = 'loose'",
            )
            .fetch_one(&mut conn)
            .await?;
            format!(
                "with sql_mode = '' on one session, 51 characters: no error, {warnings} warning, \
                 {stored} characters stored"
            )
        }
        Err(e) => format!("with sql_mode = '' on one session, 51 characters: {e}"),
    };
    sqlx::query("DELETE FROM lesson5_strings WHERE via = 'loose'")
        .execute(&mut conn)
        .await?;
    conn.close().await.ok();
    Ok(line)
}

// ---------------------------------------------------------------------------------------
// Step 8: runaway queries
// ---------------------------------------------------------------------------------------

/// Which server the lesson talks to, from `SELECT VERSION()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    /// MariaDB: `VERSION()` says `...-MariaDB...`.
    MariaDb,
    /// Oracle's MySQL.
    MySql,
}

/// Tells MariaDB from MySQL by `VERSION()`.
pub async fn server_kind(pool: &MySqlPool) -> Result<(ServerKind, String)> {
    let version = workbook::server_version(pool).await?;
    let kind = if version.contains("MariaDB") {
        ServerKind::MariaDb
    } else {
        ServerKind::MySql
    };
    Ok((kind, version))
}

// ANCHOR: statement_timeout
/// `select` with a server-side time limit of `limit_ms`, in the dialect of `kind`.
///
/// NOTE: MySQL has the optimizer hint `MAX_EXECUTION_TIME(ms)`, for `SELECT` only;
/// MariaDB ignores that hint (to it, a comment) and has `SET STATEMENT max_statement_time
/// = <seconds> FOR ...` instead, which works for any statement.
pub fn with_time_limit(kind: ServerKind, select: &str, limit_ms: u64) -> Result<String> {
    let Some(rest) = select.trim_start().strip_prefix("SELECT ") else {
        bail!("only a SELECT can be given a time limit here: {select}");
    };
    Ok(match kind {
        ServerKind::MySql => {
            format!("SELECT /*+ MAX_EXECUTION_TIME({limit_ms}) */ {rest}")
        }
        ServerKind::MariaDb => format!(
            "SET STATEMENT max_statement_time = {}.{:03} FOR SELECT {rest}",
            limit_ms / 1000,
            limit_ms % 1000
        ),
    })
}
// ANCHOR_END: statement_timeout

/// What step 8 saw.
#[derive(Debug, Clone)]
pub struct RunawayReport {
    /// MariaDB or MySQL.
    pub kind: ServerKind,
    /// `VERSION()`.
    pub version: String,
    /// The runaway query as sent, with its time limit.
    pub runaway_sql: String,
    /// What the runaway query returned.
    pub runaway: Result<i64, Provoked>,
    /// How long until the server stopped it.
    pub stopped_after: Duration,
    /// A quick query under the same limit.
    pub quick: Result<i64, Provoked>,
}

impl fmt::Display for RunawayReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (server, how) = match self.kind {
            ServerKind::MariaDb => {
                ("MariaDB", "SET STATEMENT max_statement_time = s FOR ...")
            }
            ServerKind::MySql => {
                ("MySQL", "the optimizer hint /*+ MAX_EXECUTION_TIME(ms) */")
            }
        };
        writeln!(
            f,
            "server: {} ({server}), so the limit is {how}",
            self.version
        )?;
        writeln!(f, "{}", self.runaway_sql)?;
        match &self.runaway {
            Ok(n) => writeln!(f, "  finished: {n} (no time limit took effect)")?,
            Err(p) => writeln!(
                f,
                "  stopped by the server after {:.1} s: {} -> {:?}",
                self.stopped_after.as_secs_f64(),
                p.message,
                p.failure
            )?,
        }
        match &self.quick {
            Ok(n) => write!(f, "a 1,000-row join under the same limit: {n}"),
            Err(p) => write!(
                f,
                "a 1,000-row join under the same limit failed: {}",
                p.message
            ),
        }
    }
}

/// Step 8: a count over a billion-row cross join, stopped by a 500 ms statement time
/// limit; then a small join under the same limit, which finishes.
pub async fn runaway_query(pool: &MySqlPool) -> Result<RunawayReport> {
    sqlx::query(
        "INSERT IGNORE INTO lesson5_digits (d) VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)",
    )
    .execute(pool)
    .await
    .context("cannot fill the digits table")?;
    let (kind, version) = server_kind(pool).await?;
    // NOTE: MySQL 9 counts a bare cross join without visiting its rows (a billion in 0.3
    // s); the WHERE clause makes it look at every one, as a real runaway query would.
    let runaway = "SELECT COUNT(*) FROM lesson5_digits a, lesson5_digits b, lesson5_digits c, \
                   lesson5_digits d, lesson5_digits e, lesson5_digits f, lesson5_digits g, \
                   lesson5_digits h, lesson5_digits i \
                   WHERE a.d + b.d + c.d + d.d + e.d + f.d + g.d + h.d + i.d >= 0";
    let quick = "SELECT COUNT(*) FROM lesson5_digits a, lesson5_digits b, lesson5_digits c \
                 WHERE a.d + b.d + c.d >= 0";
    let runaway_sql = with_time_limit(kind, runaway, 500)?;
    let started = Instant::now();
    let runaway_result = count(pool, &runaway_sql).await;
    let stopped_after = started.elapsed();
    let quick_result = count(pool, &with_time_limit(kind, quick, 500)?).await;
    Ok(RunawayReport {
        kind,
        version,
        runaway_sql,
        runaway: runaway_result,
        stopped_after,
        quick: quick_result,
    })
}

async fn count(pool: &MySqlPool, sql: &str) -> Result<i64, Provoked> {
    sqlx::query_scalar(AssertSqlSafe(sql.to_owned()))
        .fetch_one(pool)
        .await
        .map_err(|e| Provoked {
            message: e.to_string(),
            number: mysql_error_number(&e),
            failure: classify(&e),
            earlier_write_survived: None,
        })
}
