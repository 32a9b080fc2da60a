//! Lesson 2, step by step: each step runs, then its report is printed.

use anyhow::{Context, Result};
use lesson_2::{Ctx, s1_tables, s2_ddl, s3_writing, s4_select};
use lesson_2::{s5_dynamic, s6_seeing_sql, s7_update_delete};

#[tokio::main]
async fn main() -> Result<()> {
    let db = workbook::lesson_database().await?;
    let pool = workbook::connect(&db.url).await?;
    workbook::migrate(&pool)
        .await
        .context("cannot create the shared schema")?;
    let ctx = Ctx { pool };

    workbook::step("1", "Describe the tables");
    println!("{}", s1_tables::run(&ctx).await?);
    workbook::step("2", "The DDL from the builder");
    println!("{}", s2_ddl::run(&ctx).await?);
    workbook::step("3", "Write: a multi-row insert and an upsert");
    println!("{}", s3_writing::run(&ctx).await?);
    workbook::step("4", "Select");
    println!("{}", s4_select::run(&ctx).await?);
    workbook::step("5", "Dynamic queries");
    println!("{}", s5_dynamic::run(&ctx).await?);
    workbook::step("6", "Seeing the SQL");
    println!("{}", s6_seeing_sql::run(&ctx).await?);
    workbook::step("7", "Update and delete");
    println!("{}", s7_update_delete::run(&ctx).await?);

    ctx.pool.close().await;
    Ok(())
}
