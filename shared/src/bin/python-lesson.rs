//! `python-lesson N`: runs lesson N's SQLAlchemy twin (`lessons/NN-*/python/*.py`) against
//! the database `cargo run -p lesson-N` would use, with the shared schema in place.
//!
//! Makes the Python virtual environment in `target/python` first if it is missing (see
//! `workbook::python`). `just python N` runs this. Exits with the Python's exit code; 2
//! on bad usage or when no Python or no database can be had.

use std::process::{Command, ExitCode};

use anyhow::Result;

const USAGE: &str =
    "usage: python-lesson N (runs lesson N's SQLAlchemy twin, N from 1 to 4)";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = match args.as_slice() {
        [flag] if flag == "--help" || flag == "-h" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        [n] => match n.parse::<u32>() {
            Ok(n) => n,
            Err(_) => {
                eprintln!("python-lesson: `{n}` is not a lesson number; {USAGE}");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("python-lesson: {USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(number).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!(
                "python-lesson: {}",
                workbook::redact_text(&format!("{e:#}"))
            );
            ExitCode::from(2)
        }
    }
}

async fn run(number: u32) -> Result<ExitCode> {
    let file = workbook::python_lesson(number)?;
    let python = workbook::python()?;
    let db = workbook::lesson_database().await?;
    let pool = workbook::connect(&db.url).await?;
    workbook::migrate(&pool).await?;
    pool.close().await;
    // Ctrl-C reaches the Python too; the server this process may own lives until it ends.
    let shown = file.display().to_string();
    let mut python = Command::new(python);
    python.arg(&file).env("PYTHONPATH", workbook::python_path());
    let exit = workbook::run_with_database_url(python, &db.url).await?;
    if exit == workbook::ChildExit::Signal {
        eprintln!("python-lesson: {shown} was killed by a signal");
    }
    Ok(ExitCode::from(u8::try_from(exit.code()).unwrap_or(1)))
}
