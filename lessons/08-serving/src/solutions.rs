//! The worked answers to lesson 8's exercises. The `solutions` feature compiles this file
//! in place of `exercises.rs`.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::Semaphore;

use crate::{ApiError, AppState, Customer, NewCustomer};

// ANCHOR: exercise_1
/// Exercise 8.1: `GET /customers/by-name/{name}`: the customer with exactly this name,
/// or a 404.
pub async fn customer_by_name(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Customer>, ApiError> {
    let customer = sqlx::query_as("SELECT id, name, job FROM customers WHERE name = ?")
        .bind(name)
        .fetch_optional(&state.pool)
        .await?;
    customer.map(Json).ok_or(ApiError::NotFound)
}
// ANCHOR_END: exercise_1

/// The body of exercise 8.2's request.
#[derive(Debug, Clone, Deserialize)]
pub struct Rename {
    /// The new name.
    pub name: String,
}

// ANCHOR: exercise_2
/// Exercise 8.2: the new name checked as a new customer's would be, then the row locked,
/// renamed and read back in one transaction. The unique key's refusal becomes a 409
/// through `From<sqlx::Error>`.
pub async fn rename(
    State(state): State<AppState>,
    Path(id): Path<i16>,
    body: Result<Json<Rename>, JsonRejection>,
) -> Result<Json<Customer>, ApiError> {
    let Json(Rename { name }) = body?;
    NewCustomer {
        name: name.clone(),
        job: None,
    }
    .check()?;
    let mut tx = state.pool.begin().await?;
    let mut customer: Customer =
        sqlx::query_as("SELECT id, name, job FROM customers WHERE id = ? FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(ApiError::NotFound)?;
    sqlx::query("UPDATE customers SET name = ? WHERE id = ?")
        .bind(&name)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    customer.name = name;
    Ok(Json(customer))
}
// ANCHOR_END: exercise_2

// ANCHOR: exercise_3
/// Exercise 8.3: `try_acquire` never waits: a permit, or a 503 at once. The permit lives
/// until the answer is ready, then goes back.
pub async fn shed_load(
    State(limit): State<Arc<Semaphore>>,
    request: Request,
    next: Next,
) -> Response {
    match limit.try_acquire() {
        Ok(_permit) => next.run(request).await,
        Err(_) => ApiError::Busy.into_response(),
    }
}
// ANCHOR_END: exercise_3
