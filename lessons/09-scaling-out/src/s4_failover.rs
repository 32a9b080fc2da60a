//! Step 4: failover. The primary dies under load; the most advanced replica is promoted
//! and the write pool pointed at it. With semi-synchronous replication no acknowledged
//! write is lost; without it, the writes acknowledged while the replicas were cut off are.

use std::cmp::Reverse;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use sqlx::mysql::{MySqlConnection, MySqlPool};
use sqlx::{AssertSqlSafe, Connection, Row};

use crate::report::{Attempt, FailoverReport};
use crate::s3_read_your_writes::wait_for_gtid;
use crate::{Ctx, Flavor, NodeControl};

// ANCHOR: write_pool
/// The pool that writes go through, which a failover points at another server while
/// the application runs. Each write takes the current pool; a clone is cheap.
#[derive(Debug, Clone)]
pub struct WritePool(Arc<RwLock<MySqlPool>>);

impl WritePool {
    /// Starts with `pool`, on the primary.
    pub fn new(pool: MySqlPool) -> WritePool {
        WritePool(Arc::new(RwLock::new(pool)))
    }

    /// The pool to write through now.
    pub fn get(&self) -> MySqlPool {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Points every later write at `pool`, and returns the old one to close.
    pub fn point_at(&self, pool: MySqlPool) -> MySqlPool {
        std::mem::replace(
            &mut *self.0.write().unwrap_or_else(|e| e.into_inner()),
            pool,
        )
    }
}
// ANCHOR_END: write_pool

// ANCHOR: gtid_count
/// How many transactions a GTID set holds. MySQL's sets are `uuid:1-57:60,uuid2:1-3`
/// (intervals per server); MariaDB's positions are `0-1-57,1-2-3` (domain, server,
/// sequence number per domain).
pub fn gtid_count(flavor: Flavor, set: &str) -> Result<u64> {
    let mut count = 0;
    for part in set.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match flavor {
            Flavor::MariaDb => {
                let seq = part.rsplit('-').next().unwrap_or_default();
                count += seq
                    .parse::<u64>()
                    .with_context(|| format!("bad GTID {part}"))?;
            }
            // The first field is the server's UUID; an optional tag has no digits first.
            Flavor::MySql => {
                for interval in part.split(':').skip(1) {
                    let (first, last) =
                        interval.split_once('-').unwrap_or((interval, interval));
                    let (Ok(first), Ok(last)) =
                        (first.parse::<u64>(), last.parse::<u64>())
                    else {
                        continue;
                    };
                    count += last + 1 - first.min(last + 1);
                }
            }
        }
    }
    Ok(count)
}
// ANCHOR_END: gtid_count

// ANCHOR: applied
/// What a replica has: first it applies everything it received from the dead primary,
/// then its GTID set is read.
pub async fn applied(replica: &mut MySqlConnection, flavor: Flavor) -> Result<String> {
    let status = sqlx::raw_sql("SHOW REPLICA STATUS")
        .fetch_one(&mut *replica)
        .await?;
    let (received, executed) = match flavor {
        Flavor::MariaDb => ("Gtid_IO_Pos", "SELECT @@GLOBAL.gtid_current_pos"),
        Flavor::MySql => ("Retrieved_Gtid_Set", "SELECT @@GLOBAL.gtid_executed"),
    };
    let received: String = status.try_get(received)?;
    if !received.is_empty()
        && !wait_for_gtid(replica, flavor, &received, Duration::from_secs(30)).await?
    {
        bail!("the replica did not apply what it received within 30 s");
    }
    Ok(sqlx::query_scalar(executed)
        .fetch_one(&mut *replica)
        .await?)
}
// ANCHOR_END: applied

// ANCHOR: promote
/// Makes the replica a primary: it stops replicating, forgets its source, and takes
/// writes.
pub async fn promote(replica: &mut MySqlConnection, flavor: Flavor) -> Result<()> {
    let statements: &[&str] = match flavor {
        Flavor::MariaDb => &[
            "STOP SLAVE",
            "RESET SLAVE ALL",
            "SET GLOBAL read_only = OFF",
        ],
        Flavor::MySql => &[
            "STOP REPLICA",
            "RESET REPLICA ALL",
            "SET GLOBAL super_read_only = OFF",
            "SET GLOBAL read_only = OFF",
        ],
    };
    for sql in statements {
        sqlx::raw_sql(*sql).execute(&mut *replica).await?;
    }
    Ok(())
}
// ANCHOR_END: promote

// ANCHOR: follow
/// Makes a replica copy `host:port` instead, from where its GTIDs say it is. The address
/// comes from the application's configuration, never from a user.
pub async fn follow(
    replica: &mut MySqlConnection,
    flavor: Flavor,
    (host, port): (&str, u16),
) -> Result<()> {
    let host_name = |c: char| c.is_ascii_alphanumeric() || ".-_".contains(c);
    anyhow::ensure!(host.chars().all(host_name), "{host:?} is not a host name");
    let change = match flavor {
        Flavor::MariaDb => format!(
            "CHANGE MASTER TO MASTER_HOST = '{host}', MASTER_PORT = {port}, \
             MASTER_USE_GTID = slave_pos"
        ),
        Flavor::MySql => format!(
            "CHANGE REPLICATION SOURCE TO SOURCE_HOST = '{host}', \
             SOURCE_PORT = {port}, SOURCE_AUTO_POSITION = 1"
        ),
    };
    // MariaDB 10.5 and later understand STOP REPLICA and START REPLICA too.
    sqlx::raw_sql("STOP REPLICA").execute(&mut *replica).await?;
    sqlx::raw_sql(AssertSqlSafe(change))
        .execute(&mut *replica)
        .await?;
    sqlx::raw_sql("START REPLICA")
        .execute(&mut *replica)
        .await?;
    Ok(())
}
// ANCHOR_END: follow

// ANCHOR: fail_over
/// The failover: find the replica with the most transactions, promote it, make the
/// others follow it, and point the write pool at it. Returns the new primary's index.
pub async fn fail_over(
    flavor: Flavor,
    replicas: &[NodeControl],
    writes: &WritePool,
) -> Result<usize> {
    let mut conns = Vec::new();
    let mut counts = Vec::new();
    for replica in replicas {
        let mut conn = MySqlConnection::connect(&replica.url).await?;
        counts.push(gtid_count(flavor, &applied(&mut conn, flavor).await?)?);
        conns.push(conn);
    }
    // The most transactions; on a tie, the first.
    let best = (0..counts.len())
        .min_by_key(|&i| (Reverse(counts[i]), i))
        .context("no replica")?;
    promote(&mut conns[best], flavor).await?;
    let (host, port) = &replicas[best].peer;
    for (i, conn) in conns.iter_mut().enumerate().filter(|(i, _)| *i != best) {
        follow(conn, flavor, (host, *port))
            .await
            .with_context(|| replicas[i].name.clone())?;
    }
    let old = writes.point_at(crate::s2_split::pool(&replicas[best].url, 8).await?);
    // The old pool's connections are dead; closing it must not wait for them.
    tokio::spawn(async move { old.close().await });
    Ok(best)
}
// ANCHOR_END: fail_over

// ANCHOR: writer
/// One writer: inserts orders with ids from `next_id` until `stop`, each through the
/// pool the write pool points at now, and records how each attempt ended.
async fn writer(
    writes: WritePool,
    who: u32,
    next_id: Arc<AtomicI64>,
    stop: Arc<AtomicBool>,
    since: Instant,
) -> Vec<Attempt> {
    let mut attempts = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let pool = writes.get();
        let insert = sqlx::query("INSERT INTO orders (id, writer) VALUES (?, ?)")
            .bind(id)
            .bind(who)
            .execute(&pool);
        // A dead server may not answer at all: give up on a write after 500 ms.
        let limit = Duration::from_millis(500);
        let ok = matches!(tokio::time::timeout(limit, insert).await, Ok(Ok(_)));
        let at = since.elapsed();
        attempts.push(Attempt { at, id, ok });
        if !ok {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    attempts
}
// ANCHOR_END: writer

/// Turns semi-synchronous replication on (`on`) or off: the primary waits for a
/// replica's acknowledgement before it acknowledges a commit, for up to an hour.
async fn semi_sync(
    flavor: Flavor,
    primary: &str,
    replicas: &[NodeControl],
    on: bool,
) -> Result<()> {
    let v = if on { "ON" } else { "OFF" };
    let (source, replica, restart) = match flavor {
        Flavor::MariaDb => (
            vec![
                format!("SET GLOBAL rpl_semi_sync_master_enabled = {v}"),
                "SET GLOBAL rpl_semi_sync_master_timeout = 3600000".to_owned(),
                "SET GLOBAL rpl_semi_sync_master_wait_point = AFTER_SYNC".to_owned(),
            ],
            format!("SET GLOBAL rpl_semi_sync_slave_enabled = {v}"),
            ["STOP SLAVE IO_THREAD", "START SLAVE IO_THREAD"],
        ),
        Flavor::MySql => (
            vec![
                format!("SET GLOBAL rpl_semi_sync_source_enabled = {v}"),
                "SET GLOBAL rpl_semi_sync_source_timeout = 3600000".to_owned(),
            ],
            format!("SET GLOBAL rpl_semi_sync_replica_enabled = {v}"),
            ["STOP REPLICA IO_THREAD", "START REPLICA IO_THREAD"],
        ),
    };
    let mut conn = MySqlConnection::connect(primary).await?;
    for sql in source {
        sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut conn).await?;
    }
    for node in replicas {
        let mut r = MySqlConnection::connect(&node.url).await?;
        sqlx::raw_sql(AssertSqlSafe(replica.clone()))
            .execute(&mut r)
            .await?;
        for sql in restart {
            sqlx::raw_sql(sql).execute(&mut r).await?;
        }
        r.close().await.ok();
    }
    if on {
        // The primary counts the replicas that acknowledge.
        let name = match flavor {
            Flavor::MariaDb => "Rpl_semi_sync_master_clients",
            Flavor::MySql => "Rpl_semi_sync_source_clients",
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let row =
                sqlx::raw_sql(AssertSqlSafe(format!("SHOW GLOBAL STATUS LIKE '{name}'")))
                    .fetch_one(&mut conn)
                    .await?;
            let clients: String = row.try_get(1)?;
            if clients.parse::<usize>().unwrap_or(0) >= replicas.len() {
                break;
            }
            if Instant::now() > deadline {
                bail!("only {clients} replicas acknowledge semi-synchronously");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    conn.close().await.ok();
    Ok(())
}

/// Cuts the replicas off the primary. In the Docker run they leave the network (so this
/// program cannot reach them either, until [`heal`]); in the local run, where every node
/// shares the loopback interface, their IO threads stop, which is what a cut link does to
/// them.
async fn cut(ctx: &Ctx, replicas: &[NodeControl]) -> Result<()> {
    if ctx.real_cuts {
        return run_on_each(replicas, |n| n.cut.clone()).await;
    }
    let sql = match ctx.flavor {
        Flavor::MariaDb => "STOP SLAVE IO_THREAD",
        Flavor::MySql => "STOP REPLICA IO_THREAD",
    };
    for node in replicas {
        let mut r = MySqlConnection::connect(&node.url).await?;
        sqlx::raw_sql(sql).execute(&mut r).await?;
        r.close().await.ok();
    }
    Ok(())
}

/// Brings the cut-off replicas back on the network (the Docker run; in the local run the
/// failover's `follow` starts their IO threads again).
async fn heal(ctx: &Ctx, replicas: &[NodeControl]) -> Result<()> {
    if ctx.real_cuts {
        run_on_each(replicas, |n| n.reconnect.clone()).await?;
    }
    Ok(())
}

/// Runs a blocking action of each node's, one node after the other.
async fn run_on_each(
    nodes: &[NodeControl],
    action: impl Fn(&NodeControl) -> crate::NodeAction,
) -> Result<()> {
    for node in nodes {
        let act = action(node);
        tokio::task::spawn_blocking(move || act()).await??;
    }
    Ok(())
}

/// One failover, timed: writers run, the replicas are cut off for `cut_ms`, the primary
/// is killed, the most advanced replica promoted. Returns the report and the new
/// primary's index in `replicas`.
async fn one_failover(
    ctx: &Ctx,
    primary: &NodeControl,
    replicas: &[NodeControl],
    semi: bool,
    first_id: i64,
) -> Result<(FailoverReport, usize)> {
    semi_sync(ctx.flavor, &primary.url, replicas, semi).await?;
    let writes = WritePool::new(crate::s2_split::pool(&primary.url, 8).await?);
    let (next_id, stop) = (
        Arc::new(AtomicI64::new(first_id)),
        Arc::new(AtomicBool::new(false)),
    );
    let since = Instant::now();
    let tasks: Vec<_> = (0..ctx.sizes.writers)
        .map(|who| {
            tokio::spawn(writer(
                writes.clone(),
                who,
                next_id.clone(),
                stop.clone(),
                since,
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    cut(ctx, replicas).await?;
    let cut_at = since.elapsed();
    tokio::time::sleep(Duration::from_millis(ctx.sizes.cut_ms)).await;
    let kill = primary.kill.clone();
    tokio::task::spawn_blocking(move || kill()).await??;
    let killed_at = since.elapsed();
    heal(ctx, replicas).await?;
    let best = fail_over(ctx.flavor, replicas, &writes).await?;
    let promoted_at = since.elapsed();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    stop.store(true, Ordering::Relaxed);
    let mut attempts = Vec::new();
    for task in tasks {
        attempts.extend(task.await.context("a writer failed")?);
    }
    attempts.sort_by_key(|a| a.at);
    let present: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM orders WHERE id >= ? ORDER BY id")
            .bind(first_id)
            .fetch_all(&writes.get())
            .await?;
    writes.get().close().await;
    let report = FailoverReport::new(
        semi,
        (primary.name.clone(), replicas[best].name.clone()),
        (cut_at, killed_at, promoted_at),
        attempts,
        &present,
    );
    Ok((report, best))
}

/// Step 4: a failover with semi-synchronous replication, then another without it.
pub async fn run(ctx: &Ctx) -> Result<Vec<FailoverReport>> {
    let (first, best) = one_failover(ctx, ctx.primary(), ctx.replicas(), true, 1).await?;
    let new_primary = ctx.replicas()[best].clone();
    let rest: Vec<NodeControl> = ctx
        .replicas()
        .iter()
        .filter(|n| n.name != new_primary.name)
        .cloned()
        .collect();
    if rest.is_empty() {
        return Ok(vec![first]);
    }
    let (second, _) = one_failover(ctx, &new_primary, &rest, false, 1_000_000).await?;
    Ok(vec![first, second])
}
