//! Step 6: transactions: both rows or neither, and what a dropped transaction does.

use anyhow::{Context, Result};
use sqlx::mysql::MySqlDatabaseError;
use sqlx::{Connection, MySqlExecutor, MySqlPool};

use crate::s5_writing::{delete_customer, insert_customer};

// ANCHOR: both_or_neither
/// What [`insert_both`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BothOrNeither {
    /// Both rows were committed; their new ids.
    Committed([u64; 2]),
    /// A name was taken: the transaction was rolled back and neither row stayed.
    RolledBack {
        /// The name that was already there.
        duplicate: String,
        /// `DatabaseError::code()`: the SQLSTATE, `23000` for any integrity error.
        sqlstate: Option<String>,
        /// MySQL's own error number, `1062` (`ER_DUP_ENTRY`) for a duplicate key.
        number: Option<u16>,
    },
}
// ANCHOR_END: both_or_neither

// ANCHOR: insert_both
/// Inserts two customers in one transaction: both, or neither.
pub async fn insert_both(
    pool: &MySqlPool,
    first: (&str, &str),
    second: (&str, &str),
) -> Result<BothOrNeither> {
    let mut tx = pool.begin().await.context("cannot begin a transaction")?;
    let mut ids = [0; 2];
    for (i, (name, job)) in [first, second].into_iter().enumerate() {
        match insert_customer(&mut *tx, name, Some(job)).await {
            Ok(id) => ids[i] = id,
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                let mysql = e.try_downcast_ref::<MySqlDatabaseError>();
                let rolled_back = BothOrNeither::RolledBack {
                    duplicate: name.to_owned(),
                    sqlstate: e.code().map(|c| c.into_owned()),
                    number: mysql.map(|e| e.number()),
                };
                tx.rollback().await.context("cannot roll back")?;
                return Ok(rolled_back);
            }
            // Any other error: `?` returns early and drops `tx`, which rolls it back.
            Err(e) => return Err(e).context("cannot insert a customer"),
        }
    }
    tx.commit().await.context("cannot commit")?;
    Ok(BothOrNeither::Committed(ids))
}
// ANCHOR_END: insert_both

// ANCHOR: dropped_transaction
/// Inserts `name` in a transaction that is dropped without a commit. Returns how many
/// rows named `name` the connection saw inside the transaction, then after the drop.
pub async fn drop_a_transaction(pool: &MySqlPool, name: &str) -> Result<(i64, i64)> {
    let mut conn = pool.acquire().await.context("cannot get a connection")?;
    let inside = {
        let mut tx = conn.begin().await.context("cannot begin a transaction")?;
        insert_customer(&mut *tx, name, Some("Never Committed")).await?;
        count_named(&mut *tx, name).await?
        // `tx` is dropped here, neither committed nor rolled back: sqlx queues a
        // ROLLBACK, which is sent before the connection's next statement.
    };
    // The same connection, so the same session, which would see its own uncommitted row.
    let after = count_named(&mut *conn, name).await?;
    Ok((inside, after))
}
// ANCHOR_END: dropped_transaction

// ANCHOR: savepoint
/// Inserts `kept` in a transaction, then `undone` in a transaction nested inside it,
/// which rolls back. The nested `begin()` sends `SAVEPOINT`, and its rollback `ROLLBACK
/// TO SAVEPOINT`: SQLAlchemy's `begin_nested()`. Returns each row's count afterwards.
pub async fn nested_rollback(
    pool: &MySqlPool,
    kept: &str,
    undone: &str,
) -> Result<[i64; 2]> {
    let mut tx = pool.begin().await?;
    insert_customer(&mut *tx, kept, None).await?;
    let mut nested = tx.begin().await?;
    insert_customer(&mut *nested, undone, None).await?;
    nested.rollback().await?;
    tx.commit().await?;
    Ok([
        count_named(pool, kept).await?,
        count_named(pool, undone).await?,
    ])
}
// ANCHOR_END: savepoint

// ANCHOR: isolation
/// The isolation levels the lesson compares, as the statement that sets each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// InnoDB's default: every read in a transaction sees the same snapshot.
    RepeatableRead,
    /// Each read sees what was committed before it.
    ReadCommitted,
}

impl Isolation {
    /// `SET TRANSACTION` without `SESSION` sets the level of the next transaction only.
    fn statement(self) -> &'static str {
        match self {
            Isolation::RepeatableRead => {
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"
            }
            Isolation::ReadCommitted => "SET TRANSACTION ISOLATION LEVEL READ COMMITTED",
        }
    }
}
// ANCHOR_END: isolation

// ANCHOR: two_reads
/// Counts the customers twice in one transaction at `level`, while another connection
/// inserts `name` and commits in between. Returns both counts.
pub async fn two_reads(
    pool: &MySqlPool,
    level: Isolation,
    name: &str,
) -> Result<[i64; 2]> {
    let mut conn = pool.acquire().await?;
    sqlx::raw_sql(level.statement()).execute(&mut *conn).await?;
    let mut tx = conn.begin().await?;
    let count = "SELECT COUNT(*) FROM customers";
    let first: i64 = sqlx::query_scalar(count).fetch_one(&mut *tx).await?;
    // Another connection from the pool, in autocommit mode: committed at once.
    let id = insert_customer(pool, name, None).await?;
    let second: i64 = sqlx::query_scalar(count).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    delete_customer(pool, id).await?;
    Ok([first, second])
}
// ANCHOR_END: two_reads

/// How many customers are named `name`: 0 or 1, since names are unique.
pub async fn count_named<'e>(
    executor: impl MySqlExecutor<'e>,
    name: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM customers WHERE name = ?")
        .bind(name)
        .fetch_one(executor)
        .await
}

/// Step 6's report: a transaction that commits, one that rolls back, one dropped.
pub async fn run(ctx: &crate::Ctx) -> Result<crate::report::Transactions> {
    let pool = &ctx.pool;
    let committed = insert_both(
        pool,
        ("Grace Hopper", "Compiler Engineer"),
        ("Margaret Hamilton", "Flight Software Lead"),
    )
    .await?;
    let committed_rows = [
        count_named(pool, "Grace Hopper").await?,
        count_named(pool, "Margaret Hamilton").await?,
    ];
    if let BothOrNeither::Committed(ids) = committed {
        for id in ids {
            delete_customer(pool, id).await?;
        }
    }
    let failed = insert_both(
        pool,
        ("Katherine Johnson", "Mathematician"),
        ("Lynn", "Backend Developer"),
    )
    .await?;
    let after_rollback = count_named(pool, "Katherine Johnson").await?;
    let (seen_inside, seen_after_drop) = drop_a_transaction(pool, "Hedy Lamarr").await?;
    let savepoint = nested_rollback(pool, "Barbara Liskov", "Frances Allen").await?;
    sqlx::query("DELETE FROM customers WHERE name = ?")
        .bind("Barbara Liskov")
        .execute(pool)
        .await?;
    Ok(crate::report::Transactions {
        committed_rows,
        failed,
        after_rollback,
        seen_inside,
        seen_after_drop,
        savepoint,
        repeatable_read: two_reads(pool, Isolation::RepeatableRead, "Alan Turing")
            .await?,
        read_committed: two_reads(pool, Isolation::ReadCommitted, "Alan Turing").await?,
    })
}
