//! Step 4: cancellation. Rounds of begin / insert / commit under a random timeout on a
//! pool of one, a `begin()` cancelled on purpose, the `after_release` guard, work
//! detached from the caller's timeout, and a SeaORM transaction dropped halfway.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use sea_orm::{
    ActiveValue::Set, DatabaseConnection, DbErr, EntityTrait, TransactionTrait,
};
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlPool, MySqlPoolOptions};
use sqlx::{AssertSqlSafe, Connection, Row};
use tokio::task::JoinHandle;

use crate::entities::event;
use crate::reconcile::{Told, told_cancelled, told_on_time};
use crate::reply_gate::ReplyGate;
use crate::report::{
    CancellationReport, Cancellations, CancelledBegin, DroppedTransaction, Library,
};
use crate::s1_duplicates::classify;

/// How far a round got: acquiring a connection or `BEGIN`.
pub const STAGE_BEGIN: u8 = 0;
/// How far a round got: the `INSERT`.
pub const STAGE_INSERT: u8 = 1;
/// How far a round got: the `COMMIT`.
pub const STAGE_COMMIT: u8 = 2;

// ANCHOR: one_round
/// One round: begin, insert row `k`, commit. `stage` says how far it got, for when it
/// is cancelled.
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

// ANCHOR: cancelled_begin
/// Cancels a `begin()` after the server got `BEGIN` but before its reply came back,
/// then runs someone else's autocommit `INSERT` on the same pooled connection.
pub async fn cancel_a_begin(pool: &MySqlPool, gate: &ReplyGate) -> Result<()> {
    let mut conn = pool.acquire().await?;
    gate.hold(); // BEGIN reaches the server; its "OK" waits in the proxy
    let begun = tokio::time::timeout(Duration::from_millis(200), conn.begin()).await;
    gate.release();
    drop(begun); // the timeout dropped begin(): sqlx never counted the transaction
    drop(conn); // back to the pool

    // Later, someone else's plain autocommit INSERT gets the same connection.
    sqlx::query("INSERT INTO lesson5_events (k) VALUES (-1)")
        .execute(pool)
        .await
        .context("cannot insert the event")?;
    Ok(())
}
// ANCHOR_END: cancelled_begin

// ANCHOR: guarded_pool
/// A pool of `size` connections whose connections are never handed out inside a
/// transaction.
///
/// When a `begin()` is cancelled after `BEGIN` went to the server but before its reply
/// came back, sqlx has not counted the transaction yet, so nothing rolls it back: the
/// connection returns to the pool with a transaction open, and the next user's
/// "autocommit" statements land in it. `after_release` runs on every connection going
/// back to the pool; [`roll_back_leftovers`] ends any such leftover there.
pub async fn guarded_pool(url: &str, size: u32) -> sqlx::Result<MySqlPool> {
    MySqlPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(Duration::from_secs(5))
        .after_release(|conn, _meta| Box::pin(roll_back_leftovers(conn)))
        .connect(url)
        .await
}
// ANCHOR_END: guarded_pool

// ANCHOR: roll_back_leftovers
/// The guard itself: `ROLLBACK` (outside a transaction it does nothing), then a check
/// that the connection is in step with the server, all within a second. A future
/// cancelled halfway through reading a reply can leave unread replies behind, and the
/// next statement would read an old answer as its own. So the guard asks for a random
/// number: the wrong one back, or none within the second, and it returns `false`, which
/// makes sqlx close the connection (and open a new one when needed).
pub async fn roll_back_leftovers(conn: &mut MySqlConnection) -> sqlx::Result<bool> {
    let token: u32 = rand::random();
    let check = async {
        sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await?;
        let echo = format!("SELECT CAST({token} AS SIGNED)");
        let row = sqlx::raw_sql(AssertSqlSafe(echo))
            .fetch_one(&mut *conn)
            .await?;
        Ok::<_, sqlx::Error>(row.try_get::<i64, _>(0)? == i64::from(token))
    };
    // NOTE: `false`, never an error. On an error sqlx 0.9 closes the connection "hard",
    // and over TLS (MySQL's default) that first waits for the server to send something:
    // a connection that will never answer then holds its pool slot forever. With `false`
    // sqlx says goodbye (COM_QUIT) and the server closes the connection itself.
    let answer = tokio::time::timeout(Duration::from_secs(1), check).await;
    Ok(matches!(answer, Ok(Ok(true))))
}
// ANCHOR_END: roll_back_leftovers

// ANCHOR: detach
/// How a detached round ended, as far as its caller saw.
pub enum Detached {
    /// Within the budget: the round's own result.
    Finished(Result<(), sqlx::Error>),
    /// Not yet: the task, which goes on and finishes on its own.
    StillRunning(JoinHandle<Result<(), sqlx::Error>>),
}

/// Runs one round in a task of its own, and waits at most `budget` for it: the timeout
/// stops only the waiting, never the work.
pub async fn detached_round(
    pool: &MySqlPool,
    k: i32,
    budget: Duration,
) -> Result<Detached> {
    let mut work = {
        let pool = pool.clone();
        tokio::spawn(async move {
            let stage = AtomicU8::new(STAGE_BEGIN);
            insert_in_transaction(&pool, k, &stage).await
        })
    };
    match tokio::time::timeout(budget, &mut work).await {
        Ok(joined) => Ok(Detached::Finished(joined.context("a round's task failed")?)),
        Err(_elapsed) => Ok(Detached::StillRunning(work)),
    }
}
// ANCHOR_END: detach

// ANCHOR: two_events
/// Event `k`, then other work (a call to another service, say) that takes `work`, then
/// event `k + 1`, in one SeaORM transaction: both rows, or neither.
pub async fn two_events(
    db: &DatabaseConnection,
    k: i32,
    work: Duration,
) -> Result<(), DbErr> {
    let tx = db.begin().await?;
    event::Entity::insert(event::ActiveModel { k: Set(k) })
        .exec(&tx)
        .await?;
    // A timeout that fires here drops `tx`, and DatabaseTransaction's Drop queues a
    // ROLLBACK on its connection.
    tokio::time::sleep(work).await;
    event::Entity::insert(event::ActiveModel { k: Set(k + 1) })
        .exec(&tx)
        .await?;
    tx.commit().await
}
// ANCHOR_END: two_events

// ANCHOR: cancelled_sea_orm_begin
/// [`cancel_a_begin`] through SeaORM: `db.begin()` cancelled after `BEGIN` reached the
/// server, then someone else's autocommit `INSERT` on the same pooled connection.
pub async fn cancel_a_sea_orm_begin(
    db: &DatabaseConnection,
    gate: &ReplyGate,
) -> Result<()> {
    gate.hold(); // BEGIN reaches the server; its "OK" waits in the proxy
    let begun = tokio::time::timeout(Duration::from_millis(200), db.begin()).await;
    gate.release();
    // The timeout dropped begin(), and with it the DatabaseTransaction it had made. Its
    // Drop asks sqlx to queue a ROLLBACK, but sqlx had not counted the transaction yet.
    anyhow::ensure!(begun.is_err(), "begin() finished within its budget");

    // Later, someone else's autocommit INSERT gets the same connection.
    event::Entity::insert(event::ActiveModel { k: Set(-1) })
        .exec(db)
        .await?;
    Ok(())
}
// ANCHOR_END: cancelled_sea_orm_begin

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

/// A pool of one connection, its id recorded in `ids`; with `guarded`, the
/// `after_release` guard; with `tested`, sqlx's ping before each acquire (its default).
async fn pool_of_one(
    options: MySqlConnectOptions,
    guarded: bool,
    tested: bool,
    ids: &ConnectionIds,
) -> Result<MySqlPool> {
    let ids = ids.clone();
    let mut pool = MySqlPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(tested)
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
    let mut observer = crate::connect_one(url).await?;
    let mut open = 0i64;
    for id in ids {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM information_schema.innodb_trx \
             WHERE trx_mysql_thread_id = ?",
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

/// A round whose caller gave up waiting, still running: its key and its task.
type LateRound = (i32, JoinHandle<Result<(), sqlx::Error>>);

/// Waits for a round that went on after its caller gave up, and notes how it ended.
async fn finish_late(
    late: LateRound,
    late_ok: &mut BTreeSet<i32>,
    report: &mut CancellationReport,
) -> Result<()> {
    let (k, work) = late;
    // Its result is known, just later than the caller wanted it.
    match work.await.context("a round's task failed")? {
        Ok(()) => {
            late_ok.insert(k);
        }
        Err(e) => *report.errors.entry(classify(&e)).or_default() += 1,
    }
    Ok(())
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
    let pool = pool_of_one(options, true, true, &ids).await?;
    sqlx::query("DELETE FROM lesson5_events")
        .execute(&pool)
        .await
        .context("cannot clear the events")?;

    let mut told = Vec::new();
    // A round whose caller gave up waiting, still running. The next round first waits for
    // it: detached work must still be bounded, or a slow server gathers an ever longer
    // queue.
    let mut late: Option<LateRound> = None;
    let mut late_ok = BTreeSet::new();
    let mut report = CancellationReport {
        rounds,
        ..CancellationReport::default()
    };
    let max_micros = u64::try_from(max_timeout.as_micros())?;
    for round in 0..rounds {
        if let Some(work) = late.take() {
            finish_late(work, &mut late_ok, &mut report).await?;
        }
        let k = i32::try_from(round)?;
        let budget = Duration::from_micros(rand::random_range(0..=max_micros));
        let outcome = match on_timeout {
            OnTimeout::DropTheFuture => {
                let stage = AtomicU8::new(STAGE_BEGIN);
                let done =
                    tokio::time::timeout(budget, insert_in_transaction(&pool, k, &stage))
                        .await;
                let stage = stage.load(Ordering::Relaxed);
                match done {
                    Ok(done) => told_on_time(&mut report, done, stage == STAGE_COMMIT),
                    Err(_elapsed) => told_cancelled(&mut report, stage),
                }
            }
            OnTimeout::DetachTheWork => match detached_round(&pool, k, budget).await? {
                Detached::Finished(done) => told_on_time(&mut report, done, false),
                Detached::StillRunning(work) => {
                    report.gave_up_waiting += 1;
                    late = Some((k, work));
                    Told::Late
                }
            },
        };
        told.push(outcome);
    }
    if let Some(work) = late.take() {
        finish_late(work, &mut late_ok, &mut report).await?;
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
                let mut fresh = crate::connect_one(url).await?;
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
    crate::reconcile::rounds_with_rows(&mut report, &told, &present, &late_ok)?;
    report.open_transactions = open_transactions(url, &ids.get()).await?;
    // NOTE: on a busy server we saw `close()` wait forever after these cancelled rounds:
    // a connection was never given back. Bound it, and say so.
    report.close_hung = tokio::time::timeout(Duration::from_secs(5), pool.close())
        .await
        .is_err();
    Ok(report)
}

/// Cancels a `begin()` on purpose, through `library` ([`cancel_a_begin`] or
/// [`cancel_a_sea_orm_begin`]), on a pool of one, with or without the guard, and looks at
/// what it left behind from another connection.
pub async fn cancelled_begin(
    url: &str,
    guarded: bool,
    library: Library,
) -> Result<CancelledBegin> {
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
    // SeaORM's begin() acquires the connection itself: without the ping before the
    // acquire, BEGIN is the first thing sent, and the proxy holds BEGIN's reply.
    let tested = library == Library::Sqlx;
    let pool = pool_of_one(via_gate, guarded, tested, &ids).await?;
    sqlx::query("DELETE FROM lesson5_events WHERE k = -1")
        .execute(&pool)
        .await
        .context("cannot clear the events")?;

    match library {
        Library::Sqlx => cancel_a_begin(&pool, &gate).await?,
        Library::SeaOrm => {
            // The DELETE's connection goes back to the pool in a task of sqlx's, with a
            // ping: let that finish, or the proxy would hold the ping's reply instead.
            until_idle(&pool).await?;
            let db = DatabaseConnection::from(pool.clone());
            cancel_a_sea_orm_begin(&db, &gate).await?;
        }
    }
    let open = open_transactions(url, &ids.get()).await?;
    let mut observer = crate::connect_one(url).await?;
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
        library,
        guarded,
        open_transactions: open,
        visible_to_others: visible == 1,
        kept_after_close: kept == 1,
    })
}

/// Waits, at most 5 s, until every connection of `pool` is back in it, idle.
async fn until_idle(pool: &MySqlPool) -> Result<()> {
    let all = usize::try_from(pool.size())?;
    for _ in 0..500 {
        if pool.num_idle() >= all {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    anyhow::bail!("the pool's connections did not come back within 5 s")
}

/// The first of the keys [`dropped_sea_orm_transaction`] writes: [`two_events`] writes it
/// and the next, and the next user of the pool the one after.
const DROPPED_K: i32 = -12;

/// A session's `CONNECTION_ID()` and its count of `ROLLBACK` statements so far.
async fn session_facts(conn: &mut MySqlConnection) -> Result<(u64, u64)> {
    let id: u64 = sqlx::query_scalar("SELECT CONNECTION_ID()")
        .fetch_one(&mut *conn)
        .await?;
    let row = sqlx::raw_sql("SHOW SESSION STATUS LIKE 'Com_rollback'")
        .fetch_one(&mut *conn)
        .await
        .context("cannot read the session's Com_rollback")?;
    let rollbacks: String = row.try_get(1)?;
    Ok((id, rollbacks.parse()?))
}

/// Drops [`two_events`] halfway, with a timeout that fires during its other work, on
/// SeaORM's own pool of one; then looks at the table, and at the connection the next
/// user of the pool gets.
pub async fn dropped_sea_orm_transaction(url: &str) -> Result<DroppedTransaction> {
    let mut options = sea_orm::ConnectOptions::new(url);
    options
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    let db = sea_orm::Database::connect(options)
        .await
        .context("SeaORM cannot connect")?;
    let pool = db.get_mysql_connection_pool().clone();
    let (first, next_users) = (DROPPED_K, DROPPED_K + 2);
    sqlx::query("DELETE FROM lesson5_events WHERE k BETWEEN ? AND ?")
        .bind(first)
        .bind(next_users)
        .execute(&pool)
        .await
        .context("cannot clear the events")?;
    let (cancelled_on, rollbacks_before) =
        session_facts(&mut *pool.acquire().await?).await?;

    let work = Duration::from_secs(5);
    let done =
        tokio::time::timeout(Duration::from_millis(250), two_events(&db, first, work))
            .await;
    anyhow::ensure!(done.is_err(), "the SeaORM transaction was not cancelled");

    // The next user of the pool: what its connection has done, then an autocommit INSERT.
    let mut next = pool.acquire().await?;
    let (next_on, rollbacks_after) = session_facts(&mut next).await?;
    sqlx::query("INSERT INTO lesson5_events (k) VALUES (?)")
        .bind(next_users)
        .execute(&mut *next)
        .await
        .context("the next user cannot insert")?;
    let open = open_transactions(url, &[next_on]).await?;
    let mut observer = crate::connect_one(url).await?;
    let count = |from: i32, to: i32| {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM lesson5_events WHERE k BETWEEN ? AND ?",
        )
        .bind(from)
        .bind(to)
    };
    let left = count(first, first + 1).fetch_one(&mut observer).await?;
    let visible = count(next_users, next_users)
        .fetch_one(&mut observer)
        .await?;
    drop(next);
    db.close().await.context("SeaORM's pool did not close")?;
    sqlx::query("DELETE FROM lesson5_events WHERE k BETWEEN ? AND ?")
        .bind(first)
        .bind(next_users)
        .execute(&mut observer)
        .await?;
    observer.close().await.ok();
    Ok(DroppedTransaction {
        rows_left: left,
        same_connection: next_on == cancelled_on,
        rollbacks: rollbacks_after.saturating_sub(rollbacks_before),
        open_transactions: open,
        next_insert_visible: visible == 1,
    })
}

/// The largest random timeout a round gets.
pub const MAX_TIMEOUT: Duration = Duration::from_millis(5);

/// Step 4's report: a `begin()` cancelled on purpose, through sqlx and SeaORM, without
/// and with the guard; the rounds, first with the future dropped and then with the work
/// detached; and a SeaORM transaction dropped halfway.
pub async fn run(ctx: &crate::Ctx) -> Result<Cancellations> {
    let mut begins = Vec::new();
    for library in [Library::Sqlx, Library::SeaOrm] {
        for guarded in [false, true] {
            let seen = cancelled_begin(&ctx.url, guarded, library)
                .await
                .context("the cancelled-begin check failed")?;
            begins.push(seen);
        }
    }
    let rounds = ctx.sizes.rounds;
    let dropped = cancellation(&ctx.url, rounds, MAX_TIMEOUT, OnTimeout::DropTheFuture)
        .await
        .context("the cancellation step failed")?;
    let detached = cancellation(&ctx.url, rounds, MAX_TIMEOUT, OnTimeout::DetachTheWork)
        .await
        .context("the cancellation step failed")?;
    let sea_orm = dropped_sea_orm_transaction(&ctx.url)
        .await
        .context("the dropped SeaORM transaction check failed")?;
    Ok(Cancellations {
        begins,
        rounds,
        max_timeout: MAX_TIMEOUT,
        dropped,
        detached,
        sea_orm,
    })
}
