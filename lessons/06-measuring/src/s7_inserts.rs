//! Step 7, W4: many rows inserted in one transaction, row by row and in chunks, through
//! a hand-written multi-row `INSERT` and each stack's own batch API.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncMysqlConnection, RunQueryDsl};
use futures::StreamExt;
use mysql_async::TxOpts;
use mysql_async::prelude::Queryable;
use sea_orm::{
    ActiveValue::Set, DatabaseConnection, DbErr, EntityTrait, TransactionTrait,
};
use sea_query::{InsertStatement, MysqlQueryBuilder, Query};
use sea_query_sqlx::SqlxBinder;
use sqlx::mysql::{MySqlConnection, MySqlPool};
use sqlx::{AssertSqlSafe, Connection, MySql};

use crate::report::{ResultRow, Table};
use crate::s2_data::{
    delete_inserted, history_length, rows_to_insert, schema, wait_for_purge,
};
use crate::s5_point_selects::{BenchCustomers, bench_customer, one_connection};
use crate::{Conn, InsertVariant, NewCustomer, Pool, Stack, measure, open_pool};

// ANCHOR: bulk_insert
/// W4 on one stack and variant: inserts `data` in one transaction (timed), then deletes
/// those rows again and waits for InnoDB's purge (untimed), so that every run starts
/// from the same table.
pub async fn bulk_insert(
    stack: Stack,
    variant: InsertVariant,
    pool: &Pool,
    cleanup: &MySqlPool,
    data: &[NewCustomer],
    chunk: usize,
    purge_wait: Duration,
) -> Result<(Duration, u64)> {
    let mut conn = pool.get().await?;
    let insert = conn.insert_all(stack, variant, data, chunk);
    timed_then_cleaned_up(insert, cleanup, purge_wait).await
}
// ANCHOR_END: bulk_insert

// ANCHOR: timed_then_cleaned_up
/// Times `insert`, then deletes what it inserted and waits for the purge, untimed.
pub async fn timed_then_cleaned_up(
    insert: impl Future<Output = Result<u64>>,
    cleanup: &MySqlPool,
    purge_wait: Duration,
) -> Result<(Duration, u64)> {
    let before = history_length(cleanup).await;
    let start = Instant::now();
    let inserted = insert.await?;
    let took = start.elapsed();
    let deleted = delete_inserted(cleanup).await?;
    if deleted != inserted {
        bail!("inserted {inserted} rows but found {deleted} to delete");
    }
    wait_for_purge(cleanup, before, purge_wait).await;
    Ok((took, inserted))
}
// ANCHOR_END: timed_then_cleaned_up

// ANCHOR: write
/// How a sqlx-based stack writes one chunk of rows.
#[derive(Clone, Copy, Debug)]
enum Write {
    /// One `INSERT` per row, with `query`.
    RowSql,
    /// One `INSERT` per row, with `query!`.
    RowMacro,
    /// A hand-written multi-row `INSERT`.
    MultiRowSql,
    /// `QueryBuilder::push_values`.
    QueryBuilder,
    /// `query!` over `JSON_TABLE`.
    JsonTable,
    /// sea-query's `InsertStatement`.
    SeaQuery,
    /// sea-query's `InsertStatement` with the values inlined, over the text protocol.
    SeaQueryInlined,
}
// ANCHOR_END: write

// ANCHOR: insert_sqlx
/// Inserts `rows` in one transaction, `chunk` rows at a time, each chunk written the way
/// `how` says; returns how many rows went in.
async fn insert_sqlx(
    conn: &mut MySqlConnection,
    rows: &[NewCustomer],
    chunk: usize,
    how: Write,
) -> Result<u64> {
    let mut tx = conn.begin().await?;
    let mut inserted = 0;
    for part in rows.chunks(chunk) {
        let conn = &mut *tx;
        inserted += match how {
            Write::RowSql => insert_rows_sql(conn, part).await?,
            Write::RowMacro => insert_rows_macro(conn, part).await?,
            Write::MultiRowSql => insert_multi_row_sql(conn, part).await?,
            Write::QueryBuilder => insert_query_builder(conn, part).await?,
            Write::JsonTable => insert_json_table(conn, part).await?,
            Write::SeaQuery => insert_sea_query(conn, part).await?,
            Write::SeaQueryInlined => insert_sea_query_inlined(conn, part).await?,
        };
    }
    tx.commit().await?;
    Ok(inserted)
}
// ANCHOR_END: insert_sqlx

/// One `INSERT` statement, one round trip, per row.
async fn insert_rows_sql(
    conn: &mut MySqlConnection,
    rows: &[NewCustomer],
) -> Result<u64> {
    let mut inserted = 0;
    for row in rows {
        inserted += sqlx::query("INSERT INTO bench_customers (name, job) VALUES (?, ?)")
            .bind(&row.name)
            .bind(&row.job)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    Ok(inserted)
}

/// The same with `query!`, checked at compile time.
async fn insert_rows_macro(
    conn: &mut MySqlConnection,
    rows: &[NewCustomer],
) -> Result<u64> {
    let mut inserted = 0;
    for row in rows {
        inserted += sqlx::query!(
            "INSERT INTO bench_customers (name, job) VALUES (?, ?)",
            row.name,
            row.job
        )
        .execute(&mut *conn)
        .await?
        .rows_affected();
    }
    Ok(inserted)
}

// ANCHOR: multi_row_sql
/// A multi-row `INSERT` written by hand: the SQL text holds one `(?, ?)` per row, so it
/// is built at run time, and `AssertSqlSafe` says that only placeholders went into it.
async fn insert_multi_row_sql(
    conn: &mut MySqlConnection,
    part: &[NewCustomer],
) -> Result<u64> {
    let placeholders = vec!["(?, ?)"; part.len()].join(", ");
    let sql = format!("INSERT INTO bench_customers (name, job) VALUES {placeholders}");
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for row in part {
        query = query.bind(&row.name).bind(&row.job);
    }
    Ok(query.execute(conn).await?.rows_affected())
}
// ANCHOR_END: multi_row_sql

// ANCHOR: query_builder
/// sqlx's own batch API: `QueryBuilder::push_values` writes the same multi-row `INSERT`.
async fn insert_query_builder(
    conn: &mut MySqlConnection,
    part: &[NewCustomer],
) -> Result<u64> {
    let mut builder =
        sqlx::QueryBuilder::<MySql>::new("INSERT INTO bench_customers (name, job) ");
    builder.push_values(part, |mut values, row| {
        values.push_bind(&row.name).push_bind(&row.job);
    });
    Ok(builder.build().execute(conn).await?.rows_affected())
}
// ANCHOR_END: query_builder

// ANCHOR: json_table
/// `query!` needs SQL fixed at compile time, so a variable number of rows travels as one
/// JSON array that the server unpacks with `JSON_TABLE`: one statement, one round trip.
async fn insert_json_table(
    conn: &mut MySqlConnection,
    part: &[NewCustomer],
) -> Result<u64> {
    let json = serde_json::to_string(part)?;
    // NOTE: JSON_TABLE needs MySQL 8.0.4+ or MariaDB 10.6+. Both turn a JSON `null` into
    // SQL NULL here.
    let done = sqlx::query!(
        "INSERT INTO bench_customers (name, job) \
         SELECT t.name, t.job FROM JSON_TABLE(?, '$[*]' COLUMNS ( \
           name VARCHAR(50) PATH '$.name', \
           job VARCHAR(50) PATH '$.job')) AS t",
        json
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
// ANCHOR_END: json_table

// ANCHOR: sea_query
/// sea-query: one `InsertStatement` with a row of values per customer (a chunk of one is
/// the row-by-row variant).
fn insert_statement(part: &[NewCustomer]) -> Result<InsertStatement> {
    let mut insert = Query::insert();
    insert
        .into_table(BenchCustomers::Table)
        .columns([BenchCustomers::Name, BenchCustomers::Job]);
    for row in part {
        insert.values([row.name.clone().into(), row.job.clone().into()])?;
    }
    Ok(insert)
}

/// Binds the values, and runs the statement through sqlx as a prepared statement.
async fn insert_sea_query(
    conn: &mut MySqlConnection,
    part: &[NewCustomer],
) -> Result<u64> {
    let (sql, values) = insert_statement(part)?.build_sqlx(MysqlQueryBuilder);
    let done = sqlx::query_with(AssertSqlSafe(sql), values)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
// ANCHOR_END: sea_query

// ANCHOR: sea_query_inlined
/// The same statement with every value escaped into the SQL text: `raw_sql` sends it
/// over the text protocol in one round trip, with no statement to prepare. Safe only
/// because sea-query escapes each value the way the server reads it (see the chapter).
async fn insert_sea_query_inlined(
    conn: &mut MySqlConnection,
    part: &[NewCustomer],
) -> Result<u64> {
    let sql = insert_statement(part)?.to_string(MysqlQueryBuilder);
    let done = sqlx::raw_sql(AssertSqlSafe(sql)).execute(conn).await?;
    Ok(done.rows_affected())
}
// ANCHOR_END: sea_query_inlined

// ANCHOR: diesel
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
            let query = diesel::insert_into(bench_customers).values(values);
            inserted += query.execute(conn).await? as u64;
        }
        Ok(inserted)
    })
    .await
}
// ANCHOR_END: diesel

// ANCHOR: diesel_arrays
/// diesel with each chunk an array of `N` rows: the row count is in the query's type, so
/// diesel caches the prepared `INSERT` (a `Vec`'s is prepared again for every chunk). A
/// cached query is `'static`: the values are owned. Rows left over go in as a `Vec`.
async fn insert_diesel_arrays<const N: usize>(
    conn: &mut AsyncMysqlConnection,
    rows: &[NewCustomer],
) -> QueryResult<u64> {
    use schema::bench_customers::dsl::{bench_customers, job, name};
    let (chunks, rest) = rows.as_chunks::<N>();
    conn.transaction(async |conn| {
        let mut inserted = 0;
        for part in chunks {
            let values = part
                .each_ref()
                .map(|row| (name.eq(row.name.clone()), job.eq(row.job.clone())));
            let query = diesel::insert_into(bench_customers).values(values);
            inserted += query.execute(conn).await? as u64;
        }
        if !rest.is_empty() {
            let values: Vec<_> = rest
                .iter()
                .map(|row| (name.eq(&row.name), job.eq(&row.job)))
                .collect();
            let query = diesel::insert_into(bench_customers).values(values);
            inserted += query.execute(conn).await? as u64;
        }
        Ok(inserted)
    })
    .await
}
// ANCHOR_END: diesel_arrays

// ANCHOR: load_data
/// mysql_async, the driver under diesel-async: `LOAD DATA LOCAL INFILE`, with the rows
/// sent from memory as tab-separated text. The handler serves this one statement, so the
/// server can read nothing else from the client, and the server must allow it
/// (`local_infile`). Its count comes from the server's reply.
pub async fn insert_load_data(
    conn: &mut mysql_async::Conn,
    rows: &[NewCustomer],
) -> mysql_async::Result<u64> {
    let data = bytes::Bytes::from(tab_separated(rows));
    let stream = futures::stream::iter([Ok(data)]);
    conn.set_infile_handler(async move { Ok(stream.boxed()) });
    let mut tx = conn.start_transaction(TxOpts::default()).await?;
    tx.query_drop(
        "LOAD DATA LOCAL INFILE 'w4-rows' INTO TABLE bench_customers \
         CHARACTER SET utf8mb4 (name, job)",
    )
    .await?;
    let inserted = tx.affected_rows();
    tx.commit().await?;
    Ok(inserted)
}
// ANCHOR_END: load_data

// ANCHOR: tab_separated
/// The rows as `LOAD DATA`'s default format reads them: a tab between fields, a newline
/// after each row, a backslash before a tab, newline or backslash in a value, and `\N`
/// for NULL.
fn tab_separated(rows: &[NewCustomer]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows.len() * 40);
    fn field(out: &mut Vec<u8>, value: &str) {
        for b in value.bytes() {
            match b {
                b'\\' | b'\t' | b'\n' => out.extend_from_slice(&[b'\\', b]),
                _ => out.push(b),
            }
        }
    }
    for row in rows {
        field(&mut out, &row.name);
        out.push(b'\t');
        match &row.job {
            Some(job) => field(&mut out, job),
            None => out.extend_from_slice(b"\\N"),
        }
        out.push(b'\n');
    }
    out
}
// ANCHOR_END: tab_separated

// ANCHOR: seaorm
/// SeaORM: `insert_many` writes one multi-row `INSERT` per chunk (`chunk = 1` is the
/// row-by-row variant) in a `DatabaseTransaction`. `exec_without_returning` counts the
/// rows; `exec` would also return the last id (from the server's reply), and
/// `ActiveModel::insert` would read each row back with a `SELECT`.
async fn insert_seaorm(
    db: &DatabaseConnection,
    rows: &[NewCustomer],
    chunk: usize,
) -> Result<u64, DbErr> {
    let txn = db.begin().await?;
    let mut inserted = 0;
    for part in rows.chunks(chunk) {
        let models = part.iter().map(|row| bench_customer::ActiveModel {
            name: Set(row.name.clone()),
            job: Set(row.job.clone()),
            ..Default::default()
        });
        let insert = bench_customer::Entity::insert_many(models);
        inserted += insert.exec_without_returning(&txn).await?;
    }
    txn.commit().await?;
    Ok(inserted)
}
// ANCHOR_END: seaorm

impl Conn {
    /// W4: inserts `rows` in one transaction, in chunks of `chunk` rows where the variant
    /// batches, and returns how many rows went in.
    pub async fn insert_all(
        &mut self,
        stack: Stack,
        variant: InsertVariant,
        rows: &[NewCustomer],
        chunk: usize,
    ) -> Result<u64> {
        use InsertVariant::{BatchApi, FixedArrays, Inlined, MultiRow, RowByRow};
        let chunk = chunk.max(1);
        let (how, chunk) = match (stack, variant) {
            (Stack::DieselAsync | Stack::SeaOrm, RowByRow) => (None, 1),
            (Stack::DieselAsync | Stack::SeaOrm, BatchApi) => (None, chunk),
            (Stack::DieselAsync, FixedArrays) => (None, DIESEL_ARRAY),
            (Stack::SqlxQueryAs, RowByRow) => (Some(Write::RowSql), 1),
            (Stack::SqlxQueryAs, MultiRow) => (Some(Write::MultiRowSql), chunk),
            (Stack::SqlxQueryAs, BatchApi) => (Some(Write::QueryBuilder), chunk),
            (Stack::SqlxMacro, RowByRow) => (Some(Write::RowMacro), 1),
            (Stack::SqlxMacro, BatchApi) => (Some(Write::JsonTable), chunk),
            (Stack::SeaQuery, RowByRow) => (Some(Write::SeaQuery), 1),
            (Stack::SeaQuery, BatchApi) => (Some(Write::SeaQuery), chunk),
            (Stack::SeaQuery, Inlined) => (Some(Write::SeaQueryInlined), chunk),
            (stack, variant) => bail!("{stack} has no `{}` variant", variant.name()),
        };
        if let (Stack::DieselAsync, FixedArrays, Conn::Diesel(c)) =
            (stack, variant, &mut *self)
        {
            return Ok(insert_diesel_arrays::<DIESEL_ARRAY>(c, rows).await?);
        }
        match (how, self) {
            (Some(how), Conn::Sqlx(c)) => insert_sqlx(c, rows, chunk, how).await,
            (None, Conn::Diesel(c)) => Ok(insert_diesel(c, rows, chunk).await?),
            (None, Conn::SeaOrm(db)) => Ok(insert_seaorm(db, rows, chunk).await?),
            _ => Err(crate::mismatch(stack)),
        }
    }
}

/// The rows in each of diesel's fixed-size arrays: the chunk size the other stacks' best
/// variants use. The array's type holds the size, so it is fixed when the lesson compiles.
pub const DIESEL_ARRAY: usize = 1_000;

/// Step 7's report: W4 on every stack and variant.
pub async fn run(ctx: &crate::Ctx) -> Result<Table> {
    if !ctx.wants("w4") {
        return Ok(Table::default());
    }
    let (counts, data) = (&ctx.counts, rows_to_insert(ctx.counts.rows));
    let purge_wait = Duration::from_millis(counts.purge_wait_ms);
    // A run that was interrupted may have left its rows behind: start clean.
    delete_inserted(&ctx.pool).await?;
    if purge_wait > Duration::ZERO && history_length(&ctx.pool).await.is_none() {
        eprintln!(
            "lesson-6: cannot read InnoDB's history length; W4 will not wait for purge"
        );
    }
    let mut rows = Vec::new();
    for &stack in &ctx.stacks {
        let pool = open_pool(stack, &ctx.url, 1, one_connection(stack)).await?;
        for &variant in stack.insert_variants() {
            let chunks = match variant {
                InsertVariant::RowByRow => &[1][..],
                InsertVariant::FixedArrays => &[DIESEL_ARRAY][..],
                _ => &counts.chunks,
            };
            for &chunk in chunks {
                let name = match variant {
                    InsertVariant::RowByRow => variant.name().to_owned(),
                    InsertVariant::FixedArrays => format!("{} {chunk}", variant.name()),
                    _ => format!("{}, chunks of {chunk}", variant.name()),
                };
                let label = format!("W4 {stack}, {name}");
                let (t, inserted) = measure(&label, counts.repeats, || {
                    bulk_insert(
                        stack, variant, &pool, &ctx.pool, &data, chunk, purge_wait,
                    )
                })
                .await?;
                crate::report::check_count(&label, inserted as usize, data.len())?;
                rows.push(ResultRow::new(stack.name(), "W4", &name, data.len(), &t));
            }
        }
        pool.close().await;
    }
    if ctx.stacks.contains(&Stack::DieselAsync) {
        rows.extend(load_data_row(ctx, &data, purge_wait).await?);
    }
    rows.extend(ctx.sqlalchemy("W4"));
    Ok(Table { rows })
}

/// W4 through `LOAD DATA LOCAL INFILE` on a mysql_async connection of its own, when the
/// server allows it; otherwise a line on stderr says why there is no row.
async fn load_data_row(
    ctx: &crate::Ctx,
    data: &[NewCustomer],
    purge_wait: Duration,
) -> Result<Option<ResultRow>> {
    let allowed: Option<i64> = sqlx::query_scalar("SELECT @@GLOBAL.local_infile + 0")
        .fetch_one(&ctx.pool)
        .await?;
    if allowed != Some(1) {
        eprintln!(
            "lesson-6: W4 LOAD DATA LOCAL INFILE skipped: this server has local_infile OFF \
             (MySQL's default since 8.0)"
        );
        return Ok(None);
    }
    let conn = mysql_async::Conn::from_url(ctx.url.as_str())
        .await
        .context("cannot connect with mysql_async")?;
    let conn = tokio::sync::Mutex::new(conn);
    let label = "W4 mysql_async, LOAD DATA LOCAL INFILE";
    let (t, inserted) = measure(label, ctx.counts.repeats, || async {
        let mut conn = conn.lock().await;
        let insert = async { Ok(insert_load_data(&mut conn, data).await?) };
        timed_then_cleaned_up(insert, &ctx.pool, purge_wait).await
    })
    .await?;
    crate::report::check_count(label, inserted as usize, data.len())?;
    conn.into_inner().disconnect().await?;
    let variant = "LOAD DATA LOCAL INFILE";
    Ok(Some(ResultRow::new(
        crate::DRIVER_STACK,
        "W4",
        variant,
        data.len(),
        &t,
    )))
}
