//! Step 5, W2: selects by primary key, one after another, on one connection: the cost
//! per round trip of each layer. The same query in each stack's own words.

use std::time::{Duration, Instant};

use anyhow::Result;
use diesel::prelude::*;
use diesel_async::{AsyncMysqlConnection, RunQueryDsl};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, TransactionTrait,
};
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

// SeaORM's derive writes paths in full, which this workspace's lints call unneeded.
#[allow(unused_qualifications)]
// ANCHOR: seaorm_entity
/// SeaORM's entity for `bench_customers`: `Model` is one row, and the derive writes the
/// `Entity`, `Column`, `PrimaryKey` and `ActiveModel` that queries use.
pub mod bench_customer {
    use sea_orm::entity::prelude::*;

    /// One row of `bench_customers`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "bench_customers")]
    pub struct Model {
        /// The primary key (`INT`).
        #[sea_orm(primary_key)]
        pub id: i32,
        /// The unique name.
        pub name: String,
        /// The job; the column is nullable.
        pub job: Option<String>,
    }

    /// `bench_customers` has no foreign keys.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
// ANCHOR_END: seaorm_entity

// ANCHOR: select_seaorm
/// SeaORM: the entity builds the statement with sea-query on every call. On a
/// `DatabaseConnection` the pool lends a connection to each one; on a transaction, the
/// transaction's own connection runs it.
pub async fn select_one_seaorm(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<BenchCustomer, DbErr> {
    let found = bench_customer::Entity::find_by_id(id).one(db).await?;
    let row = found.ok_or_else(|| DbErr::RecordNotFound(format!("no customer {id}")))?;
    Ok(row.into())
}
// ANCHOR_END: select_seaorm

/// A SeaORM row as the struct every stack returns.
impl From<bench_customer::Model> for BenchCustomer {
    fn from(row: bench_customer::Model) -> Self {
        let bench_customer::Model { id, name, job } = row;
        BenchCustomer { id, name, job }
    }
}

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

// ANCHOR: point_selects_seaorm
/// W2 on SeaORM, holding one connection for every select: outside a transaction SeaORM
/// takes a connection from the pool for each statement, and sqlx pings it when it goes
/// back; a transaction keeps its connection until it ends. The `BEGIN` and `COMMIT` stay
/// outside the clock, as taking the connection does for the other stacks.
pub async fn point_selects_in_transaction(
    db: &DatabaseConnection,
    ids: &[i32],
) -> Result<(Duration, Vec<BenchCustomer>), DbErr> {
    let txn = db.begin().await?;
    let mut found = Vec::with_capacity(ids.len());
    let start = Instant::now();
    for &id in ids {
        found.push(select_one_seaorm(&txn, id).await?);
    }
    let took = start.elapsed();
    txn.commit().await?;
    Ok((took, found))
}
// ANCHOR_END: point_selects_seaorm

/// How W2 holds its connection: every stack but SeaORM takes it once; SeaORM is measured
/// both ways.
fn w2_variants(stack: Stack) -> &'static [&'static str] {
    match stack {
        Stack::SeaOrm => &[LENT, IN_TRANSACTION],
        _ => &["1 connection"],
    }
}

/// SeaORM's W2 with the pool lending its one connection to each statement.
const LENT: &str = "pool of 1, lent per statement";
/// SeaORM's W2 inside one transaction.
const IN_TRANSACTION: &str = "1 connection, in a transaction";

impl Conn {
    /// W2 and W3: one customer by primary key on this stack.
    pub async fn select_one(&mut self, stack: Stack, id: i32) -> Result<BenchCustomer> {
        Ok(match (stack, self) {
            (Stack::SqlxQueryAs, Conn::Sqlx(c)) => select_one_query_as(c, id).await?,
            (Stack::SqlxMacro, Conn::Sqlx(c)) => select_one_macro(c, id).await?,
            (Stack::SeaQuery, Conn::Sqlx(c)) => select_one_sea_query(c, id).await?,
            (Stack::DieselAsync, Conn::Diesel(c)) => select_one_diesel(c, id).await?,
            (Stack::SeaOrm, Conn::SeaOrm(db)) => select_one_seaorm(db, id).await?,
            _ => return Err(crate::mismatch(stack)),
        })
    }
}

/// The check for a pool of one connection that a workload holds for all its statements.
/// The other stacks take that connection once, so the pool's check runs once; SeaORM
/// takes it for every statement, so its pool must not check it, or W2 would pay one more
/// round trip per select (W3 measures the check).
pub fn one_connection(stack: Stack) -> Check {
    match stack {
        Stack::SeaOrm => Check::Never,
        _ => Check::BeforeEachUse,
    }
}

/// Step 5's report: W2 on every stack. Every stack must return the same rows.
pub async fn run(ctx: &crate::Ctx) -> Result<Table> {
    if !ctx.wants("w2") {
        return Ok(Table::default());
    }
    let (mut rows, mut reference) = (Vec::new(), Reference::default());
    for &stack in &ctx.stacks {
        let pool = open_pool(stack, &ctx.url, 1, one_connection(stack)).await?;
        for &variant in w2_variants(stack) {
            let label = format!("W2 {stack}, {variant}");
            let (t, found) = match (&pool, variant) {
                (Pool::SeaOrm(db), IN_TRANSACTION) => {
                    measure(&label, ctx.counts.repeats, || async {
                        Ok(point_selects_in_transaction(db, &ctx.ids).await?)
                    })
                    .await?
                }
                _ => {
                    measure(&label, ctx.counts.repeats, || {
                        point_selects(stack, &pool, &ctx.ids)
                    })
                    .await?
                }
            };
            reference.check(&label, found, ctx.ids.len())?;
            let ops = ctx.ids.len();
            rows.push(ResultRow::new(stack.name(), "W2", variant, ops, &t));
        }
        pool.close().await;
    }
    rows.extend(ctx.sqlalchemy("W2"));
    Ok(Table { rows })
}
