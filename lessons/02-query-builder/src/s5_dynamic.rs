//! Step 5: one search with optional filters: only the conditions that are set.

use anyhow::{Context, Result};
use sea_query::{
    Expr, ExprTrait, LikeExpr, MysqlQueryBuilder, Order, Query, SelectStatement,
};
use sqlx::mysql::MySqlPool;

use crate::s1_tables::{Customer, Customers, Orders, customer_columns};
use crate::s4_select::fetch_customers;

// ANCHOR: filters
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
// ANCHOR_END: filters

// ANCHOR: like_prefix
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
// ANCHOR_END: like_prefix

// ANCHOR: big_spenders
/// The ids of the customers whose orders add up to at least `min` cents: a subquery.
pub fn big_spenders(min: i64) -> SelectStatement {
    Query::select()
        .column(Orders::CustomerId)
        .from(Orders::Table)
        .group_by_col(Orders::CustomerId)
        .and_having(Expr::col(Orders::AmountCents).sum().gte(min))
        .to_owned()
}
// ANCHOR_END: big_spenders

// ANCHOR: search_statement
/// One SELECT with only the filters that are set, by name.
pub fn search_statement(filters: &Filters) -> SelectStatement {
    let name = Expr::col((Customers::Table, Customers::Name));
    let job = Expr::col((Customers::Table, Customers::Job));
    let id = Expr::col((Customers::Table, Customers::Id));
    Query::select()
        .columns(customer_columns())
        .from(Customers::Table)
        .apply_if(filters.name_prefix.as_deref(), |q, prefix| {
            q.and_where(name.like(like_prefix(prefix)));
        })
        .apply_if(filters.job.as_deref(), |q, wanted| {
            q.and_where(job.eq(wanted));
        })
        .apply_if(filters.min_total_cents, |q, min| {
            q.and_where(id.in_subquery(big_spenders(min)));
        })
        .order_by((Customers::Table, Customers::Name), Order::Asc)
        .apply_if(filters.limit, |q, limit| {
            q.limit(limit);
        })
        .to_owned()
}
// ANCHOR_END: search_statement

// ANCHOR: search
/// The customers that match every filter that is set.
pub async fn search(pool: &MySqlPool, filters: &Filters) -> Result<Vec<Customer>> {
    fetch_customers(pool, &search_statement(filters)).await
}
// ANCHOR_END: search

// ANCHOR: example_filters
/// The filters step 5 searches with, `(name prefix, job, minimum total, limit)`: none,
/// each alone, all at once, and a prefix full of LIKE's special characters.
pub fn example_filters() -> Vec<Filters> {
    let cases = [
        (None, None, None, None),
        (Some("L"), None, None, None),
        (None, Some("Backend Developer"), None, Some(1)),
        (None, None, Some(10_000), None),
        (Some("G"), Some("Backend Developer"), Some(10_000), Some(5)),
        (Some("100%_sure!"), None, None, None),
    ];
    let filters = cases.into_iter().map(|(prefix, job, min, limit)| Filters {
        name_prefix: prefix.map(str::to_owned),
        job: job.map(str::to_owned),
        min_total_cents: min,
        limit,
    });
    filters.collect()
}
// ANCHOR_END: example_filters

/// Step 5's report: each search's statement, with the names it found.
pub async fn run(ctx: &crate::Ctx) -> Result<crate::report::Searches> {
    let mut searches = Vec::new();
    for filters in example_filters() {
        let found = search(&ctx.pool, &filters)
            .await
            .context("cannot search the customers")?;
        searches.push(crate::report::Selected {
            statement: search_statement(&filters).build(MysqlQueryBuilder).into(),
            rows: found.into_iter().map(|c| c.name).collect(),
        });
    }
    Ok(crate::report::Searches(searches))
}
