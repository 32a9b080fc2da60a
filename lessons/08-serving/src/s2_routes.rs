//! Step 2: the routes. List with keyset pagination, get, create, update, delete; each
//! write in one transaction.

use anyhow::Result;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};

use crate::report::Lines;
use crate::s1_state::AppState;
use crate::s4_errors::ApiError;

// ANCHOR: customer
/// A row of the article's `customers` table, as the API sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Customer {
    /// `SMALLINT NOT NULL AUTO_INCREMENT`.
    pub id: i16,
    /// `VARCHAR(50) NOT NULL`, unique.
    pub name: String,
    /// `VARCHAR(50) DEFAULT ''`, nullable.
    pub job: Option<String>,
}

/// What a client sends to create or replace a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCustomer {
    /// 1 to 50 characters, not all blank.
    pub name: String,
    /// At most 50 characters; may be left out.
    #[serde(default)]
    pub job: Option<String>,
}
// ANCHOR_END: customer

// ANCHOR: check
impl NewCustomer {
    /// Refuses what the table would refuse, with a message a client can act on.
    pub fn check(&self) -> Result<(), ApiError> {
        let too_long = |s: &str| s.chars().count() > 50;
        if self.name.trim().is_empty() {
            return Err(ApiError::BadInput("name must not be empty".into()));
        }
        if too_long(&self.name) || self.job.as_deref().is_some_and(too_long) {
            return Err(ApiError::BadInput(
                "name and job hold at most 50 characters".into(),
            ));
        }
        Ok(())
    }
}
// ANCHOR_END: check

// ANCHOR: page
/// `?after=ID&limit=N`: the customers after id `after`, at most `limit` (1 to 100).
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct PageQuery {
    /// The last id of the previous page; none for the first page.
    pub after: Option<i16>,
    /// How many customers, 20 when left out.
    pub limit: Option<u8>,
}

/// One page, and the `after` to ask for the next one (`null` on the last page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerPage {
    /// The customers, by id.
    pub customers: Vec<Customer>,
    /// Pass it as `after` for the next page.
    pub next: Option<i16>,
}
// ANCHOR_END: page

// ANCHOR: list
/// `GET /customers`: a keyset page. `WHERE id > ?` uses the primary key, so page 1000
/// costs what page 1 costs, unlike `OFFSET`. One row more than asked says if there is
/// more.
pub async fn list_customers(
    State(state): State<AppState>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<CustomerPage>, ApiError> {
    let Query(page) = query?;
    let limit = page.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::BadInput("limit must be between 1 and 100".into()));
    }
    let mut customers: Vec<Customer> = sqlx::query_as(
        "SELECT id, name, job FROM customers WHERE id > ? ORDER BY id LIMIT ?",
    )
    .bind(page.after.unwrap_or(0))
    .bind(limit + 1)
    .fetch_all(&state.pool)
    .await?;
    let more = customers.len() > usize::from(limit);
    customers.truncate(usize::from(limit));
    let next = more.then(|| customers.last().map(|c| c.id)).flatten();
    Ok(Json(CustomerPage { customers, next }))
}
// ANCHOR_END: list

// ANCHOR: get
/// `GET /customers/{id}`: one customer, or 404.
pub async fn get_customer(
    State(state): State<AppState>,
    id: Result<Path<i16>, PathRejection>,
) -> Result<Json<Customer>, ApiError> {
    let Path(id) = id?;
    let customer = sqlx::query_as("SELECT id, name, job FROM customers WHERE id = ?")
        .bind(id)
        .fetch_optional(&state.pool)
        .await?;
    customer.map(Json).ok_or(ApiError::NotFound)
}
// ANCHOR_END: get

// ANCHOR: create
/// `POST /customers`: 201 with the new customer and its `Location`. The insert and the
/// read-back share one transaction, and so one connection, which `LAST_INSERT_ID` needs.
pub async fn create_customer(
    State(state): State<AppState>,
    body: Result<Json<NewCustomer>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Json(new) = body?;
    new.check()?;
    let mut tx = state.pool.begin().await?;
    sqlx::query("INSERT INTO customers (name, job) VALUES (?, ?)")
        .bind(&new.name)
        .bind(&new.job)
        .execute(&mut *tx)
        .await?;
    let customer: Customer =
        sqlx::query_as("SELECT id, name, job FROM customers WHERE id = LAST_INSERT_ID()")
            .fetch_one(&mut *tx)
            .await?;
    tx.commit().await?;
    let location = format!("/customers/{}", customer.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(customer),
    ))
}
// ANCHOR_END: create

// ANCHOR: update
/// `PUT /customers/{id}`: replaces the name and job. `FOR UPDATE` locks the row until the
/// commit, so a missing customer is a 404 and not a silent "0 rows changed".
pub async fn update_customer(
    State(state): State<AppState>,
    id: Result<Path<i16>, PathRejection>,
    body: Result<Json<NewCustomer>, JsonRejection>,
) -> Result<Json<Customer>, ApiError> {
    let (Path(id), Json(new)) = (id?, body?);
    new.check()?;
    let mut tx = state.pool.begin().await?;
    sqlx::query("SELECT id FROM customers WHERE id = ? FOR UPDATE")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(ApiError::NotFound)?;
    sqlx::query("UPDATE customers SET name = ?, job = ? WHERE id = ?")
        .bind(&new.name)
        .bind(&new.job)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Json(Customer {
        id,
        name: new.name,
        job: new.job,
    }))
}
// ANCHOR_END: update

// ANCHOR: delete
/// `DELETE /customers/{id}`: 204, or 404. One statement is its own transaction.
pub async fn delete_customer(
    State(state): State<AppState>,
    id: Result<Path<i16>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Path(id) = id?;
    let deleted = sqlx::query("DELETE FROM customers WHERE id = ?")
        .bind(id)
        .execute(&state.pool)
        .await?;
    match deleted.rows_affected() {
        0 => Err(ApiError::NotFound),
        _ => Ok(StatusCode::NO_CONTENT),
    }
}
// ANCHOR_END: delete

/// Step 2's report: every route, called over HTTP, with what it answered.
pub async fn run(ctx: &crate::Ctx) -> Result<Lines> {
    let service = ctx.service(4, crate::ACQUIRE_TIMEOUT).await?;
    let http = &service.http;
    let mut lines = Lines::default();
    let mut ids = Vec::new();
    for (name, job) in [
        ("l8-Ada", "Engineer"),
        ("l8-Grace", "Admiral"),
        ("l8-Linus", ""),
    ] {
        let body = serde_json::json!({ "name": name, "job": job });
        let reply = http.post("/customers", &body).await?;
        lines.push(format!("POST /customers {body} -> {}", reply.line()));
        let created: Customer = reply.json()?;
        ids.push(created.id);
    }
    let first = ids[0] - 1;
    let page = format!("/customers?after={first}&limit=2");
    let reply = http.get(&page).await?;
    lines.push(format!("GET {page} -> {}", reply.line()));
    let next = reply.json::<CustomerPage>()?.next.unwrap_or_default();
    let page = format!("/customers?after={next}&limit=2");
    lines.push(format!("GET {page} -> {}", http.get(&page).await?.line()));
    let one = format!("/customers/{}", ids[0]);
    lines.push(format!("GET {one} -> {}", http.get(&one).await?.line()));
    let body = serde_json::json!({ "name": "l8-Ada Lovelace", "job": "Engineer" });
    let reply = http.put(&one, &body).await?;
    lines.push(format!("PUT {one} {body} -> {}", reply.line()));
    let last = format!("/customers/{}", ids[2]);
    lines.push(format!(
        "DELETE {last} -> {}",
        http.delete(&last).await?.line()
    ));
    lines.push(format!("GET {last} -> {}", http.get(&last).await?.line()));
    service.stop().await?;
    Ok(lines)
}
