use anyhow::{Context, Result};

#[tokio::main]
async fn main() -> Result<()> {
    let db = workbook::lesson_database().await?;
    let pool = workbook::connect(&db.url).await?;
    workbook::migrate(&pool).await?;

    workbook::step("1", "Count the customers");
    let n = lesson_2::count_customers(&pool)
        .await
        .context("cannot count the customers")?;
    println!("{n} customers");

    pool.close().await;
    Ok(())
}
