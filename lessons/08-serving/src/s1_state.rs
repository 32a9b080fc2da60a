//! Step 1: one pool for the whole process, in the app's state, and the app around it.

use std::time::Duration;

use anyhow::Result;
use axum::Router;
use axum::middleware;
use axum::routing::get;
use sqlx::mysql::{MySqlPool, MySqlPoolOptions};

use crate::report::Lines;
use crate::s2_routes::{
    create_customer, delete_customer, get_customer, list_customers, update_customer,
};
use crate::s3_search::search_customers;
use crate::s6_cancellation::time_limit;
use crate::s7_operations::{ready, trace_request};

// ANCHOR: state
/// What every handler is given. Cloning it is cheap: `MySqlPool` is a handle to the one
/// pool, shared by every request.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The process's one pool.
    pub pool: MySqlPool,
    /// How long one request may take, from its first byte to its answer.
    pub request_timeout: Duration,
}
// ANCHOR_END: state

// ANCHOR: service_pool
/// The service's pool, made once at start-up. `connect_lazy` opens no connection yet, so
/// the service starts even while the database is down (readiness says so), and a short
/// acquire timeout turns a saturated pool into a quick 503 instead of a queue.
pub fn service_pool(
    url: &str,
    size: u32,
    acquire_timeout: Duration,
) -> sqlx::Result<MySqlPool> {
    MySqlPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(acquire_timeout)
        .connect_lazy(url)
}
// ANCHOR_END: service_pool

// ANCHOR: routes
/// The API's routes. `{id}` is a path parameter; each handler takes what it needs.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/customers", get(list_customers).post(create_customer))
        .route("/customers/search", get(search_customers))
        .route(
            "/customers/{id}",
            get(get_customer)
                .put(update_customer)
                .delete(delete_customer),
        )
        .route("/ready", get(ready))
}
// ANCHOR_END: routes

// ANCHOR: app
/// The service: `routes` with the time limit around each request, and a tracing span
/// around that, given the state every handler shares.
pub fn app(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .layer(middleware::from_fn_with_state(state.clone(), time_limit))
        .layer(middleware::from_fn(trace_request))
        .with_state(state)
}
// ANCHOR_END: app

/// Step 1's report: the service up, what its pool is, and that it starts with no
/// connection open.
pub async fn run(ctx: &crate::Ctx) -> Result<Lines> {
    let service = ctx.service(4, crate::ACQUIRE_TIMEOUT).await?;
    let mut lines = Lines::default();
    lines.push(format!("listening on {}", service.base));
    let open_before = service.state.pool.size();
    let ready = service.http.get("/ready").await?;
    lines.push(format!(
        "pool: at most 4 connections, acquire timeout {:?}; open before the first \
         request: {open_before}, after it: {}",
        crate::ACQUIRE_TIMEOUT,
        service.state.pool.size()
    ));
    lines.push(format!("GET /ready -> {}", ready.line()));
    service.stop().await?;
    Ok(lines)
}
