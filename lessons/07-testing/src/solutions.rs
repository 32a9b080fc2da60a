//! The worked answers to lesson 7's exercises. The `solutions` feature puts this module
//! in the place of `exercises.rs`, so that CI checks that each exercise can be solved.

use anyhow::Result;
use diesel::QueryDsl;
use diesel_async::{AsyncConnection, AsyncMysqlConnection, RunQueryDsl};

use crate::schema::customers;

// ANCHOR: solution_1
/// Exercise 7.1, solved: a readable prefix of the path, then a hash of the whole path
/// and the run, so that two long paths with the same start still differ.
pub fn test_database_name(test_path: &str, run: u32) -> Result<String> {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (test_path, run).hash(&mut hasher);
    let readable: String = test_path
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '_',
        })
        .take(40)
        .collect();
    Ok(format!("t_{readable}_{:016x}", hasher.finish()))
}
// ANCHOR_END: solution_1

// ANCHOR: solution_2
/// Exercise 7.2, solved: the test transaction first, then the insert and the count in
/// it; dropping the connection ends the transaction without a commit.
pub async fn count_with_a_customer_added(
    mut conn: AsyncMysqlConnection,
    name: &str,
) -> Result<i64> {
    use diesel::ExpressionMethods;
    conn.begin_test_transaction().await?;
    diesel::insert_into(customers::table)
        .values(customers::name.eq(name))
        .execute(&mut conn)
        .await?;
    Ok(customers::table.count().get_result(&mut conn).await?)
}
// ANCHOR_END: solution_2
