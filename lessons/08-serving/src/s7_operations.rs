//! Step 7: operations. A readiness endpoint that pings the database, graceful shutdown
//! (stop accepting, drain what is in flight, then close the pool), and per-request SQL
//! tracing, the counterpart of SQLAlchemy's `echo=True`.

use std::future::Future;
use std::time::Duration;

use anyhow::Result;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::{Json, Router};
use serde_json::{Value, json};
use sqlx::Connection;
use sqlx::mysql::MySqlPool;
use tokio::net::TcpListener;
use tracing::Instrument;

use crate::report::Lines;
use crate::s1_state::AppState;
use crate::s4_errors::ApiError;

// ANCHOR: ready
/// `GET /ready`: 200 once a connection answers a ping within a second, else 503. A load
/// balancer sends traffic only to instances that are ready.
pub async fn ready(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let ping = async {
        let mut conn = state.pool.acquire().await?;
        conn.ping().await
    };
    match tokio::time::timeout(Duration::from_secs(1), ping).await {
        Ok(Ok(())) => Ok(Json(json!({ "status": "ready" }))),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready");
            Err(ApiError::Unavailable)
        }
        Err(_elapsed) => Err(ApiError::Unavailable),
    }
}
// ANCHOR_END: ready

// ANCHOR: trace_request
/// Middleware: a span per request, so that every event inside it (sqlx's statements
/// among them) is printed with the request it belongs to, and one event for the answer.
pub async fn trace_request(request: Request, next: Next) -> Response {
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
    );
    async move {
        let response = next.run(request).await;
        tracing::info!(status = response.status().as_u16(), "answered");
        response
    }
    .instrument(span)
    .await
}
// ANCHOR_END: trace_request

// ANCHOR: serve
/// Serves `app` until `shutdown` completes; then stops accepting, waits for every
/// request in flight to be answered, and only then closes the pool's connections.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    pool: MySqlPool,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    pool.close().await; // every request has had its answer
    Ok(())
}
// ANCHOR_END: serve

// ANCHOR: shutdown_signal
/// Completes on Ctrl-C or on SIGTERM (what `docker stop` and Kubernetes send).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.ok();
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => drop(term.recv().await),
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
// ANCHOR_END: shutdown_signal

// ANCHOR: tracing_filter
/// What `RUST_LOG` asks for to see each request and its SQL: the lesson's spans and
/// events at INFO, and sqlx's statements, which it logs at DEBUG under `sqlx::query`.
pub const TRACE_SQL: &str = "lesson_8=info,sqlx::query=debug";
// ANCHOR_END: tracing_filter

/// Step 7's report: readiness with the database up and down, one request's trace, and
/// a shutdown with a request in flight.
pub async fn run(ctx: &crate::Ctx) -> Result<Lines> {
    let mut lines = Lines::default();
    let (buffer, dispatch) = crate::running::trace_buffer(TRACE_SQL)?;
    let traced = crate::Running::start_traced(ctx, dispatch).await?;
    lines.push(format!(
        "GET /ready -> {}",
        traced.http.get("/ready").await?.line()
    ));
    let id: i16 = sqlx::query_scalar("SELECT id FROM customers WHERE name = 'l8-Grace'")
        .fetch_one(&ctx.pool)
        .await?;
    let reply = traced.http.get(&format!("/customers/{id}")).await?;
    lines.push(format!("GET /customers/{id} -> {}", reply.line()));
    traced.stop().await?;
    lines.push(format!("its trace, with RUST_LOG={TRACE_SQL}:"));
    for line in crate::running::trace_lines(&buffer) {
        lines.push(format!("  {line}"));
    }
    let down = crate::Running::on_a_closed_port().await?;
    lines.push(format!(
        "GET /ready (the database down) -> {}",
        down.http.get("/ready").await?.line()
    ));
    down.stop().await?;

    let mut service = ctx.service(2, crate::ACQUIRE_TIMEOUT).await?;
    let slow = service.http.clone();
    let in_flight = tokio::spawn(async move { slow.get("/demo/hold?ms=500").await });
    service.wait_until_in_use(1).await?;
    service.signal_shutdown();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let refused = tokio::net::TcpStream::connect(service.addr).await.is_err();
    lines.push(format!(
        "shutdown signalled with a request in flight; new connections refused: {refused}"
    ));
    let answered = in_flight.await??;
    lines.push(format!("the request in flight -> {}", answered.line()));
    let pool = service.state.pool.clone();
    service.stop().await?;
    lines.push(format!("then the pool was closed: {}", pool.is_closed()));
    Ok(lines)
}
