//! Lesson 5's exercises: these fail until the exercises are solved.

use lesson_5::exercises::Renamed;
use workbook::{TestDatabase, fresh_database};
use workbook_tests::TestResult;

async fn customers(
    prefix: &str,
    names: &[&str],
) -> anyhow::Result<(workbook::FreshDatabase, sqlx::MySqlPool)> {
    let TestDatabase { db, pool } = TestDatabase::migrated(prefix).await?;
    for name in names {
        sqlx::query("INSERT INTO customers (name, job) VALUES (?, '')")
            .bind(*name)
            .execute(&pool)
            .await?;
    }
    Ok((db, pool))
}

#[tokio::test]
async fn exercise_5_1_matches_wildcards_only_literally() -> TestResult {
    let (_db, pool) = customers(
        "exercise_5_1",
        &[
            "50% off",
            "50 percent",
            "a_b",
            "axb",
            r"back\slash",
            "backslash",
        ],
    )
    .await?;
    let find = |f: &'static str| lesson_5::exercises::customers_named_like(&pool, f);
    assert_eq!(find("50%").await?, ["50% off"]);
    assert_eq!(find("a_b").await?, ["a_b"]);
    assert_eq!(find(r"k\s").await?, [r"back\slash"]);
    assert_eq!(find("yn").await?, ["Lynn"]);
    assert!(find("'").await?.is_empty());
    pool.close().await;
    Ok(())
}

/// What each rename of Ada must say, through exercise 5.2's or 5.4's function, and the
/// names afterwards.
async fn renames_say_what_they_did<F, Fut>(
    pool: &sqlx::MySqlPool,
    rename: F,
) -> TestResult
where
    F: Fn(i16, &'static str) -> Fut,
    Fut: Future<Output = anyhow::Result<Renamed>>,
{
    let ada: i16 = sqlx::query_scalar("SELECT id FROM customers WHERE name = 'Ada'")
        .fetch_one(pool)
        .await?;
    assert_eq!(rename(ada, "Lynn").await?, Renamed::NameTaken);
    assert_eq!(rename(ada, "Ada").await?, Renamed::Done, "to the same name");
    assert_eq!(rename(ada, "Ada Lovelace").await?, Renamed::Done);
    assert_eq!(rename(-1, "Nobody").await?, Renamed::NoSuchCustomer);
    let names: Vec<String> =
        sqlx::query_scalar("SELECT name FROM customers ORDER BY name")
            .fetch_all(pool)
            .await?;
    assert_eq!(names, ["Ada Lovelace", "Lynn"]);
    Ok(())
}

#[tokio::test]
async fn exercise_5_2_says_what_a_rename_did() -> TestResult {
    let (_db, pool) = customers("exercise_5_2", &["Ada"]).await?;
    let rename = |id, name| lesson_5::exercises::rename_customer(&pool, id, name);
    renames_say_what_they_did(&pool, rename).await?;
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn exercise_5_4_says_what_a_rename_did_through_sea_orm() -> TestResult {
    let (_db, pool) = customers("exercise_5_4", &["Ada"]).await?;
    let db = sea_orm::DatabaseConnection::from(pool.clone());
    let rename = |id, name| lesson_5::exercises::rename_customer_sea_orm(&db, id, name);
    renames_say_what_they_did(&pool, rename).await?;
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn exercise_5_3_never_oversells_under_concurrency() -> TestResult {
    let db = fresh_database("exercise_5_3").await?;
    let pool = workbook::connect(&db.url).await?;
    sqlx::query(
        "CREATE TABLE stock (product INT PRIMARY KEY, left_in_stock INT NOT NULL)",
    )
    .execute(&pool)
    .await?;
    sqlx::query("INSERT INTO stock VALUES (1, 7)")
        .execute(&pool)
        .await?;
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            lesson_5::exercises::reserve(&pool, 1, 1).await
        }));
    }
    let mut granted = 0;
    for task in tasks {
        if task.await?? {
            granted += 1;
        }
    }
    let left: i32 =
        sqlx::query_scalar("SELECT left_in_stock FROM stock WHERE product = 1")
            .fetch_one(&pool)
            .await?;
    assert_eq!((granted, left), (7, 0));
    assert!(!lesson_5::exercises::reserve(&pool, 1, 1).await?);
    assert!(
        !lesson_5::exercises::reserve(&pool, 2, 1).await?,
        "no such product"
    );
    pool.close().await;
    Ok(())
}
