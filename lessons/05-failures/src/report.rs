//! What each step reports: plain data, printed as the lines the book shows. Nothing here
//! is part of the lesson's teaching; the tests assert on the fields.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::s1_duplicates::{Failure, classify, mysql_error_number};
use crate::s2_lost_updates::Increment;
use crate::s8_runaway::ServerKind;

/// `Kind n, Kind n` for errors counted by kind, or `none`.
fn errors_by_kind<N: fmt::Display>(errors: &BTreeMap<Failure, N>) -> String {
    if errors.is_empty() {
        return "none".to_owned();
    }
    errors
        .iter()
        .map(|(kind, n)| format!("{kind:?} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// One error the database returned, as step 1 prints it.
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

/// A SeaORM error as SeaORM words it, and what `sql_err()` makes of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeaOrmError {
    /// The `DbErr`'s `Display`.
    pub message: String,
    /// `DbErr::sql_err()`.
    pub sql_err: Option<sea_orm::SqlErr>,
}

/// Step 1: a duplicate name through sqlx, diesel and SeaORM, and the errors classified.
#[derive(Debug)]
pub struct DuplicatesReport {
    /// The first insert of a new name.
    pub first_insert_ok: bool,
    /// The second insert of the same name, through sqlx.
    pub sqlx_second: Result<(), String>,
    /// Whether that was [`crate::CustomerError::NameTaken`].
    pub sqlx_name_taken: bool,
    /// The same insert through diesel.
    pub diesel_second: Result<(), String>,
    /// Whether that was [`crate::CustomerError::NameTaken`].
    pub diesel_name_taken: bool,
    /// The same insert through SeaORM.
    pub sea_orm_second: Result<(), String>,
    /// Whether that was [`crate::CustomerError::NameTaken`].
    pub sea_orm_name_taken: bool,
    /// The duplicate's `DbErr`, whole.
    pub sea_orm_error: SeaOrmError,
    /// The errors provoked on purpose, classified.
    pub classified: Vec<Classified>,
}

impl fmt::Display for DuplicatesReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |r: &Result<(), String>| match r {
            Ok(()) => "Ok".to_owned(),
            Err(e) => format!("Err({e})"),
        };
        let first = if self.first_insert_ok { "Ok" } else { "failed" };
        writeln!(f, "add_customer(\"Ada\") with sqlx, first time: {first}")?;
        let (sqlx, diesel) = (show(&self.sqlx_second), show(&self.diesel_second));
        writeln!(f, "add_customer(\"Ada\") with sqlx, again:      {sqlx}")?;
        writeln!(f, "add_customer_diesel(\"Ada\"), again:         {diesel}")?;
        let sea_orm = show(&self.sea_orm_second);
        writeln!(f, "add_customer_sea_orm(\"Ada\"), again:        {sea_orm}")?;
        writeln!(f)?;
        let seen = &self.sea_orm_error;
        writeln!(f, "SeaORM's DbErr: {}", seen.message)?;
        writeln!(f, "its sql_err():  {:?}", seen.sql_err)?;
        writeln!(f)?;
        write!(
            f,
            "{:<44} {:>5}  {:<6} classified as",
            "provoked on purpose", "errno", "state"
        )?;
        for c in &self.classified {
            write!(f, "\n{c}")?;
        }
        Ok(())
    }
}

/// What one way of incrementing did under contention (step 2).
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
        let how = match self.how {
            Increment::ReadThenWrite => "SELECT n, then UPDATE SET n = ?",
            Increment::SelectForUpdate => "SELECT n FOR UPDATE, then UPDATE",
            Increment::AtomicUpdate => "UPDATE SET n = n + 1",
        };
        write!(
            f,
            "{how:<34} expected {}, got {}, lost {}",
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

/// Step 2: the three ways of incrementing, side by side.
#[derive(Debug, Clone)]
pub struct LostUpdates {
    /// Tasks for each way.
    pub tasks: usize,
    /// Increments per task.
    pub per_task: usize,
    /// Read-then-write, `SELECT ... FOR UPDATE`, and the atomic update, in that order.
    pub ways: [CounterReport; 3],
}

impl fmt::Display for LostUpdates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "for each way: {} tasks x {} increments of a counter, on 10 connections",
            self.tasks, self.per_task
        )?;
        for way in &self.ways {
            write!(f, "\n{way}")?;
        }
        Ok(())
    }
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
    /// What the failed transaction still saw of its own earlier write (lock-wait
    /// timeout only).
    pub earlier_write_survived: Option<bool>,
}

impl Provoked {
    /// `err`, classified, with what the transaction saw of its earlier write, if asked.
    pub fn from_error(err: &sqlx::Error, earlier_write_survived: Option<bool>) -> Self {
        Provoked {
            message: err.to_string(),
            number: mysql_error_number(err),
            failure: classify(err),
            earlier_write_survived,
        }
    }
}

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
        let (committed, attempted) = (self.committed, self.attempted);
        writeln!(f, "transfers committed: {committed} of {attempted}")?;
        writeln!(f, "deadlocks (1213) retried: {}", self.deadlocks)?;
        let timeouts = self.lock_wait_timeouts;
        writeln!(f, "lock-wait timeouts (1205) retried: {timeouts}")?;
        writeln!(f, "most retries of one transfer: {}", self.max_retries)?;
        writeln!(f, "failed after retrying: {}", errors_by_kind(&self.failed))?;
        let ((a, b), (x, y)) = (self.balances, self.expected_balances);
        write!(f, "balances: {a} and {b} (expected {x} and {y})")
    }
}

/// Step 3: a deadlock and a lock-wait timeout on purpose, then transfers with retries.
#[derive(Debug, Clone)]
pub struct Deadlocks {
    /// The deadlock (1213).
    pub deadlock: Provoked,
    /// The lock-wait timeout (1205).
    pub timeout: Provoked,
    /// `@@innodb_rollback_on_timeout`.
    pub rollback_on_timeout: bool,
    /// The transfers in opposite order.
    pub transfers: DeadlockReport,
}

impl fmt::Display for Deadlocks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (deadlock, timeout) = (&self.deadlock, &self.timeout);
        writeln!(f, "one deadlock on purpose: {}", deadlock.message)?;
        writeln!(
            f,
            "  -> {:?}: InnoDB rolled back the whole transaction",
            deadlock.failure
        )?;
        writeln!(f, "one lock-wait timeout on purpose: {}", timeout.message)?;
        writeln!(
            f,
            "  -> {:?}: the transaction's earlier UPDATE survived: {}",
            timeout.failure,
            yes_no(timeout.earlier_write_survived == Some(true))
        )?;
        let on = if self.rollback_on_timeout {
            "ON"
        } else {
            "OFF"
        };
        writeln!(f, "innodb_rollback_on_timeout: {on}")?;
        writeln!(
            f,
            "two tasks x {} transfers, locking accounts in opposite order, with retries:",
            self.transfers.attempted / 2
        )?;
        write!(f, "{}", self.transfers)
    }
}

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
        writeln!(f, "errors: {}", errors_by_kind(&self.errors))?;
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
            "rows in the table: {} (acknowledged + unknown committed + late committed \
             = {})",
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
        write!(f, "the pool still serves: {}", yes_no(self.pool_serves))?;
        if self.close_hung {
            write!(
                f,
                "\npool.close() had not finished after 5 s: a connection never came back"
            )?;
        }
        Ok(())
    }
}

/// The library whose `begin()` step 4 cancels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Library {
    /// sqlx's `Connection::begin`.
    Sqlx,
    /// SeaORM's `TransactionTrait::begin`, on the same kind of pool.
    SeaOrm,
}

/// What the deliberately cancelled `begin()` left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CancelledBegin {
    /// Whose `begin()` was cancelled.
    pub library: Library,
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
        let pool = if self.guarded {
            "with the after_release guard:"
        } else {
            "plain pool:"
        };
        write!(
            f,
            "{pool:<26} open transactions {}, autocommit INSERT visible to others: {}, \
             kept after close: {}",
            self.open_transactions,
            yes_no(self.visible_to_others),
            yes_no(self.kept_after_close)
        )
    }
}

/// What a SeaORM transaction dropped halfway left behind (step 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DroppedTransaction {
    /// Rows of the dropped transaction in the table afterwards (it had written one of
    /// its two).
    pub rows_left: i64,
    /// Whether the next user of the pool got the connection the transaction had.
    pub same_connection: bool,
    /// `ROLLBACK` statements that connection ran between the cancellation and the next
    /// user (the session's `Com_rollback`).
    pub rollbacks: u64,
    /// Open InnoDB transactions on it, seen from another connection, while the next user
    /// held it.
    pub open_transactions: i64,
    /// Whether another connection saw the next user's autocommit `INSERT` at once.
    pub next_insert_visible: bool,
}

impl fmt::Display for DroppedTransaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "a transaction dropped by its timeout between its two INSERTs, on SeaORM's \
             own pool of 1:"
        )?;
        writeln!(
            f,
            "rows it left: {} (it had written 1 of 2)",
            self.rows_left
        )?;
        writeln!(
            f,
            "the next user got the same connection: {}, on which {} ROLLBACK had run \
             since",
            yes_no(self.same_connection),
            self.rollbacks
        )?;
        write!(
            f,
            "open transactions on it: {}, the next user's autocommit INSERT visible to \
             others: {}",
            self.open_transactions,
            yes_no(self.next_insert_visible)
        )
    }
}

/// Step 4: a `begin()` cancelled on purpose, the rounds two ways, and SeaORM.
#[derive(Debug, Clone)]
pub struct Cancellations {
    /// The cancelled `begin()`, through sqlx and SeaORM, on a plain pool and on a
    /// guarded one.
    pub begins: Vec<CancelledBegin>,
    /// Rounds for each way.
    pub rounds: u32,
    /// The largest random timeout of a round.
    pub max_timeout: Duration,
    /// With the future dropped at the timeout.
    pub dropped: CancellationReport,
    /// With the work in a task of its own, only the waiting timed out.
    pub detached: CancellationReport,
    /// A SeaORM transaction dropped halfway.
    pub sea_orm: DroppedTransaction,
}

impl Cancellations {
    /// The cancelled `begin()` lines of one library.
    fn begins_of(&self, library: Library, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for seen in self.begins.iter().filter(|b| b.library == library) {
            writeln!(f, "a begin() cancelled after BEGIN was sent, {seen}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Cancellations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.begins_of(Library::Sqlx, f)?;
        writeln!(
            f,
            "{} rounds of begin / insert / commit under a random 0-{} ms timeout, \
             pool of 1:",
            self.rounds,
            self.max_timeout.as_millis()
        )?;
        writeln!(f, "{}", self.dropped)?;
        writeln!(
            f,
            "the same, with the transaction in its own task and only the waiting timed \
             out:"
        )?;
        writeln!(f, "{}", self.detached)?;
        writeln!(f, "SeaORM:")?;
        self.begins_of(Library::SeaOrm, f)?;
        write!(f, "{}", self.sea_orm)
    }
}

/// What the load saw while the server was killed and restarted (step 5).
#[derive(Debug, Clone, Default)]
pub struct RestartReport {
    /// Requests that succeeded before the kill.
    pub ok_before: u64,
    /// Requests that failed between the kill and the first success after it, by kind.
    pub failed_during_outage: BTreeMap<Failure, u64>,
    /// From the kill to the first successful request after it.
    pub outage: Duration,
    /// How long the restart took (the server's crash recovery and start-up).
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

/// Step 5: the restart, or why it did not run.
#[derive(Debug, Clone)]
pub enum Restart {
    /// The server came from `DATABASE_URL`: killing it would cut off its other users.
    Skipped,
    /// The server was killed mid-load and restarted.
    Ran(RestartReport),
}

impl fmt::Display for Restart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Restart::Skipped => write!(
                f,
                "skipped: this server came from DATABASE_URL, and killing it would cut \
                 off its other users"
            ),
            Restart::Ran(report) => write!(
                f,
                "killing the server the workbook started, mid-load, then restarting \
                 it\n{report}"
            ),
        }
    }
}

/// What the queries after an idle spell did on each pool (step 6).
#[derive(Debug, Clone)]
pub struct StaleReport {
    /// The `wait_timeout` set for the step, in seconds.
    pub wait_timeout: u64,
    /// How long the pools sat idle.
    pub idle: Duration,
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
        let queries = self.queries;
        writeln!(
            f,
            "SET GLOBAL wait_timeout = {}, idle for {} s, then {queries} queries on each \
             pool:",
            self.wait_timeout,
            self.idle.as_secs()
        )?;
        writeln!(
            f,
            "no guards:                        {} of {queries} queries failed ({})",
            count(&self.unguarded),
            errors_by_kind(&self.unguarded)
        )?;
        writeln!(
            f,
            "test_before_acquire:              {} of {queries} queries failed",
            count(&self.tested),
        )?;
        writeln!(
            f,
            "idle_timeout 1 s, max_lifetime:   {} of {queries} queries failed",
            count(&self.retired),
        )?;
        write!(
            f,
            "wait_timeout restored to {}: {}",
            self.original_wait_timeout,
            yes_no(self.restored)
        )
    }
}

/// Step 6: the stale connections, or why the step did not run.
#[derive(Debug, Clone)]
pub enum Stale {
    /// The server came from `DATABASE_URL`: `SET GLOBAL` would change it for everyone.
    Skipped,
    /// The pools were left idle past `wait_timeout`.
    Ran(StaleReport),
}

impl fmt::Display for Stale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stale::Skipped => write!(
                f,
                "skipped: this server came from DATABASE_URL, and SET GLOBAL \
                 wait_timeout would change it for everyone"
            ),
            Stale::Ran(report) => write!(f, "{report}"),
        }
    }
}

/// How many strings went in and came back exactly, through one way of writing (step 7).
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

/// A string at the length limit, or one past it, through one library (step 7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// The string's length in characters (four-byte emoji).
    pub chars: usize,
    /// The library.
    pub via: &'static str,
    /// `None` when the row was stored; else how it was refused: the error's kind, when
    /// it is a sqlx error, and its message.
    pub refused: Option<(Option<Failure>, String)>,
}

impl fmt::Display for Edge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} emoji with {}: ", self.chars, self.via)?;
        match &self.refused {
            None => write!(f, "stored"),
            Some((Some(failure), message)) => write!(f, "{failure:?}: {message}"),
            Some((None, message)) => write!(f, "error: {message}"),
        }
    }
}

/// What a value one character too long did on a session without a strict `sql_mode`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loose {
    /// No error: the value was cut, with warnings.
    Stored {
        /// `@@warning_count` after the `INSERT`.
        warnings: u64,
        /// The characters that were stored.
        stored_chars: i64,
    },
    /// The server refused it all the same.
    Refused(String),
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
    /// 50 and then 51 characters through each library.
    pub edges: Vec<Edge>,
    /// What 51 characters did with `sql_mode` emptied on one session.
    pub not_strict: Loose,
}

impl fmt::Display for HostileReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "sql_mode: {}", self.sql_mode)?;
        writeln!(
            f,
            "strict (too long is an error, not a truncation): {}",
            yes_no(self.strict)
        )?;
        for r in &self.round_trips {
            writeln!(f, "{r}")?;
        }
        for e in &self.edges {
            writeln!(f, "{e}")?;
        }
        let chars = crate::BODY_CHARS + 1;
        write!(f, "with sql_mode = '' on one session, {chars} characters: ")?;
        match &self.not_strict {
            Loose::Stored {
                warnings,
                stored_chars,
            } => write!(
                f,
                "no error, {warnings} warning, {stored_chars} characters stored"
            ),
            Loose::Refused(message) => write!(f, "{message}"),
        }
    }
}

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
        let version = &self.version;
        writeln!(f, "server: {version} ({server}), so the limit is {how}")?;
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
