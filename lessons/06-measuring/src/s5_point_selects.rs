//! Step 5, W2: selects by primary key, one after another, on one connection: the cost
//! per round trip of each layer. The same query in each stack's own words.

use std::time::{Duration, Instant};

use anyhow::Result;
use diesel::prelude::*;
use diesel_async::{AsyncMysqlConnection, RunQueryDsl};
use sea_query::{Expr, ExprTrait, Iden, MysqlQueryBuilder, Query};
use sea_query_sqlx::SqlxBinder;
use sqlx::AssertSqlSafe;
use sqlx::mysql::MySqlConnection;

use crate::report::{Reference, ResultRow, Table};
use crate::s2_data::schema;
use crate::{BenchCustomer, Check, Conn, Pool, Stack, measure, open_pool};

// ANCHOR: select_query_as
/// sqlx: the SQL is a string checked at run time; the row maps onto `BenchCustomer` by
/// column name (`#[derive(sqlx::FromRow)]`).
pub async fn select_one_query_as(
    conn: &mut MySqlConnection,
    id: i32,
) -> sqlx::Result<BenchCustomer> {
    sqlx::query_as("SELECT id, name, job FROM bench_customers WHERE id = ?")
        .bind(id)
        .fetch_one(conn)
        .await
}
// ANCHOR_END: select_query_as

// ANCHOR: select_macro
/// sqlx's macro: the same SQL, checked at compile time against the `.sqlx/` cache, which
/// also gives the column types (`job` is nullable, so it must be an `Option`).
pub async fn select_one_macro(
    conn: &mut MySqlConnection,
    id: i32,
) -> sqlx::Result<BenchCustomer> {
    sqlx::query_as!(
        BenchCustomer,
        "SELECT id, name, job FROM bench_customers WHERE id = ?",
        id
    )
    .fetch_one(conn)
    .await
}
// ANCHOR_END: select_macro

// ANCHOR: iden
/// sea-query's names for the table and its columns.
#[derive(Iden)]
pub enum BenchCustomers {
    /// `bench_customers`.
    Table,
    /// `id`.
    Id,
    /// `name`.
    Name,
    /// `job`.
    Job,
}
// ANCHOR_END: iden

// ANCHOR: select_sea_query
/// sea-query: the statement is built, and rendered to SQL text, on every call.
pub async fn select_one_sea_query(
    conn: &mut MySqlConnection,
    id: i32,
) -> sqlx::Result<BenchCustomer> {
    use BenchCustomers::{Id, Job, Name, Table};
    let (sql, values) = Query::select()
        .columns([Id, Name, Job])
        .from(Table)
        .and_where(Expr::col(Id).eq(id))
        .build_sqlx(MysqlQueryBuilder);
    sqlx::query_as_with(AssertSqlSafe(sql), values)
        .fetch_one(conn)
        .await
}
// ANCHOR_END: select_sea_query

// ANCHOR: select_diesel
/// diesel-async: the query is a type; its SQL is rendered once and its prepared statement
/// cached per connection.
pub async fn select_one_diesel(
    conn: &mut AsyncMysqlConnection,
    id: i32,
) -> QueryResult<BenchCustomer> {
    use schema::bench_customers::dsl::bench_customers;
    bench_customers
        .find(id)
        .select(BenchCustomer::as_select())
        .get_result(conn)
        .await
}
// ANCHOR_END: select_diesel

// ANCHOR: point_selects
/// W2 on one stack: one select by primary key per id, one after another, on one
/// connection taken before the clock starts.
pub async fn point_selects(
    stack: Stack,
    pool: &Pool,
    ids: &[i32],
) -> Result<(Duration, Vec<BenchCustomer>)> {
    let mut conn = pool.get().await?;
    let mut found = Vec::with_capacity(ids.len());
    let start = Instant::now();
    for &id in ids {
        found.push(conn.select_one(stack, id).await?);
    }
    Ok((start.elapsed(), found))
}
// ANCHOR_END: point_selects

impl Conn {
    /// W2 and W3: one customer by primary key on this stack.
    pub async fn select_one(&mut self, stack: Stack, id: i32) -> Result<BenchCustomer> {
        Ok(match (stack, self) {
            (Stack::SqlxQueryAs, Conn::Sqlx(c)) => select_one_query_as(c, id).await?,
            (Stack::SqlxMacro, Conn::Sqlx(c)) => select_one_macro(c, id).await?,
            (Stack::SeaQuery, Conn::Sqlx(c)) => select_one_sea_query(c, id).await?,
            (Stack::DieselAsync, Conn::Diesel(c)) => select_one_diesel(c, id).await?,
            _ => return Err(crate::mismatch(stack)),
        })
    }
}

/// Step 5's report: W2 on every stack. Every stack must return the same rows.
pub async fn run(ctx: &crate::Ctx) -> Result<Table> {
    if !ctx.wants("w2") {
        return Ok(Table::default());
    }
    let (mut rows, mut reference) = (Vec::new(), Reference::default());
    for &stack in &ctx.stacks {
        let pool = open_pool(stack, &ctx.url, 1, Check::BeforeEachUse).await?;
        let label = format!("W2 {stack}");
        let (t, found) = measure(&label, ctx.counts.repeats, || {
            point_selects(stack, &pool, &ctx.ids)
        })
        .await?;
        pool.close().await;
        reference.check(&label, found, ctx.ids.len())?;
        let ops = ctx.ids.len();
        rows.push(ResultRow::new(stack.name(), "W2", "1 connection", ops, &t));
    }
    rows.extend(ctx.sqlalchemy("W2"));
    Ok(Table { rows })
}
