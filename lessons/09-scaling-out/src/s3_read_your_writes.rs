//! Step 3: read-your-writes. After a write, wait until the replica has applied the
//! write's GTID before reading there; without the wait, some reads miss the write.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use sqlx::mysql::MySqlConnection;

use crate::report::{ReadYourWritesReport, Summary};
use crate::s2_split::Pools;
use crate::{Ctx, Flavor};

// ANCHOR: write_and_get_gtid
/// Inserts a note on the primary and returns its id and a GTID position that includes
/// the write.
///
/// NOTE: MariaDB tells each session the GTID of its last commit (`@@last_gtid`). MySQL
/// tells it only in the protocol's session-state tracking, which sqlx does not expose,
/// so the primary's whole `@@gtid_executed`, read after the commit, stands in: a superset
/// that includes the write.
pub async fn write_and_get_gtid(
    primary: &mut MySqlConnection,
    flavor: Flavor,
    body: &str,
) -> Result<(u64, String)> {
    let done = sqlx::query("INSERT INTO notes (body) VALUES (?)")
        .bind(body)
        .execute(&mut *primary)
        .await?;
    let gtid: String = match flavor {
        Flavor::MariaDb => sqlx::query_scalar("SELECT @@last_gtid"),
        Flavor::MySql => sqlx::query_scalar("SELECT @@GLOBAL.gtid_executed"),
    }
    .fetch_one(&mut *primary)
    .await?;
    Ok((done.last_insert_id(), gtid))
}
// ANCHOR_END: write_and_get_gtid

// ANCHOR: wait_for_gtid
/// Waits until the replica behind `replica` has applied `gtid`, for at most `timeout`.
/// False when the time ran out.
pub async fn wait_for_gtid(
    replica: &mut MySqlConnection,
    flavor: Flavor,
    gtid: &str,
    timeout: Duration,
) -> Result<bool> {
    // MariaDB answers 0 when the position is reached and -1 on timeout; MySQL answers
    // 0, and 1 on timeout (older versions) or error 4041 (newer ones).
    let sql = match flavor {
        Flavor::MariaDb => "SELECT MASTER_GTID_WAIT(?, ?)",
        Flavor::MySql => "SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?)",
    };
    let waited = sqlx::query_scalar::<_, i64>(sql)
        .bind(gtid)
        .bind(timeout.as_secs_f64())
        .fetch_one(&mut *replica)
        .await;
    match waited {
        Ok(0) => Ok(true),
        Ok(_) => Ok(false),
        Err(sqlx::Error::Database(e))
            if e.code().as_deref() == Some("HY000") && e.message().contains("imeout") =>
        {
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}
// ANCHOR_END: wait_for_gtid

// ANCHOR: read_your_write
/// Writes a note, then reads it back from a replica, waiting for its GTID first when
/// `wait` is set. True when the read found the note.
pub async fn read_your_write(pools: &Pools, flavor: Flavor, wait: bool) -> Result<bool> {
    let mut primary = pools.writer().acquire().await?;
    let (id, gtid) = write_and_get_gtid(&mut primary, flavor, "mine").await?;
    drop(primary);
    // The wait and the read must use the same connection: the same replica.
    let mut replica = pools.reader().acquire().await?;
    if wait && !wait_for_gtid(&mut replica, flavor, &gtid, Duration::from_secs(5)).await?
    {
        bail!("the replica did not reach {gtid} within 5 s");
    }
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM notes WHERE id = ?")
        .bind(id)
        .fetch_optional(&mut *replica)
        .await?;
    Ok(found.is_some())
}
// ANCHOR_END: read_your_write

/// Step 3: `reads` writes each read back at once from a replica, without and then with
/// the wait, while the write load of step 1 runs; the stale reads are counted.
pub async fn run(ctx: &Ctx) -> Result<ReadYourWritesReport> {
    let replicas: Vec<String> = ctx.replicas().iter().map(|r| r.url.clone()).collect();
    let pools = Pools::connect(&ctx.primary().url, &replicas, 4).await?;
    let load_pool = crate::s2_split::pool(&ctx.primary().url, ctx.sizes.writers).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(crate::s1_replication::write_load(
        load_pool.clone(),
        ctx.sizes.writers,
        stop.clone(),
    ));
    let mut report = ReadYourWritesReport {
        reads: ctx.sizes.reads,
        writers: ctx.sizes.writers,
        ..ReadYourWritesReport::default()
    };
    let outcome = async {
        for wait in [false, true] {
            let (mut stale, mut times) = (0, Vec::new());
            for _ in 0..ctx.sizes.reads {
                let started = Instant::now();
                if !read_your_write(&pools, ctx.flavor, wait).await? {
                    stale += 1;
                }
                times.push(started.elapsed());
            }
            if wait {
                (report.stale_with_wait, report.with_wait) = (stale, Summary::of(&times));
            } else {
                (report.stale_without_wait, report.without_wait) =
                    (stale, Summary::of(&times));
            }
        }
        anyhow::Ok(())
    }
    .await;
    stop.store(true, Ordering::Relaxed);
    let _ = load.await;
    load_pool.close().await;
    pools.close().await;
    outcome?;
    Ok(report)
}
