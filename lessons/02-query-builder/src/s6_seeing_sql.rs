//! Step 6: `build()` next to `to_string()`, and why the inlined text is never run.

use anyhow::{Context, Result};
use sea_query::Values;
use sea_query::{Expr, ExprTrait, MysqlQueryBuilder, Query, SelectStatement};
use sea_query_sqlx::SqlxBinder;
use sqlx::mysql::{MySqlConnection, MySqlDatabaseError, MySqlPool};
use sqlx::{AssertSqlSafe, Connection};

use crate::s1_tables::{Customer, Customers, customer_columns};

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

// ANCHOR: no_backslash_escapes
/// Adds `NO_BACKSLASH_ESCAPES` to the session's `sql_mode`, keeping the modes it has.
const NO_BACKSLASH_ESCAPES: &str = "SET SESSION sql_mode = \
     CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'NO_BACKSLASH_ESCAPES')";

/// A connection of our own, out of the pool, in which a backslash is an ordinary
/// character. Close it after use, so that no pooled connection keeps the mode.
pub async fn no_backslash_escapes(pool: &MySqlPool) -> Result<MySqlConnection> {
    let mut conn = pool.acquire().await?.detach();
    // NOTE: a session setting, not a global one. NO_BACKSLASH_ESCAPES is part of some
    // servers' configured sql_mode; sea-query's inlined literals escape a quote as \'
    // and so assume it is off. With it on, the backslash is an ordinary character and
    // the quote ends the string.
    sqlx::query(NO_BACKSLASH_ESCAPES).execute(&mut conn).await?;
    Ok(conn)
}
// ANCHOR_END: no_backslash_escapes

// ANCHOR: inlined
/// What running an inlined statement did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inlined {
    /// It ran, and returned the customers with these names, sorted.
    Rows(Vec<String>),
    /// The server refused it with this error number (1064 is a syntax error).
    Error(u16),
}
// ANCHOR_END: inlined

// ANCHOR: run_inlined
/// Runs the inlined text of [`by_name`], `to_string()`: what real code must never do.
pub async fn run_inlined(conn: &mut MySqlConnection, name: &str) -> Result<Inlined> {
    let inlined = by_name(name).to_string(MysqlQueryBuilder);
    // This is the assertion that must never be made: `inlined` has the input inside it.
    let result = sqlx::query_as::<_, Customer>(AssertSqlSafe(inlined))
        .fetch_all(conn)
        .await;
    match result {
        Ok(rows) => {
            let mut names: Vec<String> = rows.into_iter().map(|c| c.name).collect();
            // No ORDER BY: it would be commented out with the rest. Sort here instead.
            names.sort();
            Ok(Inlined::Rows(names))
        }
        Err(e) => {
            let db = e.as_database_error();
            match db.and_then(|db| db.try_downcast_ref::<MySqlDatabaseError>()) {
                // The server's own error number, such as 1064 for a syntax error.
                Some(mysql) => Ok(Inlined::Error(mysql.number())),
                None => Err(e.into()),
            }
        }
    }
}
// ANCHOR_END: run_inlined

// ANCHOR: inlined_versus_bound
/// What the inlined statement did, next to the names the bound one found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlinedVersusBound {
    /// [`run_inlined`]'s outcome.
    pub inlined: Inlined,
    /// The names that the same statement, with `name` bound, found.
    pub bound: Vec<String>,
}

/// Runs [`by_name`] inlined and bound, on a connection with `NO_BACKSLASH_ESCAPES`.
pub async fn inlined_versus_bound(
    pool: &MySqlPool,
    name: &str,
) -> Result<InlinedVersusBound> {
    let mut conn = no_backslash_escapes(pool).await?;
    let inlined = run_inlined(&mut conn, name).await?;
    let (sql, values) = by_name(name).build_sqlx(MysqlQueryBuilder);
    // The assertion of `execute`: the SQL text is the builder's, `name` is bound.
    let rows = sqlx::query_as_with::<_, Customer, _>(AssertSqlSafe(sql), values)
        .fetch_all(&mut conn)
        .await?;
    conn.close().await?;
    let bound = rows.into_iter().map(|c| c.name).collect();
    Ok(InlinedVersusBound { inlined, bound })
}
// ANCHOR_END: inlined_versus_bound

/// The names step 6 looks up both ways: one with a quote, one written to inject SQL.
const NAMES: [&str; 2] = ["O'Brien", "' OR 1=1 -- "];

/// Step 6's report: one statement built and inlined, and what each form did when run.
pub async fn run(ctx: &crate::Ctx) -> Result<crate::report::SeeingSql> {
    let query = by_name(NAMES[0]);
    let (sql, values): (String, Values) = query.build(MysqlQueryBuilder);
    let mut runs = Vec::new();
    for name in NAMES {
        let outcome = inlined_versus_bound(&ctx.pool, name)
            .await
            .context("cannot run the inlined statement")?;
        runs.push((name.to_owned(), outcome));
    }
    Ok(crate::report::SeeingSql {
        sql,
        values,
        inlined: query.to_string(MysqlQueryBuilder),
        runs,
    })
}
