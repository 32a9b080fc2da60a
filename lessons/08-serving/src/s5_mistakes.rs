//! Step 5: two mistakes a service makes with its pool, and their fixes: holding a
//! connection across an `.await` on something else, and opening a pool per request.

use std::time::{Duration, Instant};

use anyhow::Result;
use axum::extract::{Path, State};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use sqlx::mysql::MySqlPoolOptions;

use crate::report::{Lines, duration};
use crate::s1_state::AppState;
use crate::s2_routes::Customer;
use crate::s4_errors::ApiError;

/// A customer, with what another service said about them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enriched {
    /// The row.
    pub customer: Customer,
    /// The other service's answer.
    pub note: String,
}

// ANCHOR: other_service
/// Stands for a call to another service: 300 ms of waiting that needs no database.
pub async fn call_other_service(customer: &Customer) -> String {
    tokio::time::sleep(Duration::from_millis(300)).await;
    format!("{} checked", customer.name)
}
// ANCHOR_END: other_service

// ANCHOR: held
/// The mistake: the connection is taken first and kept while the handler waits on the
/// other service. It sits idle for 300 ms, and no other request can have it.
pub async fn held_across_await(
    State(state): State<AppState>,
    Path(id): Path<i16>,
) -> Result<Json<Enriched>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let customer: Customer =
        sqlx::query_as("SELECT id, name, job FROM customers WHERE id = ?")
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
    let note = call_other_service(&customer).await; // `conn` is still held here
    Ok(Json(Enriched { customer, note }))
}
// ANCHOR_END: held

// ANCHOR: released
/// The fix: run the query on the pool, which takes a connection for that query alone
/// and puts it back before the handler waits on anything else.
pub async fn released_before_await(
    State(state): State<AppState>,
    Path(id): Path<i16>,
) -> Result<Json<Enriched>, ApiError> {
    let customer: Customer =
        sqlx::query_as("SELECT id, name, job FROM customers WHERE id = ?")
            .bind(id)
            .fetch_one(&state.pool)
            .await?;
    let note = call_other_service(&customer).await; // no connection held
    Ok(Json(Enriched { customer, note }))
}
// ANCHOR_END: released

/// The database's URL, for the one handler that should not need it.
#[derive(Debug, Clone)]
pub struct DatabaseUrl(pub String);

// ANCHOR: pool_per_request
/// The other mistake: a pool per request. Every request pays for a new connection (TCP,
/// the handshake, the login, TLS on MySQL) and leaves the server a session to tear down.
/// The fix is step 1: one pool, made at start-up, in the state.
pub async fn pool_per_request(
    Extension(url): Extension<DatabaseUrl>,
    Path(id): Path<i16>,
) -> Result<Json<Customer>, ApiError> {
    let pool = MySqlPoolOptions::new()
        .max_connections(1)
        .connect(&url.0)
        .await?;
    let customer = sqlx::query_as("SELECT id, name, job FROM customers WHERE id = ?")
        .bind(id)
        .fetch_one(&pool)
        .await;
    pool.close().await;
    Ok(Json(customer?))
}
// ANCHOR_END: pool_per_request

/// How `count` requests at once to `path` ended: (answered with 200, answered 503).
async fn at_once(http: &crate::Http, path: &str, count: usize) -> Result<(usize, usize)> {
    let requests = (0..count).map(|_| {
        let (http, path) = (http.clone(), path.to_owned());
        tokio::spawn(async move { http.get(&path).await })
    });
    let mut answers = Vec::new();
    for request in requests.collect::<Vec<_>>() {
        answers.push(request.await??.status);
    }
    let ok = answers.iter().filter(|&&s| s == 200).count();
    let busy = answers.iter().filter(|&&s| s == 503).count();
    Ok((ok, busy))
}

/// Step 5's report: 10 requests at once on a pool of 2 with a 100 ms acquire timeout,
/// holding the connection and then not; then 20 requests one after another with a pool
/// per request, and with the shared pool.
pub async fn run(ctx: &crate::Ctx) -> Result<Lines> {
    let service = ctx.service(2, Duration::from_millis(100)).await?;
    let http = &service.http;
    let mut lines = Lines::default();
    let id: i16 = sqlx::query_scalar("SELECT id FROM customers WHERE name = 'l8-Grace'")
        .fetch_one(&ctx.pool)
        .await?;
    lines.push(
        "10 requests at once, pool of 2, acquire timeout 100 ms, 300 ms call:".into(),
    );
    for (way, route) in [
        ("holding the connection", "held"),
        ("releasing it first", "released"),
    ] {
        let (ok, busy) = at_once(http, &format!("/demo/{route}/{id}"), 10).await?;
        lines.push(format!("  {way}: {ok} answered 200, {busy} answered 503"));
    }
    lines.push("20 requests one after another:".into());
    for (way, path) in [
        ("a pool per request", format!("/demo/pool-per-request/{id}")),
        ("the shared pool", format!("/customers/{id}")),
    ] {
        let started = Instant::now();
        let mut ok = 0;
        for _ in 0..20 {
            ok += usize::from(http.get(&path).await?.status == 200);
        }
        let took = started.elapsed();
        lines.push(format!("  {way}: {ok} answered 200 in {}", duration(took)));
    }
    service.stop().await?;
    Ok(lines)
}
