//! `with-database COMMAND [ARG...]`: runs COMMAND with `DATABASE_URL` set to a fresh
//! database that has the workbook's shared migrations applied, then drops the database.
//!
//! The database is always named `workbook_sqlx`, because sqlx's offline cache records the
//! database's name for each column (`"table": "workbook_sqlx.customers"`): a name that
//! changed from run to run would make `cargo sqlx prepare --check` fail every time. If a
//! database of that name is already there, this refuses to run rather than touch it.
//!
//! The server comes the workbook way (`DATABASE_URL`, Docker, or a throwaway local
//! server), so this works on a clean machine. CI uses it for `cargo sqlx prepare
//! --check`, and `just sqlx-prepare` to refresh the lessons' offline query caches.
//!
//! Exits with COMMAND's exit code; 2 on bad usage or when no database can be had; 127
//! when COMMAND cannot be started.

use std::ffi::OsString;
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};
use sqlx::AssertSqlSafe;

/// The database this creates, uses and drops.
const NAME: &str = "workbook_sqlx";

const USAGE: &str = "usage: with-database COMMAND [ARG...] (runs COMMAND with DATABASE_URL set \
                     to a fresh database that has the workbook's migrations)";

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(program) = args.next() else {
        eprintln!("with-database: no command given; {USAGE}");
        return ExitCode::from(2);
    };
    if program == "--help" || program == "-h" {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let args: Vec<OsString> = args.collect();
    match run(program, args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!(
                "with-database: {}",
                workbook::redact_text(&format!("{e:#}"))
            );
            ExitCode::from(2)
        }
    }
}

async fn run(program: OsString, args: Vec<OsString>) -> Result<ExitCode> {
    let server = workbook::server().await?;
    let admin = workbook::connect(&server.url()).await?;
    let exists: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?",
    )
    .bind(NAME)
    .fetch_one(&admin)
    .await
    .context("cannot list the server's databases")?;
    if exists > 0 {
        bail!(
            "the database `{NAME}` already exists on {}; with-database uses only a database it \
             creates. Drop it if an interrupted run left it, or unset DATABASE_URL to use a \
             throwaway server",
            workbook::redact(&server.url())
        );
    }
    workbook::create_database(&server.url(), NAME).await?;
    let url = server.database_url(NAME);
    let code = run_in(&url, program, args).await;
    // Dropped however the command ended; only this database, which this run created.
    let dropped = sqlx::query(AssertSqlSafe(format!("DROP DATABASE `{NAME}`")))
        .execute(&admin)
        .await
        .with_context(|| format!("cannot drop the database `{NAME}`"));
    admin.close().await;
    dropped?;
    code
}

async fn run_in(url: &str, program: OsString, args: Vec<OsString>) -> Result<ExitCode> {
    let pool = workbook::connect(url).await?;
    workbook::migrate(&pool).await?;
    pool.close().await;

    let shown = program.to_string_lossy().into_owned();
    let mut command = Command::new(program);
    command.args(args);
    let code = match workbook::run_with_database_url(command, url).await {
        Ok(workbook::ChildExit::Code(code)) => {
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
        Ok(workbook::ChildExit::Signal) => {
            eprintln!("with-database: `{shown}` was killed by a signal");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("with-database: {e:#}");
            ExitCode::from(127)
        }
    };
    Ok(code)
}
