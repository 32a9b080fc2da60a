//! Step 2: read/write splitting in the application, with two kinds of sqlx pool.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use sqlx::mysql::{MySqlPool, MySqlPoolOptions};

use crate::Ctx;
use crate::report::SplitReport;

// ANCHOR: pools
/// The application's pools: one on the primary for writes, and for reads that must see
/// them; one per replica for every other read, taken in turn.
#[derive(Debug, Clone)]
pub struct Pools {
    primary: MySqlPool,
    replicas: Arc<Vec<MySqlPool>>,
    next: Arc<AtomicUsize>,
}

impl Pools {
    /// Writes, and reads that must see the latest write.
    pub fn writer(&self) -> &MySqlPool {
        &self.primary
    }

    /// Reads that may be a little behind: the next replica, round robin (the primary
    /// when there is none).
    pub fn reader(&self) -> &MySqlPool {
        if self.replicas.is_empty() {
            return &self.primary;
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.replicas.len();
        &self.replicas[i]
    }
}
// ANCHOR_END: pools

// ANCHOR: connect
impl Pools {
    /// Connects a pool of `size` to the primary and one to each replica.
    pub async fn connect(primary: &str, replicas: &[String], size: u32) -> Result<Pools> {
        let mut replica_pools = Vec::new();
        for url in replicas {
            replica_pools.push(pool(url, size).await?);
        }
        Ok(Pools {
            primary: pool(primary, size).await?,
            replicas: Arc::new(replica_pools),
            next: Arc::new(AtomicUsize::new(0)),
        })
    }
}

/// A pool that gives up on a dead server within two seconds.
pub async fn pool(url: &str, size: u32) -> Result<MySqlPool> {
    MySqlPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(Duration::from_secs(2))
        .connect(url)
        .await
        .context("cannot connect a pool")
}
// ANCHOR_END: connect

impl Pools {
    /// Closes every pool.
    pub async fn close(&self) {
        self.primary.close().await;
        for pool in self.replicas.iter() {
            pool.close().await;
        }
    }
}

/// Which server answered: its `@@server_id`.
async fn answered_by(pool: &MySqlPool) -> Result<i64> {
    let sql = "SELECT CAST(@@server_id AS SIGNED)";
    Ok(sqlx::query_scalar(sql).fetch_one(pool).await?)
}

/// Step 2: where writes, fresh reads and other reads go, counted by `@@server_id`.
pub async fn run(ctx: &Ctx) -> Result<SplitReport> {
    let replicas: Vec<String> = ctx.replicas().iter().map(|r| r.url.clone()).collect();
    let pools = Pools::connect(&ctx.primary().url, &replicas, 4).await?;
    let mut report = SplitReport::default();
    let rounds = 12;
    for round in 0..rounds {
        sqlx::query("INSERT INTO notes (body) VALUES (?)")
            .bind(format!("note {round}"))
            .execute(pools.writer())
            .await?;
        let by = answered_by(pools.writer()).await?;
        *report.writes.entry(by).or_insert(0) += 1;
        *report
            .reads
            .entry(answered_by(pools.reader()).await?)
            .or_insert(0) += 1;
    }
    let mut read_only = BTreeMap::new();
    for (i, node) in ctx.nodes.iter().enumerate() {
        let pool = if i == 0 {
            pools.writer().clone()
        } else {
            pool(&node.url, 1).await?
        };
        let on: i64 = sqlx::query_scalar("SELECT CAST(@@read_only AS SIGNED)")
            .fetch_one(&pool)
            .await?;
        read_only.insert(node.name.clone(), on == 1);
    }
    report.read_only = read_only;
    pools.close().await;
    Ok(report)
}
