//! Step 1: open a pool, with each option spelled out, and log the statements.

use std::time::Duration;

use log::LevelFilter;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::{ConnectOptions, Connection};

// ANCHOR: connect
/// Opens the lesson's pool on `url`, with each option spelled out.
pub async fn connect(url: &str) -> sqlx::Result<MySqlPool> {
    // The URL gives the connect options: host, port, user, password, database, TLS.
    let options: MySqlConnectOptions = url.parse()?;
    let options = options
        // Every statement is logged at INFO (see it with RUST_LOG=sqlx=info) ...
        .log_statements(LevelFilter::Info)
        // ... and one slower than a second at WARN, which is shown by default.
        .log_slow_statements(LevelFilter::Warn, Duration::from_secs(1));
    MySqlPoolOptions::new()
        // At most 5 connections open at once: SQLAlchemy's pool_size + max_overflow.
        .max_connections(5)
        // Keep at least one open, even when idle.
        .min_connections(1)
        // Wait at most 5 s for a free connection, then fail: pool_timeout.
        .acquire_timeout(Duration::from_secs(5))
        // Replace a connection after 30 minutes, before the server's wait_timeout:
        // pool_recycle.
        .max_lifetime(Duration::from_secs(30 * 60))
        // Close connections (above min_connections) idle for 10 minutes.
        .idle_timeout(Duration::from_secs(10 * 60))
        // Ping a connection before handing it out (the default): pool_pre_ping.
        .test_before_acquire(true)
        .connect_with(options)
        .await
}
// ANCHOR_END: connect

// ANCHOR: logging
/// Sends sqlx's statement log to stderr, filtered by `RUST_LOG`: SQLAlchemy's
/// `echo=True`. A `RUST_LOG` that is not a valid filter is a one-line error.
pub fn init_logging() -> anyhow::Result<()> {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    use tracing_subscriber::filter::LevelFilter;

    let filter = EnvFilter::builder()
        .with_default_directive(LevelFilter::WARN.into())
        .from_env()
        .map_err(|e| {
            let hint = "try RUST_LOG=sqlx=info";
            anyhow::anyhow!("RUST_LOG is not a valid log filter ({e}); {hint}")
        })?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours for a terminal, plain text for a file or a pipe.
        .with_ansi(std::io::stderr().is_terminal())
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot set up logging: {e}"))
}
// ANCHOR_END: logging

// ANCHOR: events
/// A pool with SQLAlchemy's pool events as hooks: `after_connect` runs once on each new
/// connection ("connect"), `before_acquire` on every checkout ("checkout"), and
/// `after_release` on every return ("checkin"). A hook that returns `Ok(false)` or an
/// error makes the pool close that connection.
pub async fn connect_with_events(url: &str) -> sqlx::Result<MySqlPool> {
    MySqlPoolOptions::new()
        .max_connections(2)
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                // Every session of this pool reads and writes times in UTC.
                sqlx::raw_sql("SET time_zone = '+00:00'")
                    .execute(conn)
                    .await?;
                Ok(())
            })
        })
        // Hand out a connection idle for under a minute without the usual ping.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                Ok(meta.idle_for < Duration::from_secs(60) || conn.ping().await.is_ok())
            })
        })
        // Give up a connection that has served for an hour, rather than keep it.
        .after_release(|_conn, meta| {
            Box::pin(async move { Ok(meta.age.as_secs() < 3600) })
        })
        .connect(url)
        .await
}
// ANCHOR_END: events

/// The session time zone of a connection of `pool`.
pub async fn session_time_zone(pool: &MySqlPool) -> sqlx::Result<String> {
    sqlx::query_scalar("SELECT @@session.time_zone")
        .fetch_one(pool)
        .await
}

/// Step 1's report: the pool's settings as the pool reports them.
pub async fn run(ctx: &crate::Ctx) -> anyhow::Result<crate::report::Connected> {
    let options = ctx.pool.options();
    Ok(crate::report::Connected {
        database: ctx.database.clone(),
        min_connections: options.get_min_connections(),
        max_connections: options.get_max_connections(),
        acquire_timeout: options.get_acquire_timeout(),
        max_lifetime: options.get_max_lifetime(),
        idle_timeout: options.get_idle_timeout(),
        test_before_acquire: options.get_test_before_acquire(),
        time_zone_with_events: {
            let pool = connect_with_events(&ctx.url).await?;
            let zone = session_time_zone(&pool).await?;
            pool.close().await;
            zone
        },
    })
}
