use anyhow::{Context, Result};
use lesson_2::steps;

#[tokio::main]
async fn main() -> Result<()> {
    let db = workbook::lesson_database().await?;
    let pool = workbook::connect(&db.url).await?;
    workbook::migrate(&pool)
        .await
        .context("cannot create the shared schema")?;

    workbook::step("1", "Describe the tables");
    steps::describe_tables();

    workbook::step("2", "The DDL from the builder");
    steps::ddl(&pool)
        .await
        .context("step 2, the DDL from the builder, failed")?;

    workbook::step("3", "Write: a multi-row insert and an upsert");
    steps::write(&pool)
        .await
        .context("step 3, writing, failed")?;

    workbook::step("4", "Select");
    steps::select(&pool)
        .await
        .context("step 4, selecting, failed")?;

    workbook::step("5", "Dynamic queries");
    steps::dynamic(&pool)
        .await
        .context("step 5, dynamic queries, failed")?;

    workbook::step("6", "Seeing the SQL");
    steps::seeing_the_sql(&pool)
        .await
        .context("step 6, seeing the SQL, failed")?;

    workbook::step("7", "Update and delete");
    steps::update_and_delete(&pool)
        .await
        .context("step 7, update and delete, failed")?;

    pool.close().await;
    Ok(())
}
