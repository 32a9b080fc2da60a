//! The lesson's own tables, all named `lesson5_*`: created at the start of a run and
//! dropped at its end. Plumbing: the book never shows it.

use anyhow::{Context, Result};
use sqlx::AssertSqlSafe;
use sqlx::mysql::MySqlPool;

/// The tables this lesson creates for itself (and drops at the end). All are `utf8mb4`.
const TABLES: &[(&str, &str)] = &[
    (
        "lesson5_counter",
        "CREATE TABLE IF NOT EXISTS lesson5_counter (
           id INT NOT NULL PRIMARY KEY,
           n INT NOT NULL
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    ),
    (
        "lesson5_accounts",
        "CREATE TABLE IF NOT EXISTS lesson5_accounts (
           id INT NOT NULL PRIMARY KEY,
           balance INT NOT NULL
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    ),
    (
        "lesson5_events",
        "CREATE TABLE IF NOT EXISTS lesson5_events (
           k INT NOT NULL PRIMARY KEY
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    ),
    (
        "lesson5_load",
        "CREATE TABLE IF NOT EXISTS lesson5_load (
           k BIGINT NOT NULL PRIMARY KEY
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    ),
    (
        "lesson5_strings",
        "CREATE TABLE IF NOT EXISTS lesson5_strings (
           id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
           via VARCHAR(16) NOT NULL,
           k INT NOT NULL,
           body VARCHAR(50) NOT NULL,
           KEY ix_via_k (via, k)
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    ),
    (
        "lesson5_digits",
        "CREATE TABLE IF NOT EXISTS lesson5_digits (
           d TINYINT NOT NULL PRIMARY KEY
         ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    ),
];

/// Creates the lesson's own `lesson5_*` tables, if they are not there yet.
pub async fn create_tables(pool: &MySqlPool) -> Result<()> {
    for (name, ddl) in TABLES {
        sqlx::query(*ddl)
            .execute(pool)
            .await
            .with_context(|| format!("cannot create the table {name}"))?;
    }
    Ok(())
}

/// Drops the lesson's own `lesson5_*` tables, and nothing else.
pub async fn drop_tables(pool: &MySqlPool) -> Result<()> {
    for (name, _) in TABLES {
        // The names are the constants above, never input.
        let sql = format!("DROP TABLE IF EXISTS `{name}`");
        sqlx::query(AssertSqlSafe(sql))
            .execute(pool)
            .await
            .with_context(|| format!("cannot drop the table {name}"))?;
    }
    Ok(())
}
