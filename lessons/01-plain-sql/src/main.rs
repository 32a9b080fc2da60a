//! Lesson 1, step by step: each step runs, then its report is printed.

use anyhow::{Context, Result};
use lesson_1::{Ctx, s1_connect, s2_version, s3_schema, s4_queries, s5_writing};
use lesson_1::{s6_transactions, s7_streaming, s8_checked, s9_close};

#[tokio::main]
async fn main() -> Result<()> {
    s1_connect::init_logging()?;
    let db = workbook::lesson_database().await?;
    let pool = s1_connect::connect(&db.url)
        .await
        .map_err(|e| workbook::explain_connect_error(&db.url, &e))?;
    let ctx = Ctx {
        pool,
        database: db.name.clone(),
        url: db.url.clone(),
    };

    workbook::step("1", "Connect");
    println!("{}", s1_connect::run(&ctx).await?);
    workbook::step("2", "SELECT VERSION()");
    println!("{}", s2_version::run(&ctx).await?);
    workbook::step("3", "The article's schema");
    println!("{}", s3_schema::run(&ctx).await?);
    workbook::step("4", "Queries with bound parameters");
    println!("{}", s4_queries::run(&ctx).await?);
    workbook::step("5", "Writing");
    println!("{}", s5_writing::run(&ctx).await?);
    workbook::step("6", "Transactions");
    println!("{}", s6_transactions::run(&ctx).await?);
    workbook::step("7", "Streaming");
    workbook::migrate(&ctx.pool)
        .await
        .context("cannot create the shared bench_customers table")?;
    println!("{}", s7_streaming::run(&ctx).await?);
    workbook::step("8", "Compile-time checked SQL");
    println!("{}", s8_checked::run(&ctx).await?);
    workbook::step("9", "Close the pool");
    println!("{}", s9_close::run(&ctx).await?);
    Ok(())
}
