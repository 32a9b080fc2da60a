//! Lesson 4: many tasks at once. (A placeholder: the lesson's own issue fills it in.)

// The exercises at the end of the chapter. With the `solutions` feature, the worked answers
// stand in their place, so that CI can check that every exercise is solvable.
#[cfg(not(feature = "solutions"))]
pub mod exercises;
#[cfg(feature = "solutions")]
#[path = "solutions.rs"]
pub mod exercises;

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
