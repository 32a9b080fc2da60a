//! Lesson 3's exercises: these fail until the exercises are solved.

use lesson_3::models::Customer;
use lesson_3::seaorm::{StatementLog, s4_relations::watched};
use lesson_3::{DbConn, DbPool};
use sea_orm::DatabaseConnection;
use workbook::{FreshDatabase, fresh_database};
use workbook_tests::TestResult;

/// A pool on `db` with the lesson's migrations run, and one connection from it.
async fn migrated(db: &FreshDatabase) -> anyhow::Result<(DbPool, DbConn)> {
    let pool = lesson_3::session_factory(&db.url, 2)?;
    let conn = lesson_3::session(&pool).await?;
    let (_, conn) = lesson_3::run_migrations(conn)?;
    Ok((pool, conn))
}

/// Ada with two orders, Grace with one, Margaret with none (and the seed row Lynn, with
/// none).
async fn shop(conn: &mut DbConn) -> anyhow::Result<Vec<Customer>> {
    let customers =
        lesson_3::seed_customers_with_orders(conn, &["Ada", "Grace", "Margaret"], 0)
            .await?;
    lesson_3::add_order(conn, &customers[0], "keyboard", 8_000).await?;
    lesson_3::add_order(conn, &customers[0], "monitor", 20_000).await?;
    lesson_3::add_order(conn, &customers[1], "compiler", 99).await?;
    Ok(customers)
}

#[tokio::test(flavor = "multi_thread")]
async fn exercise_3_1_lists_the_customers_without_orders() -> TestResult {
    let db = fresh_database("exercise_3_1").await?;
    let (pool, mut conn) = migrated(&db).await?;
    shop(&mut conn).await?;
    let names = lesson_3::exercises::customers_without_orders(&mut conn).await?;
    assert_eq!(names, ["Lynn", "Margaret"]);
    drop(conn);
    pool.close();
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn exercise_3_2_totals_every_customers_orders_in_at_most_two_statements()
-> TestResult {
    let db = fresh_database("exercise_3_2").await?;
    let (pool, mut conn) = migrated(&db).await?;
    shop(&mut conn).await?;
    let (totals, statements) = lesson_3::count_statements(&mut conn, async |conn| {
        lesson_3::exercises::order_totals(conn).await
    })
    .await?;
    assert_eq!(
        totals,
        [
            ("Ada".to_owned(), 28_000),
            ("Grace".to_owned(), 99),
            ("Lynn".to_owned(), 0),
            ("Margaret".to_owned(), 0),
        ]
    );
    assert!(statements <= 2, "{statements} statements: that is N+1");

    // Twenty more customers must not cost a single statement more.
    let names: Vec<String> = (0..20).map(|i| format!("extra {i:02}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    lesson_3::seed_customers_with_orders(&mut conn, &names, 2).await?;
    let (totals, statements) = lesson_3::count_statements(&mut conn, async |conn| {
        lesson_3::exercises::order_totals(conn).await
    })
    .await?;
    assert_eq!(totals.len(), 24);
    assert!(totals.contains(&("extra 07".to_owned(), 300)));
    assert!(statements <= 2, "{statements} statements: that is N+1");
    drop(conn);
    pool.close();
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn exercise_3_3_deletes_a_customer_with_their_orders_and_nothing_for_a_missing_id()
-> TestResult {
    let db = fresh_database("exercise_3_3").await?;
    let (pool, mut conn) = migrated(&db).await?;
    let customers = shop(&mut conn).await?;
    let (ada, grace) = (&customers[0], &customers[1]);
    let delete = lesson_3::exercises::delete_with_orders;

    assert_eq!(
        delete(&mut conn, ada.id).await?,
        Some(2),
        "Ada and her two orders"
    );
    assert_eq!(lesson_3::find_customer(&mut conn, ada.id).await?, None);
    assert_eq!(
        delete(&mut conn, ada.id).await?,
        None,
        "a second time: no such id"
    );
    assert_eq!(delete(&mut conn, -1).await?, None);
    assert_eq!(
        delete(&mut conn, customers[2].id).await?,
        Some(0),
        "Margaret has no orders"
    );
    // Grace and her order are untouched.
    let left = lesson_3::find_customer(&mut conn, grace.id).await?;
    assert_eq!(left.map(|c| c.name).as_deref(), Some("Grace"));
    let orders: i64 = {
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        use lesson_3::schema::orders;
        orders::table.count().get_result(&mut conn).await?
    };
    assert_eq!(orders, 1, "only Grace's order is left");
    drop(conn);
    pool.close();
    Ok(())
}

/// `shop`, and a SeaORM pool on the same database for the SeaORM exercises.
async fn seaorm_shop(db: &FreshDatabase) -> anyhow::Result<DatabaseConnection> {
    let (pool, mut conn) = migrated(db).await?;
    shop(&mut conn).await?;
    drop(conn);
    pool.close();
    Ok(lesson_3::seaorm::connect(&db.url, 2).await?)
}

#[tokio::test(flavor = "multi_thread")]
async fn exercise_3_4_lists_the_customers_without_orders_with_seaorm_in_one_statement()
-> TestResult {
    let db = fresh_database("exercise_3_4").await?;
    let sea = seaorm_shop(&db).await?;
    let log = StatementLog::default();
    let names =
        lesson_3::exercises::customers_without_orders_seaorm(&watched(&sea, &log))
            .await?;
    assert_eq!(names, ["Lynn", "Margaret"]);
    assert_eq!(log.take().len(), 1, "one statement");
    sea.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn exercise_3_5_totals_every_customers_orders_with_seaorm_in_one_statement()
-> TestResult {
    let db = fresh_database("exercise_3_5").await?;
    let sea = seaorm_shop(&db).await?;
    let log = StatementLog::default();
    let totals = lesson_3::exercises::order_totals_seaorm(&watched(&sea, &log)).await?;
    assert_eq!(
        totals,
        [
            ("Ada".to_owned(), 28_000),
            ("Grace".to_owned(), 99),
            ("Lynn".to_owned(), 0),
            ("Margaret".to_owned(), 0),
        ]
    );
    assert_eq!(log.take().len(), 1, "one statement: the server sums");

    // Twenty more customers must not cost a single statement more.
    let names: Vec<String> = (0..20).map(|i| format!("extra {i:02}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    lesson_3::seaorm::seed_customers_with_orders(&sea, &names, 2).await?;
    let totals = lesson_3::exercises::order_totals_seaorm(&watched(&sea, &log)).await?;
    assert_eq!(totals.len(), 24);
    assert!(totals.contains(&("extra 07".to_owned(), 300)));
    assert_eq!(log.take().len(), 1, "still one statement");
    sea.close().await?;
    Ok(())
}
