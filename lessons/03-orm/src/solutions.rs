//! The worked answers to lesson 3's exercises. The `solutions` feature compiles this file in
//! place of `exercises.rs`.

use anyhow::Result;
use sqlx::mysql::MySqlPool;

// ANCHOR: exercise_1
/// Exercise 3.1: return how many customers have a job that is not empty.
pub async fn customers_with_a_job(pool: &MySqlPool) -> Result<i64> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers WHERE job <> ''")
        .fetch_one(pool)
        .await?;
    Ok(n)
}
// ANCHOR_END: exercise_1
