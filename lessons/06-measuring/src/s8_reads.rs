//! Step 8, W5: every seeded row read into structs with one query: row decoding.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use diesel::prelude::*;
use diesel_async::{AsyncMysqlConnection, RunQueryDsl};
use futures::TryStreamExt;
use mysql_async::prelude::Queryable;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use sea_query::{Expr, ExprTrait, MysqlQueryBuilder, Order, Query};
use sea_query_sqlx::SqlxBinder;
use sqlx::mysql::MySqlConnection;
use sqlx::{AssertSqlSafe, FromRow};

use crate::report::{Reference, ResultRow, Table};
use crate::s2_data::schema;
use crate::s5_point_selects::{BenchCustomers, bench_customer, one_connection};
use crate::{BenchCustomer, Conn, DRIVER_STACK, Pool, Seeded, Stack, measure, open_pool};

// ANCHOR: read_all
/// W5 on one stack: every seeded row, read into structs on one connection.
pub async fn read_all(
    stack: Stack,
    pool: &Pool,
    seeded: &Seeded,
    decoding: Decoding,
) -> Result<(Duration, Vec<BenchCustomer>)> {
    let mut conn = pool.get().await?;
    let (first, last) = (seeded.first, seeded.last);
    let start = Instant::now();
    let found = match (decoding, &mut conn) {
        (Decoding::ByPosition, Conn::Sqlx(c)) => {
            read_range_tuples(c, first, last).await?
        }
        (Decoding::Text, Conn::Sqlx(c)) => read_range_text(c, first, last).await?,
        (Decoding::Streamed, Conn::Sqlx(c)) => {
            read_range_streamed(c, first, last).await?
        }
        (Decoding::ByPosition, Conn::SeaOrm(db)) => {
            read_range_seaorm_tuples(db, first, last).await?
        }
        _ => conn.read_range(stack, first, last).await?,
    };
    Ok((start.elapsed(), found))
}
// ANCHOR_END: read_all

// ANCHOR: decoding
/// How W5's rows travel and are decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoding {
    /// Each stack's own way: a prepared statement, whose values arrive in binary, decoded
    /// into the struct (by column name for `#[derive(FromRow)]`, by position for
    /// `query_as!` and diesel).
    Stack,
    /// The prepared statement decoded into tuples, by position (sqlx's `query_as` into a
    /// tuple, SeaORM's `into_tuple`).
    ByPosition,
    /// `raw_sql`: values arrive as text, decoded by `FromRow` (sqlx only).
    Text,
    /// `fetch`: the prepared statement's rows as a stream, each pushed as it arrives into
    /// a `Vec` made big enough up front (sqlx only).
    Streamed,
}
// ANCHOR_END: decoding

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

// ANCHOR: read_range_tuples
/// sqlx decoding each row as a tuple, every column taken by its position: none of the
/// lookups by name that `#[derive(FromRow)]` makes for every value of every row.
async fn read_range_tuples(
    conn: &mut MySqlConnection,
    first: i32,
    last: i32,
) -> sqlx::Result<Vec<BenchCustomer>> {
    let rows: Vec<(i32, String, Option<String>)> = sqlx::query_as(
        "SELECT id, name, job FROM bench_customers WHERE id BETWEEN ? AND ? ORDER BY id",
    )
    .bind(first)
    .bind(last)
    .fetch_all(conn)
    .await?;
    let customer = |(id, name, job)| BenchCustomer { id, name, job };
    Ok(rows.into_iter().map(customer).collect())
}
// ANCHOR_END: read_range_tuples

// ANCHOR: read_range_text
/// sqlx over the text protocol: `raw_sql` sends the SQL as it is, with no statement to
/// prepare, and every value comes back as text that `FromRow` parses. The two ids are
/// integers, so writing them into the SQL cannot inject anything.
async fn read_range_text(
    conn: &mut MySqlConnection,
    first: i32,
    last: i32,
) -> sqlx::Result<Vec<BenchCustomer>> {
    let sql = format!(
        "SELECT id, name, job FROM bench_customers WHERE id BETWEEN {first} AND {last} \
         ORDER BY id"
    );
    let rows = sqlx::raw_sql(AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(BenchCustomer::from_row).collect()
}
// ANCHOR_END: read_range_text

// ANCHOR: read_range_streamed
/// sqlx's `fetch`: a stream of rows, each decoded and pushed as it arrives, into a `Vec`
/// with room for every row from the start. `fetch_all` grows its `Vec` as it goes.
async fn read_range_streamed(
    conn: &mut MySqlConnection,
    first: i32,
    last: i32,
) -> sqlx::Result<Vec<BenchCustomer>> {
    let mut rows = sqlx::query_as(
        "SELECT id, name, job FROM bench_customers WHERE id BETWEEN ? AND ? ORDER BY id",
    )
    .bind(first)
    .bind(last)
    .fetch(conn);
    let mut found = Vec::with_capacity(usize::try_from(last - first + 1).unwrap_or(0));
    while let Some(customer) = rows.try_next().await? {
        found.push(customer);
    }
    Ok(found)
}
// ANCHOR_END: read_range_streamed

// ANCHOR: read_range_mysql_async
/// mysql_async, the driver under diesel-async, on its own: `exec_map` prepares the
/// statement (once: the connection caches it) and decodes each binary row by position.
async fn read_range_exec_map(
    conn: &mut mysql_async::Conn,
    first: i32,
    last: i32,
) -> mysql_async::Result<Vec<BenchCustomer>> {
    conn.exec_map(
        "SELECT id, name, job FROM bench_customers WHERE id BETWEEN ? AND ? ORDER BY id",
        (first, last),
        |(id, name, job)| BenchCustomer { id, name, job },
    )
    .await
}

/// The text protocol: `query_map` sends the SQL as it is, and the values come back as
/// text. The two ids are integers, so writing them into the SQL cannot inject anything.
async fn read_range_query_map(
    conn: &mut mysql_async::Conn,
    first: i32,
    last: i32,
) -> mysql_async::Result<Vec<BenchCustomer>> {
    let sql = format!(
        "SELECT id, name, job FROM bench_customers WHERE id BETWEEN {first} AND {last} \
         ORDER BY id"
    );
    conn.query_map(sql, |(id, name, job)| BenchCustomer { id, name, job })
        .await
}
// ANCHOR_END: read_range_mysql_async

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

// ANCHOR: read_range_seaorm
/// SeaORM: the entity's `find`, filtered and ordered through its `Column`s; `all` decodes
/// each row into a `Model`.
async fn read_range_seaorm(
    db: &DatabaseConnection,
    first: i32,
    last: i32,
) -> Result<Vec<BenchCustomer>, DbErr> {
    use bench_customer::{Column, Entity};
    let rows = Entity::find()
        .filter(Column::Id.between(first, last))
        .order_by_asc(Column::Id)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(BenchCustomer::from).collect())
}
// ANCHOR_END: read_range_seaorm

// ANCHOR: read_range_seaorm_tuples
/// SeaORM with `into_tuple`: the same `find`, its columns listed, each row decoded by
/// position into a tuple instead of by name into a `Model`.
async fn read_range_seaorm_tuples(
    db: &DatabaseConnection,
    first: i32,
    last: i32,
) -> Result<Vec<BenchCustomer>, DbErr> {
    use bench_customer::{Column, Entity};
    let rows: Vec<(i32, String, Option<String>)> = Entity::find()
        .select_only()
        .columns([Column::Id, Column::Name, Column::Job])
        .filter(Column::Id.between(first, last))
        .order_by_asc(Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let customer = |(id, name, job)| BenchCustomer { id, name, job };
    Ok(rows.into_iter().map(customer).collect())
}
// ANCHOR_END: read_range_seaorm_tuples

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
            (Stack::SeaOrm, Conn::SeaOrm(db)) => {
                read_range_seaorm(db, first, last).await?
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
        let pool = open_pool(stack, &ctx.url, 1, one_connection(stack)).await?;
        let decodings = match stack {
            Stack::SqlxQueryAs => &[
                Decoding::Stack,
                Decoding::Streamed,
                Decoding::ByPosition,
                Decoding::Text,
            ][..],
            Stack::SeaOrm => &[Decoding::Stack, Decoding::ByPosition],
            _ => &[Decoding::Stack],
        };
        for &decoding in decodings {
            let variant = match decoding {
                Decoding::Stack => "fetch all",
                Decoding::ByPosition => "fetch all, tuples by position",
                Decoding::Text => "fetch all, text protocol",
                Decoding::Streamed => "fetch, into a sized Vec",
            };
            if !ctx.wants_variant(variant) {
                continue;
            }
            let label = format!("W5 {stack}, {variant}");
            let (t, found) = measure(&label, ctx.counts.repeats, || {
                read_all(stack, &pool, &ctx.seeded, decoding)
            })
            .await?;
            reference.check(&label, found, n)?;
            rows.push(ResultRow::new(stack.name(), "W5", variant, n, &t));
        }
        pool.close().await;
    }
    if ctx.stacks.contains(&Stack::DieselAsync) {
        rows.extend(driver_rows(ctx, &mut reference).await?);
    }
    rows.extend(ctx.sqlalchemy("W5"));
    Ok(Table { rows })
}

/// W5 on mysql_async alone, on a connection of its own: binary rows (`exec_map`), then
/// text rows (`query_map`).
async fn driver_rows(
    ctx: &crate::Ctx,
    reference: &mut Reference,
) -> Result<Vec<ResultRow>> {
    let conn = mysql_async::Conn::from_url(ctx.url.as_str())
        .await
        .context("cannot connect with mysql_async")?;
    let conn = tokio::sync::Mutex::new(conn);
    let (first, last, n) = (ctx.seeded.first, ctx.seeded.last, ctx.seeded.rows());
    let mut rows = Vec::new();
    for (variant, text) in [
        ("exec_map, binary protocol", false),
        ("query_map, text protocol", true),
    ] {
        if !ctx.wants_variant(variant) {
            continue;
        }
        let label = format!("W5 {DRIVER_STACK}, {variant}");
        let (t, found) = measure(&label, ctx.counts.repeats, || async {
            let mut conn = conn.lock().await;
            let start = Instant::now();
            let found = match text {
                false => read_range_exec_map(&mut conn, first, last).await?,
                true => read_range_query_map(&mut conn, first, last).await?,
            };
            Ok((start.elapsed(), found))
        })
        .await?;
        reference.check(&label, found, n)?;
        rows.push(ResultRow::new(DRIVER_STACK, "W5", variant, n, &t));
    }
    conn.into_inner().disconnect().await?;
    Ok(rows)
}
