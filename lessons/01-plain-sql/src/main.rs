use anyhow::{Context, Result};

#[tokio::main]
async fn main() -> Result<()> {
    let db = workbook::lesson_database().await?;

    workbook::step("1", "Connect");
    let pool = lesson_1::connect(&db.url).await?;
    println!("connected to database `{}`", db.name);

    workbook::step("2", "SELECT VERSION()");
    let version = lesson_1::server_version(&pool)
        .await
        .context("cannot read the server version")?;
    println!("{version}");

    workbook::step("3", "The article's schema");
    lesson_1::create_schema(&pool)
        .await
        .context("cannot create the schema")?;
    for customer in lesson_1::all_customers(&pool)
        .await
        .context("cannot read the customers")?
    {
        println!("{customer:?}");
    }

    pool.close().await;
    Ok(())
}
