//! Step 6: a query that outlives its timeout, what it leaves on the server, and how to
//! stop it there.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use sqlx::mysql::{MySql, MySqlConnection, MySqlPool};
use sqlx::pool::PoolConnection;
use sqlx::{AssertSqlSafe, Connection};

use crate::report::{Cancellation, ServerThread, millis};
use crate::s1_concurrent::{ACQUIRE_TIMEOUT, sized_pool};

// ANCHOR: time_out
/// On `conn`, a transaction inserts a row, then runs `SELECT SLEEP(5)` under
/// `tokio::time::timeout`. Returns how long the timeout took to give up.
pub async fn time_out_in_a_transaction(
    conn: &mut MySqlConnection,
    timeout: Duration,
) -> Result<Duration> {
    let mut tx = conn.begin().await?;
    sqlx::query("INSERT INTO customers (name, job) VALUES (?, 'cancelled')")
        .bind(CANCELLED_CUSTOMER)
        .execute(&mut *tx)
        .await?;
    let started = Instant::now();
    let slow = sqlx::query("SELECT SLEEP(5)").execute(&mut *tx);
    if tokio::time::timeout(timeout, slow).await.is_ok() {
        bail!("SELECT SLEEP(5) finished within {timeout:?}: nothing was cancelled");
    }
    let gave_up_after = started.elapsed();
    // Dropping the transaction only queues a ROLLBACK on the connection: nothing is
    // sent yet.
    drop(tx);
    Ok(gave_up_after)
}
// ANCHOR_END: time_out

// ANCHOR: server_thread
/// The processlist row of connection `id`, as another connection sees it.
///
/// NOTE: MySQL 8 deprecates `information_schema.processlist` in favour of
/// `performance_schema.processlist`; both still answer this query on MySQL 8.4 and
/// MariaDB.
pub async fn server_thread(pool: &MySqlPool, id: u64) -> Result<Option<ServerThread>> {
    let row = sqlx::query_as(
        "SELECT COMMAND AS command, STATE AS state, INFO AS info \
         FROM information_schema.processlist WHERE ID = ?",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(row)
}

/// How many InnoDB transactions connection `id` has open.
pub async fn open_transactions_of(pool: &MySqlPool, id: u64) -> Result<i64> {
    let n = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.innodb_trx \
         WHERE trx_mysql_thread_id = ?",
    )
    .bind(id)
    .fetch_one(pool)
    .await?;
    Ok(n)
}
// ANCHOR_END: server_thread

// ANCHOR: kill_query
/// Stops the statement connection `id` still runs, if `thread` shows one, with
/// `KILL QUERY` from another connection of `pool`. Returns whether it sent the KILL.
pub async fn kill_if_running(
    pool: &MySqlPool,
    id: u64,
    thread: Option<&ServerThread>,
) -> Result<bool> {
    let still_running = thread.is_some_and(|thread| thread.info.is_some());
    if still_running {
        // KILL takes no placeholder; the id is a number the server gave us, so
        // formatting it into the SQL is safe.
        sqlx::query(AssertSqlSafe(format!("KILL QUERY {id}")))
            .execute(pool)
            .await?;
    }
    Ok(still_running)
}

/// Reads what the killed statement and the queued ROLLBACK left on `conn` with a ping.
/// If the ping fails, the connection is closed, not reused; the error is returned.
pub async fn ping_or_close(mut conn: PoolConnection<MySql>) -> sqlx::Result<()> {
    let ping = conn.ping().await;
    if ping.is_err() {
        // Closing ends the session; the server rolls back what it still had open. A
        // connection in this state may also fail to say goodbye: that error changes
        // nothing, so it is not reported.
        let _ = conn.close().await;
    }
    ping
}
// ANCHOR_END: kill_query

// ANCHOR: cancellation
/// Step 6, in order: a query times out in a transaction, the server is looked at from
/// another connection, the statement is killed there, and the connection recovered.
pub async fn cancel_slow_query(
    pool: &MySqlPool,
    timeout: Duration,
) -> Result<Cancellation> {
    let mut conn = pool.acquire().await?;
    let id: u64 = sqlx::query_scalar("SELECT CONNECTION_ID()")
        .fetch_one(&mut *conn)
        .await?;
    let gave_up_after = time_out_in_a_transaction(&mut conn, timeout).await?;
    // The server knows nothing of our timeout: the statement is still running there,
    // and the transaction still holds the row it inserted.
    let server_after_timeout = server_thread(pool, id).await?;
    let open_transactions_after_timeout = open_transactions_of(pool, id).await?;
    let killed = kill_if_running(pool, id, server_after_timeout.as_ref()).await?;
    let ping = ping_or_close(conn).await;
    Ok(Cancellation {
        connection_id: id,
        timeout_ms: millis(timeout),
        gave_up_after_ms: millis(gave_up_after),
        server_after_timeout,
        open_transactions_after_timeout,
        killed,
        ping_error: ping.err().map(|e| e.to_string()),
        open_transactions_at_end: wait_for_no_transactions(pool, id).await?,
        inserted_row_kept: count_named(pool, CANCELLED_CUSTOMER).await? > 0,
        pool_answers: pool_answers(pool).await?,
    })
}
// ANCHOR_END: cancellation

/// The name of the customer step 6 inserts in the transaction that it then abandons.
pub const CANCELLED_CUSTOMER: &str = "lesson-4 cancelled";

/// How many customers are named `name`.
pub async fn count_named(pool: &MySqlPool, name: &str) -> Result<i64> {
    let n = sqlx::query_scalar("SELECT COUNT(*) FROM customers WHERE name = ?")
        .bind(name)
        .fetch_one(pool)
        .await?;
    Ok(n)
}

/// Whether the pool answers `SELECT 1`.
pub async fn pool_answers(pool: &MySqlPool) -> Result<bool> {
    let one: i32 = sqlx::query_scalar("SELECT 1").fetch_one(pool).await?;
    Ok(one == 1)
}

/// How many InnoDB transactions are open on connections whose current database is the
/// pool's: the leftovers a lesson could have caused in its own database.
pub async fn open_transactions_in_this_database(pool: &MySqlPool) -> Result<i64> {
    let n = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.innodb_trx t \
         JOIN information_schema.processlist p ON p.ID = t.trx_mysql_thread_id \
         WHERE p.DB = DATABASE()",
    )
    .fetch_one(pool)
    .await?;
    Ok(n)
}

/// Waits up to 5 s for connection `id`'s transactions to end (a closed connection is
/// rolled back by the server shortly after it goes), and returns how many are still open.
///
/// NOTE: InnoDB answers `information_schema.innodb_trx` from a cache that it refreshes
/// only when the last read is more than 0.1 s old (MySQL and MariaDB alike), so polling
/// it faster than that keeps reading the same stale rows.
async fn wait_for_no_transactions(pool: &MySqlPool, id: u64) -> Result<i64> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let open = open_transactions_of(pool, id).await?;
        if open == 0 || Instant::now() > deadline {
            return Ok(open);
        }
    }
}

/// How long step 6 lets `SELECT SLEEP(5)` run before it gives up.
pub const TIMEOUT: Duration = Duration::from_millis(500);

/// Step 6's report: what a timed-out query left on the server, and after the KILL.
pub async fn run(ctx: &crate::Ctx) -> Result<Cancellation> {
    let pool = sized_pool(&ctx.url, 2, ACQUIRE_TIMEOUT)
        .await
        .context("cannot open the step's pool")?;
    let cancelled = cancel_slow_query(&pool, TIMEOUT)
        .await
        .context("cannot run the cancellation step")?;
    pool.close().await;
    Ok(cancelled)
}
