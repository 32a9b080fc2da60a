//! Lesson 2's exercises: these fail until the exercises are solved.

use lesson_2::Customer;
use sea_query::MysqlQueryBuilder;
use sea_query_sqlx::SqlxBinder;
use sqlx::AssertSqlSafe;
use sqlx::mysql::MySqlPool;
use workbook::TestDatabase;
use workbook_tests::TestResult;

async fn all_customers(pool: &MySqlPool) -> anyhow::Result<Vec<Customer>> {
    let rows =
        sqlx::query_as::<_, Customer>("SELECT id, name, job FROM customers ORDER BY id")
            .fetch_all(pool)
            .await?;
    Ok(rows)
}

#[tokio::test]
async fn exercise_2_1_finds_the_customers_without_a_job() -> TestResult {
    let t = TestDatabase::migrated("exercise_2_1").await?;
    sqlx::query(
        "INSERT INTO customers (name, job) VALUES ('Grace', NULL), ('Ada', ''), ('Linus', 'Kernel Developer')",
    )
    .execute(&t.pool)
    .await?;
    let query = lesson_2::exercises::without_a_job()?;
    let (sql, values) = query.build_sqlx(MysqlQueryBuilder);
    assert!(
        !sql.contains("''"),
        "bind the empty string, do not inline it: {sql}"
    );
    assert!(
        !values.0.0.is_empty(),
        "the empty string is a bound value: {sql}"
    );
    let found = lesson_2::fetch_customers(&t.pool, &query).await?;
    let names: Vec<&str> = found.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Ada", "Grace"]);
    t.pool.close().await;
    Ok(())
}

#[tokio::test]
async fn exercise_2_2_ranks_the_top_spenders() -> TestResult {
    let t = TestDatabase::migrated("exercise_2_2").await?;
    let insert = lesson_2::insert_customers_statement(&lesson_2::SAMPLE_CUSTOMERS)?;
    lesson_2::execute(&t.pool, &insert).await?;
    // Margaret catches up with Ada: equal totals come by name.
    let mut orders = lesson_2::SAMPLE_ORDERS.to_vec();
    orders.push(("Margaret", "Chair", 4_999 + 18_950 - 3_450));
    lesson_2::insert_orders(&t.pool, &orders).await?;

    let (sql, values) =
        lesson_2::exercises::top_spenders(3)?.build_sqlx(MysqlQueryBuilder);
    let rows: Vec<(String, i64)> = sqlx::query_as_with(AssertSqlSafe(sql), values)
        .fetch_all(&t.pool)
        .await?;
    assert_eq!(
        rows,
        [
            ("Grace".to_owned(), 132_400),
            ("Ada".to_owned(), 23_949),
            ("Margaret".to_owned(), 23_949),
        ]
    );
    let (sql, values) =
        lesson_2::exercises::top_spenders(10)?.build_sqlx(MysqlQueryBuilder);
    let rows: Vec<(String, i64)> = sqlx::query_as_with(AssertSqlSafe(sql), values)
        .fetch_all(&t.pool)
        .await?;
    assert_eq!(rows.len(), 3, "Linus and Lynn have no orders: {rows:?}");
    t.pool.close().await;
    Ok(())
}

#[tokio::test]
async fn exercise_2_3_upserts_many_customers_in_one_statement() -> TestResult {
    let t = TestDatabase::migrated("exercise_2_3").await?;
    let rows = [
        ("Lynn", Some("Engineering Manager")),
        ("Ada", Some("Data Engineer")),
        ("Grace", None),
    ];
    let upsert = lesson_2::exercises::upsert_customers_statement(&rows)?;
    let (sql, _) = upsert.build_sqlx(MysqlQueryBuilder);
    assert_eq!(sql.matches("INSERT").count(), 1, "one statement: {sql}");
    for _ in 0..2 {
        lesson_2::execute(&t.pool, &upsert).await?;
        let stored = all_customers(&t.pool).await?;
        let stored: Vec<(&str, Option<&str>)> = stored
            .iter()
            .map(|c| (c.name.as_str(), c.job.as_deref()))
            .collect();
        assert_eq!(stored, rows, "Lynn keeps her row and gets the new job");
    }
    t.pool.close().await;
    Ok(())
}
