//! Step 2, with SeaORM: `Database::connect` with `ConnectOptions`, the pool that a
//! `DatabaseConnection` is, and sqlx's statement log, on and off.

use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr};
use sea_orm::{DbBackend, Statement};

// ANCHOR: connect
/// How long opening a connection, or waiting for a free one, may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The options of the lesson's pool: at most `max_size` connections to `url`.
pub fn connect_options(url: &str, max_size: u32) -> ConnectOptions {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(max_size)
        // Opening a connection (connect_timeout), waiting for one (pool_timeout).
        .connect_timeout(CONNECT_TIMEOUT)
        .acquire_timeout(CONNECT_TIMEOUT)
        // pool_pre_ping (SeaORM's default) and pool_recycle.
        .test_before_acquire(true)
        .max_lifetime(Duration::from_secs(30 * 60))
        // echo=True: sqlx logs each statement, here at DEBUG rather than SeaORM's
        // default INFO; only a `tracing` subscriber that asks for DEBUG sees them.
        .sqlx_logging(true)
        .sqlx_logging_level(log::LevelFilter::Debug);
    options
}

/// Connects the pool: `create_async_engine` and `async_sessionmaker` in one call. It
/// opens one connection at once, so a wrong URL or password fails here.
pub async fn connect(url: &str, max_size: u32) -> Result<DatabaseConnection, DbErr> {
    Database::connect(connect_options(url, max_size)).await
}
// ANCHOR_END: connect

// ANCHOR: pool_status
/// The pool behind `db`: the most connections it opens, and those open and idle now. A
/// `DatabaseConnection` is the pool, not one connection: each statement takes a
/// connection from it, and gives it back when it is done.
pub fn pool_status(db: &DatabaseConnection) -> (u32, u32, usize) {
    let pool = db.get_mysql_connection_pool();
    (
        pool.options().get_max_connections(),
        pool.size(),
        pool.num_idle(),
    )
}
// ANCHOR_END: pool_status

/// Waits until every connection that the pool has opened is back in it and idle, for at
/// most [`CONNECT_TIMEOUT`]. sqlx gives a connection back on a task of its own, after a
/// ping, a moment after the statement that used it: until then, the next statement
/// takes another connection, or opens one (and sends its `SET` first).
pub async fn settle(db: &DatabaseConnection) {
    let pool = db.get_mysql_connection_pool();
    let deadline = tokio::time::Instant::now() + CONNECT_TIMEOUT;
    while pool.num_idle() < pool.size() as usize && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

// ANCHOR: quiet
/// The same pool with sqlx's statement log off: what a service that logs through its
/// own spans, or not at all, wants.
pub async fn connect_quiet(
    url: &str,
    max_size: u32,
) -> Result<DatabaseConnection, DbErr> {
    let mut options = connect_options(url, max_size);
    options.sqlx_logging(false);
    Database::connect(options).await
}
// ANCHOR_END: quiet

/// Step 2's report, with SeaORM: what sqlx's statement log shows of one `SELECT 1` with
/// the log on (the lesson's pool) and off (a second pool), and the pool after it.
pub async fn run(ctx: &super::Ctx) -> anyhow::Result<super::report::Sessions> {
    use super::s4_relations::record_statements;
    let select = || Statement::from_string(DbBackend::MySql, "SELECT 1");
    settle(&ctx.db).await;
    let (_, logged_on) = record_statements(ctx.db.query_one_raw(select())).await?;
    settle(&ctx.db).await;
    let (max_size, open, idle) = pool_status(&ctx.db);
    let quiet = connect_quiet(&ctx.url, 1).await?;
    let (_, logged_off) = record_statements(quiet.query_one_raw(select())).await?;
    quiet.close().await?;
    Ok(super::report::Sessions {
        max_size,
        open,
        idle,
        logged_on,
        logged_off,
    })
}
