//! Lesson 2: the Core-style query builder with sea-query, the Rust form of SQLAlchemy
//! Core.
//!
//! Tables are described in code (`#[derive(Iden)]` enums), statements are built from
//! expressions, and every statement runs through sqlx with its values bound as parameters
//! (`build_sqlx` and `query_with`).
//!
//! One module a step, in the chapter's order. Each starts with the code the book shows;
//! its `run`, at the end, is what `main.rs` calls, and returns a report of plain data
//! that [`report`] prints.

pub mod s1_tables;
pub mod s2_ddl;
pub mod s3_writing;
pub mod s4_select;
pub mod s5_dynamic;
pub mod s6_seeing_sql;
pub mod s7_update_delete;

pub mod report;

// The exercises at the end of the chapter. With the `solutions` feature, the worked
// answers stand in their place, so that CI can check that every exercise is solvable.
#[cfg(not(feature = "solutions"))]
pub mod exercises;
#[cfg(feature = "solutions")]
#[path = "solutions.rs"]
pub mod exercises;

pub use s1_tables::{Customer, Customers, Orders, customer_columns};
pub use s2_ddl::{create_customers_table, customers_table};
pub use s3_writing::{
    SAMPLE_CUSTOMERS, SAMPLE_ORDERS, count_customers, customer_ids, execute,
    insert_customers_statement, insert_orders, insert_orders_statement,
    upsert_customer_statement,
};
pub use s4_select::{
    CustomerTotals, by_job, count_by_job, count_by_job_statement, fetch_customers,
    name_like, named, totals, totals_statement,
};
pub use s5_dynamic::{
    Filters, LIKE_ESCAPE, big_spenders, like_prefix, search, search_statement,
};
pub use s6_seeing_sql::{Inlined, InlinedVersusBound, by_name, inlined_versus_bound};
pub use s7_update_delete::{
    clean_up, delete_customers_statement, delete_orders_of_statement, sample_names,
    set_job_statement,
};

/// What every step runs against: the lesson's pool, on a database with the shared schema.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The pool `main` opens.
    pub pool: sqlx::MySqlPool,
}
