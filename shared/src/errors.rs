//! Errors a reader can meet before any lesson code runs, each turned into one readable
//! line with a hint.

use std::fmt;

use sqlx::mysql::MySqlDatabaseError;

use crate::redact::{redact, redact_text};

/// No server could be had in any of the three ways. A lesson exits with code 2 on it.
#[derive(Debug)]
pub struct NoServerError {
    /// Why Docker was not used.
    pub docker: String,
    /// Why no local binary was used.
    pub local: String,
}

impl fmt::Display for NoServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no MySQL server to use. The workbook tried three ways:\n  \
             1. DATABASE_URL: not set. Set it to use your own server, e.g. \
             DATABASE_URL=mysql://root:PASSWORD@127.0.0.1:3306/sales\n  \
             2. Docker: {}{}\n  \
             3. a local server binary: {}. Install one, e.g. apt-get install mariadb-server, \
             or set WORKBOOK_MYSQLD to its path",
            self.docker,
            // A reason that says what to do about the image needs no other hint.
            if self.docker.contains("WORKBOOK_MYSQL_IMAGE") {
                ""
            } else {
                ". Start Docker (or set DOCKER_HOST) to get MySQL 8.4 in a container"
            },
            self.local
        )
    }
}

impl std::error::Error for NoServerError {}

/// Turns a failed connection to `url` into one line that says what is wrong and what to
/// do.
///
/// The URL in the message is always redacted.
pub fn explain_connect_error(url: &str, err: &sqlx::Error) -> anyhow::Error {
    let shown = redact(url);
    let (host, port, user, database) = match url::Url::parse(url) {
        Ok(u) => (
            u.host_str().unwrap_or("?").to_owned(),
            u.port().unwrap_or(3306),
            u.username().to_owned(),
            u.path().trim_start_matches('/').to_owned(),
        ),
        Err(_) => ("?".to_owned(), 3306, String::new(), String::new()),
    };
    let message = match err {
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            format!(
                "cannot connect to {shown}: connection refused. Is a server running at {host}:{port}? \
             Set DATABASE_URL to a server that runs, or unset it to let the workbook start one"
            )
        }
        sqlx::Error::Io(io) => format!(
            "cannot connect to {shown}: {io}. Check the host and port in DATABASE_URL, \
             or unset it to let the workbook start a server"
        ),
        sqlx::Error::PoolTimedOut => format!(
            "cannot connect to {shown}: no answer within the timeout. Check the host and port in \
             DATABASE_URL, and that a firewall lets you through"
        ),
        sqlx::Error::Database(db) => {
            let number = db
                .try_downcast_ref::<MySqlDatabaseError>()
                .map(MySqlDatabaseError::number);
            match number {
                Some(1045) => format!(
                    "cannot connect to {shown}: access denied for user '{user}'. Check the user \
                     and password in DATABASE_URL (server said: {})",
                    db.message()
                ),
                Some(1049) => format!(
                    "cannot connect to {shown}: the database '{database}' does not exist. Create \
                     it with CREATE DATABASE `{database}` CHARACTER SET utf8mb4, or leave the \
                     database out of DATABASE_URL to let the workbook use '{}'",
                    crate::DEFAULT_DATABASE
                ),
                _ => format!(
                    "cannot connect to {shown}: the server said: {}",
                    db.message()
                ),
            }
        }
        sqlx::Error::Tls(e) => format!(
            "cannot connect to {shown}: TLS failed ({e}). Add ?ssl-mode=disabled to the URL for a \
             server without TLS, or fix its certificate"
        ),
        other => format!("cannot connect to {shown}: {other}"),
    };
    anyhow::anyhow!(redact_text(&message))
}
