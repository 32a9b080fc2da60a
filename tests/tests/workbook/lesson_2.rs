//! Lesson 2: the Core-style query builder with sea-query.

use std::collections::BTreeMap;

use lesson_2::s7_update_delete;
use lesson_2::{Customer, Filters, Inlined, SAMPLE_CUSTOMERS, SAMPLE_ORDERS};
use lesson_2::{s1_tables, s2_ddl, s3_writing, s4_select, s5_dynamic, s6_seeing_sql};
use regex::Regex;
use sqlx::mysql::MySqlPool;
use workbook::{TestDatabase, fresh_database};
use workbook_tests::{LessonCommand, TestResult, assert_matches_capture};

/// A fresh database with the shared schema, the seed row `Lynn` and the lesson's sample
/// rows.
async fn sample_database(
    prefix: &str,
) -> anyhow::Result<(workbook::FreshDatabase, MySqlPool)> {
    let TestDatabase { db, pool } = TestDatabase::migrated(prefix).await?;
    let insert = lesson_2::insert_customers_statement(&SAMPLE_CUSTOMERS)?;
    assert_eq!(lesson_2::execute(&pool, &insert).await?, 4);
    let (_, n) = lesson_2::insert_orders(&pool, &SAMPLE_ORDERS).await?;
    assert_eq!(n, SAMPLE_ORDERS.len() as u64);
    Ok((db, pool))
}

async fn all_customers(pool: &MySqlPool) -> anyhow::Result<Vec<Customer>> {
    let rows =
        sqlx::query_as::<_, Customer>("SELECT id, name, job FROM customers ORDER BY id")
            .fetch_all(pool)
            .await?;
    Ok(rows)
}

#[tokio::test]
async fn binary_prints_what_the_book_shows_and_the_same_on_a_second_run() -> TestResult {
    let db = fresh_database("lesson_2_binary").await?;
    for _ in 0..2 {
        let run = LessonCommand::new("lesson-2", Some(&db.url)).run();
        run.assert_success();
        assert_matches_capture("lesson-2", &run.stdout, &[]);
    }
    // The run removed what it added: only the seed row is left, and no orders.
    let pool = workbook::connect(&db.url).await?;
    let customers = all_customers(&pool).await?;
    assert_eq!(
        customers
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["Lynn"]
    );
    let orders: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders")
        .fetch_one(&pool)
        .await?;
    assert_eq!(orders, 0);
    pool.close().await;
    Ok(())
}

/// The article's hand-written DDL for `customers`.
const ARTICLE_DDL: &str = "CREATE TABLE customers (
  id SMALLINT NOT NULL AUTO_INCREMENT,
  name VARCHAR(50) NOT NULL,
  job VARCHAR(50) DEFAULT '',
  PRIMARY KEY (id),
  UNIQUE KEY UQ_name (name)
)";

async fn show_create_table(pool: &MySqlPool) -> anyhow::Result<String> {
    let (_, ddl): (String, String) = sqlx::query_as("SHOW CREATE TABLE customers")
        .fetch_one(pool)
        .await?;
    // The only thing that may differ between two such tables is the AUTO_INCREMENT
    // counter.
    let counter = Regex::new(r" AUTO_INCREMENT=\d+")?;
    Ok(counter.replace_all(&ddl, "").into_owned())
}

#[tokio::test]
async fn the_builders_ddl_makes_the_same_table_as_the_articles_hand_written_ddl()
-> TestResult {
    let by_hand = fresh_database("lesson_2_ddl_by_hand").await?;
    let by_builder = fresh_database("lesson_2_ddl_by_builder").await?;
    let hand_pool = workbook::connect(&by_hand.url).await?;
    let builder_pool = workbook::connect(&by_builder.url).await?;
    sqlx::query(ARTICLE_DDL).execute(&hand_pool).await?;
    let ddl = lesson_2::create_customers_table(&builder_pool).await?;
    assert!(ddl.contains("UNIQUE KEY `UQ_name` (`name`)"), "{ddl}");

    let expected = show_create_table(&hand_pool).await?;
    let actual = show_create_table(&builder_pool).await?;
    let lines =
        |s: &str| -> Vec<String> { s.lines().map(|l| l.trim().to_owned()).collect() };
    let (expected, actual) = (lines(&expected), lines(&actual));
    // Column for column and key for key, so that a failure names the line that differs.
    for (e, a) in expected.iter().zip(&actual) {
        assert_eq!(a, e, "the builder's table differs from the article's");
    }
    assert_eq!(actual.len(), expected.len(), "{actual:#?} vs {expected:#?}");
    assert!(expected.iter().any(|l| l.starts_with("`id` smallint")));
    assert!(
        expected
            .iter()
            .any(|l| l.starts_with("UNIQUE KEY `UQ_name`"))
    );

    hand_pool.close().await;
    builder_pool.close().await;
    Ok(())
}

/// Every filter combination's expected names, computed in Rust from the sample data.
fn expected_search(filters: &Filters) -> Vec<String> {
    let mut totals: BTreeMap<&str, i64> = BTreeMap::new();
    for (name, _, cents) in SAMPLE_ORDERS {
        *totals.entry(name).or_default() += i64::from(cents);
    }
    let mut customers: Vec<(&str, Option<&str>)> = SAMPLE_CUSTOMERS.to_vec();
    customers.push(("Lynn", Some("Backend Developer")));
    customers.sort();
    let mut names: Vec<String> = customers
        .into_iter()
        .filter(|(name, _)| {
            filters
                .name_prefix
                .as_deref()
                .is_none_or(|p| name.starts_with(p))
        })
        .filter(|(_, job)| filters.job.is_none() || filters.job.as_deref() == *job)
        .filter(|(name, _)| {
            filters
                .min_total_cents
                .is_none_or(|min| totals.get(name).is_some_and(|t| *t >= min))
        })
        .map(|(name, _)| name.to_owned())
        .collect();
    if let Some(limit) = filters.limit {
        names.truncate(limit as usize);
    }
    names
}

#[tokio::test]
async fn every_search_filter_combination_returns_the_right_customers() -> TestResult {
    let (_db, pool) = sample_database("lesson_2_search").await?;
    let prefixes = [None, Some("L"), Some("Gr"), Some("%"), Some("_")];
    let jobs = [
        None,
        Some("Backend Developer"),
        Some("Data Engineer"),
        Some("Nobody"),
    ];
    let minimums = [None, Some(0), Some(5_000), Some(20_000), Some(1_000_000)];
    let limits = [None, Some(0), Some(1), Some(10)];
    let mut checked = 0;
    for prefix in prefixes {
        for job in jobs {
            for min in minimums {
                for limit in limits {
                    let filters = Filters {
                        name_prefix: prefix.map(str::to_owned),
                        job: job.map(str::to_owned),
                        min_total_cents: min,
                        limit,
                    };
                    let found: Vec<String> = lesson_2::search(&pool, &filters)
                        .await?
                        .into_iter()
                        .map(|c| c.name)
                        .collect();
                    assert_eq!(found, expected_search(&filters), "{filters:?}");
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 5 * 4 * 5 * 4);
    // A few that the reference must not get wrong either.
    assert_eq!(
        expected_search(&Filters::default()),
        ["Ada", "Grace", "Linus", "Lynn", "Margaret"]
    );
    assert_eq!(
        expected_search(&Filters {
            min_total_cents: Some(20_000),
            ..Filters::default()
        }),
        ["Ada", "Grace"]
    );
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn hostile_strings_round_trip_through_the_builder_exactly() -> TestResult {
    let t = TestDatabase::migrated("lesson_2_hostile").await?;
    let hostile: [(&str, Option<&str>); 10] = [
        ("O'Brien", Some("it's \"quoted\"")),
        ("back\\slash", Some("C:\\temp\\")),
        ("\\'; DROP TABLE customers; -- ", Some("'")),
        ("50% off", Some("%")),
        ("5000 off", Some("_")),
        ("snake_case", Some("a_b")),
        ("snakeXcase", Some("aXb")),
        ("crab 🦀 emoji", Some("🦀 4 bytes")),
        ("tab\there", Some("new\nline")),
        ("!bang", None),
    ];
    let insert = lesson_2::insert_customers_statement(&hostile)?;
    assert_eq!(
        lesson_2::execute(&t.pool, &insert).await?,
        hostile.len() as u64
    );
    // Every value is stored byte for byte.
    let stored = all_customers(&t.pool).await?;
    for (name, job) in hostile {
        let row = stored
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("{name:?} was not stored as it is: {stored:#?}"));
        assert_eq!(row.job.as_deref(), job, "{name:?}");
        // ...and found by an equality the builder writes.
        let found = lesson_2::fetch_customers(&t.pool, &lesson_2::by_name(name)).await?;
        assert_eq!(found.len(), 1, "{name:?}");
        assert_eq!(found[0].name, name);
    }
    // In a prefix search `%`, `_` and the escape character itself are literal characters.
    for (prefix, expected) in [
        ("50%", vec!["50% off"]),
        ("50", vec!["50% off", "5000 off"]),
        ("5", vec!["50% off", "5000 off"]),
        ("snake_", vec!["snake_case"]),
        ("%", vec![]),
        ("_", vec![]),
        ("!", vec!["!bang"]),
        ("back\\", vec!["back\\slash"]),
        ("\\'", vec!["\\'; DROP TABLE customers; -- "]),
        ("O'", vec!["O'Brien"]),
        ("crab 🦀", vec!["crab 🦀 emoji"]),
    ] {
        let filters = Filters {
            name_prefix: Some(prefix.to_owned()),
            ..Filters::default()
        };
        let mut found: Vec<String> = lesson_2::search(&t.pool, &filters)
            .await?
            .into_iter()
            .map(|c| c.name)
            .collect();
        // The order of punctuation depends on the collation: compare as sets.
        found.sort();
        assert_eq!(found, expected, "prefix {prefix:?}");
    }
    // A raw LIKE pattern is a pattern: `_` matches any one character.
    let raw =
        lesson_2::fetch_customers(&t.pool, &lesson_2::name_like("snake_case")).await?;
    let mut raw: Vec<String> = raw.into_iter().map(|c| c.name).collect();
    raw.sort();
    assert_eq!(raw, ["snakeXcase", "snake_case"]);
    // The table is still there, with the seed row and the ten hostile ones.
    assert_eq!(lesson_2::count_customers(&t.pool).await?, 11);
    t.pool.close().await;
    Ok(())
}

#[tokio::test]
async fn the_upsert_is_idempotent_and_updates_the_job_of_an_existing_name() -> TestResult
{
    let t = TestDatabase::migrated("lesson_2_upsert").await?;
    let seed = lesson_2::upsert_customer_statement("Lynn", Some("Backend Developer"))?;
    let before = all_customers(&t.pool).await?;
    for _ in 0..3 {
        lesson_2::execute(&t.pool, &seed).await?;
        assert_eq!(all_customers(&t.pool).await?, before);
    }

    let new = lesson_2::upsert_customer_statement("Ada", Some("Data Engineer"))?;
    assert_eq!(lesson_2::execute(&t.pool, &new).await?, 1, "a new row");
    let after_insert = all_customers(&t.pool).await?;
    assert_eq!(after_insert.len(), 2);
    lesson_2::execute(&t.pool, &new).await?;
    assert_eq!(all_customers(&t.pool).await?, after_insert);

    let changed = lesson_2::upsert_customer_statement("Ada", Some("Data Scientist"))?;
    assert_eq!(
        lesson_2::execute(&t.pool, &changed).await?,
        2,
        "an updated row"
    );
    let rows = all_customers(&t.pool).await?;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].name, "Ada");
    assert_eq!(
        rows[1].id, after_insert[1].id,
        "the same row, not a new one"
    );
    assert_eq!(rows[1].job.as_deref(), Some("Data Scientist"));
    t.pool.close().await;
    Ok(())
}

#[tokio::test]
async fn the_join_counts_and_totals_each_customers_orders() -> TestResult {
    let (_db, pool) = sample_database("lesson_2_join").await?;
    let mut expected: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (name, _) in SAMPLE_CUSTOMERS {
        expected.insert(name.to_owned(), (0, 0));
    }
    expected.insert("Lynn".to_owned(), (0, 0));
    for (name, _, cents) in SAMPLE_ORDERS {
        let e = expected.entry(name.to_owned()).or_default();
        e.0 += 1;
        e.1 += i64::from(cents);
    }
    let totals = lesson_2::totals(&pool).await?;
    let actual: BTreeMap<String, (i64, i64)> = totals
        .iter()
        .map(|t| (t.name.clone(), (t.orders, t.total_cents)))
        .collect();
    assert_eq!(actual, expected);
    // By name, as the statement orders them.
    let names: Vec<&str> = totals.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Ada", "Grace", "Linus", "Lynn", "Margaret"]);
    assert_eq!(actual["Grace"], (2, 132_400));
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn inlined_sql_breaks_on_a_quote_and_lets_an_injection_in_where_bound_values_do_not()
-> TestResult {
    let (_db, pool) = sample_database("lesson_2_inlined").await?;
    let quote = lesson_2::inlined_versus_bound(&pool, "O'Brien").await?;
    // 1064 is ER_PARSE_ERROR on MySQL and MariaDB alike.
    assert_eq!(quote.inlined, Inlined::Error(1064));
    assert!(quote.bound.is_empty());
    let injection = lesson_2::inlined_versus_bound(&pool, "' OR 1=1 -- ").await?;
    let everyone = ["Ada", "Grace", "Linus", "Lynn", "Margaret"].map(str::to_owned);
    assert_eq!(injection.inlined, Inlined::Rows(everyone.to_vec()));
    assert!(injection.bound.is_empty());
    // The mode was set on a connection of its own: no pooled connection keeps it.
    for _ in 0..5 {
        let mode: String = sqlx::query_scalar("SELECT @@SESSION.sql_mode")
            .fetch_one(&pool)
            .await?;
        assert!(!mode.contains("NO_BACKSLASH_ESCAPES"), "{mode}");
    }
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn each_step_reports_what_it_did_and_the_last_removes_what_the_run_added()
-> TestResult {
    let TestDatabase { db: _db, pool } = TestDatabase::migrated("lesson_2_steps").await?;
    let ctx = lesson_2::Ctx { pool };

    let tables = s1_tables::run(&ctx).await?;
    assert_eq!(tables.customers, "customers");
    assert_eq!(
        tables.order_columns,
        ["id", "customer_id", "item", "amount_cents"]
    );

    let ddl = s2_ddl::run(&ctx).await?;
    assert!(ddl.existed, "the shared migrations made the table");
    assert!(
        ddl.sql
            .starts_with("CREATE TABLE IF NOT EXISTS `customers`")
    );

    let writes = s3_writing::run(&ctx).await?;
    assert_eq!((writes.inserted, writes.orders_inserted), (4, 5));
    assert_eq!(writes.insert.values.len(), 2 * SAMPLE_CUSTOMERS.len());
    let upserts: Vec<(u64, i64)> = writes
        .upserts
        .iter()
        .map(|u| (u.affected, u.customers))
        .collect();
    assert_eq!(upserts, [(1, 5), (1, 5), (2, 5)]);

    let selects = s4_select::run(&ctx).await?;
    let grace = selects.totals.rows.iter().find(|t| t.name == "Grace");
    assert_eq!(grace.map(|t| (t.orders, t.total_cents)), Some((2, 132_400)));
    assert_eq!(selects.by_job.rows.iter().map(|(_, n)| n).sum::<i64>(), 5);

    let searches = s5_dynamic::run(&ctx).await?;
    let found: Vec<&[String]> = searches.0.iter().map(|s| &s.rows[..]).collect();
    assert_eq!(found[1], ["Linus", "Lynn"]);
    assert_eq!(found[3], ["Ada", "Grace"]);
    assert!(found[5].is_empty(), "`100%_sure!` is taken literally");

    let seen = s6_seeing_sql::run(&ctx).await?;
    assert!(seen.sql.ends_with("WHERE `name` = ?"), "{}", seen.sql);
    assert!(!seen.sql.contains("O'Brien"));
    assert!(seen.inlined.contains("O\\'Brien"), "{}", seen.inlined);

    let last = s7_update_delete::run(&ctx).await?;
    assert_eq!(last.updated, 1);
    assert_eq!((last.orders_deleted, last.customers_deleted), (5, 4));
    assert_eq!(last.left, ["Lynn"]);
    ctx.pool.close().await;
    Ok(())
}
