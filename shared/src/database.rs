//! Databases on the server: the lesson's own, and the shared schema.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::{AssertSqlSafe, Connection, MySqlConnection};

use crate::errors::{NoServerError, explain_connect_error};
use crate::redact::redact;
use crate::server::{Server, server};

/// How long any connection attempt may take before it is reported as an error.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A database a lesson works in, and the server it lives on.
pub struct Database {
    /// The database's URL. It may hold a password: print it only through
    /// [`crate::redact`].
    pub url: String,
    /// The database's name.
    pub name: String,
    /// The server it lives on.
    pub server: &'static Server,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("url", &redact(&self.url))
            .field("name", &self.name)
            .finish()
    }
}

/// Connects a small pool to `url`, failing within 5 s with a one-line explanation.
///
/// Lessons that teach pool options build their own pool; this is for everything else.
pub async fn connect(url: &str) -> Result<MySqlPool> {
    let options: MySqlConnectOptions = url
        .parse()
        .map_err(|e: sqlx::Error| explain_connect_error(url, &e))?;
    MySqlPoolOptions::new()
        .max_connections(5)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(|e| explain_connect_error(url, &e))
}

pub(crate) async fn connect_one(url: &str) -> Result<MySqlConnection> {
    let options: MySqlConnectOptions = url
        .parse()
        .map_err(|e: sqlx::Error| explain_connect_error(url, &e))?;
    match tokio::time::timeout(CONNECT_TIMEOUT, MySqlConnection::connect_with(&options))
        .await
    {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(explain_connect_error(url, &e)),
        Err(_) => Err(explain_connect_error(url, &sqlx::Error::PoolTimedOut)),
    }
}

/// The server's `SELECT VERSION()`, such as `8.4.3` or `10.11.19-MariaDB-0+deb12u1`.
pub async fn server_version(pool: &MySqlPool) -> Result<String> {
    sqlx::query_scalar("SELECT VERSION()")
        .fetch_one(pool)
        .await
        .context("cannot read the server version")
}

pub(crate) fn check_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 64
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        bail!(
            "{name:?} is not a database name the workbook creates: use 1 to 64 letters, digits \
             and underscores"
        );
    }
    Ok(())
}

/// Creates `name` on the server at `server_url` if it is not there, as `utf8mb4`.
///
/// NOTE: MariaDB's default character set is often latin1, which cannot store emoji; MySQL
/// 8's is utf8mb4. Saying it explicitly makes both behave the same.
pub async fn create_database(server_url: &str, name: &str) -> Result<()> {
    check_name(name)?;
    let mut conn = connect_one(server_url).await?;
    // The name was checked above: only letters, digits and underscores reach this string.
    let sql = format!("CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4");
    sqlx::query(AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .with_context(|| format!("cannot create the database {name}"))?;
    conn.close().await.ok();
    Ok(())
}

/// Drops the database `name` on the connection `conn`, if it exists. Only for databases
/// the workbook made: the name is checked to be letters, digits and underscores.
#[cfg(feature = "testing")]
pub(crate) async fn drop_database(conn: &mut MySqlConnection, name: &str) -> Result<()> {
    check_name(name)?;
    let sql = format!("DROP DATABASE IF EXISTS `{name}`");
    sqlx::query(AssertSqlSafe(sql))
        .execute(conn)
        .await
        .with_context(|| format!("cannot drop the database {name}"))?;
    Ok(())
}

/// The database a lesson works in, with a one-line note on stderr saying which server it
/// is.
///
/// - With `DATABASE_URL` naming a database, that database, which must exist.
/// - With `DATABASE_URL` naming none, `sales`, created if missing.
/// - Otherwise `sales` on a server the workbook starts.
///
/// When no server can be had at all, this prints why and exits the process with code 2.
pub async fn lesson_database() -> Result<Database> {
    let server = match server().await {
        Ok(server) => server,
        Err(e) if e.is::<NoServerError>() => {
            eprintln!("Error: {e}");
            std::process::exit(2);
        }
        Err(e) => return Err(e),
    };
    let name = match server.configured_database() {
        Some(name) => name.to_owned(),
        None => {
            create_database(&server.url(), crate::DEFAULT_DATABASE).await?;
            crate::DEFAULT_DATABASE.to_owned()
        }
    };
    let url = server.database_url(&name);
    // Connect once now, so that a wrong password or a missing database is reported here,
    // in one line, before any lesson step runs.
    let mut conn = connect_one(&url).await?;
    let version: String = sqlx::query_scalar("SELECT VERSION()")
        .fetch_one(&mut conn)
        .await
        .context("cannot read the server version")?;
    conn.close().await.ok();
    eprintln!(
        "workbook: using {}; server version {version}",
        server.describe()
    );
    Ok(Database { url, name, server })
}

/// Runs the shared schema's migrations (`customers`, `orders`, `bench_customers`) on
/// `pool`.
///
/// Every statement is `CREATE TABLE IF NOT EXISTS`, so they also run cleanly on a
/// database that already has the article's table.
pub async fn migrate(pool: &MySqlPool) -> Result<()> {
    sqlx::migrate!("./migrations")
        .run(pool)
        .await
        .context("cannot run the workbook's migrations")
}
