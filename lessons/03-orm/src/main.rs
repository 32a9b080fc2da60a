//! Lesson 3, step by step: each step runs, then its report is printed.

use anyhow::{Result, anyhow};
use lesson_3::{Ctx, s1_models, s2_sessions, s3_crud, s4_relations};
use lesson_3::{s5_transactions, s6_pagination, s7_streaming};

// NOTE: the multi-thread runtime that `#[tokio::main]` builds, written out in step 2:
// the migration harness calls `block_in_place`, which panics on a current-thread one.
fn main() -> Result<()> {
    let runtime = s2_sessions::runtime()?;
    // Whatever goes wrong, the error names no password.
    runtime
        .block_on(steps())
        .map_err(|e| anyhow!(workbook::redact_text(&format!("{e:#}"))))
}

async fn steps() -> Result<()> {
    let db = workbook::lesson_database().await?;
    let ctx = Ctx {
        pool: s2_sessions::session_factory(&db.url, 5)?,
    };

    workbook::step("1", "Schema and models");
    println!("{}", s1_models::run(&ctx).await?);
    workbook::step("2", "The pool as a session factory");
    println!("{}", s2_sessions::run(&ctx).await?);
    workbook::step("3", "CRUD");
    println!("{}", s3_crud::run(&ctx).await?);
    workbook::step("4", "Relationships and the N+1 trap");
    println!("{}", s4_relations::run(&ctx).await?);
    workbook::step("5", "Transactions");
    println!("{}", s5_transactions::run(&ctx).await?);
    workbook::step("6", "Pagination");
    println!("{}", s6_pagination::run(&ctx).await?);
    workbook::step("7", "Streaming");
    println!("{}", s7_streaming::run(&ctx).await?);

    ctx.pool.close();
    Ok(())
}
