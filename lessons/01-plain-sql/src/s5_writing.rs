//! Step 5: writing: INSERT, UPDATE and DELETE, bound values, and the one place where SQL
//! text is built at run time.

use sqlx::{AssertSqlSafe, MySqlExecutor, MySqlPool};

use crate::s3_schema::Customer;

// ANCHOR: insert
/// Inserts a customer and returns its new id, from the OK packet's `last_insert_id`.
///
/// It takes any executor: `&MySqlPool`, or `&mut *tx` inside a transaction.
pub async fn insert_customer<'e>(
    executor: impl MySqlExecutor<'e>,
    name: &str,
    job: Option<&str>,
) -> sqlx::Result<u64> {
    let done = sqlx::query("INSERT INTO customers (name, job) VALUES (?, ?)")
        .bind(name)
        // `None` is bound as NULL: the column's DEFAULT '' applies only when omitted.
        .bind(job)
        .execute(executor)
        .await?;
    Ok(done.last_insert_id())
}
// ANCHOR_END: insert

// ANCHOR: update_delete
/// Sets the job of customer `id`, and says how many rows matched.
///
/// NOTE: sqlx connects with `CLIENT_FOUND_ROWS`, so MySQL and MariaDB report the rows
/// that matched the `WHERE`, even when the new value equals the old one (the `mysql`
/// client reports only the rows it changed).
pub async fn set_job(pool: &MySqlPool, id: u64, job: &str) -> sqlx::Result<u64> {
    let done = sqlx::query("UPDATE customers SET job = ? WHERE id = ?")
        .bind(job)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

/// Deletes customer `id`, and says how many rows went.
pub async fn delete_customer(pool: &MySqlPool, id: u64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM customers WHERE id = ?")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}
// ANCHOR_END: update_delete

// ANCHOR: hostile
/// A name written to end the statement and drop the table, if it were pasted into the
/// SQL.
pub const HOSTILE_NAME: &str = "Robert'); DROP TABLE customers; --";
// ANCHOR_END: hostile

// ANCHOR: sort_key
/// The columns a caller may sort the customers by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// By name.
    Name,
    /// By job.
    Job,
}

impl SortKey {
    /// The column to sort by. Only these fixed strings can ever reach the SQL.
    fn column(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Job => "job",
        }
    }
}
// ANCHOR_END: sort_key

// ANCHOR: sorted
/// Every customer, sorted by `key` (in descending order if `descending`), then by id.
///
/// A column name cannot be a bound parameter (`ORDER BY ?` sorts by a constant), so
/// this SQL is built at run time, and sqlx 0.9 asks us to vouch for it.
pub async fn customers_sorted(
    pool: &MySqlPool,
    key: SortKey,
    descending: bool,
) -> sqlx::Result<Vec<Customer>> {
    let direction = if descending { "DESC" } else { "ASC" };
    // Safe: both parts come from the fixed strings above, never from input.
    let sql = format!(
        "SELECT id, name, job FROM customers ORDER BY {} {direction}, id",
        key.column()
    );
    sqlx::query_as::<_, Customer>(AssertSqlSafe(sql))
        .fetch_all(pool)
        .await
}
// ANCHOR_END: sorted

/// The name of a customer, by the id that [`insert_customer`] returned.
pub async fn name_of(pool: &MySqlPool, id: u64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT name FROM customers WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Step 5's report: what each write did. It deletes the rows it inserted, by id.
pub async fn run(ctx: &crate::Ctx) -> anyhow::Result<crate::report::Writes> {
    let pool = &ctx.pool;
    let ada = insert_customer(pool, "Ada Lovelace", Some("Analyst")).await?;
    let ada_name = name_of(pool, ada).await?;
    let updated = set_job(pool, ada, "Programmer").await?;
    let updated_again = set_job(pool, ada, "Programmer").await?;
    let robert = insert_customer(pool, HOSTILE_NAME, None).await?;
    let hostile_stored = name_of(pool, robert).await?;
    let customers_after = crate::s4_queries::count_customers(pool).await?;
    let sorted = customers_sorted(pool, SortKey::Name, true).await?;
    // Clean up: this run's rows only, by the ids it got back.
    let deleted =
        delete_customer(pool, ada).await? + delete_customer(pool, robert).await?;
    Ok(crate::report::Writes {
        ada_name,
        updated,
        updated_again,
        hostile_stored,
        customers_after,
        sorted_by_name_desc: sorted.into_iter().map(|c| c.name).collect(),
        deleted,
    })
}
