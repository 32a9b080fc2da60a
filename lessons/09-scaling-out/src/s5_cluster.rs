//! Step 5: a multi-writer cluster (Galera on MariaDB, Group Replication on MySQL).
//! Writes to the same rows through two nodes fail at COMMIT, and are retried whole;
//! losing one node of three keeps writes going; losing two (one killed, one cut off)
//! gives an error, not a hang.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use futures::future::BoxFuture;
use sqlx::mysql::{MySqlPool, MySqlTransaction};

use crate::report::{ClusterReport, ConflictRow, NodeLoss};
use crate::{Ctx, Flavor};

// ANCHOR: is_retryable
/// The MySQL error number of a database error.
pub fn error_number(err: &sqlx::Error) -> Option<u16> {
    let db = err.as_database_error()?;
    db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
        .map(|e| e.number())
}

/// True for errors after which running the whole transaction again can succeed:
/// deadlock (1213, also Galera's certification conflict), lock-wait timeout (1205), and
/// Group Replication's certification conflict (3101, or 1180 wrapping a deadlock).
pub fn is_retryable(err: &sqlx::Error) -> bool {
    match error_number(err) {
        Some(1213 | 1205 | 3101) => true,
        // NOTE: MySQL 9.7 reports a certification conflict at COMMIT as 1180 "Got error
        // 149 - 'Lock deadlock; Retry transaction' during COMMIT"; other 1180s are not
        // conflicts (Galera without quorum says 1180 too).
        Some(1180) => err
            .as_database_error()
            .is_some_and(|e| e.message().contains(" 149 ")),
        _ => false,
    }
}
// ANCHOR_END: is_retryable

/// What the body of a retried transaction returns: a future that borrows it.
pub type TxFuture<'t, T> = BoxFuture<'t, Result<T, sqlx::Error>>;

// ANCHOR: with_retry
/// Runs `body` in a transaction and commits it; when the body *or the COMMIT* fails
/// with a retryable error, runs it all again, up to `attempts` times in all. `TxFuture`
/// is lesson 5's: `BoxFuture<'t, Result<T, sqlx::Error>>`.
pub async fn with_retry<T, F>(
    pool: &MySqlPool,
    attempts: u32,
    mut body: F,
) -> Result<(T, u32), sqlx::Error>
where
    F: for<'t> FnMut(&'t mut MySqlTransaction<'static>) -> TxFuture<'t, T>,
{
    let mut failed = 0;
    loop {
        let mut tx = pool.begin().await?;
        let outcome = match body(&mut tx).await {
            // On a cluster the conflict shows at COMMIT: it is inside the retry.
            Ok(value) => tx.commit().await.map(|()| value),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(value) => return Ok((value, failed)), // and the attempts that failed
            Err(e) if is_retryable(&e) && failed + 1 < attempts => {
                failed += 1;
                let pause = rand::random_range(0..=(5u64 << failed.min(5)));
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
            Err(e) => return Err(e),
        }
    }
}
// ANCHOR_END: with_retry

// ANCHOR: bump
/// One transaction: adds 1 to two of the four hot counters, in a fixed order.
pub async fn bump(pool: &MySqlPool) -> Result<u32, sqlx::Error> {
    let (a, b) = (rand::random_range(1..=2), rand::random_range(3..=4));
    let (_, failed) = with_retry(pool, 50, |tx| {
        Box::pin(async move {
            for id in [a, b] {
                sqlx::query("UPDATE counters SET n = n + 1 WHERE id = ?")
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
            }
            Ok(())
        })
    })
    .await?;
    Ok(failed)
}
// ANCHOR_END: bump

// ANCHOR: causal_read
/// The sum of the counters as this node sees it once it has applied every transaction
/// the cluster committed before the read. A node certifies a commit made elsewhere at
/// once, but applies it a moment later, so a plain read there can miss it.
pub async fn counters_sum(pool: &MySqlPool, flavor: Flavor) -> sqlx::Result<i64> {
    let mut conn = pool.acquire().await?;
    // NOTE: Group Replication's consistency level `BEFORE` makes the read wait for the
    // group's earlier transactions; Galera's `wsrep_sync_wait = 1` does so for reads.
    let wait = match flavor {
        Flavor::MySql => "SET SESSION group_replication_consistency = 'BEFORE'",
        Flavor::MariaDb => "SET SESSION wsrep_sync_wait = 1",
    };
    sqlx::query(wait).execute(&mut *conn).await?;
    let sum = sqlx::query_scalar("SELECT CAST(SUM(n) AS SIGNED) FROM counters")
        .fetch_one(&mut *conn)
        .await;
    // The connection goes back to the pool: it must read as the others do again.
    let reset = match flavor {
        Flavor::MySql => "SET SESSION group_replication_consistency = DEFAULT",
        Flavor::MariaDb => "SET SESSION wsrep_sync_wait = DEFAULT",
    };
    sqlx::query(reset).execute(&mut *conn).await?;
    sum
}
// ANCHOR_END: causal_read

/// `writers` tasks, writer `i` on node `i % 3`, each committing `transactions` bumps.
async fn conflicts(
    pools: &[MySqlPool],
    writers: u32,
    transactions: u32,
) -> Result<ConflictRow> {
    let mut tasks = Vec::new();
    for i in 0..writers {
        let pool = pools[i as usize % pools.len()].clone();
        tasks.push(tokio::spawn(async move {
            let (mut failed, mut most) = (0u64, 0u32);
            for _ in 0..transactions {
                let f = bump(&pool).await?;
                failed += u64::from(f);
                most = most.max(f);
            }
            Ok::<_, sqlx::Error>((failed, most))
        }));
    }
    let mut row = ConflictRow {
        writers,
        committed: 0,
        failed_attempts: 0,
        most_retries: 0,
    };
    for task in tasks {
        let (failed, most) = task.await.context("a writer panicked")??;
        row.committed += u64::from(transactions);
        row.failed_attempts += failed;
        row.most_retries = row.most_retries.max(most);
    }
    Ok(row)
}

/// Tries one bump on `pool` with a 20 s limit of its own, so that a cluster without
/// quorum gives an error rather than a hang.
async fn try_write(pool: &MySqlPool) -> (Duration, Result<(), String>) {
    let started = Instant::now();
    let update = sqlx::query("UPDATE counters SET n = n + 1 WHERE id = 1").execute(pool);
    let outcome = match tokio::time::timeout(Duration::from_secs(20), update).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(match error_number(&e) {
            Some(n) => format!(
                "error {n}: {}",
                e.as_database_error()
                    .map_or(String::new(), |d| d.message().to_owned())
            ),
            None => e.to_string(),
        }),
        Err(_) => Err("no answer within 20 s".to_owned()),
    };
    (started.elapsed(), outcome)
}

/// Writes on `pool` until one commits, for up to 30 s: how long the cluster paused.
async fn first_commit(pool: &MySqlPool) -> (Duration, Result<(), String>) {
    let started = Instant::now();
    loop {
        let (_, outcome) = try_write(pool).await;
        if outcome.is_ok() || started.elapsed() > Duration::from_secs(30) {
            return (started.elapsed(), outcome);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Step 5: conflicts and retries against the number of writers, then one node killed,
/// then a second one cut off.
pub async fn run(ctx: &Ctx) -> Result<ClusterReport> {
    let mut pools = Vec::new();
    for node in &ctx.nodes {
        pools.push(crate::s2_split::pool(&node.url, 8).await?);
    }
    sqlx::query("INSERT INTO counters VALUES (1, 0), (2, 0), (3, 0), (4, 0)")
        .execute(&pools[0])
        .await?;
    let mut report = ClusterReport {
        flavor: ctx.flavor,
        rows: Vec::new(),
        totals: Vec::new(),
        losses: Vec::new(),
    };
    let mut expected = 0;
    for writers in [1, 3, 6] {
        let row = conflicts(&pools, writers, ctx.sizes.transactions).await?;
        expected += 2 * row.committed;
        report.rows.push(row);
    }
    // Every node holds every commit: each of them adds 2.
    for pool in &pools {
        let total = counters_sum(pool, ctx.flavor).await?;
        report.totals.push((total, expected));
    }
    // A crash first: node3 is killed, and node1 must commit again. Then node2 is cut
    // off (paused, in the local run), which leaves node1 alone: it must refuse.
    let kill = ctx.nodes[2].kill.clone();
    tokio::task::spawn_blocking(move || kill()).await??;
    let (took, outcome) = first_commit(&pools[0]).await;
    let what = format!("{} killed", ctx.nodes[2].name);
    report.losses.push(NodeLoss {
        nodes_lost: 1,
        what,
        took,
        outcome,
    });
    let cut = ctx.nodes[1].cut.clone();
    tokio::task::spawn_blocking(move || cut()).await??;
    let (took, outcome) = try_write(&pools[0]).await;
    let how = if ctx.real_cuts { "cut off" } else { "paused" };
    report.losses.push(NodeLoss {
        nodes_lost: 2,
        what: format!("{} {how}", ctx.nodes[1].name),
        took,
        outcome,
    });
    for pool in pools {
        // The dead nodes' connections are gone: closing must not wait for them.
        tokio::spawn(async move { pool.close().await });
    }
    Ok(report)
}
