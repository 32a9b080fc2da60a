//! Step 1: the schema and the models, and the SQL that diesel builds from them.

use diesel::mysql::Mysql;
use diesel::prelude::*;

use crate::models::{Customer, NewCustomer};
use crate::schema::customers;

// ANCHOR: debug_query
/// The SQL that diesel generates for a typical load and a typical insert, as diesel's
/// `debug_query` shows it: the statement with `?` placeholders, then its bind values.
pub fn generated_sql() -> Vec<String> {
    let load = customers::table
        .filter(customers::name.eq("Lynn"))
        .select(Customer::as_select());
    let insert = diesel::insert_into(customers::table).values(NewCustomer {
        name: "Ada",
        job: Some("Engineer"),
    });
    vec![
        diesel::debug_query::<Mysql, _>(&load).to_string(),
        diesel::debug_query::<Mysql, _>(&insert).to_string(),
    ]
}
// ANCHOR_END: debug_query

/// Step 1's report: the generated SQL. Nothing here touches the database.
pub async fn run(_ctx: &crate::Ctx) -> anyhow::Result<crate::report::GeneratedSql> {
    Ok(crate::report::GeneratedSql(generated_sql()))
}
