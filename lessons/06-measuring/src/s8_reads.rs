//! Step 8, W5: every seeded row read into structs with one query: row decoding.

use std::time::{Duration, Instant};

use anyhow::Result;
use diesel::prelude::*;
use diesel_async::{AsyncMysqlConnection, RunQueryDsl};
use sea_query::{Expr, ExprTrait, MysqlQueryBuilder, Order, Query};
use sea_query_sqlx::SqlxBinder;
use sqlx::AssertSqlSafe;
use sqlx::mysql::MySqlConnection;

use crate::report::{Reference, ResultRow, Table};
use crate::s2_data::schema;
use crate::s5_point_selects::BenchCustomers;
use crate::{BenchCustomer, Conn, Pool, Seeded, Stack, measure, open_pool};

// ANCHOR: read_all
/// W5 on one stack: every seeded row, read into structs on one connection.
pub async fn read_all(
    stack: Stack,
    pool: &Pool,
    seeded: &Seeded,
) -> Result<(Duration, Vec<BenchCustomer>)> {
    let mut conn = pool.get().await?;
    let start = Instant::now();
    let found = conn.read_range(stack, seeded.first, seeded.last).await?;
    Ok((start.elapsed(), found))
}
// ANCHOR_END: read_all

// ANCHOR: read_range_sqlx
/// sqlx: the rows between two ids, decoded by `#[derive(sqlx::FromRow)]`.
async fn read_range_query_as(
    conn: &mut MySqlConnection,
    first: i32,
    last: i32,
) -> sqlx::Result<Vec<BenchCustomer>> {
    sqlx::query_as(
        "SELECT id, name, job FROM bench_customers WHERE id BETWEEN ? AND ? ORDER BY id",
    )
    .bind(first)
    .bind(last)
    .fetch_all(conn)
    .await
}

/// sqlx's macro: the same, decoded by code the macro wrote at compile time.
async fn read_range_macro(
    conn: &mut MySqlConnection,
    first: i32,
    last: i32,
) -> sqlx::Result<Vec<BenchCustomer>> {
    sqlx::query_as!(
        BenchCustomer,
        "SELECT id, name, job FROM bench_customers WHERE id BETWEEN ? AND ? ORDER BY id",
        first,
        last
    )
    .fetch_all(conn)
    .await
}
// ANCHOR_END: read_range_sqlx

// ANCHOR: read_range_sea_query
/// sea-query: built, then run by sqlx like the first two.
async fn read_range_sea_query(
    conn: &mut MySqlConnection,
    first: i32,
    last: i32,
) -> sqlx::Result<Vec<BenchCustomer>> {
    use BenchCustomers::{Id, Job, Name, Table};
    let (sql, values) = Query::select()
        .columns([Id, Name, Job])
        .from(Table)
        .and_where(Expr::col(Id).between(first, last))
        .order_by(Id, Order::Asc)
        .build_sqlx(MysqlQueryBuilder);
    sqlx::query_as_with(AssertSqlSafe(sql), values)
        .fetch_all(conn)
        .await
}
// ANCHOR_END: read_range_sea_query

// ANCHOR: read_range_diesel
/// diesel-async: `load` decodes each row through `Selectable`.
async fn read_range_diesel(
    conn: &mut AsyncMysqlConnection,
    first: i32,
    last: i32,
) -> QueryResult<Vec<BenchCustomer>> {
    use schema::bench_customers::dsl::{bench_customers, id};
    bench_customers
        .filter(id.between(first, last))
        .order(id)
        .select(BenchCustomer::as_select())
        .load(conn)
        .await
}
// ANCHOR_END: read_range_diesel

impl Conn {
    /// W5: every customer with an id in `first..=last`, in id order, on this stack.
    pub async fn read_range(
        &mut self,
        stack: Stack,
        first: i32,
        last: i32,
    ) -> Result<Vec<BenchCustomer>> {
        Ok(match (stack, self) {
            (Stack::SqlxQueryAs, Conn::Sqlx(c)) => {
                read_range_query_as(c, first, last).await?
            }
            (Stack::SqlxMacro, Conn::Sqlx(c)) => read_range_macro(c, first, last).await?,
            (Stack::SeaQuery, Conn::Sqlx(c)) => {
                read_range_sea_query(c, first, last).await?
            }
            (Stack::DieselAsync, Conn::Diesel(c)) => {
                read_range_diesel(c, first, last).await?
            }
            _ => return Err(crate::mismatch(stack)),
        })
    }
}

/// Step 8's report: W5 on every stack. Every stack must read the same rows.
pub async fn run(ctx: &crate::Ctx) -> Result<Table> {
    if !ctx.wants("w5") {
        return Ok(Table::default());
    }
    let (mut rows, mut reference) = (Vec::new(), Reference::default());
    let n = ctx.seeded.rows();
    for &stack in &ctx.stacks {
        let pool = open_pool(stack, &ctx.url, 1).await?;
        let label = format!("W5 {stack}");
        let (t, found) = measure(&label, ctx.counts.repeats, || {
            read_all(stack, &pool, &ctx.seeded)
        })
        .await?;
        pool.close().await;
        reference.check(&label, found, n)?;
        rows.push(ResultRow::new(stack.name(), "W5", "fetch all", n, &t));
    }
    Ok(Table { rows })
}
