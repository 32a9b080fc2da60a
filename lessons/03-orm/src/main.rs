use anyhow::{Context, Result};
use lesson_3::models::{Customer, CustomerChanges, NewCustomer, dollars};
use lesson_3::{CreateCustomerError, TransferError};

// ANCHOR: runtime
// NOTE: the multi-thread runtime (`#[tokio::main]`'s default) is required: the migration
// harness calls `tokio::task::block_in_place`, which panics on a current-thread runtime.
#[tokio::main]
async fn main() -> Result<()> {
    let db = workbook::lesson_database().await?;
    // ANCHOR_END: runtime

    workbook::step("1", "Schema and models");
    for sql in lesson_3::generated_sql() {
        println!("{sql}");
    }

    workbook::step("2", "The pool as a session factory");
    // ANCHOR: step_2
    let pool = lesson_3::session_factory(&db.url, 5)?;
    let conn = lesson_3::session(&pool).await?;
    let (applied, conn) = lesson_3::run_migrations(conn)?;
    println!("migrations applied: {}", applied.join(", "));
    drop(conn);
    let status = pool.status();
    println!(
        "pool: at most {} connections, {} open, {} idle",
        status.max_size, status.size, status.available
    );
    let mut conn = lesson_3::session(&pool).await?;
    // ANCHOR_END: step_2

    workbook::step("3", "CRUD");
    let mut created: Vec<i16> = Vec::new();
    let ada = lesson_3::create_customer(
        &mut conn,
        &NewCustomer {
            name: "Ada",
            job: Some("Engineer"),
        },
    )
    .await
    .context("cannot create Ada")?;
    created.push(ada.id);
    println!("created one, read back by LAST_INSERT_ID(): {ada}");
    let many = lesson_3::create_customers(
        &mut conn,
        &[
            NewCustomer {
                name: "Grace",
                job: Some("Compiler Developer"),
            },
            NewCustomer {
                name: "Linus",
                job: Some("Kernel Developer"),
            },
            NewCustomer {
                name: "Margaret",
                job: None,
            },
        ],
    )
    .await
    .context("cannot create three customers")?;
    created.extend(many.iter().map(|c| c.id));
    println!("created {} in one INSERT, read back by name:", many.len());
    for customer in &many {
        println!("  {customer}");
    }
    let developers = lesson_3::customers_with_job_like(&mut conn, "Developer", 2)
        .await
        .context("cannot query the customers")?;
    let shown: Vec<String> = developers.iter().map(ToString::to_string).collect();
    println!("first 2 developers by name: {}", shown.join(", "));
    let found = lesson_3::find_customer(&mut conn, ada.id)
        .await
        .context("cannot find Ada by primary key")?;
    match found {
        Some(customer) => println!("found by primary key: {customer}"),
        None => println!("found by primary key: nobody"),
    }
    let missing = lesson_3::find_customer(&mut conn, -1)
        .await
        .context("cannot look up id -1")?;
    println!("find(-1): {missing:?}");
    let ada = lesson_3::update_customer(
        &mut conn,
        &ada,
        &CustomerChanges {
            job: Some(Some("Staff Engineer")),
            ..CustomerChanges::default()
        },
    )
    .await
    .context("cannot update Ada")?;
    println!("updated through the changeset: {ada}");
    let duplicate = NewCustomer {
        name: "Lynn",
        job: Some("Frontend Developer"),
    };
    match lesson_3::create_customer(&mut conn, &duplicate).await {
        Ok(customer) => {
            created.push(customer.id);
            println!("created a second Lynn?! {customer}");
        }
        Err(e @ CreateCustomerError::DuplicateName(_)) => println!("refused: {e}"),
        Err(e) => return Err(e).context("cannot try the duplicate name"),
    }
    let deleted = lesson_3::delete_customers(&mut conn, &created)
        .await
        .context("cannot delete the customers this step created")?;
    println!("deleted the {deleted} customers this step created");

    workbook::step("4", "Relationships and the N+1 trap");
    let names = ["Ada", "Grace", "Linus"];
    let seeded = lesson_3::seed_customers_with_orders(&mut conn, &names, 2)
        .await
        .context("cannot create customers with orders")?;
    let ids: Vec<i16> = seeded.iter().map(|c| c.id).collect();
    let before = lesson_3::server_questions(&mut conn)
        .await
        .context("cannot read the Questions status")?;
    let (_, naive) = lesson_3::count_statements(&mut conn, async |conn| {
        lesson_3::customers_with_orders_naive(conn, &names).await
    })
    .await
    .context("cannot load customers and orders the naive way")?;
    let middle = lesson_3::server_questions(&mut conn)
        .await
        .context("cannot read the Questions status")?;
    let (loaded, eager) = lesson_3::count_statements(&mut conn, async |conn| {
        lesson_3::customers_with_orders_eager(conn, &names).await
    })
    .await
    .context("cannot load customers and orders eagerly")?;
    let after = lesson_3::server_questions(&mut conn)
        .await
        .context("cannot read the Questions status")?;
    // Each reading of `Questions` counts itself: take it off the difference.
    println!(
        "naive, one query per customer: {naive} statements for {} customers (server: {})",
        names.len(),
        middle - before - 1
    );
    println!(
        "eager, belonging_to + grouped_by: {eager} statements for {} customers (server: {})",
        names.len(),
        after - middle - 1
    );
    for (customer, orders) in &loaded {
        let items: Vec<String> = orders.iter().map(ToString::to_string).collect();
        println!("  {}: {}", customer.name, items.join(", "));
    }
    lesson_3::delete_customers(&mut conn, &ids)
        .await
        .context("cannot delete the customers this step created")?;

    workbook::step("5", "Transactions");
    let seeded = lesson_3::seed_customers_with_orders(&mut conn, &["Ada", "Grace"], 0)
        .await
        .context("cannot create two customers")?;
    let ids: Vec<i16> = seeded.iter().map(|c| c.id).collect();
    let (ada, grace): (&Customer, &Customer) = (&seeded[0], &seeded[1]);
    if let Err(e) = lesson_3::add_orders_then_fail(&mut conn, ada).await {
        println!("rolled back: {e}");
    }
    let items = lesson_3::order_items(&mut conn, ada)
        .await
        .context("cannot read Ada's orders")?;
    println!("Ada's orders after the rollback: {items:?}");
    let (inner_error, statements) =
        lesson_3::record_statements(&mut conn, async |conn| {
            lesson_3::nested_transaction(conn, ada).await
        })
        .await
        .context("cannot run the nested transaction")?;
    println!("the inner transaction failed: {inner_error}");
    println!("statements sent:");
    for sql in statements {
        println!("  {sql}");
    }
    let items = lesson_3::order_items(&mut conn, ada)
        .await
        .context("cannot read Ada's orders")?;
    println!("Ada's orders after the outer commit: {items:?}");
    for (item, cents) in [("monitor", 20_000), ("keyboard", 8_000)] {
        lesson_3::add_order(&mut conn, ada, item, cents)
            .await
            .context("cannot add an order")?;
    }
    lesson_3::add_order(&mut conn, grace, "laptop", 150_000)
        .await
        .context("cannot add an order")?;
    let limit = 160_000;
    match lesson_3::transfer_orders(&mut conn, ada, grace, limit).await {
        Ok(moved) => println!("moved {moved} orders from Ada to Grace"),
        Err(e @ TransferError::OverLimit { .. }) => println!("transfer refused: {e}"),
        Err(e) => return Err(e).context("cannot transfer the orders"),
    }
    for customer in [ada, grace] {
        let items = lesson_3::order_items(&mut conn, customer)
            .await
            .context("cannot read the orders")?;
        println!(
            "{}'s orders after the refused transfer: {items:?}",
            customer.name
        );
    }
    lesson_3::delete_customers(&mut conn, &ids)
        .await
        .context("cannot delete the customers this step created")?;

    workbook::step("6", "Pagination");
    let seeded = lesson_3::seed_customers_with_orders(&mut conn, &["Ada"], 23)
        .await
        .context("cannot create a customer with 23 orders")?;
    let ids: Vec<i16> = seeded.iter().map(|c| c.id).collect();
    let (_, offset_sql) = lesson_3::record_statements(&mut conn, async |conn| {
        lesson_3::orders_page_by_offset(conn, ids[0], 0, 10).await
    })
    .await
    .context("cannot read the first page by offset")?;
    let (_, keyset_sql) = lesson_3::record_statements(&mut conn, async |conn| {
        lesson_3::orders_page_after(conn, ids[0], 0, 10).await
    })
    .await
    .context("cannot read the first page by keyset")?;
    println!("offset: {}", offset_sql.join("; "));
    println!("keyset: {}", keyset_sql.join("; "));
    let by_offset = lesson_3::all_pages_by_offset(&mut conn, ids[0], 10)
        .await
        .context("cannot page by offset")?;
    let by_keyset = lesson_3::all_pages_by_keyset(&mut conn, ids[0], 10)
        .await
        .context("cannot page by keyset")?;
    for (kind, pages) in [("offset", &by_offset), ("keyset", &by_keyset)] {
        for (n, page) in pages.iter().enumerate() {
            let first = page.first().map(|o| o.item.as_str()).unwrap_or_default();
            let last = page.last().map(|o| o.item.as_str()).unwrap_or_default();
            let total: i64 = page.iter().map(|o| i64::from(o.amount_cents)).sum();
            println!(
                "{kind} page {}: {} orders, {first} .. {last}, {}",
                n + 1,
                page.len(),
                dollars(total)
            );
        }
    }
    let (by_offset, by_keyset) =
        lesson_3::second_page_after_a_delete(&mut conn, ids[0], 10)
            .await
            .context("cannot page while deleting")?;
    println!(
        "after deleting item 1, page 2 by offset: {}",
        by_offset.join(", ")
    );
    println!(
        "after deleting item 1, page 2 by keyset: {}",
        by_keyset.join(", ")
    );
    lesson_3::delete_customers(&mut conn, &ids)
        .await
        .context("cannot delete the customers this step created")?;

    drop(conn);
    pool.close();
    Ok(())
}
