//! Step 3: a transaction per test, never committed, instead of a database per test; and
//! what each way of isolating costs.

use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::{AsyncConnection, AsyncMysqlConnection, RunQueryDsl};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait,
};
use sqlx::MySqlPool;

use crate::Ctx;
use crate::s1_sqlx_test::ms;
use crate::schema::customers;

// ANCHOR: diesel_test_transaction
/// A connection whose every statement runs in one transaction that is never
/// committed: whatever the test writes is gone when the connection goes.
pub async fn diesel_test_connection(url: &str) -> Result<AsyncMysqlConnection> {
    let mut conn = AsyncMysqlConnection::establish(url).await?;
    conn.begin_test_transaction().await?;
    Ok(conn)
}

/// The test's body: the customer it adds is seen inside the transaction.
pub async fn adds_a_customer_with_diesel(conn: &mut AsyncMysqlConnection) -> Result<()> {
    diesel::insert_into(customers::table)
        .values((customers::name.eq("Ada"), customers::job.eq("Engineer")))
        .execute(conn)
        .await?;
    let ada: i64 = customers::table
        .filter(customers::name.eq("Ada"))
        .count()
        .get_result(conn)
        .await?;
    ensure!(ada == 1);
    Ok(())
}
// ANCHOR_END: diesel_test_transaction

// ANCHOR: sea_orm_test_transaction
/// SeaORM's way: begin, hand the transaction to the code under test (it takes any
/// `ConnectionTrait`), and never commit; dropping it rolls back.
pub async fn adds_a_customer_with_sea_orm(db: &DatabaseConnection) -> Result<()> {
    let txn = db.begin().await?;
    let insert = "INSERT INTO customers (name, job) VALUES (?, ?)";
    let values = ["Ada".into(), "Engineer".into()];
    let sql = Statement::from_sql_and_values(DbBackend::MySql, insert, values);
    txn.execute_raw(sql).await?;
    let count = "SELECT COUNT(*) FROM customers WHERE name = 'Ada'";
    let sql = Statement::from_string(DbBackend::MySql, count);
    let row = txn.query_one_raw(sql).await?;
    let ada: i64 = row.map(|r| r.try_get_by_index(0)).transpose()?.unwrap_or(0);
    ensure!(ada == 1);
    txn.rollback().await?; // what dropping `txn` would do
    Ok(())
}
// ANCHOR_END: sea_orm_test_transaction

// ANCHOR: sqlx_test_transaction
/// The same with sqlx: a transaction the test never commits.
pub async fn adds_a_customer_with_sqlx(pool: &MySqlPool) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("INSERT INTO customers (name, job) VALUES ('Ada', 'Engineer')")
        .execute(&mut *tx)
        .await?;
    let ada: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM customers WHERE name = 'Ada'")
            .fetch_one(&mut *tx)
            .await?;
    ensure!(ada == 1);
    tx.rollback().await?; // or let `tx` drop
    Ok(())
}
// ANCHOR_END: sqlx_test_transaction

/// How many customers are named Ada: none, once every test transaction is gone.
pub async fn adas(pool: &MySqlPool) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM customers WHERE name = 'Ada'")
            .fetch_one(pool)
            .await?,
    )
}

/// The cost of one test under each way of isolating it, `ctx.tests` times each: a fresh
/// empty database, a fresh database with the migrations, and a rolled-back transaction
/// in the lesson's database (sqlx, diesel-async and SeaORM).
pub async fn run(ctx: &Ctx) -> Result<String> {
    let n = ctx.tests;
    let mut lines = Vec::new();
    let mut line = |what: &str, took: Duration| {
        ctx.record(what, n, took);
        let each = took / n;
        lines.push(format!(
            "{what:<44} {n} tests in {:>10}, {:>9} a test",
            ms(took),
            ms(each)
        ));
    };
    let mut took = Duration::ZERO;
    for _ in 0..n {
        took += ctx.isolated("s3", false, None, empty_test).await?;
    }
    line("fresh empty database (CREATE, DROP)", took);
    let mut took = Duration::ZERO;
    for _ in 0..n {
        let test =
            |pool: MySqlPool| async move { adds_a_customer_with_sqlx(&pool).await };
        took += ctx.isolated("s3", true, None, test).await?;
    }
    line("fresh database + migrations", took);
    let started = Instant::now();
    for _ in 0..n {
        adds_a_customer_with_sqlx(&ctx.pool).await?;
    }
    line("transaction rolled back (sqlx)", started.elapsed());
    let started = Instant::now();
    for _ in 0..n {
        let mut conn = diesel_test_connection(&ctx.url).await?;
        adds_a_customer_with_diesel(&mut conn).await?;
    }
    line(
        "test transaction (diesel-async, new conn.)",
        started.elapsed(),
    );
    let db = DatabaseConnection::from(ctx.pool.clone());
    let started = Instant::now();
    for _ in 0..n {
        adds_a_customer_with_sea_orm(&db).await?;
    }
    line("transaction rolled back (SeaORM)", started.elapsed());
    let left = adas(&ctx.pool).await?;
    lines.push(format!(
        "customers named Ada left in the lesson's database: {left}"
    ));
    Ok(lines.join("\n"))
}

async fn empty_test(pool: MySqlPool) -> Result<()> {
    sqlx::query("SELECT 1").execute(&pool).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s1_sqlx_test::MIGRATOR;
    use sqlx::ConnectOptions;
    use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};

    // ANCHOR: tests
    #[sqlx::test(migrator = "MIGRATOR")]
    async fn diesel_test_transactions_leave_nothing_behind(
        _: MySqlPoolOptions,
        options: MySqlConnectOptions,
    ) -> Result<()> {
        let mut url = options.to_url_lossy();
        url.set_query(None); // sqlx's own options, which diesel does not need
        for _ in 0..2 {
            let mut conn = diesel_test_connection(url.as_str()).await?;
            adds_a_customer_with_diesel(&mut conn).await?; // twice: no duplicate
        }
        let pool = MySqlPool::connect_with(options).await?;
        ensure!(adas(&pool).await? == 0);
        Ok(())
    }

    #[sqlx::test(migrator = "MIGRATOR")]
    async fn sea_orm_and_sqlx_transactions_leave_nothing_behind(
        pool: MySqlPool,
    ) -> Result<()> {
        let db = DatabaseConnection::from(pool.clone());
        adds_a_customer_with_sea_orm(&db).await?;
        adds_a_customer_with_sqlx(&pool).await?;
        ensure!(adas(&pool).await? == 0);
        Ok(())
    }
    // ANCHOR_END: tests
}
