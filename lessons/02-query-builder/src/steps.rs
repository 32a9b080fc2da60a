//! What `cargo run -p lesson-2` prints for each step: the statements of `lib.rs`, their
//! SQL and the rows they return.

use anyhow::{Context, Result};
use sea_query::{Iden, MysqlQueryBuilder, Query};
use sea_query_sqlx::SqlxBinder;
use sqlx::mysql::MySqlPool;

use crate::{
    Customers, Filters, Orders, SAMPLE_CUSTOMERS, SAMPLE_ORDERS, describe, dollars,
    execute, fetch_customers, names, show,
};

/// Step 1: the tables' and columns' names, as the `Iden` enums write them.
pub fn describe_tables() {
    let customers = [Customers::Id, Customers::Name, Customers::Job];
    let orders = [
        Orders::Id,
        Orders::CustomerId,
        Orders::Item,
        Orders::AmountCents,
    ];
    let list = |columns: Vec<String>| columns.join(", ");
    println!(
        "{}: {}",
        Customers::Table.to_string(),
        list(customers.iter().map(|c| c.to_string()).collect())
    );
    println!(
        "{}: {}",
        Orders::Table.to_string(),
        list(orders.iter().map(|c| c.to_string()).collect())
    );
}

/// Step 2: the DDL the builder makes, run with IF NOT EXISTS.
pub async fn ddl(pool: &MySqlPool) -> Result<()> {
    let ddl = crate::create_customers_table(pool)
        .await
        .context("cannot create the customers table")?;
    println!("{ddl}");
    println!("(the migration made the table already: IF NOT EXISTS left it as it was)");
    Ok(())
}

/// Step 3: the multi-row inserts and the upserts, each with its SQL and what it did.
pub async fn write(pool: &MySqlPool) -> Result<()> {
    let insert = crate::insert_customers_statement(&SAMPLE_CUSTOMERS)?;
    let (sql, values) = insert.build_sqlx(MysqlQueryBuilder);
    println!("{}", show(&sql, &values.0));
    let n = execute(pool, &insert).await.context(
        "cannot insert the sample customers (is one of Ada, Grace, Linus, Margaret already there?)",
    )?;
    println!("-> rows inserted: {n}");

    let (sql, n) = crate::insert_orders(pool, &SAMPLE_ORDERS)
        .await
        .context("cannot insert the sample orders")?;
    println!("{sql}");
    println!(
        "-> rows inserted: {n} (the values are not shown: customer ids grow run to run)"
    );

    for (name, job) in [
        ("Lynn", Some("Backend Developer")),
        ("Lynn", Some("Backend Developer")),
        ("Ada", Some("Data Scientist")),
    ] {
        let upsert = crate::upsert_customer_statement(name, job)?;
        let (sql, values) = upsert.build_sqlx(MysqlQueryBuilder);
        println!("{}", show(&sql, &values.0));
        let n = execute(pool, &upsert)
            .await
            .with_context(|| format!("cannot upsert {name}"))?;
        let count = crate::count_customers(pool)
            .await
            .context("cannot count the customers")?;
        println!("-> rows affected: {n}; customers now: {count}");
    }
    Ok(())
}

/// Step 4: the selects, each with its SQL and its rows.
pub async fn select(pool: &MySqlPool) -> Result<()> {
    for query in [
        crate::by_job("Backend Developer", 10),
        crate::named(&["Ada", "Linus", "Nobody"]),
        crate::name_like("L%"),
    ] {
        let (sql, values) = query.build_sqlx(MysqlQueryBuilder);
        println!("{}", show(&sql, &values.0));
        let rows = fetch_customers(pool, &query)
            .await
            .context("cannot select customers")?;
        for row in &rows {
            println!("   {}", describe(row));
        }
    }

    let (sql, counts) = crate::count_by_job(pool)
        .await
        .context("cannot count the customers by job")?;
    println!("{sql}");
    for (job, n) in counts {
        println!("   {:<20} {n}", job.as_deref().unwrap_or("(NULL)"));
    }

    let (sql, values) = crate::totals_statement().build_sqlx(MysqlQueryBuilder);
    println!("{}", show(&sql, &values.0));
    let totals = crate::totals(pool)
        .await
        .context("cannot total the orders")?;
    for t in totals {
        println!(
            "   {:<10} {} orders {:>9}",
            t.name,
            t.orders,
            dollars(t.total_cents)
        );
    }
    Ok(())
}

/// Step 5: `search` with several combinations of filters: the SQL each makes, and its
/// rows.
pub async fn dynamic(pool: &MySqlPool) -> Result<()> {
    // ANCHOR: dynamic_cases
    let text = |s: &str| Some(s.to_owned());
    let cases = [
        Filters::default(),
        Filters {
            name_prefix: text("L"),
            ..Filters::default()
        },
        Filters {
            job: text("Backend Developer"),
            limit: Some(1),
            ..Filters::default()
        },
        Filters {
            min_total_cents: Some(10_000),
            ..Filters::default()
        },
        Filters {
            name_prefix: text("G"),
            job: text("Backend Developer"),
            min_total_cents: Some(10_000),
            limit: Some(5),
        },
        Filters {
            name_prefix: text("100%_sure!"),
            ..Filters::default()
        },
    ];
    // ANCHOR_END: dynamic_cases
    for filters in &cases {
        let (sql, values) =
            crate::search_statement(filters).build_sqlx(MysqlQueryBuilder);
        println!("{}", show(&sql, &values.0));
        let rows = crate::search(pool, filters)
            .await
            .context("cannot search the customers")?;
        println!("-> {}", names(&rows));
    }
    Ok(())
}

/// Step 6: `build()` next to `to_string()`, and what executing the latter can do.
pub async fn seeing_the_sql(pool: &MySqlPool) -> Result<()> {
    let query = crate::by_name("O'Brien");
    let (sql, values) = query.build(MysqlQueryBuilder);
    println!("build():     {sql}");
    println!("values:      {values:?}");
    println!("to_string(): {}", query.to_string(MysqlQueryBuilder));

    for name in ["O'Brien", "' OR 1=1 -- "] {
        println!("name = {name:?}, with NO_BACKSLASH_ESCAPES:");
        let [wrong, right] = crate::inlined_versus_bound(pool, name)
            .await
            .context("cannot run the inlined statement")?;
        println!("   {wrong}");
        println!("   {right}");
    }
    Ok(())
}

/// Step 7: an update, then the deletes that remove what the run added.
pub async fn update_and_delete(pool: &MySqlPool) -> Result<()> {
    let update = crate::set_job_statement("Grace", Some("Engineering Manager"));
    let (sql, values) = update.build_sqlx(MysqlQueryBuilder);
    println!("{}", show(&sql, &values.0));
    let n = execute(pool, &update)
        .await
        .context("cannot update Grace's job")?;
    println!("-> rows updated: {n}");

    let sample = crate::sample_names();
    let delete = crate::delete_orders_of_statement(&sample);
    let (sql, values) = delete.build_sqlx(MysqlQueryBuilder);
    println!("{}", show(&sql, &values.0));
    let delete = crate::delete_customers_statement(&sample);
    let (sql, values) = delete.build_sqlx(MysqlQueryBuilder);
    println!("{}", show(&sql, &values.0));
    let (orders, customers) = crate::clean_up(pool).await?;
    println!("-> orders deleted: {orders}; customers deleted: {customers}");

    let everyone = Query::select()
        .columns([Customers::Id, Customers::Name, Customers::Job])
        .from(Customers::Table)
        .to_owned();
    let rows = fetch_customers(pool, &everyone)
        .await
        .context("cannot list the customers")?;
    println!("left: {}", names(&rows));
    Ok(())
}
