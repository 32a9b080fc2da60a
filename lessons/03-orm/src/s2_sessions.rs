//! Step 2: the pool as a session factory, the migrations, and the runtime they need.

use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use deadpool::Runtime;
use diesel_async::pooled_connection::deadpool::{Object, Pool, PoolError};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncMigrationHarness, AsyncMysqlConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

// ANCHOR: pool
/// A pool of diesel-async MySQL connections: `async_sessionmaker`'s part.
pub type DbPool = Pool<AsyncMysqlConnection>;

/// A connection taken from the pool: `AsyncSession`'s part. It goes back when dropped.
pub type DbConn = Object<AsyncMysqlConnection>;

/// Builds a pool of at most `max_size` connections to `url`. Nothing connects yet.
pub fn session_factory(url: &str, max_size: usize) -> Result<DbPool> {
    refuse_tls_without_support(url)?;
    let mut config = ManagerConfig::default();
    // Check an idle connection with a query before handing it out: pool_pre_ping.
    config.recycling_method = RecyclingMethod::Verified;
    let manager = AsyncDieselConnectionManager::new_with_config(url, config);
    Pool::builder(manager)
        .max_size(max_size)
        // pool_timeout: wait this long for a free connection, and as long again to open
        // or to check one. deadpool's timers need to know the runtime.
        .wait_timeout(Some(CONNECT_TIMEOUT))
        .create_timeout(Some(CONNECT_TIMEOUT))
        .recycle_timeout(Some(CONNECT_TIMEOUT))
        .runtime(Runtime::Tokio1)
        .build()
        .context("cannot build the connection pool")
}
// ANCHOR_END: pool

// ANCHOR: session
/// How long taking a connection from the pool may take before it is an error.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Takes a connection from the pool, failing within the pool's timeouts with one line.
pub async fn session(pool: &DbPool) -> Result<DbConn> {
    pool.get().await.map_err(|e| match e {
        PoolError::Timeout(_) => {
            let seconds = CONNECT_TIMEOUT.as_secs();
            anyhow!("cannot connect: no answer within {seconds} s")
        }
        e => anyhow!("cannot connect: {e}{}", url_hint(&e.to_string())),
    })
}

/// A hint for an unknown URL parameter: diesel-async hands the URL to mysql_async, whose
/// parameters are not sqlx's (`ssl-mode`, ...).
fn url_hint(message: &str) -> &'static str {
    if message.contains("URL parameter") {
        "; diesel-async's URL parameters are mysql_async's, such as require_ssl=true"
    } else {
        ""
    }
}
// ANCHOR_END: session

// ANCHOR: tls_guard
/// Refuses a URL that asks mysql_async for TLS (`require_ssl=true`), because this build
/// has none: diesel-async compiles mysql_async without TLS, and mysql_async then panics
/// on the first connection instead of returning an error. The chapter says how to add
/// TLS.
pub fn refuse_tls_without_support(url: &str) -> Result<()> {
    let parsed = url::Url::parse(url).context("the database URL is not a valid URL")?;
    let wants_tls = parsed
        .query_pairs()
        .any(|(key, value)| key == "require_ssl" && value == "true");
    if wants_tls {
        bail!(
            "the database URL asks for TLS (require_ssl=true), but this build of \
             mysql_async has no TLS: enable its `rustls-tls` feature (see the \
             chapter), or remove the parameter"
        );
    }
    Ok(())
}
// ANCHOR_END: tls_guard

// ANCHOR: migrations
/// The lesson's migrations (`lessons/03-orm/migrations/`), compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Runs the pending migrations on `conn` and returns the versions now applied, oldest
/// first.
///
/// NOTE: `AsyncMigrationHarness` runs diesel's synchronous migration code inside
/// `tokio::task::block_in_place`, which panics on tokio's current-thread runtime.
pub fn run_migrations(conn: DbConn) -> Result<(Vec<String>, DbConn)> {
    let mut harness = AsyncMigrationHarness::new(conn);
    harness
        .run_pending_migrations(MIGRATIONS)
        .map_err(|e| anyhow!("cannot run the migrations: {e}"))?;
    let mut applied: Vec<String> = harness
        .applied_migrations()
        .map_err(|e| anyhow!("cannot list the applied migrations: {e}"))?
        .iter()
        .map(ToString::to_string)
        .collect();
    applied.sort();
    Ok((applied, harness.into_inner()))
}
// ANCHOR_END: migrations

// ANCHOR: runtime
/// The runtime that `#[tokio::main]` builds, written out: tokio's multi-thread one, which
/// the migration harness needs. `#[tokio::main(flavor = "current_thread")]` builds
/// `new_current_thread()` instead, and the harness panics on it.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}
// ANCHOR_END: runtime

// ANCHOR: migrations_blocking
/// [`run_migrations`] on tokio's blocking thread pool: this works on any tokio runtime,
/// the current-thread one included, because `block_in_place` is allowed outside the
/// runtime's worker threads.
pub async fn run_migrations_on_any_runtime(
    conn: DbConn,
) -> Result<(Vec<String>, DbConn)> {
    tokio::task::spawn_blocking(move || run_migrations(conn))
        .await
        .context("the migration task failed")?
}
// ANCHOR_END: migrations_blocking

// ANCHOR: migrate
/// What a program does once, at startup: takes a connection, runs the pending migrations
/// on it, and gives it back to the pool. Returns the versions applied, oldest first.
pub async fn migrate(pool: &DbPool) -> Result<Vec<String>> {
    let conn = session(pool).await?;
    let (applied, conn) = run_migrations(conn)?;
    drop(conn);
    Ok(applied)
}
// ANCHOR_END: migrate

/// Step 2's report: the migrations applied, and the pool's size after them.
pub async fn run(ctx: &crate::Ctx) -> Result<crate::report::Sessions> {
    let applied = migrate(&ctx.pool).await?;
    let status = ctx.pool.status();
    Ok(crate::report::Sessions {
        applied,
        max_size: status.max_size,
        open: status.size,
        idle: status.available,
    })
}
