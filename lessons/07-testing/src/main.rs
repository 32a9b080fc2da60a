//! Lesson 7, step by step: each way of testing runs the same scenarios as the tests, timed,
//! and the summary says what ran, on which server, and how many databases came and went.

use anyhow::Result;
use lesson_7::{
    Ctx, report, s1_sqlx_test, s2_testcontainers, s3_transactions, s4_parallel,
};
use lesson_7::{s5_proptest, s6_faults, s7_snapshots, s8_ci};

#[tokio::main]
async fn main() -> Result<()> {
    let db = workbook::lesson_database().await?;
    let pool = workbook::connect(&db.url).await?;
    workbook::migrate(&pool).await?;
    let version = workbook::server_version(&pool).await?;
    let kind = if version.contains("MariaDB") {
        "MariaDB"
    } else {
        "MySQL"
    };
    let docker = lesson_7::docker_answers();
    let ctx = Ctx::new(db.server.url(), db.url.clone(), pool, docker);
    // Any message that quotes a URL shows it without its password.
    let redacted =
        |e: anyhow::Error| anyhow::anyhow!(workbook::redact_text(&format!("{e:#}")));
    steps(&ctx).await.map_err(redacted)?;
    workbook::step("summary", "What ran, and what it cost");
    let (made, dropped) = ctx.databases();
    let server = format!("{kind} {version}");
    println!("{}", report::summary(&server, &ctx.ways(), made, dropped));
    ctx.pool.close().await;
    Ok(())
}

async fn steps(ctx: &Ctx) -> Result<()> {
    workbook::step("1", "#[sqlx::test]: a fresh database per test");
    println!("{}", s1_sqlx_test::run(ctx).await?);
    workbook::step("2", "testcontainers in your own tests");
    println!("{}", s2_testcontainers::run(ctx).await?);
    workbook::step("3", "A transaction per test, and what each way costs");
    println!("{}", s3_transactions::run(ctx).await?);
    workbook::step("4", "Parallel tests");
    println!("{}", s4_parallel::run(ctx).await?);
    workbook::step("5", "Property tests");
    println!("{}", s5_proptest::run(ctx).await?);
    workbook::step("6", "Fault injection");
    println!("{}", s6_faults::run(ctx).await?);
    workbook::step("7", "Snapshot tests of query output");
    println!("{}", s7_snapshots::run(ctx).await?);
    workbook::step("8", "In CI");
    println!("{}", s8_ci::run(ctx).await?);
    Ok(())
}
