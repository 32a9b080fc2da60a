//! Lesson 4, step by step: each step runs, then its report is printed.

use anyhow::{Result, anyhow};
use clap::Parser;
use lesson_4::report::{Measurements, write_pool_size_chart};
use lesson_4::{
    Args, Ctx, s1_concurrent, s2_own_connection, s3_pool_size, s4_exhaustion,
};
use lesson_4::{s5_fan_out, s6_cancellation, s7_stacks};

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let db = workbook::lesson_database().await?;
    let setup = workbook::connect(&db.url).await?;
    workbook::migrate(&setup).await?;
    setup.close().await;
    // Whatever fails below, its message names no password.
    steps(&args.ctx(&db.url), &args)
        .await
        .map_err(|e| anyhow!(workbook::redact_text(&format!("{e:#}"))))
}

async fn steps(ctx: &Ctx, args: &Args) -> Result<()> {
    workbook::step("1", "Sequential against concurrent");
    let s1 = s1_concurrent::run(ctx).await?;
    println!("{s1}");
    workbook::step("2", "One connection per task");
    println!("{}", s2_own_connection::run(ctx).await?);
    workbook::step("3", "Pool size bounds concurrency");
    let s3 = s3_pool_size::run(ctx).await?;
    println!("{s3}");
    write_pool_size_chart(&s3.rows, &args.chart)?;
    println!("wrote the chart to {}", args.chart.display());
    workbook::step("4", "Pool exhaustion");
    let s4 = s4_exhaustion::run(ctx).await?;
    println!("{s4}");
    workbook::step("5", "Bounded fan-out");
    let s5 = s5_fan_out::run(ctx).await?;
    println!("{s5}");
    workbook::step("6", "Timeouts and cancellation");
    let s6 = s6_cancellation::run(ctx).await?;
    println!("{s6}");
    workbook::step("7", "All three stacks");
    let s7 = s7_stacks::run(ctx).await?;
    println!("{s7}");
    if let Some(path) = &args.json {
        Measurements::new(s1, s3, &s4, s5, s6, s7).write_json(path)?;
        println!("\nwrote the measurements to {}", path.display());
    }
    Ok(())
}
