//! Step 4: errors as HTTP. Each failure a client can act on gets its status and one
//! documented JSON body; everything else is a 500 that says nothing of the database.

use std::time::Duration;

use anyhow::Result;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::report::Lines;

// ANCHOR: api_error
/// Every way a request can fail, as the handlers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 404: no such customer.
    NotFound,
    /// 409: the request contradicts what is stored (a taken name, say).
    Conflict(String),
    /// 422: the request itself is wrong; the message says how.
    BadInput(String),
    /// 503 with `Retry-After`: no connection came free within the acquire timeout.
    Busy,
    /// 503 with `Retry-After`: the database cannot be reached.
    Unavailable,
    /// 504: the request took longer than the service allows.
    Timeout,
    /// 500: a bug or an unexpected database error, logged and not shown.
    Internal,
}
// ANCHOR_END: api_error

// ANCHOR: error_body
/// The body of every error: `{"error": "not_found", "message": "no such customer"}`.
/// `error` is stable, for programs; `message` is for people, and may change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// One of `not_found`, `conflict`, `bad_input`, `busy`, `unavailable`, `timeout`,
    /// `internal`.
    pub error: String,
    /// What went wrong, in a sentence.
    pub message: String,
}
// ANCHOR_END: error_body

// ANCHOR: into_response
impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        use StatusCode as S;
        let (status, error, message) = match self {
            ApiError::NotFound => (S::NOT_FOUND, "not_found", "no such customer".into()),
            ApiError::Conflict(why) => (S::CONFLICT, "conflict", why),
            ApiError::BadInput(why) => (S::UNPROCESSABLE_ENTITY, "bad_input", why),
            ApiError::Busy => {
                (S::SERVICE_UNAVAILABLE, "busy", "try again shortly".into())
            }
            ApiError::Unavailable => (
                S::SERVICE_UNAVAILABLE,
                "unavailable",
                "the database is down".into(),
            ),
            ApiError::Timeout => (S::GATEWAY_TIMEOUT, "timeout", "took too long".into()),
            ApiError::Internal => (S::INTERNAL_SERVER_ERROR, "internal", "a bug".into()),
        };
        let body = Json(ErrorBody {
            error: error.into(),
            message,
        });
        match status {
            S::SERVICE_UNAVAILABLE => {
                (status, [(header::RETRY_AFTER, "1")], body).into_response()
            }
            _ => (status, body).into_response(),
        }
    }
}
// ANCHOR_END: into_response

// ANCHOR: from_sqlx
impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => ApiError::NotFound,
            // Also what a server that refuses connections gives: sqlx retries until the
            // acquire timeout. Readiness tells the two apart.
            sqlx::Error::PoolTimedOut => ApiError::Busy,
            sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolClosed => {
                ApiError::Unavailable
            }
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                ApiError::Conflict("a customer with this name already exists".into())
            }
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                ApiError::Conflict("the customer still has orders".into())
            }
            _ => {
                tracing::error!(error = %e, "database error");
                ApiError::Internal
            }
        }
    }
}
// ANCHOR_END: from_sqlx

// ANCHOR: rejections
/// A body, path or query string that cannot be read is bad input, with axum's reason.
impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        ApiError::BadInput(rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::BadInput(rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::BadInput(rejection.body_text())
    }
}
// ANCHOR_END: rejections

/// Step 4's report: each error, provoked over HTTP, with its status, its `Retry-After`
/// and its body.
pub async fn run(ctx: &crate::Ctx) -> Result<Lines> {
    let service = ctx.service(1, Duration::from_millis(100)).await?;
    let http = &service.http;
    let mut lines = Lines::default();
    let lynn = serde_json::json!({ "name": "Lynn", "job": "" });
    let reply = http.post("/customers", &lynn).await?;
    lines.push(format!("POST /customers {lynn} -> {}", reply.line()));
    lines.push(format!(
        "GET /customers/32000 -> {}",
        http.get("/customers/32000").await?.line()
    ));
    let blank = serde_json::json!({ "name": "  " });
    lines.push(format!(
        "POST /customers {blank} -> {}",
        http.post("/customers", &blank).await?.line()
    ));
    let raw = http.post_raw("/customers", "{\"name\": 7}").await?;
    lines.push(format!("POST /customers {{\"name\": 7}} -> {}", raw.line()));
    lines.push(format!(
        "GET /customers/abc -> {}",
        http.get("/customers/abc").await?.line()
    ));
    lines.push(format!(
        "GET /customers?limit=0 -> {}",
        http.get("/customers?limit=0").await?.line()
    ));
    // The pool's one connection is busy for a second: the next request waits 100 ms.
    let hold = http.clone();
    let holding = tokio::spawn(async move { hold.get("/demo/hold?ms=1000").await });
    service.wait_until_in_use(1).await?;
    let reply = http.get("/customers/1").await?;
    lines.push(format!(
        "GET /customers/1 (the pool's one connection busy) -> {}",
        reply.line()
    ));
    holding.await??;
    service.stop().await?;
    let down = Running::on_a_closed_port().await?;
    let reply = down.http.get("/customers/1").await?;
    lines.push(format!(
        "GET /customers/1 (the database down) -> {}",
        reply.line()
    ));
    down.stop().await?;
    Ok(lines)
}

use crate::running::Running;
