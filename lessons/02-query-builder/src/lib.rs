//! Lesson 2: the Core-style query builder with sea-query, the Rust form of SQLAlchemy
//! Core.
//!
//! Tables are described in code (`#[derive(Iden)]` enums), statements are built from
//! expressions, and every statement runs through sqlx with its values bound as parameters
//! (`build_sqlx` and `query_with`).

// The exercises at the end of the chapter. With the `solutions` feature, the worked
// answers stand in their place, so that CI can check that every exercise is solvable.
#[cfg(not(feature = "solutions"))]
pub mod exercises;
#[cfg(feature = "solutions")]
#[path = "solutions.rs"]
pub mod exercises;

pub mod steps;

use std::collections::HashMap;

use anyhow::{Context, Result};
use sea_query::{
    ColumnDef, DeleteStatement, Expr, ExprTrait, Func, Iden, Index, InsertStatement,
    LikeExpr, MysqlQueryBuilder, OnConflict, Order, Query, QueryBuilder, SelectStatement,
    Table, TableCreateStatement, UpdateStatement, Values,
};
use sea_query_sqlx::SqlxBinder;
use sqlx::mysql::{MySqlConnection, MySqlPool};
use sqlx::{AssertSqlSafe, Connection};

// ANCHOR: idens
/// The `customers` table and its columns. `Table` names the table; every other variant is
/// a column, named in snake_case (`Customers::Job` is `job`).
#[derive(Iden, Clone, Copy, Debug)]
pub enum Customers {
    /// `customers`
    Table,
    /// `id`
    Id,
    /// `name`
    Name,
    /// `job`
    Job,
}

/// The shared `orders` table: each row belongs to a customer.
#[derive(Iden, Clone, Copy, Debug)]
pub enum Orders {
    /// `orders`
    Table,
    /// `id`
    Id,
    /// `customer_id`, a foreign key to `customers.id`
    CustomerId,
    /// `item`
    Item,
    /// `amount_cents`
    AmountCents,
}
// ANCHOR_END: idens

// ANCHOR: customer
/// A row of the article's `customers` table: the same struct as lesson 1's. Lessons never
/// depend on each other, so this lesson declares it again.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Customer {
    /// `SMALLINT NOT NULL AUTO_INCREMENT`: a 16-bit signed integer.
    pub id: i16,
    /// `VARCHAR(50) NOT NULL`.
    pub name: String,
    /// `VARCHAR(50) DEFAULT ''`: nullable, so an `Option`.
    pub job: Option<String>,
}
// ANCHOR_END: customer

// ANCHOR: show
/// A statement as it goes to the server: the SQL with `?` placeholders, then the values
/// that travel beside it, written here as SQL literals only so that they are easy to
/// read.
pub fn show(sql: &str, values: &Values) -> String {
    let values: Vec<String> = values
        .0
        .iter()
        .map(|v| MysqlQueryBuilder.value_to_string(v))
        .collect();
    format!("{sql}\n  values: [{}]", values.join(", "))
}
// ANCHOR_END: show

// ANCHOR: fetch_customers
/// Runs a SELECT whose columns are `id, name, job` and maps each row to a [`Customer`].
pub async fn fetch_customers(
    pool: &MySqlPool,
    query: &SelectStatement,
) -> Result<Vec<Customer>> {
    let (sql, values) = query.build_sqlx(MysqlQueryBuilder);
    // What `AssertSqlSafe` asserts here: `sql` is the builder's output, in which every
    // value is a `?` placeholder. That holds as long as no caller builds an identifier or
    // a raw `Expr::cust(...)` from input; the statements in this lesson use only the
    // `Iden` enums.
    let rows = sqlx::query_as_with::<_, Customer, _>(AssertSqlSafe(sql), values)
        .fetch_all(pool)
        .await?;
    Ok(rows)
}
// ANCHOR_END: fetch_customers

// ANCHOR: execute
/// Runs an INSERT, UPDATE or DELETE built by sea-query and returns the rows it affected.
pub async fn execute<S: SqlxBinder>(pool: &MySqlPool, statement: &S) -> Result<u64> {
    let (sql, values) = statement.build_sqlx(MysqlQueryBuilder);
    // The same assertion as in `fetch_customers`: the SQL text is the builder's, values
    // are bound.
    let done = sqlx::query_with(AssertSqlSafe(sql), values)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}
// ANCHOR_END: execute

/// The columns every customer query selects, in the order [`Customer`] reads them.
fn customer_columns() -> [(Customers, Customers); 3] {
    [
        (Customers::Table, Customers::Id),
        (Customers::Table, Customers::Name),
        (Customers::Table, Customers::Job),
    ]
}

// ANCHOR: ddl
/// The article's `customers` table, described with the builder: what SQLAlchemy Core's
/// `Table("customers", metadata, Column(...), ...)` is, down to the named unique key.
pub fn customers_table() -> TableCreateStatement {
    Table::create()
        .table(Customers::Table)
        .if_not_exists()
        .col(
            ColumnDef::new(Customers::Id)
                .small_integer()
                .not_null()
                .auto_increment()
                .primary_key(),
        )
        .col(ColumnDef::new(Customers::Name).string_len(50).not_null())
        .col(ColumnDef::new(Customers::Job).string_len(50).default(""))
        .index(
            Index::create()
                .unique()
                .name("UQ_name")
                .col(Customers::Name),
        )
        .to_owned()
}

/// Creates the `customers` table if it is not there yet, and returns the DDL it ran.
pub async fn create_customers_table(pool: &MySqlPool) -> Result<String> {
    // DDL takes no bind parameters in MySQL, so a schema statement only has
    // `to_string()`. What we assert: every part of it (names, types, the default '') is
    // written in this file.
    let sql = customers_table().to_string(MysqlQueryBuilder);
    sqlx::query(AssertSqlSafe(sql.clone()))
        .execute(pool)
        .await?;
    Ok(sql)
}
// ANCHOR_END: ddl

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

// ANCHOR: insert_orders
/// The ids of the customers called `names`: `SELECT id, name FROM customers WHERE name IN
/// (...)`.
pub async fn customer_ids(
    pool: &MySqlPool,
    names: &[&str],
) -> Result<HashMap<String, i16>> {
    let query = Query::select()
        .columns(customer_columns())
        .from(Customers::Table)
        .and_where(Expr::col(Customers::Name).is_in(names.iter().copied()))
        .to_owned();
    let rows = fetch_customers(pool, &query).await?;
    Ok(rows.into_iter().map(|c| (c.name, c.id)).collect())
}

/// One multi-row INSERT for `orders`, each `(customer name, item, cents)` with the
/// customer's id looked up first. Returns the SQL it ran and the rows it inserted.
pub async fn insert_orders(
    pool: &MySqlPool,
    orders: &[(&str, &str, i32)],
) -> Result<(String, u64)> {
    let names: Vec<&str> = orders.iter().map(|(name, _, _)| *name).collect();
    let ids = customer_ids(pool, &names).await?;
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

// ANCHOR: where_order_limit
/// Customers with the job `job`, by name, at most `limit` of them.
pub fn by_job(job: &str, limit: u64) -> SelectStatement {
    Query::select()
        .columns(customer_columns())
        .from(Customers::Table)
        .and_where(Expr::col(Customers::Job).eq(job))
        .order_by(Customers::Name, Order::Asc)
        .limit(limit)
        .to_owned()
}

/// Customers whose name is one of `names`, by name.
pub fn named(names: &[&str]) -> SelectStatement {
    Query::select()
        .columns(customer_columns())
        .from(Customers::Table)
        .and_where(Expr::col(Customers::Name).is_in(names.iter().copied()))
        .order_by(Customers::Name, Order::Asc)
        .to_owned()
}

/// Customers whose name matches the LIKE `pattern` as it is, `%` and `_` being wildcards.
pub fn name_like(pattern: &str) -> SelectStatement {
    Query::select()
        .columns(customer_columns())
        .from(Customers::Table)
        .and_where(Expr::col(Customers::Name).like(pattern))
        .order_by(Customers::Name, Order::Asc)
        .to_owned()
}
// ANCHOR_END: where_order_limit

// ANCHOR: count_by_job
/// How many customers have each job: `COUNT(*)` and `GROUP BY job`.
pub async fn count_by_job(
    pool: &MySqlPool,
) -> Result<(String, Vec<(Option<String>, i64)>)> {
    let query = Query::select()
        .column(Customers::Job)
        .expr_as(Expr::col(Customers::Id).count(), "customers")
        .from(Customers::Table)
        .group_by_col(Customers::Job)
        .order_by(Customers::Job, Order::Asc)
        .to_owned();
    let (sql, values) = query.build_sqlx(MysqlQueryBuilder);
    let shown = show(&sql, &values.0);
    // `COUNT` is a BIGINT: an `i64`. The SQL text is the builder's, as in
    // `fetch_customers`.
    let rows: Vec<(Option<String>, i64)> =
        sqlx::query_as_with(AssertSqlSafe(sql), values)
            .fetch_all(pool)
            .await?;
    Ok((shown, rows))
}
// ANCHOR_END: count_by_job

// ANCHOR: totals
/// A customer with the number and the total of their orders.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CustomerTotals {
    /// The customer's name.
    pub name: String,
    /// How many orders they have: `COUNT(orders.id)`, 0 when none.
    pub orders: i64,
    /// The sum of their orders' `amount_cents`, 0 when none.
    pub total_cents: i64,
}

/// Each customer with the number and the total of their orders, by name: a LEFT JOIN, so
/// that customers without orders are there too.
pub fn totals_statement() -> SelectStatement {
    // NOTE: SUM of an INT column is a DECIMAL in MySQL and MariaDB, which sqlx cannot
    // read into an i64. `CAST(... AS SIGNED)` makes it a BIGINT; COALESCE makes "no
    // orders" a 0, not NULL.
    let total = Func::coalesce([
        Expr::col((Orders::Table, Orders::AmountCents)).sum(),
        Expr::val(0),
    ])
    .cast_as("SIGNED");
    Query::select()
        .column((Customers::Table, Customers::Name))
        .expr_as(Expr::col((Orders::Table, Orders::Id)).count(), "orders")
        .expr_as(total, "total_cents")
        .from(Customers::Table)
        .left_join(
            Orders::Table,
            Expr::col((Orders::Table, Orders::CustomerId))
                .equals((Customers::Table, Customers::Id)),
        )
        .group_by_columns([
            (Customers::Table, Customers::Id),
            (Customers::Table, Customers::Name),
        ])
        .order_by((Customers::Table, Customers::Name), Order::Asc)
        .to_owned()
}

/// Runs [`totals_statement`].
pub async fn totals(pool: &MySqlPool) -> Result<Vec<CustomerTotals>> {
    let (sql, values) = totals_statement().build_sqlx(MysqlQueryBuilder);
    // The SQL text is the builder's; its only value (the 0) is bound.
    let rows = sqlx::query_as_with::<_, CustomerTotals, _>(AssertSqlSafe(sql), values)
        .fetch_all(pool)
        .await?;
    Ok(rows)
}
// ANCHOR_END: totals

// ANCHOR: search
/// The optional filters of [`search`]. `Filters::default()` filters nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// Names that start with this text, taken literally: `%` and `_` in it are not
    /// wildcards.
    pub name_prefix: Option<String>,
    /// Customers with exactly this job.
    pub job: Option<String>,
    /// Customers whose orders add up to at least this many cents (customers without
    /// orders never match).
    pub min_total_cents: Option<i64>,
    /// At most this many customers.
    pub limit: Option<u64>,
}

/// The character that [`like_prefix`] escapes with. Not the backslash: its meaning in a
/// string literal depends on the server's `sql_mode`.
pub const LIKE_ESCAPE: char = '!';

/// A LIKE pattern that matches the strings starting with `prefix`, whatever is in it.
pub fn like_prefix(prefix: &str) -> LikeExpr {
    let mut pattern = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if c == LIKE_ESCAPE || c == '%' || c == '_' {
            pattern.push(LIKE_ESCAPE);
        }
        pattern.push(c);
    }
    pattern.push('%');
    LikeExpr::new(pattern).escape(LIKE_ESCAPE)
}

/// One SELECT with only the filters that are set, by name.
pub fn search_statement(filters: &Filters) -> SelectStatement {
    Query::select()
        .columns(customer_columns())
        .from(Customers::Table)
        .apply_if(filters.name_prefix.as_deref(), |q, prefix| {
            q.and_where(
                Expr::col((Customers::Table, Customers::Name)).like(like_prefix(prefix)),
            );
        })
        .apply_if(filters.job.as_deref(), |q, job| {
            q.and_where(Expr::col((Customers::Table, Customers::Job)).eq(job));
        })
        .apply_if(filters.min_total_cents, |q, min| {
            let big_spenders = Query::select()
                .column(Orders::CustomerId)
                .from(Orders::Table)
                .group_by_col(Orders::CustomerId)
                .and_having(Expr::col(Orders::AmountCents).sum().gte(min))
                .to_owned();
            q.and_where(
                Expr::col((Customers::Table, Customers::Id)).in_subquery(big_spenders),
            );
        })
        .order_by((Customers::Table, Customers::Name), Order::Asc)
        .apply_if(filters.limit, |q, limit| {
            q.limit(limit);
        })
        .to_owned()
}

/// The customers that match every filter that is set.
pub async fn search(pool: &MySqlPool, filters: &Filters) -> Result<Vec<Customer>> {
    fetch_customers(pool, &search_statement(filters)).await
}
// ANCHOR_END: search

// ANCHOR: update_delete
/// `UPDATE customers SET job = ? WHERE name = ?`: `update().where().values()` in Core.
pub fn set_job_statement(name: &str, job: Option<&str>) -> UpdateStatement {
    Query::update()
        .table(Customers::Table)
        .value(Customers::Job, job)
        .and_where(Expr::col(Customers::Name).eq(name))
        .to_owned()
}

/// Deletes the orders of the customers called `names`: a DELETE with a subquery.
pub fn delete_orders_of_statement(names: &[&str]) -> DeleteStatement {
    Query::delete()
        .from_table(Orders::Table)
        .and_where(
            Expr::col(Orders::CustomerId).in_subquery(
                Query::select()
                    .column(Customers::Id)
                    .from(Customers::Table)
                    .and_where(Expr::col(Customers::Name).is_in(names.iter().copied()))
                    .to_owned(),
            ),
        )
        .to_owned()
}

/// Deletes the customers called `names` (their orders must be gone first: the foreign
/// key).
pub fn delete_customers_statement(names: &[&str]) -> DeleteStatement {
    Query::delete()
        .from_table(Customers::Table)
        .and_where(Expr::col(Customers::Name).is_in(names.iter().copied()))
        .to_owned()
}
// ANCHOR_END: update_delete

// ANCHOR: by_name
/// The customers called exactly `name`, as the builder means it: `name` is a bound value.
pub fn by_name(name: &str) -> SelectStatement {
    Query::select()
        .columns(customer_columns())
        .from(Customers::Table)
        .and_where(Expr::col(Customers::Name).eq(name))
        .to_owned()
}
// ANCHOR_END: by_name

// ANCHOR: inlined
/// What happens when the inlined text of [`by_name`] (`to_string()`) is executed, on a
/// connection whose `sql_mode` has `NO_BACKSLASH_ESCAPES`, next to the same statement run
/// the right way. Returns one line for each.
///
/// Never do this in real code: it is here to show why.
pub async fn inlined_versus_bound(pool: &MySqlPool, name: &str) -> Result<[String; 2]> {
    // A connection of our own, closed at the end, so that no pooled connection keeps the
    // mode.
    let mut conn: MySqlConnection = pool.acquire().await?.detach();
    // NOTE: a session setting, not a global one. NO_BACKSLASH_ESCAPES is part of some
    // servers' configured sql_mode; sea-query's inlined literals escape a quote as \' and
    // so assume it is off. With it on, the backslash is an ordinary character and the
    // quote ends the string.
    sqlx::query(
        "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'NO_BACKSLASH_ESCAPES')",
    )
        .execute(&mut conn)
        .await?;

    let inlined = by_name(name).to_string(MysqlQueryBuilder);
    // This is the assertion that must never be made: `inlined` has the input inside it.
    let wrong = sqlx::query_as::<_, Customer>(AssertSqlSafe(inlined))
        .fetch_all(&mut conn)
        .await;
    let wrong = match wrong {
        Ok(mut rows) => {
            // No ORDER BY: it would be commented out with the rest. Sort here instead.
            rows.sort_by(|a, b| a.name.cmp(&b.name));
            format!("inlined: {} rows: {}", rows.len(), names(&rows))
        }
        Err(e) => match e.as_database_error() {
            Some(db) => format!(
                "inlined: error {}",
                db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                    .map_or_else(|| db.to_string(), |e| e.number().to_string())
            ),
            None => return Err(e.into()),
        },
    };

    let (sql, values) = by_name(name).build_sqlx(MysqlQueryBuilder);
    let rows = sqlx::query_as_with::<_, Customer, _>(AssertSqlSafe(sql), values)
        .fetch_all(&mut conn)
        .await?;
    let right = format!("bound:   {} rows: {}", rows.len(), names(&rows));
    conn.close().await?;
    Ok([wrong, right])
}
// ANCHOR_END: inlined

/// How many customers there are: `SELECT COUNT(*) FROM customers`.
pub async fn count_customers(pool: &MySqlPool) -> Result<i64> {
    let (sql, values) = Query::select()
        .expr(Expr::col(Customers::Id).count())
        .from(Customers::Table)
        .build_sqlx(MysqlQueryBuilder);
    // The SQL text is the builder's, with no input in it.
    let n: i64 = sqlx::query_scalar_with(AssertSqlSafe(sql), values)
        .fetch_one(pool)
        .await?;
    Ok(n)
}

/// The customers' names, comma-separated, or `-` when there are none.
pub fn names(customers: &[Customer]) -> String {
    if customers.is_empty() {
        return "-".to_owned();
    }
    customers
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One customer as the lesson prints it: name and job, without the id, which grows from
/// run to run.
pub fn describe(customer: &Customer) -> String {
    format!(
        "{:<10} {}",
        customer.name,
        customer.job.as_deref().unwrap_or("(NULL)")
    )
}

/// Cents as dollars: `129900` is `1299.00`.
pub fn dollars(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, (cents % 100).abs())
}

/// The sample customers' names.
pub fn sample_names() -> Vec<&'static str> {
    SAMPLE_CUSTOMERS.iter().map(|(name, _)| *name).collect()
}

/// Removes what a run added: the sample customers' orders, then the sample customers.
/// Returns the rows deleted from each table.
pub async fn clean_up(pool: &MySqlPool) -> Result<(u64, u64)> {
    let names = sample_names();
    let orders = execute(pool, &delete_orders_of_statement(&names))
        .await
        .context("cannot delete the sample orders")?;
    let customers = execute(pool, &delete_customers_statement(&names))
        .await
        .context("cannot delete the sample customers")?;
    Ok((orders, customers))
}
