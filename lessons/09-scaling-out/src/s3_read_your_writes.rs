//! Step 3: read-your-writes. After a write, wait until the replica has applied the
//! write's GTID before reading there; without the wait, some reads miss the write.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;
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
/// `wait` is set. A replica that has not got there within `WAIT_LIMIT` is too far
/// behind: the read goes to the primary, which has the write.
pub async fn read_your_write(pools: &Pools, flavor: Flavor, wait: bool) -> Result<Read> {
    let mut primary = pools.writer().acquire().await?;
    let (id, gtid) = write_and_get_gtid(&mut primary, flavor, "mine").await?;
    drop(primary);
    // The wait and the read must use the same connection: the same replica.
    let mut replica = pools.reader().acquire().await?;
    if wait && !wait_for_gtid(&mut replica, flavor, &gtid, WAIT_LIMIT).await? {
        drop(replica);
        let mut primary = pools.writer().acquire().await?;
        return Ok(match note_exists(&mut primary, id).await? {
            true => Read::FromPrimary,
            false => Read::Stale,
        });
    }
    Ok(match note_exists(&mut replica, id).await? {
        true => Read::Fresh,
        false => Read::Stale,
    })
}

/// How long a read waits for its replica before it goes to the primary.
pub const WAIT_LIMIT: Duration = Duration::from_secs(1);
// ANCHOR_END: read_your_write

/// Where a read of your own write found it, if it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// The replica had it.
    Fresh,
    /// The replica was too far behind, and the primary had it.
    FromPrimary,
    /// The read missed it.
    Stale,
}

/// Whether the note with this id is there, on this connection's server.
async fn note_exists(conn: &mut MySqlConnection, id: u64) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM notes WHERE id = ?")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}

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
        ctx.sizes.rate,
        stop.clone(),
    ));
    let mut report = ReadYourWritesReport {
        reads: ctx.sizes.reads,
        writers: ctx.sizes.writers,
        ..ReadYourWritesReport::default()
    };
    let outcome = async {
        for wait in [false, true] {
            let (mut stale, mut from_primary, mut times) = (0, 0, Vec::new());
            for _ in 0..ctx.sizes.reads {
                let started = Instant::now();
                match read_your_write(&pools, ctx.flavor, wait).await? {
                    Read::Fresh => {}
                    Read::FromPrimary => from_primary += 1,
                    Read::Stale => stale += 1,
                }
                times.push(started.elapsed());
            }
            if wait {
                (report.stale_with_wait, report.with_wait) = (stale, Summary::of(&times));
                report.from_primary = from_primary;
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
