//! Lesson 3, step by step: each step runs with diesel-async and then with SeaORM, and
//! each report is printed after it.

use anyhow::{Result, anyhow};
use lesson_3::seaorm as sea;
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
    let (db, url) = (sea::s2_sessions::connect(&db.url, 5).await?, db.url);
    let sea = sea::Ctx { db, url };

    workbook::step("1", "Schema and models");
    println!("{}", s1_models::run(&ctx).await?);
    workbook::step("1b", "Entities, with SeaORM");
    println!("{}", sea::s1_entities::run(&sea).await?);
    workbook::step("2", "The pool as a session factory");
    println!("{}", s2_sessions::run(&ctx).await?);
    workbook::step("2b", "The pool, with SeaORM");
    println!("{}", sea::s2_sessions::run(&sea).await?);
    workbook::step("3", "CRUD");
    println!("{}", s3_crud::run(&ctx).await?);
    workbook::step("3b", "CRUD, with SeaORM");
    println!("{}", sea::s3_crud::run(&sea).await?);
    workbook::step("4", "Relationships and the N+1 trap");
    println!("{}", s4_relations::run(&ctx).await?);
    workbook::step("4b", "Relationships and the N+1 trap, with SeaORM");
    println!("{}", sea::s4_relations::run(&sea).await?);
    workbook::step("5", "Transactions");
    println!("{}", s5_transactions::run(&ctx).await?);
    workbook::step("5b", "Transactions, with SeaORM");
    println!("{}", sea::s5_transactions::run(&sea).await?);
    workbook::step("6", "Pagination");
    println!("{}", s6_pagination::run(&ctx).await?);
    workbook::step("6b", "Pagination, with SeaORM");
    println!("{}", sea::s6_pagination::run(&sea).await?);
    workbook::step("7", "Streaming");
    println!("{}", s7_streaming::run(&ctx).await?);
    workbook::step("7b", "Streaming, with SeaORM");
    println!("{}", sea::s7_streaming::run(&sea).await?);

    ctx.pool.close();
    sea.db.close().await?;
    Ok(())
}
