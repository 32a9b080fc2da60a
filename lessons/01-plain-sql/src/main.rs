use anyhow::{Context, Result};
use lesson_1::{BothOrNeither, HOSTILE_NAME, SortKey};

#[tokio::main]
async fn main() -> Result<()> {
    lesson_1::init_logging()?;
    let db = workbook::lesson_database().await?;

    workbook::step("1", "Connect");
    let pool = lesson_1::connect(&db.url).await?;
    println!("connected to database `{}`", db.name);
    println!("{}", lesson_1::describe_pool(&pool));

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

    workbook::step("4", "Queries with bound parameters");
    let developers = lesson_1::customers_with_job(&pool, "Backend Developer")
        .await
        .context("cannot read the customers by job")?;
    println!("fetch_all, job = 'Backend Developer': {developers:?}");
    let lynn = lesson_1::customer_by_name(&pool, "Lynn")
        .await
        .context("cannot read Lynn")?;
    println!("fetch_one, name = 'Lynn': {lynn:?}");
    let found = lesson_1::find_customer(&pool, lynn.id)
        .await
        .context("cannot look a customer up")?;
    println!("fetch_optional, Lynn's id: {found:?}");
    let missing = lesson_1::find_customer(&pool, -1)
        .await
        .context("cannot look a customer up")?;
    println!("fetch_optional, id = -1: {missing:?}");
    let count = lesson_1::count_customers(&pool)
        .await
        .context("cannot count the customers")?;
    println!("query_scalar, COUNT(*): {count}");

    workbook::step("5", "Writing");
    let ada = lesson_1::insert_customer(&pool, "Ada Lovelace", Some("Analyst"))
        .await
        .context("cannot insert Ada")?;
    let name = lesson_1::name_of(&pool, ada)
        .await
        .context("cannot read Ada")?;
    println!("inserted; last_insert_id() is the id of {name:?}");
    let updated = lesson_1::set_job(&pool, ada, "Programmer")
        .await
        .context("cannot update Ada")?;
    println!("UPDATE ... SET job = 'Programmer': rows_affected() = {updated}");
    let again = lesson_1::set_job(&pool, ada, "Programmer")
        .await
        .context("cannot update Ada")?;
    println!("the same UPDATE again, nothing to change: rows_affected() = {again}");

    let robert = lesson_1::insert_customer(&pool, HOSTILE_NAME, None)
        .await
        .context("cannot insert the hostile name")?;
    let stored = lesson_1::name_of(&pool, robert)
        .await
        .context("cannot read the hostile name back")?;
    println!("bound, the hostile name is stored verbatim: {stored:?}");
    println!(
        "it round-trips exactly: {}; the table is still there: {} customers",
        stored.as_deref() == Some(HOSTILE_NAME),
        lesson_1::count_customers(&pool)
            .await
            .context("cannot count the customers")?
    );

    let sorted = lesson_1::customers_sorted(&pool, SortKey::Name, true)
        .await
        .context("cannot sort the customers")?;
    let names: Vec<&str> = sorted.iter().map(|c| c.name.as_str()).collect();
    println!("AssertSqlSafe, ORDER BY name DESC: {names:?}");

    // Clean up: this run's rows only, by the ids it got back.
    let deleted = lesson_1::delete_customer(&pool, ada)
        .await
        .context("cannot delete Ada")?
        + lesson_1::delete_customer(&pool, robert)
            .await
            .context("cannot delete the hostile name")?;
    println!("DELETE both by id: rows_affected() = {deleted}");

    workbook::step("6", "Transactions");
    let committed = lesson_1::insert_both(
        &pool,
        ("Grace Hopper", "Compiler Engineer"),
        ("Margaret Hamilton", "Flight Software Lead"),
    )
    .await
    .context("cannot insert two customers")?;
    println!(
        "committed: Grace Hopper {} row, Margaret Hamilton {} row",
        lesson_1::count_named(&pool, "Grace Hopper").await?,
        lesson_1::count_named(&pool, "Margaret Hamilton").await?
    );
    if let BothOrNeither::Committed(ids) = committed {
        for id in ids {
            lesson_1::delete_customer(&pool, id)
                .await
                .context("cannot delete a committed row")?;
        }
    }
    let failed = lesson_1::insert_both(
        &pool,
        ("Katherine Johnson", "Mathematician"),
        ("Lynn", "Backend Developer"),
    )
    .await
    .context("cannot try the failing transaction")?;
    println!("the second insert hit a duplicate: {failed:?}");
    println!(
        "rows named Katherine Johnson after the rollback: {}",
        lesson_1::count_named(&pool, "Katherine Johnson").await?
    );
    let (inside, after) = lesson_1::drop_a_transaction(&pool, "Hedy Lamarr")
        .await
        .context("cannot run the dropped transaction")?;
    println!(
        "dropped without commit: Hedy Lamarr seen {inside} time(s) inside, {after} after the drop"
    );

    workbook::step("7", "Streaming");
    workbook::migrate(&pool)
        .await
        .context("cannot create the shared bench_customers table")?;
    let seeded = lesson_1::seed_stream_rows(&pool)
        .await
        .context("cannot seed bench_customers")?;
    println!("bench_customers holds {seeded} rows named stream-*");
    let summary = lesson_1::stream_rows(&pool)
        .await
        .context("cannot stream bench_customers")?;
    println!("streamed {} rows, one at a time", summary.rows);
    for (job, rows) in &summary.by_job {
        println!("  {job}: {rows}");
    }
    println!("last row: {}", summary.last_name);

    workbook::step("8", "Compile-time checked SQL");
    let checked = lesson_1::checked_customer_named(&pool, "Lynn")
        .await
        .context("cannot read Lynn with query_as!")?;
    println!("query_as!: {checked:?}");
    let jobs = lesson_1::checked_jobs(&pool)
        .await
        .context("cannot count the jobs with query!")?;
    println!("query!: {jobs:?}");

    workbook::step("9", "Close the pool");
    pool.close().await;
    println!("pool.close().await: closed = {}", pool.is_closed());
    Ok(())
}
