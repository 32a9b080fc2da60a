//! Step 2: lost updates under `REPEATABLE READ`, and the two fixes.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result};
use sqlx::mysql::{MySqlPool, MySqlPoolOptions};

use crate::report::{CounterReport, LostUpdates};
use crate::s1_duplicates::{Failure, classify};

// ANCHOR: read_then_write
/// Adds one to counter `id` by reading it and writing back what was read plus one, in
/// a transaction. With `lock`, the read is `SELECT ... FOR UPDATE`.
pub async fn read_then_write(
    pool: &MySqlPool,
    id: i32,
    lock: bool,
) -> Result<(), sqlx::Error> {
    let select = if lock {
        "SELECT n FROM lesson5_counter WHERE id = ? FOR UPDATE"
    } else {
        // Under REPEATABLE READ this reads the transaction's snapshot, and takes no
        // lock.
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
// ANCHOR_END: read_then_write

// ANCHOR: atomic_update
/// Adds one to counter `id` in one statement: the server does the arithmetic.
pub async fn atomic_update(pool: &MySqlPool, id: i32) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE lesson5_counter SET n = n + 1 WHERE id = ?")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}
// ANCHOR_END: atomic_update

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
}

/// Adds one to counter `id`, the way `how` says.
pub async fn increment(
    pool: &MySqlPool,
    id: i32,
    how: Increment,
) -> Result<(), sqlx::Error> {
    match how {
        Increment::ReadThenWrite => read_then_write(pool, id, false).await,
        Increment::SelectForUpdate => read_then_write(pool, id, true).await,
        Increment::AtomicUpdate => atomic_update(pool, id).await,
    }
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
        .context("cannot open step 2's pool")?;
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

/// Step 2's report: the three ways of incrementing, with the sizes they ran at.
pub async fn run(ctx: &crate::Ctx) -> Result<LostUpdates> {
    let (tasks, per_task) = (ctx.sizes.tasks as usize, ctx.sizes.increments as usize);
    let ways = lost_updates_compared(&ctx.url, tasks, per_task)
        .await
        .context("the lost-updates step failed")?;
    Ok(LostUpdates {
        tasks,
        per_task,
        ways,
    })
}
