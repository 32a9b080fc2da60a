//! Running another program with `DATABASE_URL` set: `with-database`, `python-lesson`, and
//! lesson 7's test binary, which runs itself again once it has a server.

use std::process::Command;

use anyhow::{Context, Result};

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildExit {
    /// It exited with this code.
    Code(i32),
    /// A signal ended it (Ctrl-C, `kill`).
    Signal,
}

impl ChildExit {
    /// The exit code to pass on: the child's own, or 1 when a signal ended it.
    pub fn code(self) -> i32 {
        match self {
            ChildExit::Code(code) => code,
            ChildExit::Signal => 1,
        }
    }
}

/// Runs `command` with `DATABASE_URL` set to `database_url`, waits until it ends, and
/// says how it ended. `Err` only when it cannot be started.
///
/// Ctrl-C reaches the child too, since the terminal signals the whole process group: this
/// process keeps waiting (a Ctrl-C here does not end it), so that what it set up for the
/// child, a database or a server, outlives the child and is then removed, instead of this
/// process dying first and leaving it behind. Call it from a Tokio runtime.
pub async fn run_with_database_url(
    mut command: Command,
    database_url: &str,
) -> Result<ChildExit> {
    tokio::spawn(async { while tokio::signal::ctrl_c().await.is_ok() {} });
    command.env("DATABASE_URL", database_url);
    let shown = command.get_program().to_string_lossy().into_owned();
    let status = tokio::task::spawn_blocking(move || command.status())
        .await
        .context("the child's waiter failed")?
        .with_context(|| format!("cannot run `{shown}`"))?;
    Ok(match status.code() {
        Some(code) => ChildExit::Code(code),
        None => ChildExit::Signal,
    })
}

/// For a test binary whose tests read `DATABASE_URL` (as `#[sqlx::test]` does): when it
/// is unset, gets a server the workbook way, makes a fresh database named after
/// `prefix`, runs this same executable again with the same arguments and `DATABASE_URL`
/// set to that database, drops the database, and returns the exit code to end with.
///
/// Returns `None` when there is nothing to do: `DATABASE_URL` is set (this is the child,
/// or the reader's own server), or the harness only lists the tests (`--list`). Errors
/// are printed as one line, with 2 as the code. Blocks; call it outside any runtime, such
/// as before `main`.
#[cfg(feature = "testing")]
pub fn rerun_with_a_database(prefix: &str) -> Option<i32> {
    let has_url = std::env::var_os("DATABASE_URL").is_some_and(|u| !u.is_empty());
    let mut args = std::env::args_os();
    let _program = args.next();
    let args: Vec<std::ffi::OsString> = args.collect();
    if has_url || args.iter().any(|a| a == "--list") {
        return None;
    }
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start a Tokio runtime")
        .and_then(|runtime| runtime.block_on(rerun(prefix, args)));
    Some(match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!(
                "workbook: cannot run the tests against a server of their own: {}",
                crate::redact_text(&format!("{e:#}"))
            );
            2
        }
    })
}

#[cfg(feature = "testing")]
async fn rerun(prefix: &str, args: Vec<std::ffi::OsString>) -> Result<i32> {
    let exe = std::env::current_exe().context("cannot find this test binary's path")?;
    let server = crate::server().await?;
    let db = crate::fresh_database(prefix).await?;
    eprintln!(
        "workbook: DATABASE_URL is unset; running these tests against `{}` on {}",
        db.name,
        server.describe()
    );
    let mut command = Command::new(exe);
    command.args(args);
    let exit = run_with_database_url(command, &db.url).await?;
    if exit == ChildExit::Signal {
        eprintln!("workbook: the tests were ended by a signal");
    }
    // The fresh database goes when `db` drops, in a thread of its own.
    drop(db);
    Ok(exit.code())
}
