//! The four stacks, side by side: the same five workloads written with sqlx's `query_as`,
//! sqlx's compile-time checked `query_as!`, sea-query through sea-query-sqlx, and
//! diesel-async.
//!
//! Each stack gets its own pool type (sqlx's `MySqlPool` for the first three, deadpool
//! for diesel-async), filled before any timing starts.

use std::fmt;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use diesel::prelude::*;
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::pooled_connection::deadpool::{Object, Pool as DieselPool};
use diesel_async::{AsyncConnection, AsyncMysqlConnection, RunQueryDsl};
use futures::future::try_join_all;
use sea_query::{Expr, ExprTrait, Func, Iden, MysqlQueryBuilder, Order, Query};
use sea_query_sqlx::SqlxBinder;
use sqlx::mysql::{MySqlConnection, MySqlPool, MySqlPoolOptions};
use sqlx::pool::PoolConnection;
use sqlx::{AssertSqlSafe, Connection, MySql};

use crate::{BenchCustomer, NewCustomer};

/// The diesel schema of the shared `bench_customers` table (its `id` is an `INT`).
pub mod schema {
    diesel::table! {
        /// `bench_customers`: like the article's `customers`, with `id` widened to `INT`.
        bench_customers (id) {
            /// The primary key, an `INT AUTO_INCREMENT`.
            id -> Integer,
            /// The unique name.
            name -> Varchar,
            /// The job, nullable with a default of `''`.
            job -> Nullable<Varchar>,
        }
    }
}

/// One of the four ways this workbook talks to MySQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Stack {
    /// `sqlx::query_as` with a `#[derive(FromRow)]` struct: SQL checked at run time.
    #[value(name = "sqlx-query-as")]
    SqlxQueryAs,
    /// `sqlx::query_as!`: SQL checked at compile time against the `.sqlx/` cache.
    #[value(name = "sqlx-macro")]
    SqlxMacro,
    /// sea-query builds the SQL; sea-query-sqlx binds the values; sqlx runs it.
    SeaQuery,
    /// diesel's query DSL, run by diesel-async on `mysql_async`.
    DieselAsync,
}

impl Stack {
    /// Every stack, in the order the tables show them.
    pub const ALL: [Stack; 4] = [
        Stack::SqlxQueryAs,
        Stack::SqlxMacro,
        Stack::SeaQuery,
        Stack::DieselAsync,
    ];

    /// The name the tables, the JSON and the charts use.
    pub fn name(self) -> &'static str {
        match self {
            Stack::SqlxQueryAs => "sqlx query_as",
            Stack::SqlxMacro => "sqlx query_as!",
            Stack::SeaQuery => "sea-query",
            Stack::DieselAsync => "diesel-async",
        }
    }

    /// The ways this stack inserts many rows (workload W4).
    pub fn insert_variants(self) -> &'static [InsertVariant] {
        match self {
            Stack::SqlxQueryAs => &[
                InsertVariant::RowByRow,
                InsertVariant::MultiRow,
                InsertVariant::BatchApi,
            ],
            _ => &[InsertVariant::RowByRow, InsertVariant::BatchApi],
        }
    }
}

impl fmt::Display for Stack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How workload W4 inserts its rows, all inside one transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertVariant {
    /// One `INSERT` statement, one round trip, per row.
    RowByRow,
    /// A hand-written multi-row `INSERT ... VALUES (?, ?), (?, ?), ...` per chunk.
    MultiRow,
    /// The stack's own way to insert many rows at once, per chunk.
    BatchApi,
}

impl InsertVariant {
    /// The name the tables and the JSON use.
    pub fn name(self) -> &'static str {
        match self {
            InsertVariant::RowByRow => "row by row",
            InsertVariant::MultiRow => "multi-row SQL",
            InsertVariant::BatchApi => "batch API",
        }
    }
}

/// A pool of connections for one stack, with every connection opened before it is
/// returned. Cloning it is cheap: the clones share the connections.
#[derive(Clone)]
pub enum Pool {
    /// sqlx's pool, shared by the three sqlx-based stacks.
    Sqlx(MySqlPool),
    /// deadpool with diesel-async's connection manager.
    Diesel(DieselPool<AsyncMysqlConnection>),
}

/// One connection taken from a [`Pool`].
pub enum Conn {
    /// A sqlx connection.
    Sqlx(PoolConnection<MySql>),
    /// A diesel-async connection.
    Diesel(Object<AsyncMysqlConnection>),
}

// ANCHOR: open_pool
/// Opens a pool of exactly `size` connections for `stack`, and opens all of them now, so
/// that no timed run ever pays for a connection's set-up.
pub async fn open_pool(stack: Stack, url: &str, size: u32) -> Result<Pool> {
    let pool = match stack {
        Stack::SqlxQueryAs | Stack::SqlxMacro | Stack::SeaQuery => Pool::Sqlx(
            MySqlPoolOptions::new()
                .max_connections(size)
                .min_connections(size)
                .acquire_timeout(Duration::from_secs(30))
                .connect(url)
                .await
                .map_err(|e| workbook::explain_connect_error(url, &e))?,
        ),
        Stack::DieselAsync => {
            let manager = AsyncDieselConnectionManager::<AsyncMysqlConnection>::new(url);
            Pool::Diesel(
                DieselPool::builder(manager)
                    .max_size(size as usize)
                    .build()
                    .context("cannot build the deadpool pool")?,
            )
        }
    };
    // Hold `size` connections at once: each is opened now, then goes back to the pool
    // idle.
    let held = try_join_all((0..size).map(|_| pool.get())).await?;
    drop(held);
    Ok(pool)
}
// ANCHOR_END: open_pool

impl Pool {
    /// Takes a connection from the pool, waiting for one if all are busy.
    pub async fn get(&self) -> Result<Conn> {
        Ok(match self {
            Pool::Sqlx(pool) => {
                Conn::Sqlx(pool.acquire().await.context("no sqlx connection")?)
            }
            Pool::Diesel(pool) => Conn::Diesel(
                pool.get()
                    .await
                    .map_err(|e| anyhow::anyhow!("no diesel-async connection: {e}"))?,
            ),
        })
    }

    /// Closes every connection.
    pub async fn close(self) {
        match self {
            Pool::Sqlx(pool) => pool.close().await,
            Pool::Diesel(pool) => pool.close(),
        }
    }
}

fn mismatch(stack: Stack) -> anyhow::Error {
    anyhow::anyhow!("{stack} was given a connection of another stack")
}

impl Conn {
    /// W1: one `SELECT SLEEP(seconds)` on this stack.
    pub async fn sleep(&mut self, stack: Stack, seconds: f64) -> Result<()> {
        match (stack, self) {
            (Stack::SqlxQueryAs, Conn::Sqlx(c)) => sleep_query_as(c, seconds).await?,
            (Stack::SqlxMacro, Conn::Sqlx(c)) => sleep_macro(c, seconds).await?,
            (Stack::SeaQuery, Conn::Sqlx(c)) => sleep_sea_query(c, seconds).await?,
            (Stack::DieselAsync, Conn::Diesel(c)) => sleep_diesel(c, seconds).await?,
            _ => return Err(mismatch(stack)),
        }
        Ok(())
    }

    /// W2 and W3: one customer by primary key on this stack.
    pub async fn select_one(&mut self, stack: Stack, id: i32) -> Result<BenchCustomer> {
        Ok(match (stack, self) {
            (Stack::SqlxQueryAs, Conn::Sqlx(c)) => select_one_query_as(c, id).await?,
            (Stack::SqlxMacro, Conn::Sqlx(c)) => select_one_macro(c, id).await?,
            (Stack::SeaQuery, Conn::Sqlx(c)) => select_one_sea_query(c, id).await?,
            (Stack::DieselAsync, Conn::Diesel(c)) => select_one_diesel(c, id).await?,
            _ => return Err(mismatch(stack)),
        })
    }

    /// W4: inserts `rows` in one transaction, in chunks of `chunk` rows where the variant
    /// batches, and returns how many rows went in.
    pub async fn insert_all(
        &mut self,
        stack: Stack,
        variant: InsertVariant,
        rows: &[NewCustomer],
        chunk: usize,
    ) -> Result<u64> {
        let chunk = chunk.max(1);
        Ok(match (stack, variant, self) {
            (Stack::SqlxQueryAs, InsertVariant::RowByRow, Conn::Sqlx(c)) => {
                insert_row_by_row_query_as(c, rows).await?
            }
            (Stack::SqlxQueryAs, InsertVariant::MultiRow, Conn::Sqlx(c)) => {
                insert_multi_row_sql(c, rows, chunk).await?
            }
            (Stack::SqlxQueryAs, InsertVariant::BatchApi, Conn::Sqlx(c)) => {
                insert_query_builder(c, rows, chunk).await?
            }
            (Stack::SqlxMacro, InsertVariant::RowByRow, Conn::Sqlx(c)) => {
                insert_row_by_row_macro(c, rows).await?
            }
            (Stack::SqlxMacro, InsertVariant::BatchApi, Conn::Sqlx(c)) => {
                insert_json_table_macro(c, rows, chunk).await?
            }
            (Stack::SeaQuery, InsertVariant::RowByRow, Conn::Sqlx(c)) => {
                insert_sea_query(c, rows, 1).await?
            }
            (Stack::SeaQuery, InsertVariant::BatchApi, Conn::Sqlx(c)) => {
                insert_sea_query(c, rows, chunk).await?
            }
            (Stack::DieselAsync, InsertVariant::RowByRow, Conn::Diesel(c)) => {
                insert_diesel(c, rows, 1).await?
            }
            (Stack::DieselAsync, InsertVariant::BatchApi, Conn::Diesel(c)) => {
                insert_diesel(c, rows, chunk).await?
            }
            (stack, variant, _) => bail!("{stack} has no `{}` variant", variant.name()),
        })
    }

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
            _ => return Err(mismatch(stack)),
        })
    }
}

// --- W1: SELECT SLEEP(?)
// ---------------------------------------------------------------------

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

#[derive(Iden)]
enum BenchCustomers {
    Table,
    Id,
    Name,
    Job,
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

// --- W2 and W3: one row by primary key
// -------------------------------------------------------

// ANCHOR: select_one
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

/// sea-query: the statement is built, and rendered to SQL text, on every call.
pub async fn select_one_sea_query(
    conn: &mut MySqlConnection,
    id: i32,
) -> sqlx::Result<BenchCustomer> {
    let (sql, values) = Query::select()
        .columns([
            BenchCustomers::Id,
            BenchCustomers::Name,
            BenchCustomers::Job,
        ])
        .from(BenchCustomers::Table)
        .and_where(Expr::col(BenchCustomers::Id).eq(id))
        .build_sqlx(MysqlQueryBuilder);
    sqlx::query_as_with(AssertSqlSafe(sql), values)
        .fetch_one(conn)
        .await
}

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
// ANCHOR_END: select_one

// --- W4: many rows in one transaction
// --------------------------------------------------------

async fn insert_row_by_row_query_as(
    conn: &mut MySqlConnection,
    rows: &[NewCustomer],
) -> sqlx::Result<u64> {
    let mut tx = conn.begin().await?;
    let mut inserted = 0;
    for row in rows {
        inserted += sqlx::query("INSERT INTO bench_customers (name, job) VALUES (?, ?)")
            .bind(&row.name)
            .bind(&row.job)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    tx.commit().await?;
    Ok(inserted)
}

// ANCHOR: insert_batched
/// A multi-row `INSERT` written by hand: the SQL text holds one `(?, ?)` per row, so it
/// is built at run time, and `AssertSqlSafe` says that only placeholders went into it.
async fn insert_multi_row_sql(
    conn: &mut MySqlConnection,
    rows: &[NewCustomer],
    chunk: usize,
) -> sqlx::Result<u64> {
    let mut tx = conn.begin().await?;
    let mut inserted = 0;
    for part in rows.chunks(chunk) {
        let placeholders = vec!["(?, ?)"; part.len()].join(", ");
        let sql =
            format!("INSERT INTO bench_customers (name, job) VALUES {placeholders}");
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for row in part {
            query = query.bind(&row.name).bind(&row.job);
        }
        inserted += query.execute(&mut *tx).await?.rows_affected();
    }
    tx.commit().await?;
    Ok(inserted)
}

/// sqlx's own batch API: `QueryBuilder::push_values` writes the same multi-row `INSERT`.
async fn insert_query_builder(
    conn: &mut MySqlConnection,
    rows: &[NewCustomer],
    chunk: usize,
) -> sqlx::Result<u64> {
    let mut tx = conn.begin().await?;
    let mut inserted = 0;
    for part in rows.chunks(chunk) {
        let mut builder =
            sqlx::QueryBuilder::<MySql>::new("INSERT INTO bench_customers (name, job) ");
        builder.push_values(part, |mut values, row| {
            values.push_bind(&row.name).push_bind(&row.job);
        });
        inserted += builder.build().execute(&mut *tx).await?.rows_affected();
    }
    tx.commit().await?;
    Ok(inserted)
}

/// `query!` needs SQL fixed at compile time, so a variable number of rows travels as one
/// JSON array that the server unpacks with `JSON_TABLE`: one statement, one round trip
/// per chunk.
async fn insert_json_table_macro(
    conn: &mut MySqlConnection,
    rows: &[NewCustomer],
    chunk: usize,
) -> Result<u64> {
    let mut tx = conn.begin().await?;
    let mut inserted = 0;
    for part in rows.chunks(chunk) {
        let json = serde_json::to_string(part)?;
        // NOTE: JSON_TABLE needs MySQL 8.0.4+ or MariaDB 10.6+. Both turn a JSON `null`
        // into SQL NULL here (checked on MariaDB 10.11).
        inserted += sqlx::query!(
            "INSERT INTO bench_customers (name, job) \
             SELECT t.name, t.job FROM JSON_TABLE(?, '$[*]' COLUMNS ( \
               name VARCHAR(50) PATH '$.name', \
               job VARCHAR(50) PATH '$.job')) AS t",
            json
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    tx.commit().await?;
    Ok(inserted)
}

/// sea-query: one `InsertStatement` with a row of values per customer, per chunk
/// (`chunk = 1` is the row-by-row variant).
async fn insert_sea_query(
    conn: &mut MySqlConnection,
    rows: &[NewCustomer],
    chunk: usize,
) -> Result<u64> {
    let mut tx = conn.begin().await?;
    let mut inserted = 0;
    for part in rows.chunks(chunk) {
        let mut insert = Query::insert();
        insert
            .into_table(BenchCustomers::Table)
            .columns([BenchCustomers::Name, BenchCustomers::Job]);
        for row in part {
            insert.values([row.name.clone().into(), row.job.clone().into()])?;
        }
        let (sql, values) = insert.build_sqlx(MysqlQueryBuilder);
        inserted += sqlx::query_with(AssertSqlSafe(sql), values)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    tx.commit().await?;
    Ok(inserted)
}

/// diesel: `insert_into(..).values(vec)` is its batch insert, one multi-row `INSERT` per
/// chunk (`chunk = 1` is the row-by-row variant). The values are `column.eq(value)`
/// tuples: a `#[derive(Insertable)]` struct would insert a `None` as `DEFAULT` (here
/// `''`), not NULL.
async fn insert_diesel(
    conn: &mut AsyncMysqlConnection,
    rows: &[NewCustomer],
    chunk: usize,
) -> QueryResult<u64> {
    use schema::bench_customers::dsl::{bench_customers, job, name};
    conn.transaction(async |conn| {
        let mut inserted = 0;
        for part in rows.chunks(chunk) {
            let values: Vec<_> = part
                .iter()
                .map(|row| (name.eq(&row.name), job.eq(&row.job)))
                .collect();
            inserted += diesel::insert_into(bench_customers)
                .values(values)
                .execute(conn)
                .await? as u64;
        }
        Ok(inserted)
    })
    .await
}
// ANCHOR_END: insert_batched

async fn insert_row_by_row_macro(
    conn: &mut MySqlConnection,
    rows: &[NewCustomer],
) -> sqlx::Result<u64> {
    let mut tx = conn.begin().await?;
    let mut inserted = 0;
    for row in rows {
        inserted += sqlx::query!(
            "INSERT INTO bench_customers (name, job) VALUES (?, ?)",
            row.name,
            row.job
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    tx.commit().await?;
    Ok(inserted)
}

// --- W5: many rows into structs
// --------------------------------------------------------------

// ANCHOR: read_range
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

async fn read_range_sea_query(
    conn: &mut MySqlConnection,
    first: i32,
    last: i32,
) -> sqlx::Result<Vec<BenchCustomer>> {
    let (sql, values) = Query::select()
        .columns([
            BenchCustomers::Id,
            BenchCustomers::Name,
            BenchCustomers::Job,
        ])
        .from(BenchCustomers::Table)
        .and_where(Expr::col(BenchCustomers::Id).between(first, last))
        .order_by(BenchCustomers::Id, Order::Asc)
        .build_sqlx(MysqlQueryBuilder);
    sqlx::query_as_with(AssertSqlSafe(sql), values)
        .fetch_all(conn)
        .await
}

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
// ANCHOR_END: read_range
