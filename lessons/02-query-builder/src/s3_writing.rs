//! Step 3: a multi-row insert, the orders that need their customers' ids, and an upsert.

use std::collections::HashMap;

use anyhow::{Context, Result};
use sea_query::{Expr, ExprTrait, InsertStatement, MysqlQueryBuilder, OnConflict, Query};
use sea_query_sqlx::SqlxBinder;
use sqlx::AssertSqlSafe;
use sqlx::mysql::MySqlPool;

use crate::s1_tables::{Customers, Orders};

// ANCHOR: sample
/// The lesson's sample customers, `(name, job)`. A run inserts them, and removes them
/// again in its last step, so that the next run starts from the same rows.
pub const SAMPLE_CUSTOMERS: [(&str, Option<&str>); 4] = [
    ("Ada", Some("Data Engineer")),
    ("Grace", Some("Backend Developer")),
    ("Linus", None),
    ("Margaret", Some("Frontend Developer")),
];

/// The sample customers' orders: `(customer name, item, amount in cents)`.
pub const SAMPLE_ORDERS: [(&str, &str, i32); 5] = [
    ("Ada", "Keyboard", 4_999),
    ("Ada", "Monitor", 18_950),
    ("Grace", "Laptop", 129_900),
    ("Grace", "Mouse", 2_500),
    ("Margaret", "Desk lamp", 3_450),
];
// ANCHOR_END: sample

// ANCHOR: insert_customers
/// One multi-row INSERT for all `customers`: `insert().values([...])` in SQLAlchemy Core.
pub fn insert_customers_statement(
    customers: &[(&str, Option<&str>)],
) -> Result<InsertStatement> {
    let mut insert = Query::insert();
    insert
        .into_table(Customers::Table)
        .columns([Customers::Name, Customers::Job]);
    for (name, job) in customers {
        // `values` checks that there is one value per column.
        insert.values([(*name).into(), (*job).into()])?;
    }
    Ok(insert.to_owned())
}
// ANCHOR_END: insert_customers

// ANCHOR: execute
/// Runs an INSERT, UPDATE or DELETE built by sea-query and returns the rows it affected.
pub async fn execute<S: SqlxBinder>(pool: &MySqlPool, statement: &S) -> Result<u64> {
    let (sql, values) = statement.build_sqlx(MysqlQueryBuilder);
    // What `AssertSqlSafe` asserts here: `sql` is the builder's output, in which every
    // value is a `?` placeholder. That holds as long as no caller builds an identifier or
    // a raw `Expr::cust(...)` from input; the statements in this lesson use only the
    // `Iden` enums.
    let done = sqlx::query_with(AssertSqlSafe(sql), values)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}
// ANCHOR_END: execute

// ANCHOR: customer_ids
/// The ids of the customers called `names`: `SELECT name, id FROM customers WHERE name IN
/// (...)`, as a map from name to id.
pub async fn customer_ids(
    pool: &MySqlPool,
    names: &[&str],
) -> Result<HashMap<String, i16>> {
    let (sql, values) = Query::select()
        .columns([Customers::Name, Customers::Id])
        .from(Customers::Table)
        .and_where(Expr::col(Customers::Name).is_in(names.iter().copied()))
        .build_sqlx(MysqlQueryBuilder);
    // The same assertion as in `execute`: the SQL text is the builder's.
    let rows: Vec<(String, i16)> = sqlx::query_as_with(AssertSqlSafe(sql), values)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().collect())
}
// ANCHOR_END: customer_ids

// ANCHOR: insert_orders_statement
/// One multi-row INSERT for `orders`, each `(customer name, item, cents)` with the
/// customer's id taken from `ids`. A name that is not in `ids` is an error.
pub fn insert_orders_statement(
    ids: &HashMap<String, i16>,
    orders: &[(&str, &str, i32)],
) -> Result<InsertStatement> {
    let mut insert = Query::insert();
    insert.into_table(Orders::Table).columns([
        Orders::CustomerId,
        Orders::Item,
        Orders::AmountCents,
    ]);
    for (name, item, cents) in orders {
        let id = ids
            .get(*name)
            .with_context(|| format!("there is no customer called {name:?}"))?;
        insert.values([(*id).into(), (*item).into(), (*cents).into()])?;
    }
    Ok(insert.to_owned())
}
// ANCHOR_END: insert_orders_statement

// ANCHOR: insert_orders
/// Inserts `orders`, looking their customers' ids up first. Returns the SQL it ran and
/// the rows it inserted.
pub async fn insert_orders(
    pool: &MySqlPool,
    orders: &[(&str, &str, i32)],
) -> Result<(String, u64)> {
    let names: Vec<&str> = orders.iter().map(|(name, _, _)| *name).collect();
    let ids = customer_ids(pool, &names).await?;
    let insert = insert_orders_statement(&ids, orders)?;
    let sql = insert.build(MysqlQueryBuilder).0;
    Ok((sql, execute(pool, &insert).await?))
}
// ANCHOR_END: insert_orders

// ANCHOR: upsert
/// Inserts a customer, or, when the name is taken, sets the job of the one that has it:
/// `INSERT ... ON DUPLICATE KEY UPDATE job = VALUES(job)`.
pub fn upsert_customer_statement(
    name: &str,
    job: Option<&str>,
) -> Result<InsertStatement> {
    Ok(Query::insert()
        .into_table(Customers::Table)
        .columns([Customers::Name, Customers::Job])
        .values([name.into(), job.into()])?
        // NOTE: MySQL has no conflict target: ON DUPLICATE KEY UPDATE fires on a clash
        // with ANY unique key (the primary key or UQ_name), and sea-query leaves the
        // column out. MySQL 8.0.20+ deprecates `VALUES(job)` here in favour of a row
        // alias (`AS new ... new.job`) with a warning; it still works. MariaDB knows only
        // `VALUES(job)`.
        .on_conflict(
            OnConflict::column(Customers::Name)
                .update_column(Customers::Job)
                .to_owned(),
        )
        .to_owned())
}
// ANCHOR_END: upsert

// ANCHOR: count_customers
/// How many customers there are: `SELECT COUNT(id) FROM customers`.
pub async fn count_customers(pool: &MySqlPool) -> Result<i64> {
    let (sql, values) = Query::select()
        .expr(Expr::col(Customers::Id).count())
        .from(Customers::Table)
        .build_sqlx(MysqlQueryBuilder);
    // The SQL text is the builder's, with no input in it. `COUNT` is a BIGINT: an
    // `i64`.
    let n: i64 = sqlx::query_scalar_with(AssertSqlSafe(sql), values)
        .fetch_one(pool)
        .await?;
    Ok(n)
}
// ANCHOR_END: count_customers

/// The upserts step 3 runs, `(name, job)`: Lynn twice with the job she has, then Ada with
/// a new one.
const UPSERTS: [(&str, Option<&str>); 3] = [
    ("Lynn", Some("Backend Developer")),
    ("Lynn", Some("Backend Developer")),
    ("Ada", Some("Data Scientist")),
];

/// Step 3's report: each statement, with the rows it affected.
pub async fn run(ctx: &crate::Ctx) -> Result<crate::report::Writes> {
    let pool = &ctx.pool;
    let insert = insert_customers_statement(&SAMPLE_CUSTOMERS)?;
    let inserted = execute(pool, &insert).await.context(
        "cannot insert the sample customers (is one of Ada, Grace, Linus, Margaret \
         already there?)",
    )?;
    let (orders_sql, orders_inserted) = insert_orders(pool, &SAMPLE_ORDERS)
        .await
        .context("cannot insert the sample orders")?;
    let mut upserts = Vec::new();
    for (name, job) in UPSERTS {
        let upsert = upsert_customer_statement(name, job)?;
        let affected = execute(pool, &upsert)
            .await
            .with_context(|| format!("cannot upsert {name}"))?;
        let customers = count_customers(pool)
            .await
            .context("cannot count the customers")?;
        upserts.push(crate::report::Upsert {
            statement: upsert.build(MysqlQueryBuilder).into(),
            affected,
            customers,
        });
    }
    Ok(crate::report::Writes {
        insert: insert.build(MysqlQueryBuilder).into(),
        inserted,
        orders_sql,
        orders_inserted,
        upserts,
    })
}
