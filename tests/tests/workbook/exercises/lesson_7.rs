//! Lesson 7's exercises: these fail until the exercises are solved.

use std::collections::HashSet;

use diesel_async::AsyncConnection;
use lesson_7::exercises::{count_with_a_customer_added, test_database_name};
use workbook::TestDatabase;
use workbook_tests::TestResult;

#[tokio::test]
async fn exercise_7_1_names_are_valid_distinct_and_usable() -> TestResult {
    let long = "crate::a_module_with_a_long_name::tests::".repeat(4);
    let paths = [
        "crate::s1::tests::a".to_owned(),
        "crate::s1::tests::b".to_owned(),
        format!("{long}first"),
        format!("{long}second"),
        "crate::ünïcode::tests::ß".to_owned(),
    ];
    let mut seen = HashSet::new();
    for path in &paths {
        for run in [0, 1, 4_000_000_000] {
            let name = test_database_name(path, run)?;
            assert!(name.len() <= 64 && name.starts_with("t_"), "{name}");
            let allowed =
                |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
            assert!(name.chars().all(allowed), "{name}");
            assert!(seen.insert(name.clone()), "{name} came twice");
        }
    }
    // And the server takes it.
    let db = TestDatabase::migrated("exercise_7_1").await?;
    let name = test_database_name(&paths[2], 7)?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&db.pool)
        .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {name}")))
        .execute(&db.pool)
        .await?;
    Ok(())
}

#[tokio::test]
async fn exercise_7_2_sees_its_customer_and_leaves_nothing() -> TestResult {
    let db = TestDatabase::migrated("exercise_7_2").await?;
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers")
        .fetch_one(&db.pool)
        .await?;
    for _ in 0..2 {
        let conn = diesel_async::AsyncMysqlConnection::establish(db.url()).await?;
        let inside = count_with_a_customer_added(conn, "Eve").await?;
        assert_eq!(inside, before + 1);
    }
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers")
        .fetch_one(&db.pool)
        .await?;
    assert_eq!(after, before);
    Ok(())
}
