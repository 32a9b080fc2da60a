//! Lesson 5, step by step: each step runs, then its report is printed.

use std::sync::Arc;

use anyhow::Result;
use clap::Parser;
use lesson_5::{Ctx, ServerControl, Sizes, s1_duplicates, s2_lost_updates, s3_deadlocks};
use lesson_5::{s4_cancellation, s5_restart, s6_stale, s7_hostile, s8_runaway};

#[tokio::main]
async fn main() -> Result<()> {
    let sizes = Sizes::parse();
    let db = workbook::lesson_database().await?;
    let pool = workbook::connect(&db.url).await?;
    workbook::migrate(&pool).await?;
    lesson_5::create_tables(&pool).await?;
    // Steps 5 and 6 kill the server or change its settings: only one the workbook
    // started itself.
    let server = db.server;
    let server = server.is_owned().then(|| ServerControl {
        kill: Arc::new(move || server.kill()),
        restart: Arc::new(move || server.restart()),
    });
    let url = db.url.clone();
    let ctx = Ctx {
        pool,
        url,
        sizes,
        server,
    };
    // Any message that quotes the URL shows it without its password.
    let redacted =
        |e: anyhow::Error| anyhow::anyhow!(workbook::redact_text(&format!("{e:#}")));
    steps(&ctx).await.map_err(redacted)?;
    lesson_5::drop_tables(&ctx.pool).await?;
    ctx.pool.close().await;
    Ok(())
}

async fn steps(ctx: &Ctx) -> Result<()> {
    workbook::step("1", "Duplicates become a typed error");
    println!("{}", s1_duplicates::run(ctx).await?);
    workbook::step("2", "Lost updates under REPEATABLE READ");
    println!("{}", s2_lost_updates::run(ctx).await?);
    workbook::step("3", "Deadlocks and lock-wait timeouts");
    println!("{}", s3_deadlocks::run(ctx).await?);
    workbook::step("4", "Cancellation");
    println!("{}", s4_cancellation::run(ctx).await?);
    workbook::step("5", "Server restart");
    println!("{}", s5_restart::run(ctx).await?);
    workbook::step("6", "Stale connections");
    println!("{}", s6_stale::run(ctx).await?);
    workbook::step("7", "Hostile input");
    println!("{}", s7_hostile::run(ctx).await?);
    workbook::step("8", "Runaway queries");
    println!("{}", s8_runaway::run(ctx).await?);
    Ok(())
}
