//! Lesson 3: the ORM, two ways: diesel-async, and SeaORM (the tests named `seaorm_...`).
//!
//! Every test runs on tokio's multi-thread runtime: the migration harness calls
//! `block_in_place`, which panics on the current-thread one (one test shows that panic).

use std::sync::{Arc, Mutex, PoisonError};

use diesel::mysql::Mysql;
use diesel::query_builder::AsQuery;
use diesel::{QueryDsl, Table};
use lesson_3::models::{Customer, CustomerChanges, NewCustomer};
use lesson_3::schema::{customers, orders};
use lesson_3::seaorm::{self as sea, customer, order};
use lesson_3::{CreateCustomerError, DbConn, DbPool, TransferError};
use regex::Regex;
use sea_orm::DatabaseConnection;
use sqlx::mysql::MySqlPool;
use workbook::{FreshDatabase, TestDatabase, fresh_database};
use workbook_tests::{
    LessonCommand, TestResult, assert_matches_capture, assert_matches_snapshot,
    lesson_dir,
};

/// A pool on `db` with the lesson's migrations run, and one connection from it.
async fn migrated(db: &FreshDatabase) -> anyhow::Result<(DbPool, DbConn)> {
    let pool = lesson_3::session_factory(&db.url, 2)?;
    let conn = lesson_3::session(&pool).await?;
    let (_, conn) = lesson_3::run_migrations(conn)?;
    Ok((pool, conn))
}

/// A second, independent look at the data: sqlx on the same database.
async fn names(pool: &MySqlPool) -> anyhow::Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT name FROM customers ORDER BY name")
            .fetch_all(pool)
            .await?,
    )
}

async fn items(pool: &MySqlPool, customer: &str) -> anyhow::Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT o.item FROM orders o JOIN customers c ON c.id = o.customer_id \
         WHERE c.name = ? ORDER BY o.id",
    )
    .bind(customer)
    .fetch_all(pool)
    .await?)
}

fn new(name: &str) -> NewCustomer<'_> {
    NewCustomer {
        name,
        job: Some("Tester"),
    }
}

/// Checks what a nested transaction sent, the INSERTs aside: BEGIN, the savepoint named
/// `savepoint`, the rollback to it, and COMMIT.
fn assert_nested_transaction_sent(statements: &[String], savepoint: &str) {
    let control: Vec<&str> = statements
        .iter()
        .map(String::as_str)
        .filter(|s| !s.starts_with("INSERT"))
        .collect();
    assert_eq!(
        control,
        [
            "BEGIN".to_owned(),
            format!("SAVEPOINT {savepoint}"),
            format!("ROLLBACK TO SAVEPOINT {savepoint}"),
            "COMMIT".to_owned(),
        ]
    );
}

/// Checks pages of ids: none empty, none over `size`, and together exactly `expected`.
fn assert_pages(kind: &str, pages: &[Vec<i32>], expected: &[i32], size: usize) {
    assert!(
        pages.iter().all(|p| !p.is_empty() && p.len() <= size),
        "{kind}: pages of at most {size}, none empty"
    );
    let ids: Vec<i32> = pages.iter().flatten().copied().collect();
    assert_eq!(
        ids,
        expected,
        "{kind}, {} orders, pages of {size}",
        expected.len()
    );
}

/// Checks that the database at `url` holds the seed row and nothing else.
async fn assert_only_the_seed_row(url: &str) -> anyhow::Result<()> {
    let check = workbook::connect(url).await?;
    assert_eq!(names(&check).await?, ["Lynn"]);
    let orders: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders")
        .fetch_one(&check)
        .await?;
    assert_eq!(orders, 0);
    check.close().await;
    Ok(())
}

// --- Step 1 and 2: the schema, the migrations
// ------------------------------------------------

/// Columns as `schema.rs` declares them: `(name, SQL type, nullable)`, in order, taken
/// from diesel itself: the names from the SQL of `SELECT all_columns`, the types from the
/// table's SQL type, a tuple such as `(SmallInt, Text, Nullable<Text>)`.
fn declared(select_all_sql: &str, sql_types: &str) -> Vec<(String, String, bool)> {
    let from = select_all_sql
        .split(" FROM ")
        .next()
        .expect("a SELECT has a FROM");
    let column = Regex::new(r"`\w+`\.`(\w+)`").unwrap();
    let names: Vec<String> = column
        .captures_iter(from)
        .map(|c| c[1].to_owned())
        .collect();
    let ty =
        Regex::new(r"(diesel::sql_types::Nullable<)?diesel::sql_types::(\w+)").unwrap();
    let types: Vec<(String, bool)> = ty
        .captures_iter(sql_types)
        .filter(|c| &c[2] != "Nullable")
        .map(|c| (c[2].to_owned(), c.get(1).is_some()))
        .collect();
    assert_eq!(names.len(), types.len(), "{select_all_sql} / {sql_types}");
    names
        .into_iter()
        .zip(types)
        .map(|(n, (t, null))| (n, t, null))
        .collect()
}

/// The MySQL column types that each diesel SQL type in this schema may stand for.
fn mysql_types_for(diesel_type: &str) -> &'static [&'static str] {
    match diesel_type {
        "SmallInt" => &["smallint"],
        "Integer" => &["int"],
        "BigInt" => &["bigint"],
        "Text" => &[
            "varchar",
            "char",
            "text",
            "tinytext",
            "mediumtext",
            "longtext",
        ],
        other => panic!("add {other} to mysql_types_for"),
    }
}

async fn created_columns(
    pool: &MySqlPool,
    table: &str,
) -> anyhow::Result<Vec<(String, String, bool)>> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT CAST(COLUMN_NAME AS CHAR), CAST(DATA_TYPE AS CHAR), CAST(IS_NULLABLE AS CHAR) \
         FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
    )
    .bind(table)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(n, t, null)| (n, t.to_lowercase(), null == "YES"))
        .collect())
}

fn assert_agree(
    table: &str,
    declared: &[(String, String, bool)],
    created: &[(String, String, bool)],
) {
    let declared_names: Vec<&str> = declared.iter().map(|c| c.0.as_str()).collect();
    let created_names: Vec<&str> = created.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(
        declared_names, created_names,
        "{table}: schema.rs and the migrations name different columns"
    );
    for ((name, diesel_type, nullable), (_, mysql_type, is_nullable)) in
        declared.iter().zip(created)
    {
        assert!(
            mysql_types_for(diesel_type).contains(&mysql_type.as_str()),
            "{table}.{name}: schema.rs says {diesel_type}, the migrations create {mysql_type}"
        );
        assert_eq!(
            nullable, is_nullable,
            "{table}.{name}: schema.rs and the migrations disagree on NULL"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn schema_rs_agrees_with_what_the_migrations_create() -> TestResult {
    let db = fresh_database("lesson_3_schema").await?;
    let (pool, conn) = migrated(&db).await?;
    drop(conn);
    let sqlx_pool = workbook::connect(&db.url).await?;

    let customers_declared = declared(
        &diesel::debug_query::<Mysql, _>(
            &customers::table.select(customers::table::all_columns()),
        )
        .to_string(),
        std::any::type_name::<<customers::table as AsQuery>::SqlType>(),
    );
    assert_eq!(customers_declared.len(), 3);
    assert_agree(
        "customers",
        &customers_declared,
        &created_columns(&sqlx_pool, "customers").await?,
    );

    let orders_declared = declared(
        &diesel::debug_query::<Mysql, _>(
            &orders::table.select(orders::table::all_columns()),
        )
        .to_string(),
        std::any::type_name::<<orders::table as AsQuery>::SqlType>(),
    );
    assert_eq!(orders_declared.len(), 4);
    assert_agree(
        "orders",
        &orders_declared,
        &created_columns(&sqlx_pool, "orders").await?,
    );

    sqlx_pool.close().await;
    pool.close();
    Ok(())
}

async fn show_create(pool: &MySqlPool, table: &str) -> anyhow::Result<String> {
    let sql = format!("SHOW CREATE TABLE `{table}`");
    let (_, create): (String, String) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_one(pool)
        .await?;
    // The next AUTO_INCREMENT value depends on what was inserted, not on the migrations.
    let counter = Regex::new(r" AUTO_INCREMENT=\d+").unwrap();
    Ok(counter.replace(&create, "").into_owned())
}

/// The tables in the database of `pool`, by name, without the migrations' bookkeeping
/// (sqlx's `_sqlx_migrations`, diesel's `__diesel_schema_migrations`).
async fn tables(pool: &MySqlPool) -> anyhow::Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA = DATABASE() \
         AND TABLE_NAME NOT IN ('_sqlx_migrations', '__diesel_schema_migrations') \
         ORDER BY TABLE_NAME",
    )
    .fetch_all(pool)
    .await?)
}

/// Two fresh databases: one migrated by the workbook's shared schema (sqlx), one by the
/// lesson's own migrations (diesel), with the lesson's pool and a sqlx pool on the latter.
struct TwoDatabases {
    shared: TestDatabase,
    own: FreshDatabase,
    own_diesel: DbPool,
    own_sqlx: MySqlPool,
}

async fn two_databases(prefix: &str) -> anyhow::Result<TwoDatabases> {
    let shared = TestDatabase::migrated(&format!("{prefix}_shared")).await?;
    let own = fresh_database(&format!("{prefix}_own")).await?;
    let (own_diesel, conn) = migrated(&own).await?;
    drop(conn);
    let own_sqlx = workbook::connect(&own.url).await?;
    Ok(TwoDatabases {
        shared,
        own,
        own_diesel,
        own_sqlx,
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn lesson_migrations_create_the_same_tables_as_the_shared_migrations() -> TestResult
{
    let dbs = two_databases("lesson_3_same").await?;
    let (shared_pool, own_pool) = (&dbs.shared.pool, &dbs.own_sqlx);

    let shared_tables = tables(shared_pool).await?;
    let own_tables = tables(own_pool).await?;
    let both: Vec<String> = own_tables
        .iter()
        .filter(|t| shared_tables.contains(t))
        .cloned()
        .collect();
    assert_eq!(
        both, own_tables,
        "every table of the lesson's is one of the shared schema's"
    );
    assert_eq!(own_tables, ["customers", "orders"]);
    for table in &both {
        assert_eq!(
            show_create(shared_pool, table).await?,
            show_create(own_pool, table).await?,
            "{table}: the lesson's migrations and the shared ones disagree"
        );
    }

    dbs.own_diesel.close();
    dbs.shared.pool.close().await;
    dbs.own_sqlx.close().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn lesson_and_shared_migrations_run_cleanly_on_top_of_each_other() -> TestResult {
    let TwoDatabases {
        shared:
            TestDatabase {
                db: shared,
                pool: shared_pool,
            },
        own: _own,
        own_diesel: pool,
        own_sqlx: own_pool,
    } = two_databases("lesson_3_both").await?;
    assert_eq!(names(&own_pool).await?, ["Lynn"], "the seed row");

    // Each runs cleanly on top of the other, and the seed row stays single.
    workbook::migrate(&own_pool).await?;
    let (pool_on_shared, conn) = migrated(&shared).await?;
    drop(conn);
    assert_eq!(names(&own_pool).await?, ["Lynn"]);
    assert_eq!(names(&shared_pool).await?, ["Lynn"]);

    // A second run of the lesson's migrations applies nothing new.
    let (applied, _) = lesson_3::run_migrations(lesson_3::session(&pool).await?)?;
    assert_eq!(applied, ["20240101000001", "20240101000002"]);

    pool_on_shared.close();
    pool.close();
    shared_pool.close().await;
    own_pool.close().await;
    Ok(())
}

#[test]
fn migrations_panic_on_a_current_thread_runtime_as_the_book_shows() -> TestResult {
    const THREAD: &str = "main";
    let outer = tokio::runtime::Runtime::new()?;
    let db = outer.block_on(fresh_database("lesson_3_current_thread"))?;
    let url = db.url.clone();

    // Catch what the default panic hook would print for our thread: location and message.
    let seen: Arc<Mutex<Option<String>>> = Arc::default();
    let previous: Arc<dyn Fn(&std::panic::PanicHookInfo<'_>) + Send + Sync> =
        Arc::from(std::panic::take_hook());
    let seen_by_hook = Arc::clone(&seen);
    let previous_for_others = Arc::clone(&previous);
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() == Some(THREAD) {
            let location = info.location().map(ToString::to_string).unwrap_or_default();
            let message = info.payload_as_str().unwrap_or("<not a string>");
            *seen_by_hook.lock().unwrap_or_else(PoisonError::into_inner) = Some(format!(
                "thread '{THREAD}' panicked at {location}:\n{message}\n"
            ));
        } else {
            previous_for_others(info);
        }
    }));

    let joined = std::thread::Builder::new()
        .name(THREAD.to_owned())
        .spawn(move || {
            // What `#[tokio::main(flavor = "current_thread")]` builds.
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let pool = lesson_3::session_factory(&url, 1)?;
                let conn = lesson_3::session(&pool).await?;
                lesson_3::run_migrations(conn).map(|_| ())
            })
        })?
        .join();
    // Put the hook that was there back.
    std::panic::set_hook(Box::new(move |info| previous(info)));
    assert!(
        joined.is_err(),
        "the migrations ran on a current-thread runtime"
    );
    let printed = seen
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
        .expect("the hook saw the panic");
    assert!(
        printed.contains(
            "can call blocking only when running on the multi-threaded runtime"
        ),
        "{printed}"
    );

    // The path of the source file is the machine's; keep it from the crate's folder on.
    let from_crate = Regex::new(r"at \S*/(\w[\w-]*-\d+\.\d+\.\d+)/").unwrap();
    let printed = from_crate.replace(&printed, "at .../$1/").into_owned();
    // Only the line and column move between tokio releases.
    let position = [(r"\.rs:\d+:\d+:", ".rs:LINE:COL:")];
    let captured = lesson_dir("lesson-3").join("captured");
    assert_matches_snapshot(
        &captured,
        "current-thread-panic",
        &printed,
        &printed,
        &position,
    );
    drop(db);
    Ok(())
}

#[test]
fn migrations_run_on_a_current_thread_runtime_through_spawn_blocking() -> TestResult {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let db = fresh_database("lesson_3_spawn_blocking").await?;
        let pool = lesson_3::session_factory(&db.url, 1)?;
        let conn = lesson_3::session(&pool).await?;
        let (applied, conn) = lesson_3::run_migrations_on_any_runtime(conn).await?;
        assert_eq!(applied, ["20240101000001", "20240101000002"]);
        drop(conn);
        pool.close();
        let check = workbook::connect(&db.url).await?;
        assert_eq!(names(&check).await?, ["Lynn"]);
        check.close().await;
        Ok(())
    })
}

// --- Step 3: CRUD
// -----------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn crud_changes_exactly_the_rows_it_says() -> TestResult {
    let db = fresh_database("lesson_3_crud").await?;
    let (pool, mut conn) = migrated(&db).await?;
    let check = workbook::connect(&db.url).await?;

    let ada = lesson_3::create_customer(
        &mut conn,
        &NewCustomer {
            name: "Ada",
            job: Some("Engineer"),
        },
    )
    .await?;
    let (id, job): (i16, Option<String>) =
        sqlx::query_as("SELECT id, job FROM customers WHERE name = 'Ada'")
            .fetch_one(&check)
            .await?;
    assert_eq!(
        ada.id, id,
        "LAST_INSERT_ID() read back the row just inserted"
    );
    assert_eq!(job.as_deref(), Some("Engineer"));

    let many = lesson_3::create_customers(
        &mut conn,
        &[
            new("Grace"),
            NewCustomer {
                name: "Margaret",
                job: None,
            },
        ],
    )
    .await?;
    assert_eq!(many.len(), 2);
    let margaret = many.iter().find(|c| c.name == "Margaret").unwrap();
    assert_eq!(
        margaret.job.as_deref(),
        Some(""),
        "None in an Insertable means DEFAULT, which is ''"
    );
    assert_eq!(names(&check).await?, ["Ada", "Grace", "Lynn", "Margaret"]);

    let found = lesson_3::customers_with_job_like(&mut conn, "e", 2).await?;
    let found: Vec<&str> = found.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(found, ["Ada", "Grace"], "filter, order by name, limit 2");
    assert_eq!(
        lesson_3::find_customer(&mut conn, ada.id).await?,
        Some(ada.clone())
    );
    assert_eq!(lesson_3::find_customer(&mut conn, -1).await?, None);

    let ada = lesson_3::update_customer(
        &mut conn,
        &ada,
        &CustomerChanges {
            job: Some(None),
            ..CustomerChanges::default()
        },
    )
    .await?;
    assert_eq!(ada.job, None, "Some(None) sets NULL");
    let job: Option<String> =
        sqlx::query_scalar("SELECT job FROM customers WHERE name = 'Ada'")
            .fetch_one(&check)
            .await?;
    assert_eq!(job, None);
    let grace = lesson_3::update_customer(
        &mut conn,
        &many[0],
        &CustomerChanges {
            name: Some("Grace H."),
            ..CustomerChanges::default()
        },
    )
    .await?;
    assert_eq!(
        grace.job.as_deref(),
        Some("Tester"),
        "None leaves a column alone"
    );

    let deleted = lesson_3::delete_customers(&mut conn, &[ada.id, grace.id]).await?;
    assert_eq!(deleted, 2);
    assert_eq!(names(&check).await?, ["Lynn", "Margaret"]);

    check.close().await;
    drop(conn);
    pool.close();
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_duplicate_name_is_a_typed_error_and_inserts_nothing() -> TestResult {
    let db = fresh_database("lesson_3_duplicate").await?;
    let (pool, mut conn) = migrated(&db).await?;
    let result = lesson_3::create_customer(&mut conn, &new("Lynn")).await;
    match result {
        Err(CreateCustomerError::DuplicateName(name)) => assert_eq!(name, "Lynn"),
        other => panic!("expected DuplicateName, got {other:?}"),
    }
    let check = workbook::connect(&db.url).await?;
    assert_eq!(names(&check).await?, ["Lynn"]);
    let job: Option<String> = sqlx::query_scalar("SELECT job FROM customers")
        .fetch_one(&check)
        .await?;
    assert_eq!(job.as_deref(), Some("Backend Developer"), "unchanged");
    check.close().await;
    drop(conn);
    pool.close();
    Ok(())
}

// --- Step 4: relationships and N+1
// ------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn eager_loading_takes_two_statements_for_1_10_and_100_customers() -> TestResult {
    let db = fresh_database("lesson_3_eager").await?;
    let (pool, mut conn) = migrated(&db).await?;
    for n in [1usize, 10, 100] {
        let names: Vec<String> = (0..n).map(|i| format!("c{n}-{i:03}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let seeded = lesson_3::seed_customers_with_orders(&mut conn, &names, 3).await?;
        assert_eq!(seeded.len(), n);

        let before = lesson_3::server_questions(&mut conn).await?;
        let (eager, eager_count) = lesson_3::count_statements(&mut conn, async |conn| {
            lesson_3::customers_with_orders_eager(conn, &names).await
        })
        .await?;
        let middle = lesson_3::server_questions(&mut conn).await?;
        let (naive, naive_count) = lesson_3::count_statements(&mut conn, async |conn| {
            lesson_3::customers_with_orders_naive(conn, &names).await
        })
        .await?;
        let after = lesson_3::server_questions(&mut conn).await?;

        assert_eq!(eager_count, 2, "eager loading for {n} customers");
        assert_eq!(naive_count, 1 + n, "the naive way for {n} customers");
        // The server counts the same statements (each SHOW counts itself once).
        assert_eq!(
            middle - before - 1,
            2,
            "the server's count, eager, {n} customers"
        );
        assert_eq!(
            (after - middle - 1) as usize,
            1 + n,
            "the server's count, naive, {n} customers"
        );
        assert_eq!(eager, naive, "both ways load the same");
        assert_eq!(eager.len(), n);
        for (customer, orders) in &eager {
            assert_eq!(orders.len(), 3, "{}", customer.name);
            assert!(orders.iter().all(|o| o.customer_id == customer.id));
        }
        let ids: Vec<i16> = seeded.iter().map(|c| c.id).collect();
        lesson_3::delete_customers(&mut conn, &ids).await?;
    }
    drop(conn);
    pool.close();
    Ok(())
}

// --- Step 5: transactions
// ---------------------------------------------------------------------

async fn two_customers(conn: &mut DbConn) -> anyhow::Result<(Customer, Customer)> {
    let mut seeded =
        lesson_3::seed_customers_with_orders(conn, &["Ada", "Grace"], 0).await?;
    let grace = seeded.pop().unwrap();
    let ada = seeded.pop().unwrap();
    Ok((ada, grace))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rolled_back_transaction_leaves_no_trace() -> TestResult {
    let db = fresh_database("lesson_3_rollback").await?;
    let (pool, mut conn) = migrated(&db).await?;
    let (ada, _) = two_customers(&mut conn).await?;
    let check = workbook::connect(&db.url).await?;
    let orders_before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders")
        .fetch_one(&check)
        .await?;

    let err = lesson_3::add_orders_then_fail(&mut conn, &ada)
        .await
        .expect_err("the transaction fails on purpose");
    assert_eq!(err.to_string(), "the card was declined");
    assert_eq!(items(&check, "Ada").await?, Vec::<String>::new());
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders")
        .fetch_one(&check)
        .await?;
    assert_eq!(count, orders_before);
    // The connection is usable and outside any transaction afterwards.
    lesson_3::add_order(&mut conn, &ada, "pen", 150).await?;
    assert_eq!(items(&check, "Ada").await?, ["pen"], "autocommit again");

    check.close().await;
    drop(conn);
    pool.close();
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_nested_transaction_rolls_back_only_to_its_savepoint() -> TestResult {
    let db = fresh_database("lesson_3_savepoint").await?;
    let (pool, mut conn) = migrated(&db).await?;
    let (ada, _) = two_customers(&mut conn).await?;
    let (inner_error, statements) =
        lesson_3::record_statements(&mut conn, async |conn| {
            lesson_3::nested_transaction(conn, &ada).await
        })
        .await?;
    assert_eq!(inner_error, "the rug is out of stock");
    let check = workbook::connect(&db.url).await?;
    assert_eq!(
        items(&check, "Ada").await?,
        ["lamp"],
        "the outer insert committed, the inner one was rolled back"
    );
    assert_nested_transaction_sent(&statements, "diesel_savepoint_1");
    check.close().await;
    drop(conn);
    pool.close();
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_transfer_leaves_both_customers_unchanged() -> TestResult {
    let db = fresh_database("lesson_3_transfer").await?;
    let (pool, mut conn) = migrated(&db).await?;
    let (ada, grace) = two_customers(&mut conn).await?;
    lesson_3::add_order(&mut conn, &ada, "monitor", 20_000).await?;
    lesson_3::add_order(&mut conn, &ada, "keyboard", 8_000).await?;
    lesson_3::add_order(&mut conn, &grace, "laptop", 150_000).await?;
    let check = workbook::connect(&db.url).await?;

    let refused = lesson_3::transfer_orders(&mut conn, &ada, &grace, 160_000).await;
    match refused {
        Err(TransferError::OverLimit {
            total_cents,
            limit_cents,
        }) => {
            assert_eq!(
                total_cents, 178_000,
                "the UPDATE had run when the check failed"
            );
            assert_eq!(limit_cents, 160_000);
        }
        other => panic!("expected OverLimit, got {other:?}"),
    }
    assert_eq!(items(&check, "Ada").await?, ["monitor", "keyboard"]);
    assert_eq!(items(&check, "Grace").await?, ["laptop"]);

    let moved = lesson_3::transfer_orders(&mut conn, &ada, &grace, 200_000).await?;
    assert_eq!(moved, 2);
    assert_eq!(items(&check, "Ada").await?, Vec::<String>::new());
    assert_eq!(
        items(&check, "Grace").await?,
        ["monitor", "keyboard", "laptop"]
    );

    check.close().await;
    drop(conn);
    pool.close();
    Ok(())
}

// --- Step 6: pagination
// -----------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn offset_and_keyset_pages_return_every_order_exactly_once() -> TestResult {
    let db = fresh_database("lesson_3_pages").await?;
    let (pool, mut conn) = migrated(&db).await?;
    let (_, grace) = two_customers(&mut conn).await?;
    let check = workbook::connect(&db.url).await?;
    for n in [0usize, 1, 9, 10, 11, 25] {
        // A new customer for each count, whose orders' ids interleave with Grace's.
        let name = format!("p{n}");
        let customer = lesson_3::seed_customers_with_orders(&mut conn, &[&name], 0)
            .await?[0]
            .clone();
        for i in 0..n {
            lesson_3::add_order(&mut conn, &customer, &format!("item {i}"), 100).await?;
            lesson_3::add_order(&mut conn, &grace, &format!("other {i}"), 100).await?;
        }
        let expected: Vec<i32> =
            sqlx::query_scalar("SELECT id FROM orders WHERE customer_id = ? ORDER BY id")
                .bind(customer.id)
                .fetch_all(&check)
                .await?;
        assert_eq!(expected.len(), n);
        for size in [1i64, 3, 10] {
            let by_offset =
                lesson_3::all_pages_by_offset(&mut conn, customer.id, size).await?;
            let by_keyset =
                lesson_3::all_pages_by_keyset(&mut conn, customer.id, size).await?;
            for (kind, pages) in [("offset", by_offset), ("keyset", by_keyset)] {
                let ids: Vec<Vec<i32>> = pages
                    .iter()
                    .map(|p| p.iter().map(|o| o.id).collect())
                    .collect();
                assert_pages(kind, &ids, &expected, size as usize);
            }
        }
    }
    check.close().await;
    drop(conn);
    pool.close();
    Ok(())
}

// --- Every step, as main.rs runs it
// ----------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn each_step_reports_what_the_book_shows_and_leaves_only_the_seed_row() -> TestResult
{
    use lesson_3::report::Transfer;
    use lesson_3::{s1_models, s2_sessions, s3_crud, s4_relations};
    use lesson_3::{s5_transactions, s6_pagination, s7_streaming};

    let db = fresh_database("lesson_3_steps").await?;
    let ctx = lesson_3::Ctx {
        pool: lesson_3::session_factory(&db.url, 5)?,
    };

    let sql = s1_models::run(&ctx).await?.0;
    assert_eq!(sql.len(), 2);
    assert!(sql[0].starts_with("SELECT `customers`.`id`"), "{}", sql[0]);
    assert!(
        sql[1].ends_with(r#"-- binds: ["Ada", "Engineer"]"#),
        "{}",
        sql[1]
    );

    let sessions = s2_sessions::run(&ctx).await?;
    assert_eq!(sessions.applied, ["20240101000001", "20240101000002"]);
    assert_eq!((sessions.max_size, sessions.open, sessions.idle), (5, 1, 1));

    let crud = s3_crud::run(&ctx).await?;
    assert_eq!(crud.created.name, "Ada");
    let many: Vec<(&str, Option<&str>)> = crud
        .many
        .iter()
        .map(|c| (c.name.as_str(), c.job.as_deref()))
        .collect();
    assert_eq!(
        many,
        [
            ("Grace", Some("Compiler Developer")),
            ("Linus", Some("Kernel Developer")),
            ("Margaret", Some("")),
        ]
    );
    assert_eq!(crud.developers, crud.many[..2]);
    assert_eq!(crud.found.as_ref(), Some(&crud.created));
    assert_eq!(crud.missing, None);
    assert_eq!(crud.updated.job.as_deref(), Some("Staff Engineer"));
    assert_eq!(crud.duplicate, Err("Lynn".to_owned()));
    assert_eq!(crud.deleted, 4);

    let relations = s4_relations::run(&ctx).await?;
    assert_eq!(relations.customers, 3);
    assert_eq!((relations.naive_statements, relations.naive_server), (4, 4));
    assert_eq!((relations.eager_statements, relations.eager_server), (2, 2));
    let loaded: Vec<(&str, usize)> = relations
        .loaded
        .iter()
        .map(|(c, orders)| (c.name.as_str(), orders.len()))
        .collect();
    assert_eq!(loaded, [("Ada", 2), ("Grace", 2), ("Linus", 2)]);

    let tx = s5_transactions::run(&ctx).await?;
    assert_eq!(tx.rolled_back.as_deref(), Some("the card was declined"));
    assert!(tx.after_rollback.is_empty());
    assert_eq!(tx.inner_error, "the rug is out of stock");
    assert_eq!(tx.statements.len(), 6);
    assert_eq!(tx.after_commit, ["lamp"]);
    assert_eq!(
        tx.transfer,
        Transfer::Refused {
            total_cents: 181_500,
            limit_cents: 160_000
        }
    );
    assert_eq!(
        tx.after_transfer,
        [
            (
                "Ada".to_owned(),
                vec!["lamp".into(), "monitor".into(), "keyboard".into()]
            ),
            ("Grace".to_owned(), vec!["laptop".into()]),
        ]
    );

    let pages = s6_pagination::run(&ctx).await?;
    let sizes = |pages: &[Vec<_>]| pages.iter().map(Vec::len).collect::<Vec<_>>();
    assert_eq!(sizes(&pages.by_offset), [10, 10, 3]);
    assert_eq!(pages.by_offset, pages.by_keyset);
    assert_eq!(pages.drift_offset.len(), 10);
    assert_eq!(pages.drift_offset[0], "item 12", "OFFSET skips item 11");
    assert_eq!(pages.drift_keyset[0], "item 11", "the keyset carries on");
    assert!(pages.offset_sql[0].ends_with("LIMIT ? OFFSET ?"));

    let streaming = s7_streaming::run(&ctx).await?;
    assert_eq!(streaming.streamed, lesson_3::STREAM_ORDERS);
    // 100 cents for the first order, 200 for the second, ...
    let n = lesson_3::STREAM_ORDERS as i64;
    assert_eq!(streaming.total_cents, 100 * n * (n + 1) / 2);
    assert_eq!(streaming.loaded_total_cents, streaming.total_cents);

    ctx.pool.close();
    assert_only_the_seed_row(&db.url).await?;
    Ok(())
}

// --- The binary
// -------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn binary_prints_what_the_book_shows_and_a_second_run_prints_the_same() -> TestResult
{
    let db = fresh_database("lesson_3_binary").await?;
    let first = LessonCommand::new("lesson-3", Some(&db.url)).run();
    first.assert_success();
    assert!(
        first
            .stdout
            .contains("eager, belonging_to + grouped_by: 2 statements"),
        "{}",
        first.stdout
    );
    assert!(
        first
            .stdout
            .contains("load_many, the orders by IN (...): 2 statements"),
        "{}",
        first.stdout
    );
    assert_matches_capture("lesson-3", &first.stdout, &[]);
    let second = LessonCommand::new("lesson-3", Some(&db.url)).run();
    second.assert_success();
    assert_eq!(first.stdout, second.stdout);
    // What each step added is gone again: only the seed row is left.
    assert_only_the_seed_row(&db.url).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn binary_refuses_a_url_that_asks_for_tls_in_one_line_instead_of_panicking()
-> TestResult {
    let db = fresh_database("lesson_3_tls").await?;
    let url = format!("{}?require_ssl=true", db.url);
    let run = LessonCommand::new("lesson-3", Some(&url)).run();
    assert_eq!(run.code(), Some(1), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(
        run.stderr.contains("asks for TLS (require_ssl=true)"),
        "{}",
        run.stderr
    );
    Ok(())
}

// --- The same steps with SeaORM
// ------------------------------------------------------------

/// A SeaORM pool of at most 3 connections on `db`, whose tables the lesson's (diesel's)
/// migrations made.
async fn seaorm_on(db: &FreshDatabase) -> anyhow::Result<DatabaseConnection> {
    let (pool, conn) = migrated(db).await?;
    drop(conn);
    pool.close();
    Ok(sea::connect(&db.url, 3).await?)
}

/// Columns as the server describes them: `(name, COLUMN_TYPE, nullable, default)`.
async fn column_types(
    pool: &MySqlPool,
    table: &str,
) -> anyhow::Result<Vec<(String, String, bool, Option<String>)>> {
    let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_TYPE AS CHAR), \
         CAST(IS_NULLABLE AS CHAR), CAST(COLUMN_DEFAULT AS CHAR) \
         FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
    )
    .bind(table)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(n, t, null, default)| (n, t.to_lowercase(), null == "YES", default))
        .collect())
}

/// What an entity declares of each column: `(name, SeaORM column type, nullable)`.
fn entity_columns<E: sea_orm::EntityTrait>() -> Vec<(String, String, bool)> {
    use sea_orm::{ColumnTrait, IdenStatic, Iterable};
    E::Column::iter()
        .map(|c| {
            let def = c.def();
            let ty = format!("{:?}", def.get_column_type());
            (c.as_str().to_owned(), ty, def.is_null())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn seaorm_entities_agree_with_what_the_migrations_create() -> TestResult {
    use sea_orm::{ConnectionTrait, DbBackend, Schema};
    let own = fresh_database("lesson_3_sea_entities_own").await?;
    let sea_own = seaorm_on(&own).await?;
    let own_sqlx = workbook::connect(&own.url).await?;

    // What each entity declares, against what the migrations created.
    let declared = entity_columns::<customer::Entity>();
    let declared: Vec<(&str, &str, bool)> = declared
        .iter()
        .map(|(n, t, null)| (n.as_str(), t.as_str(), *null))
        .collect();
    assert_eq!(
        declared,
        [
            ("id", "SmallInteger", false),
            ("name", "String(N(50))", false),
            ("job", "String(N(50))", true),
        ]
    );
    let orders = entity_columns::<order::Entity>();
    let orders: Vec<(&str, &str, bool)> = orders
        .iter()
        .map(|(n, t, null)| (n.as_str(), t.as_str(), *null))
        .collect();
    assert_eq!(
        orders,
        [
            ("id", "Integer", false),
            ("customer_id", "SmallInteger", false),
            ("item", "String(N(100))", false),
            ("amount_cents", "Integer", false),
        ]
    );

    // The tables SeaORM writes from the entities, in a second database, have the very
    // columns (types, NULL, defaults) that the migrations made.
    let from_entities = fresh_database("lesson_3_sea_entities_made").await?;
    let sea_made = sea::connect(&from_entities.url, 1).await?;
    let schema = Schema::new(DbBackend::MySql);
    sea_made
        .execute(&schema.create_table_from_entity(customer::Entity))
        .await?;
    sea_made
        .execute(&schema.create_table_from_entity(order::Entity))
        .await?;
    let made_sqlx = workbook::connect(&from_entities.url).await?;
    for table in ["customers", "orders"] {
        assert_eq!(
            column_types(&made_sqlx, table).await?,
            column_types(&own_sqlx, table).await?,
            "{table}: the entity and the migrations disagree"
        );
    }
    // The keys are SeaORM's own names, though: `UNIQUE` on the column is the key `name`.
    let create = show_create(&made_sqlx, "customers").await?;
    assert!(create.contains("UNIQUE KEY `name` (`name`)"), "{create}");

    sea_own.close().await?;
    sea_made.close().await?;
    own_sqlx.close().await;
    made_sqlx.close().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn seaorm_connect_opens_one_connection_and_sqlx_logs_only_when_asked() -> TestResult
{
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let db = fresh_database("lesson_3_sea_connect").await?;
    let sea = seaorm_on(&db).await?;
    sea::s2_sessions::settle(&sea).await;
    assert_eq!(sea::pool_status(&sea), (3, 1, 1), "one connection, idle");

    let select = || Statement::from_string(DbBackend::MySql, "SELECT 1");
    let (_, logged) = sea::record_statements(sea.query_one_raw(select())).await?;
    assert_eq!(logged, ["SELECT 1"]);
    let quiet = sea::connect_quiet(&db.url, 1).await?;
    let (row, logged) = sea::record_statements(quiet.query_one_raw(select())).await?;
    assert!(row.is_some(), "the quiet pool answers");
    assert_eq!(logged, Vec::<String>::new(), "and logs nothing");
    quiet.close().await?;

    // A database that is not there fails at connect, in one line.
    let missing = format!("{}_missing", db.url);
    let err = sea::connect(&missing, 1)
        .await
        .expect_err("no such database");
    let message = err.to_string();
    assert!(message.contains("Unknown database"), "{message}");
    assert!(!message.contains('\n'), "{message}");
    sea.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn seaorm_crud_changes_exactly_the_rows_it_says() -> TestResult {
    let db = fresh_database("lesson_3_sea_crud").await?;
    let sea = seaorm_on(&db).await?;
    let check = workbook::connect(&db.url).await?;

    let log = sea::StatementLog::default();
    let watched = sea::s4_relations::watched(&sea, &log);
    let ada = sea::create_customer(&watched, "Ada", Some("Engineer")).await?;
    let sql = log.take();
    assert_eq!(sql.len(), 2, "{sql:?}");
    assert!(sql[0].starts_with("INSERT INTO `customers`"), "{sql:?}");
    assert!(
        sql[1].ends_with("WHERE `customers`.`id` = ? LIMIT ?"),
        "{sql:?}"
    );
    let (id, job): (i16, Option<String>) =
        sqlx::query_as("SELECT id, job FROM customers WHERE name = 'Ada'")
            .fetch_one(&check)
            .await?;
    assert_eq!(ada.id, id, "the id came from the OK packet");
    assert_eq!(job.as_deref(), Some("Engineer"));

    // NotSet leaves the column out of a lone INSERT, which then takes its DEFAULT ''...
    let hopper = sea::create_customer(&sea, "Hopper", None).await?;
    assert_eq!(hopper.job.as_deref(), Some(""));
    // ... but beside a row that sets it, in a multi-row INSERT, it is NULL.
    let (many, last_insert_id) =
        sea::create_customers(&sea, &[("Grace", Some("Tester")), ("Margaret", None)])
            .await?;
    assert_eq!(many.len(), 2);
    assert_eq!(
        last_insert_id,
        Some(many[0].id),
        "the first row's id, Grace's"
    );
    assert!(many[0].id < many[1].id);
    let margaret: Option<String> =
        sqlx::query_scalar("SELECT job FROM customers WHERE name = 'Margaret'")
            .fetch_one(&check)
            .await?;
    assert_eq!(margaret, None, "NotSet beside a Set value is NULL");
    assert_eq!(
        names(&check).await?,
        ["Ada", "Grace", "Hopper", "Lynn", "Margaret"]
    );

    let found = sea::customers_with_job_like(&sea, "e", 2).await?;
    let found: Vec<&str> = found.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(found, ["Ada", "Grace"], "filter, order by name, limit 2");
    assert_eq!(sea::find_customer(&sea, ada.id).await?, Some(ada.clone()));
    assert_eq!(sea::find_customer(&sea, -1).await?, None);

    // The UPDATE sets the one field that was Set, and leaves a name changed behind its
    // back alone.
    sqlx::query("UPDATE customers SET name = 'Ada L.' WHERE id = ?")
        .bind(ada.id)
        .execute(&check)
        .await?;
    let log = sea::StatementLog::default();
    let ada = sea::update_job(&sea::s4_relations::watched(&sea, &log), ada, None).await?;
    assert_eq!(ada.job, None, "Set(None) is NULL");
    assert_eq!(ada.name, "Ada L.", "read back after the UPDATE");
    let update = log.take();
    assert_eq!(
        update[0], "UPDATE `customers` SET `job` = ? WHERE `customers`.`id` = ?",
        "{update:?}"
    );

    let deleted = sea::delete_customers(&sea, &[ada.id, many[0].id, -1]).await?;
    assert_eq!(deleted, 2);
    assert_eq!(names(&check).await?, ["Hopper", "Lynn", "Margaret"]);

    check.close().await;
    sea.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn seaorm_a_duplicate_name_is_a_typed_error_and_inserts_nothing() -> TestResult {
    let db = fresh_database("lesson_3_sea_duplicate").await?;
    let sea = seaorm_on(&db).await?;
    match sea::create_customer(&sea, "Lynn", Some("Tester")).await {
        Err(sea::CreateCustomerError::DuplicateName(name)) => assert_eq!(name, "Lynn"),
        other => panic!("expected DuplicateName, got {other:?}"),
    }
    let check = workbook::connect(&db.url).await?;
    assert_eq!(names(&check).await?, ["Lynn"]);
    let job: Option<String> = sqlx::query_scalar("SELECT job FROM customers")
        .fetch_one(&check)
        .await?;
    assert_eq!(job.as_deref(), Some("Backend Developer"), "unchanged");
    check.close().await;
    sea.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn seaorm_loads_in_1_plus_n_one_or_two_statements_for_1_10_and_100_customers()
-> TestResult {
    use sea_orm::TransactionTrait;
    let db = fresh_database("lesson_3_sea_eager").await?;
    let sea = seaorm_on(&db).await?;
    for n in [1usize, 10, 100] {
        let names: Vec<String> = (0..n).map(|i| format!("c{n}-{i:03}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let seeded = sea::seed_customers_with_orders(&sea, &names, 3).await?;
        assert_eq!(seeded.len(), n);

        let txn = sea.begin().await?;
        let mut loaded = Vec::new();
        for (way, statements) in [("naive", 1 + n), ("joined", 1), ("loaded", 2)] {
            let before = sea::server_questions(&txn).await?;
            let (result, count) = sea::count_statements(async {
                match way {
                    "naive" => sea::customers_with_orders_naive(&txn, &names).await,
                    "joined" => sea::customers_with_orders_joined(&txn, &names).await,
                    _ => sea::customers_with_orders_loaded(&txn, &names).await,
                }
            })
            .await?;
            let server = sea::server_questions(&txn).await? - before - 1;
            assert_eq!(count, statements, "{way}, {n} customers, by sqlx's log");
            assert_eq!(
                server as usize, statements,
                "{way}, {n} customers, by the server"
            );
            loaded.push(result);
        }
        txn.commit().await?;
        assert!(
            loaded.windows(2).all(|w| w[0] == w[1]),
            "all ways load the same"
        );
        assert_eq!(loaded[0].len(), n);
        for (customer, orders) in &loaded[0] {
            assert_eq!(orders.len(), 3, "{}", customer.name);
            assert!(orders.iter().all(|o| o.customer_id == customer.id));
        }
        let ids: Vec<i16> = seeded.iter().map(|c| c.id).collect();
        sea::delete_customers(&sea, &ids).await?;
    }
    sea.close().await?;
    Ok(())
}

async fn seaorm_two_customers(
    sea: &DatabaseConnection,
) -> anyhow::Result<(customer::Model, customer::Model)> {
    let mut seeded = sea::seed_customers_with_orders(sea, &["Ada", "Grace"], 0).await?;
    let grace = seeded.pop().unwrap();
    let ada = seeded.pop().unwrap();
    Ok((ada, grace))
}

#[tokio::test(flavor = "multi_thread")]
async fn seaorm_a_rolled_back_transaction_leaves_no_trace() -> TestResult {
    let db = fresh_database("lesson_3_sea_rollback").await?;
    let sea = seaorm_on(&db).await?;
    let (ada, _) = seaorm_two_customers(&sea).await?;
    let check = workbook::connect(&db.url).await?;

    match sea::add_orders_then_fail(&sea, &ada).await {
        Err(sea_orm::TransactionError::Transaction(e)) => {
            assert_eq!(e.to_string(), "the card was declined")
        }
        other => panic!("expected the closure's error, got {other:?}"),
    }
    assert_eq!(items(&check, "Ada").await?, Vec::<String>::new());
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders")
        .fetch_one(&check)
        .await?;
    assert_eq!(count, 0);
    sea::add_order(&sea, &ada, "pen", 150).await?;
    assert_eq!(items(&check, "Ada").await?, ["pen"], "autocommit again");

    check.close().await;
    sea.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn seaorm_a_failed_nested_transaction_rolls_back_only_to_its_savepoint()
-> TestResult {
    let db = fresh_database("lesson_3_sea_savepoint").await?;
    let sea = seaorm_on(&db).await?;
    let (ada, _) = seaorm_two_customers(&sea).await?;
    sea::s2_sessions::settle(&sea).await;
    let (inner_error, statements) =
        sea::record_statements(sea::nested_transaction(&sea, &ada)).await?;
    assert_eq!(inner_error, "the rug is out of stock");
    let check = workbook::connect(&db.url).await?;
    assert_eq!(
        items(&check, "Ada").await?,
        ["lamp"],
        "the outer insert committed, the inner one was rolled back"
    );
    assert_nested_transaction_sent(&statements, "_sqlx_savepoint_1");
    assert_eq!(statements.len(), 6, "{statements:?}");
    check.close().await;
    sea.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn seaorm_a_refused_transfer_leaves_both_customers_unchanged() -> TestResult {
    let db = fresh_database("lesson_3_sea_transfer").await?;
    let sea = seaorm_on(&db).await?;
    let (ada, grace) = seaorm_two_customers(&sea).await?;
    sea::add_order(&sea, &ada, "monitor", 20_000).await?;
    sea::add_order(&sea, &ada, "keyboard", 8_000).await?;
    sea::add_order(&sea, &grace, "laptop", 150_000).await?;
    let check = workbook::connect(&db.url).await?;

    match sea::transfer_orders(&sea, &ada, &grace, 160_000).await {
        Err(sea::TransferError::OverLimit {
            total_cents,
            limit_cents,
        }) => {
            assert_eq!(
                total_cents, 178_000,
                "the UPDATE had run when the check failed"
            );
            assert_eq!(limit_cents, 160_000);
        }
        other => panic!("expected OverLimit, got {other:?}"),
    }
    assert_eq!(items(&check, "Ada").await?, ["monitor", "keyboard"]);
    assert_eq!(items(&check, "Grace").await?, ["laptop"]);

    let moved = sea::transfer_orders(&sea, &ada, &grace, 200_000).await?;
    assert_eq!(moved, 2);
    assert_eq!(items(&check, "Ada").await?, Vec::<String>::new());
    assert_eq!(
        items(&check, "Grace").await?,
        ["monitor", "keyboard", "laptop"]
    );
    check.close().await;
    sea.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn seaorm_paginate_and_cursor_by_return_every_order_exactly_once() -> TestResult {
    let db = fresh_database("lesson_3_sea_pages").await?;
    let sea = seaorm_on(&db).await?;
    let (_, grace) = seaorm_two_customers(&sea).await?;
    let check = workbook::connect(&db.url).await?;
    for n in [0usize, 1, 9, 10, 11, 25] {
        // A new customer for each count, whose orders' ids interleave with Grace's.
        let name = format!("p{n}");
        let customer =
            sea::seed_customers_with_orders(&sea, &[&name], 0).await?[0].clone();
        for i in 0..n {
            sea::add_order(&sea, &customer, &format!("item {i}"), 100).await?;
            sea::add_order(&sea, &grace, &format!("other {i}"), 100).await?;
        }
        let expected: Vec<i32> =
            sqlx::query_scalar("SELECT id FROM orders WHERE customer_id = ? ORDER BY id")
                .bind(customer.id)
                .fetch_all(&check)
                .await?;
        assert_eq!(expected.len(), n);
        for size in [1u64, 3, 10] {
            let by_offset = sea::all_pages_by_offset(&sea, customer.id, size).await?;
            let by_keyset = sea::all_pages_by_keyset(&sea, customer.id, size).await?;
            for (kind, pages) in [("paginate", by_offset), ("cursor_by", by_keyset)] {
                let ids: Vec<Vec<i32>> = pages
                    .iter()
                    .map(|p| p.iter().map(|o| o.id).collect())
                    .collect();
                assert_pages(kind, &ids, &expected, size as usize);
            }
        }
    }
    check.close().await;
    sea.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn seaorm_a_stream_holds_a_connection_of_the_pool_or_the_whole_transaction()
-> TestResult {
    use futures::TryStreamExt;
    use sea_orm::{EntityTrait, TransactionTrait};
    let db = fresh_database("lesson_3_sea_stream").await?;
    let sea = seaorm_on(&db).await?;
    let (ada, _) = seaorm_two_customers(&sea).await?;
    for item in ["pen", "ink"] {
        sea::add_order(&sea, &ada, item, 100).await?;
    }

    // On the pool, another query runs while a stream is open: it takes another
    // connection.
    let mut rows = order::Entity::find().stream(&sea).await?;
    assert!(rows.try_next().await?.is_some());
    assert_eq!(sea::order_items(&sea, &ada).await?, ["pen", "ink"]);
    drop(rows);

    // On a transaction, the stream holds the transaction's one connection: a query on
    // the same transaction waits until the stream is dropped.
    let txn = sea.begin().await?;
    let mut rows = order::Entity::find().stream(&txn).await?;
    assert!(rows.try_next().await?.is_some());
    let waiting = tokio::time::timeout(
        std::time::Duration::from_millis(500),
        sea::order_items(&txn, &ada),
    )
    .await;
    assert!(
        waiting.is_err(),
        "the query ran while the stream held the connection"
    );
    drop(rows);
    assert_eq!(sea::order_items(&txn, &ada).await?, ["pen", "ink"]);
    txn.commit().await?;
    sea.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn each_seaorm_step_reports_what_the_book_shows_and_leaves_only_the_seed_row()
-> TestResult {
    use lesson_3::report::Transfer;
    use sea::{s1_entities, s2_sessions, s3_crud, s4_relations};
    use sea::{s5_transactions, s6_pagination, s7_streaming};

    let db = fresh_database("lesson_3_sea_steps").await?;
    let (pool, conn) = migrated(&db).await?;
    drop(conn);
    pool.close();
    let ctx = sea::Ctx {
        db: sea::connect(&db.url, 5).await?,
        url: db.url.clone(),
    };

    let sql = s1_entities::run(&ctx).await?.0;
    assert_eq!(
        sql[0],
        "SELECT `customers`.`id`, `customers`.`name`, `customers`.`job` \
         FROM `customers` WHERE `customers`.`name` = 'Lynn'"
    );
    assert_eq!(
        sql[1],
        "INSERT INTO `customers` (`name`, `job`) VALUES ('Ada', 'Engineer')"
    );
    assert!(sql[2].starts_with("CREATE TABLE `customers`"), "{}", sql[2]);

    let sessions = s2_sessions::run(&ctx).await?;
    assert_eq!((sessions.max_size, sessions.open, sessions.idle), (5, 1, 1));
    assert_eq!(sessions.logged_on, ["SELECT 1"]);
    assert!(sessions.logged_off.is_empty());

    let crud = s3_crud::run(&ctx).await?;
    assert_eq!(crud.created.name, "Ada");
    assert_eq!(crud.insert_sql.len(), 2);
    let many: Vec<(&str, Option<&str>)> = crud
        .many
        .iter()
        .map(|c| (c.name.as_str(), c.job.as_deref()))
        .collect();
    assert_eq!(
        many,
        [
            ("Grace", Some("Compiler Developer")),
            ("Linus", Some("Kernel Developer")),
            ("Margaret", None),
        ]
    );
    assert_eq!(crud.last_insert_row, Some(0), "Grace's id, the first row's");
    assert_eq!(crud.developers, crud.many[..2]);
    assert_eq!(crud.found.as_ref(), Some(&crud.created));
    assert_eq!(crud.missing, None);
    assert_eq!(crud.updated.job.as_deref(), Some("Staff Engineer"));
    assert_eq!(crud.duplicate, Err("Lynn".to_owned()));
    assert_eq!(crud.deleted, 4);

    let relations = s4_relations::run(&ctx).await?;
    let counts = [relations.naive, relations.joined, relations.loaded];
    let counts: Vec<(usize, u64)> =
        counts.iter().map(|c| (c.statements, c.server)).collect();
    assert_eq!(counts, [(4, 4), (1, 1), (2, 2)]);
    assert!(relations.same);
    let loaded: Vec<(&str, usize)> = relations
        .result
        .iter()
        .map(|(c, orders)| (c.name.as_str(), orders.len()))
        .collect();
    assert_eq!(loaded, [("Ada", 2), ("Grace", 2), ("Linus", 2)]);

    let tx = s5_transactions::run(&ctx).await?;
    assert_eq!(tx.rolled_back.as_deref(), Some("the card was declined"));
    assert!(tx.after_rollback.is_empty());
    assert_eq!(tx.inner_error, "the rug is out of stock");
    assert_eq!(tx.statements.len(), 6);
    assert_eq!(tx.statements[2], "SAVEPOINT _sqlx_savepoint_1");
    assert_eq!(tx.after_commit, ["lamp"]);
    assert_eq!(
        tx.transfer,
        Transfer::Refused {
            total_cents: 181_500,
            limit_cents: 160_000
        }
    );

    let pages = s6_pagination::run(&ctx).await?;
    let sizes = |pages: &[Vec<_>]| pages.iter().map(Vec::len).collect::<Vec<_>>();
    assert_eq!(sizes(&pages.by_offset), [10, 10, 3]);
    assert_eq!(pages.by_offset, pages.by_keyset);
    assert_eq!(pages.drift_offset[0], "item 12", "OFFSET skips item 11");
    assert_eq!(pages.drift_keyset[0], "item 11", "the keyset carries on");
    assert!(pages.offset_sql[0].ends_with("LIMIT ? OFFSET ?"));
    assert!(pages.keyset_sql[0].contains("`orders`.`id` > ?"));

    let streaming = s7_streaming::run(&ctx).await?;
    assert_eq!(streaming.streamed, lesson_3::STREAM_ORDERS);
    let n = lesson_3::STREAM_ORDERS as i64;
    assert_eq!(streaming.total_cents, 100 * n * (n + 1) / 2);
    assert_eq!(streaming.loaded_total_cents, streaming.total_cents);

    ctx.db.close().await?;
    assert_only_the_seed_row(&db.url).await?;
    Ok(())
}
