use anyhow::Result;
use lesson_2::steps;

#[tokio::main]
async fn main() -> Result<()> {
    let db = workbook::lesson_database().await?;
    let pool = workbook::connect(&db.url).await?;
    workbook::migrate(&pool).await?;

    workbook::step("1", "Describe the tables");
    steps::describe_tables();

    workbook::step("2", "The DDL from the builder");
    steps::ddl(&pool).await?;

    workbook::step("3", "Write: a multi-row insert and an upsert");
    steps::write(&pool).await?;

    workbook::step("4", "Select");
    steps::select(&pool).await?;

    workbook::step("5", "Dynamic queries");
    steps::dynamic(&pool).await?;

    workbook::step("6", "Seeing the SQL");
    steps::seeing_the_sql(&pool).await?;

    workbook::step("7", "Update and delete");
    steps::update_and_delete(&pool).await?;

    pool.close().await;
    Ok(())
}
