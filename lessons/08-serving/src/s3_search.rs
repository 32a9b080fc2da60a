//! Step 3: a search route whose query string becomes lesson 2's dynamic filters: only
//! the conditions a client set reach the SQL.

use anyhow::Result;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use sea_query::{Expr, ExprTrait, Iden, LikeExpr, MysqlQueryBuilder, Order};
use sea_query::{Query as Select, SelectStatement};
use sea_query_sqlx::SqlxBinder;
use serde::Deserialize;
use sqlx::AssertSqlSafe;

use crate::report::Lines;
use crate::s1_state::AppState;
use crate::s2_routes::Customer;
use crate::s4_errors::ApiError;

// ANCHOR: filters
/// `GET /customers/search?name_prefix=..&job=..&limit=..`: every filter optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Filters {
    /// Names that start with this text, taken literally (`%` and `_` are not wildcards).
    pub name_prefix: Option<String>,
    /// Exactly this job.
    pub job: Option<String>,
    /// At most this many customers (1 to 100, 20 when left out).
    pub limit: Option<u8>,
}
// ANCHOR_END: filters

/// The `customers` table and its columns, for sea-query.
#[derive(Iden, Clone, Copy, Debug)]
enum Customers {
    Table,
    Id,
    Name,
    Job,
}

// ANCHOR: search_statement
/// One SELECT with only the filters that are set: lesson 2's search, again.
pub fn search_statement(filters: &Filters, limit: u8) -> SelectStatement {
    Select::select()
        .columns([Customers::Id, Customers::Name, Customers::Job])
        .from(Customers::Table)
        .apply_if(filters.name_prefix.as_deref(), |q, prefix| {
            q.and_where(Expr::col(Customers::Name).like(like_prefix(prefix)));
        })
        .apply_if(filters.job.as_deref(), |q, job| {
            q.and_where(Expr::col(Customers::Job).eq(job));
        })
        .order_by(Customers::Name, Order::Asc)
        .limit(u64::from(limit))
        .to_owned()
}

/// A LIKE pattern for the strings that start with `prefix`, escaped with `!`.
fn like_prefix(prefix: &str) -> LikeExpr {
    let mut pattern = String::new();
    for c in prefix.chars() {
        if matches!(c, '!' | '%' | '_') {
            pattern.push('!');
        }
        pattern.push(c);
    }
    LikeExpr::new(pattern + "%").escape('!')
}
// ANCHOR_END: search_statement

// ANCHOR: search_customers
/// The handler: the query string, checked, then built into SQL with bound values.
pub async fn search_customers(
    State(state): State<AppState>,
    query: Result<Query<Filters>, QueryRejection>,
) -> Result<Json<Vec<Customer>>, ApiError> {
    let Query(filters) = query?;
    let limit = filters.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::BadInput("limit must be between 1 and 100".into()));
    }
    let (sql, values) = search_statement(&filters, limit).build_sqlx(MysqlQueryBuilder);
    // The SQL text is the builder's; every value from the client is bound.
    let found = sqlx::query_as_with(AssertSqlSafe(sql), values)
        .fetch_all(&state.pool)
        .await?;
    Ok(Json(found))
}
// ANCHOR_END: search_customers

/// Step 3's report: searches with no filter, one, both, and a prefix full of LIKE's
/// wildcards, with the SQL each one ran.
pub async fn run(ctx: &crate::Ctx) -> Result<Lines> {
    let service = ctx.service(4, crate::ACQUIRE_TIMEOUT).await?;
    let mut lines = Lines::default();
    let searches = [
        (
            "name_prefix=l8-G",
            Filters {
                name_prefix: Some("l8-G".into()),
                ..Filters::default()
            },
        ),
        (
            "job=Engineer&limit=5",
            Filters {
                job: Some("Engineer".into()),
                limit: Some(5),
                ..Filters::default()
            },
        ),
        (
            "name_prefix=l8-&job=Admiral",
            Filters {
                name_prefix: Some("l8-".into()),
                job: Some("Admiral".into()),
                limit: None,
            },
        ),
        (
            "name_prefix=100%25_sure",
            Filters {
                name_prefix: Some("100%_sure".into()),
                ..Filters::default()
            },
        ),
    ];
    for (query, filters) in searches {
        let sql = search_statement(&filters, filters.limit.unwrap_or(20))
            .to_string(MysqlQueryBuilder);
        lines.push(format!("SQL: {sql}"));
        let path = format!("/customers/search?{query}");
        let reply = service.http.get(&path).await?;
        lines.push(format!("GET {path} -> {}", reply.line()));
    }
    service.stop().await?;
    Ok(lines)
}
