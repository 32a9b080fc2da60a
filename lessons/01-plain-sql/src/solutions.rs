//! The worked answers to lesson 1's exercises. The `solutions` feature compiles this file
//! in place of `exercises.rs`.

use anyhow::{Context, Result};
use sqlx::mysql::MySqlPool;

// ANCHOR: exercise_1
/// Exercise 1.1: return how many customers have a job that is neither empty nor NULL.
pub async fn customers_with_a_job(pool: &MySqlPool) -> Result<i64> {
    // `NULL <> ''` is NULL, not true, so `WHERE job <> ''` already leaves the NULLs out.
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers WHERE job <> ''")
        .fetch_one(pool)
        .await?;
    Ok(n)
}
// ANCHOR_END: exercise_1

// ANCHOR: exercise_2
/// Exercise 1.2: give the customer named `old` the name `new`, with bound parameters.
/// Return `true` if a customer was renamed, `false` if nobody is named `old`.
pub async fn rename_customer(pool: &MySqlPool, old: &str, new: &str) -> Result<bool> {
    let done = sqlx::query("UPDATE customers SET name = ? WHERE name = ?")
        .bind(new)
        .bind(old)
        .execute(pool)
        .await?;
    // Names are unique, so at most one row matches.
    Ok(done.rows_affected() == 1)
}
// ANCHOR_END: exercise_2

// ANCHOR: exercise_3
/// Exercise 1.3: insert every `(name, job)` pair in one transaction: all of them, or, if
/// any insert fails (a duplicate name, say), none of them, returning the error. On
/// success, return how many rows were inserted.
pub async fn insert_all_or_none(
    pool: &MySqlPool,
    customers: &[(&str, &str)],
) -> Result<u64> {
    let mut tx = pool.begin().await?;
    let mut inserted = 0;
    for (name, job) in customers {
        // On an error, `?` returns and drops `tx`: the transaction rolls back.
        let done = sqlx::query("INSERT INTO customers (name, job) VALUES (?, ?)")
            .bind(name)
            .bind(job)
            .execute(&mut *tx)
            .await
            .with_context(|| format!("cannot insert {name:?}"))?;
        inserted += done.rows_affected();
    }
    tx.commit().await?;
    Ok(inserted)
}
// ANCHOR_END: exercise_3
