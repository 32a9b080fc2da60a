//! Step 3: deadlocks (1213) and lock-wait timeouts (1205), and the whole transaction
//! retried.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use futures::future::BoxFuture;
use sqlx::mysql::{MySqlConnection, MySqlPool, MySqlPoolOptions};
use sqlx::{Connection, MySqlTransaction};

use crate::report::{DeadlockReport, Deadlocks, Provoked};
use crate::s1_duplicates::{Failure, classify, mysql_error_number};

// ANCHOR: with_retry
/// Runs `body` in a transaction and commits it; on a deadlock or a lock-wait timeout,
/// runs the whole transaction again from the start, after a jittered pause.
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
    F: for<'t> FnMut(&'t mut MySqlTransaction<'static>) -> TxFuture<'t, T>,
{
    let mut retried = Vec::new();
    loop {
        match attempt(pool, &mut body).await? {
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

// ANCHOR: attempt
/// What the body of a retried transaction returns: a future that borrows the
/// transaction.
pub type TxFuture<'t, T> = BoxFuture<'t, Result<T, sqlx::Error>>;

/// One attempt: `body` in a new transaction, committed if it succeeds, rolled back if
/// not. The outer error, from `BEGIN` or `ROLLBACK`, is not one to retry.
async fn attempt<T, F>(
    pool: &MySqlPool,
    body: &mut F,
) -> Result<Result<T, sqlx::Error>, sqlx::Error>
where
    F: for<'t> FnMut(&'t mut MySqlTransaction<'static>) -> TxFuture<'t, T>,
{
    let mut tx = pool.begin().await?;
    Ok(match body(&mut tx).await {
        Ok(value) => tx.commit().await.map(|()| value),
        Err(e) => {
            // After 1213 InnoDB has already rolled back; after 1205 only the
            // statement was undone, and this releases the locks that the earlier
            // statements still hold.
            tx.rollback().await?;
            Err(e)
        }
    })
}
// ANCHOR_END: attempt

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
// ANCHOR_END: retry_policy

// ANCHOR: backoff
impl RetryPolicy {
    /// The pause before attempt `failures + 1`: "full jitter", a random time between
    /// zero and a ceiling that doubles with each failure, capped. The randomness keeps
    /// two transactions that just deadlocked from colliding again in lockstep.
    pub fn delay(&self, failures: u32) -> Duration {
        let doubling = 1u32 << failures.saturating_sub(1).min(16);
        let ceiling = self.base_delay.saturating_mul(doubling).min(self.max_delay);
        let micros = u64::try_from(ceiling.as_micros()).unwrap_or(u64::MAX);
        Duration::from_micros(rand::random_range(0..=micros))
    }
}

/// True for the errors after which re-running the whole transaction can succeed:
/// deadlock (1213), lock-wait timeout (1205), and MariaDB 11.6.2+'s "record has
/// changed" (1020).
pub fn is_retryable(err: &sqlx::Error) -> bool {
    matches!(mysql_error_number(err), Some(1213 | 1205 | 1020))
}
// ANCHOR_END: backoff

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
    // A moment between the two locks, as real work would take: it lets the task
    // running the opposite transfer take its first lock, so that both wait for each
    // other.
    tokio::time::sleep(Duration::from_millis(1)).await;
    sqlx::query("UPDATE lesson5_accounts SET balance = balance + ? WHERE id = ?")
        .bind(amount)
        .bind(to)
        .execute(&mut *tx)
        .await?;
    Ok(())
}
// ANCHOR_END: transfer

// ANCHOR: call_with_retry
/// One transfer, in a transaction that is run again whole after a deadlock.
pub async fn transfer_with_retry(
    pool: &MySqlPool,
    policy: RetryPolicy,
    (from, to, amount): (i32, i32, i32),
) -> Result<Retried<()>, sqlx::Error> {
    with_retry(pool, policy, |tx| {
        Box::pin(async move { transfer(tx, from, to, amount).await })
    })
    .await
}
// ANCHOR_END: call_with_retry

/// A value from [`with_retry`], with the errors it retried past.
#[derive(Debug)]
pub struct Retried<T> {
    /// What the transaction returned.
    pub value: T,
    /// The MySQL error numbers of the failed attempts, in order.
    pub retried: Vec<u16>,
}

/// What one task of [`opposite_transfers`] did.
#[derive(Debug, Default)]
struct OneWay {
    committed: u64,
    retried_numbers: Vec<u16>,
    max_retries: usize,
    failed: BTreeMap<Failure, u64>,
}

/// `rounds` transfers of `amount` from `from` to `to`, one after the other.
async fn one_way(
    pool: MySqlPool,
    policy: RetryPolicy,
    rounds: u32,
    way: (i32, i32, i32),
) -> OneWay {
    let mut done = OneWay::default();
    for _ in 0..rounds {
        match transfer_with_retry(&pool, policy, way).await {
            Ok(r) => {
                done.committed += 1;
                done.max_retries = done.max_retries.max(r.retried.len());
                done.retried_numbers.extend(r.retried);
            }
            Err(e) => *done.failed.entry(classify(&e)).or_default() += 1,
        }
    }
    done
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
        .context("cannot open step 3's pool")?;
    sqlx::query("DELETE FROM lesson5_accounts")
        .execute(&pool)
        .await
        .context("cannot clear the accounts")?;
    sqlx::query("INSERT INTO lesson5_accounts (id, balance) VALUES (1, 1000), (2, 1000)")
        .execute(&pool)
        .await
        .context("cannot open the accounts")?;

    let mut handles = Vec::new();
    for way in [(1, 2, 1), (2, 1, 2)] {
        handles.push(tokio::spawn(one_way(pool.clone(), policy, rounds, way)));
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
        let done = handle.await.context("a transfer task failed")?;
        committed_by_task.push(i32::try_from(done.committed)?);
        let numbers = &done.retried_numbers;
        report.committed += done.committed;
        report.deadlocks += numbers.iter().filter(|n| **n == 1213).count() as u64;
        report.lock_wait_timeouts +=
            numbers.iter().filter(|n| **n == 1205).count() as u64;
        report.max_retries = report.max_retries.max(done.max_retries);
        for (kind, n) in done.failed {
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

/// The accounts 1 and 2, opened with 1,000 each if they are not there.
async fn open_accounts(conn: &mut MySqlConnection) -> Result<()> {
    sqlx::query(
        "INSERT INTO lesson5_accounts (id, balance) VALUES (1, 1000), (2, 1000) \
         ON DUPLICATE KEY UPDATE balance = balance",
    )
    .execute(conn)
    .await
    .context("cannot open the accounts")?;
    Ok(())
}

/// Step 3: one deadlock, provoked on purpose with two connections that each lock one
/// account and then ask for the other's.
pub async fn provoke_deadlock(url: &str) -> Result<Provoked> {
    let mut a = crate::connect_one(url).await?;
    let mut b = crate::connect_one(url).await?;
    open_accounts(&mut a).await?;
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
    Ok(Provoked::from_error(&victim, None))
}

/// Step 3: one lock-wait timeout, provoked on purpose. B updates account 2, then waits
/// for account 1, which A holds, for one second (a session setting on B's own
/// connection).
pub async fn provoke_lock_wait_timeout(url: &str) -> Result<Provoked> {
    let mut a = crate::connect_one(url).await?;
    let mut b = crate::connect_one(url).await?;
    open_accounts(&mut a).await?;
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
    Ok(Provoked::from_error(&err, Some(seen == before + 5)))
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

/// Step 3's report: one deadlock and one lock-wait timeout on purpose, then transfers
/// in opposite order with retries.
pub async fn run(ctx: &crate::Ctx) -> Result<Deadlocks> {
    let deadlock = provoke_deadlock(&ctx.url)
        .await
        .context("cannot provoke a deadlock")?;
    let timeout = provoke_lock_wait_timeout(&ctx.url)
        .await
        .context("cannot provoke a lock-wait timeout")?;
    let rollback_on_timeout = rollback_on_timeout(&ctx.pool).await?;
    let transfers =
        opposite_transfers(&ctx.url, ctx.sizes.transfers, RetryPolicy::default())
            .await
            .context("the deadlock step failed")?;
    Ok(Deadlocks {
        deadlock,
        timeout,
        rollback_on_timeout,
        transfers,
    })
}
