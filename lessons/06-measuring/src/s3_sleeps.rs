//! Step 3, W1: `SELECT SLEEP(..)`, one after another, then at once on pools of several
//! sizes. It needs no table, and shows that the pool bounds concurrency, not `async`.

use anyhow::Result;
use diesel::prelude::*;
use diesel_async::{AsyncMysqlConnection, RunQueryDsl};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use sea_query::{Func, MysqlQueryBuilder, Query};
use sea_query_sqlx::SqlxBinder;
use sqlx::AssertSqlSafe;
use sqlx::mysql::MySqlConnection;

use crate::report::{ResultRow, Table};
use crate::{Check, Conn, Pool, Stack, measure, open_pool, timed};

// ANCHOR: sleeps_sequential
/// W1 on one stack: `n` sleeps one after another on one connection.
pub async fn sleeps_sequential(
    stack: Stack,
    pool: &Pool,
    n: usize,
    seconds: f64,
) -> Result<usize> {
    let mut conn = pool.get().await?;
    for _ in 0..n {
        conn.sleep(stack, seconds).await?;
    }
    Ok(n)
}
// ANCHOR_END: sleeps_sequential

// ANCHOR: sleeps_concurrent
/// W1 on one stack: `n` sleeps at once; the pool's size decides how many really overlap.
pub async fn sleeps_concurrent(
    stack: Stack,
    pool: &Pool,
    n: usize,
    seconds: f64,
) -> Result<usize> {
    let sleeps = (0..n).map(|_| async move {
        let mut conn = pool.get().await?;
        conn.sleep(stack, seconds).await
    });
    Ok(futures::future::try_join_all(sleeps).await?.len())
}
// ANCHOR_END: sleeps_concurrent

async fn sleep_query_as(conn: &mut MySqlConnection, seconds: f64) -> sqlx::Result<()> {
    let _: (i64,) = sqlx::query_as("SELECT SLEEP(?)")
        .bind(seconds)
        .fetch_one(conn)
        .await?;
    Ok(())
}

async fn sleep_macro(conn: &mut MySqlConnection, seconds: f64) -> sqlx::Result<()> {
    sqlx::query_scalar!("SELECT SLEEP(?) AS slept", seconds)
        .fetch_one(conn)
        .await?;
    Ok(())
}

async fn sleep_sea_query(conn: &mut MySqlConnection, seconds: f64) -> sqlx::Result<()> {
    let (sql, values) = Query::select()
        .expr(Func::cust("SLEEP").arg(seconds))
        .build_sqlx(MysqlQueryBuilder);
    let _: i64 = sqlx::query_scalar_with(AssertSqlSafe(sql), values)
        .fetch_one(conn)
        .await?;
    Ok(())
}

diesel::define_sql_function! {
    /// MySQL's `SLEEP(seconds)`, which returns 0 when it slept the whole time.
    fn sleep(seconds: diesel::sql_types::Double) -> diesel::sql_types::BigInt;
}

async fn sleep_diesel(conn: &mut AsyncMysqlConnection, seconds: f64) -> QueryResult<()> {
    let _: i64 = diesel::select(sleep(seconds)).get_result(conn).await?;
    Ok(())
}

/// SeaORM runs raw SQL as a `Statement`; `query_one_raw` takes a connection from the
/// pool for it.
async fn sleep_seaorm(db: &DatabaseConnection, seconds: f64) -> Result<(), DbErr> {
    let sql = "SELECT SLEEP(?)";
    let statement =
        Statement::from_sql_and_values(DbBackend::MySql, sql, [seconds.into()]);
    db.query_one_raw(statement).await?;
    Ok(())
}

impl Conn {
    /// W1: one `SELECT SLEEP(seconds)` on this stack.
    pub async fn sleep(&mut self, stack: Stack, seconds: f64) -> Result<()> {
        match (stack, self) {
            (Stack::SqlxQueryAs, Conn::Sqlx(c)) => sleep_query_as(c, seconds).await?,
            (Stack::SqlxMacro, Conn::Sqlx(c)) => sleep_macro(c, seconds).await?,
            (Stack::SeaQuery, Conn::Sqlx(c)) => sleep_sea_query(c, seconds).await?,
            (Stack::DieselAsync, Conn::Diesel(c)) => sleep_diesel(c, seconds).await?,
            (Stack::SeaOrm, Conn::SeaOrm(db)) => sleep_seaorm(db, seconds).await?,
            _ => return Err(crate::mismatch(stack)),
        }
        Ok(())
    }
}

/// Step 3's report: W1 on every stack, one after another and then on each pool size.
pub async fn run(ctx: &crate::Ctx) -> Result<Table> {
    if !ctx.wants("w1") {
        return Ok(Table::default());
    }
    let (counts, mut rows) = (&ctx.counts, Vec::new());
    let (n, seconds) = (counts.sleeps, counts.sleep_ms as f64 / 1e3);
    for &stack in &ctx.stacks {
        let pool = open_pool(stack, &ctx.url, 1, Check::BeforeEachUse).await?;
        let label = format!("W1 {stack}, sequential");
        let (t, done) = measure(&label, counts.repeats, || {
            timed(sleeps_sequential(stack, &pool, n, seconds))
        })
        .await?;
        crate::report::check_count(&label, done, n)?;
        rows.push(ResultRow::new(stack.name(), "W1", "sequential", n, &t));
        pool.close().await;
        for &size in &counts.pools {
            let pool = open_pool(stack, &ctx.url, size, Check::BeforeEachUse).await?;
            let variant = format!("pool of {size}");
            let label = format!("W1 {stack}, {variant}");
            let (t, done) = measure(&label, counts.repeats, || {
                timed(sleeps_concurrent(stack, &pool, n, seconds))
            })
            .await?;
            crate::report::check_count(&label, done, n)?;
            rows.push(ResultRow::new(stack.name(), "W1", &variant, n, &t));
            pool.close().await;
        }
    }
    rows.extend(ctx.sqlalchemy("W1"));
    Ok(Table { rows })
}
