//! Lesson 6: measuring which layer costs what. (A placeholder: the lesson's own issue fills it in.)

use anyhow::Result;
use sqlx::mysql::MySqlPool;

// ANCHOR: count_customers
/// How many customers there are.
pub async fn count_customers(pool: &MySqlPool) -> Result<i64> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers")
        .fetch_one(pool)
        .await?;
    Ok(n)
}
// ANCHOR_END: count_customers
