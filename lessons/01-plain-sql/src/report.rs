//! What each step reports: plain data, printed as the lines the book shows. Nothing here
//! is part of the lesson's teaching; the tests assert on the fields.

use std::fmt;
use std::time::Duration;

use crate::s3_schema::Customer;
use crate::s6_transactions::BothOrNeither;
use crate::s7_streaming::StreamSummary;

/// Step 1: the pool's settings, as the pool reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connected {
    /// The database the pool's URL names.
    pub database: String,
    /// `min_connections`.
    pub min_connections: u32,
    /// `max_connections`.
    pub max_connections: u32,
    /// `acquire_timeout`.
    pub acquire_timeout: Duration,
    /// `max_lifetime`, if any.
    pub max_lifetime: Option<Duration>,
    /// `idle_timeout`, if any.
    pub idle_timeout: Option<Duration>,
    /// `test_before_acquire`.
    pub test_before_acquire: bool,
    /// The session time zone on a pool whose `after_connect` hook sets it.
    pub time_zone_with_events: String,
}

impl fmt::Display for Connected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let minutes = |d: Option<Duration>| {
            d.map_or("never".to_owned(), |d| format!("{} min", d.as_secs() / 60))
        };
        writeln!(f, "connected to database `{}`", self.database)?;
        write!(
            f,
            "pool: {} to {} connections, acquire_timeout {} s, max_lifetime {}, \
             idle_timeout {}, test_before_acquire {}",
            self.min_connections,
            self.max_connections,
            self.acquire_timeout.as_secs(),
            minutes(self.max_lifetime),
            minutes(self.idle_timeout),
            self.test_before_acquire,
        )?;
        write!(
            f,
            "\na pool with an after_connect hook: session time_zone {}",
            self.time_zone_with_events
        )
    }
}

/// Step 2: the server's `VERSION()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version(pub String);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Step 3: the customers, by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customers(pub Vec<Customer>);

impl fmt::Display for Customers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(|c| format!("{c:?}")).collect();
        write!(f, "{}", lines.join("\n"))
    }
}

/// Step 4: what each way of reading returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queries {
    /// `fetch_all` of the backend developers.
    pub developers: Vec<Customer>,
    /// `fetch_one` of Lynn.
    pub lynn: Customer,
    /// `fetch_optional` of Lynn's id.
    pub found: Option<Customer>,
    /// `fetch_optional` of id -1.
    pub missing: Option<Customer>,
    /// `query_scalar` of `COUNT(*)`.
    pub count: i64,
}

impl fmt::Display for Queries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "fetch_all, job = 'Backend Developer': {:?}",
            self.developers
        )?;
        writeln!(f, "fetch_one, name = 'Lynn': {:?}", self.lynn)?;
        writeln!(f, "fetch_optional, Lynn's id: {:?}", self.found)?;
        writeln!(f, "fetch_optional, id = -1: {:?}", self.missing)?;
        write!(f, "query_scalar, COUNT(*): {}", self.count)
    }
}

/// Step 5: what each write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Writes {
    /// The name read back by the id `last_insert_id()` gave.
    pub ada_name: Option<String>,
    /// `rows_affected()` of the first UPDATE.
    pub updated: u64,
    /// `rows_affected()` of the same UPDATE again.
    pub updated_again: u64,
    /// The hostile name, read back.
    pub hostile_stored: Option<String>,
    /// Customers in the table with both new rows in it.
    pub customers_after: i64,
    /// The names, sorted by name, descending.
    pub sorted_by_name_desc: Vec<String>,
    /// Rows the two DELETEs removed.
    pub deleted: u64,
}

impl fmt::Display for Writes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let round_trips = self.hostile_stored.as_deref() == Some(crate::HOSTILE_NAME);
        writeln!(
            f,
            "inserted; last_insert_id() is the id of {:?}",
            self.ada_name
        )?;
        writeln!(
            f,
            "UPDATE ... SET job = 'Programmer': rows_affected() = {}",
            self.updated
        )?;
        writeln!(
            f,
            "the same UPDATE again, nothing to change: rows_affected() = {}",
            self.updated_again
        )?;
        writeln!(
            f,
            "bound, the hostile name is stored verbatim: {:?}",
            self.hostile_stored
        )?;
        writeln!(
            f,
            "it round-trips exactly: {round_trips}; the table is still there: {} customers",
            self.customers_after
        )?;
        writeln!(
            f,
            "AssertSqlSafe, ORDER BY name DESC: {:?}",
            self.sorted_by_name_desc
        )?;
        write!(f, "DELETE both by id: rows_affected() = {}", self.deleted)
    }
}

/// Step 6: a transaction that commits, one that rolls back, one that is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transactions {
    /// Rows named Grace Hopper and Margaret Hamilton after the commit.
    pub committed_rows: [i64; 2],
    /// What the transaction with a taken name did.
    pub failed: BothOrNeither,
    /// Rows named Katherine Johnson after its rollback.
    pub after_rollback: i64,
    /// Rows named Hedy Lamarr inside the dropped transaction.
    pub seen_inside: i64,
    /// Rows named Hedy Lamarr after the drop, on the same connection.
    pub seen_after_drop: i64,
    /// Rows named Barbara Liskov (kept) and Frances Allen (rolled back to the savepoint).
    pub savepoint: [i64; 2],
    /// The two counts of a REPEATABLE READ transaction, with an insert committed between.
    pub repeatable_read: [i64; 2],
    /// The same under READ COMMITTED.
    pub read_committed: [i64; 2],
}

impl fmt::Display for Transactions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [grace, margaret] = self.committed_rows;
        writeln!(
            f,
            "committed: Grace Hopper {grace} row, Margaret Hamilton {margaret} row"
        )?;
        writeln!(f, "the second insert hit a duplicate: {:?}", self.failed)?;
        writeln!(
            f,
            "rows named Katherine Johnson after the rollback: {}",
            self.after_rollback
        )?;
        write!(
            f,
            "dropped without commit: Hedy Lamarr seen {} time(s) inside, {} after the drop",
            self.seen_inside, self.seen_after_drop
        )?;
        let [kept, undone] = self.savepoint;
        writeln!(
            f,
            "\nnested transaction rolled back: Barbara Liskov {kept} row, Frances Allen {undone}"
        )?;
        let [rr1, rr2] = self.repeatable_read;
        let [rc1, rc2] = self.read_committed;
        writeln!(
            f,
            "customers counted twice, another connection inserting between:"
        )?;
        writeln!(f, "  REPEATABLE READ: {rr1} then {rr2}")?;
        write!(f, "  READ COMMITTED:  {rc1} then {rc2}")
    }
}

/// Step 7: the rows seeded, and what the stream saw.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Streamed {
    /// Rows named `stream-*` in `bench_customers`.
    pub seeded: i64,
    /// What the stream saw.
    pub summary: StreamSummary,
}

impl fmt::Display for Streamed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "bench_customers holds {} rows named stream-*",
            self.seeded
        )?;
        writeln!(f, "streamed {} rows, one at a time", self.summary.rows)?;
        for (job, rows) in &self.summary.by_job {
            writeln!(f, "  {job}: {rows}")?;
        }
        write!(f, "last row: {}", self.summary.last_name)
    }
}

/// Step 8: what the checked queries returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// `query_as!` of Lynn.
    pub lynn: Option<Customer>,
    /// `query!` of the customers per job.
    pub jobs: Vec<(Option<String>, i64)>,
}

impl fmt::Display for Checked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "query_as!: {:?}", self.lynn)?;
        write!(f, "query!: {:?}", self.jobs)
    }
}

/// Step 9: whether the pool is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed(pub bool);

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pool.close().await: closed = {}", self.0)
    }
}
