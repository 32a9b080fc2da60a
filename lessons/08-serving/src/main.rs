//! Lesson 8, step by step: each step serves the API on a free loopback port, calls it
//! over HTTP, and prints what it saw. `--serve` serves it for curl; `--bench` measures.

use anyhow::Result;
use clap::Parser;
use lesson_8::{Args, Ctx, s1_state, s2_routes, s3_search, s4_errors, s5_mistakes};
use lesson_8::{s6_cancellation, s7_operations, s8_load};

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    args.check()?;
    let db = workbook::lesson_database().await?;
    let pool = workbook::connect(&db.url).await?;
    workbook::migrate(&pool).await?;
    if args.serve {
        pool.close().await;
        return lesson_8::running::serve_until_signal(&args, &db.url).await;
    }
    lesson_8::forget_lesson_rows(&pool).await?;
    let ctx = Ctx::new(&db.url, pool, &args);
    let redacted =
        |e: anyhow::Error| anyhow::anyhow!(workbook::redact_text(&format!("{e:#}")));
    let done = match args.bench {
        true => lesson_8::bench::record(&ctx, &args).await,
        false => steps(&ctx).await,
    };
    lesson_8::forget_lesson_rows(&ctx.pool).await?;
    ctx.pool.close().await;
    done.map_err(redacted)
}

async fn steps(ctx: &Ctx) -> Result<()> {
    workbook::step("1", "One pool, in the app's state");
    println!("{}", s1_state::run(ctx).await?);
    workbook::step("2", "The routes");
    println!("{}", s2_routes::run(ctx).await?);
    workbook::step("3", "Search with dynamic filters");
    println!("{}", s3_search::run(ctx).await?);
    workbook::step("4", "Errors as HTTP");
    println!("{}", s4_errors::run(ctx).await?);
    workbook::step("5", "Two mistakes with the pool");
    println!("{}", s5_mistakes::run(ctx).await?);
    workbook::step("6", "Cancellation and a time limit");
    println!("{}", s6_cancellation::run(ctx).await?);
    workbook::step("7", "Readiness, tracing, graceful shutdown");
    println!("{}", s7_operations::run(ctx).await?);
    workbook::step("8", "Under load");
    println!("{}", s8_load::run(ctx).await?);
    Ok(())
}
