//! Exercises for lesson 8. Replace each `todo_exercise` with your own code, then run
//! `just exercise 8` until its tests pass. The worked answers are in `solutions.rs`.
#![allow(unused_variables)]

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::Semaphore;

use crate::{ApiError, AppState, Customer};

/// What the exercises answer until they are solved: a 500.
fn todo_exercise() -> ApiError {
    ApiError::Internal
}

// ANCHOR: exercise_1
/// Exercise 8.1: `GET /customers/by-name/{name}`: the customer with exactly this name,
/// or a 404.
pub async fn customer_by_name(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Customer>, ApiError> {
    Err(todo_exercise())
}
// ANCHOR_END: exercise_1

// ANCHOR: exercise_2
/// The body of exercise 8.2's request.
#[derive(Debug, Clone, Deserialize)]
pub struct Rename {
    /// The new name.
    pub name: String,
}

/// Exercise 8.2: `POST /customers/{id}/rename` with `{"name": "..."}`: gives the customer
/// the new name, in one transaction, and answers the customer as it now is. A missing
/// customer is a 404, a taken name a 409, an empty name or a bad body a 422.
pub async fn rename(
    State(state): State<AppState>,
    Path(id): Path<i16>,
    body: Result<Json<Rename>, JsonRejection>,
) -> Result<Json<Customer>, ApiError> {
    Err(todo_exercise())
}
// ANCHOR_END: exercise_2

// ANCHOR: exercise_3
/// Exercise 8.3: middleware that sheds load: at most as many requests in flight as
/// `limit` has permits; the next ones are answered at once with a 503 (`ApiError::Busy`,
/// which carries `Retry-After`), without running the handler.
pub async fn shed_load(
    State(limit): State<Arc<Semaphore>>,
    request: Request,
    next: Next,
) -> Response {
    todo_exercise().into_response()
}
// ANCHOR_END: exercise_3
