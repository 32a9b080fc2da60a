//! Lesson 3: the ORM, two ways: diesel-async, and SeaORM. Each is a Rust form of
//! SQLAlchemy's async ORM: mapped classes, an `AsyncSession`, CRUD, and relationships
//! loaded eagerly.
//!
//! One module a step, in the chapter's order: diesel-async's at the top, SeaORM's in
//! [`seaorm`]. Each starts with the code the book shows; its `run`, at the end, is what
//! `main.rs` calls, and returns a report of plain data that [`report`] (or
//! [`seaorm::report`]) prints. `schema.rs` and `models.rs` are diesel's usual two files;
//! `seaorm/customer.rs` and `seaorm/order.rs` are SeaORM's entities for the same tables.

pub mod models;
pub mod schema;

pub mod s1_models;
pub mod s2_sessions;
pub mod s3_crud;
pub mod s4_relations;
pub mod s5_transactions;
pub mod s6_pagination;
pub mod s7_streaming;

pub mod report;

// The exercises at the end of the chapter. With the `solutions` feature, the worked
// answers stand in their place, so that CI can check that every exercise is solvable.
#[cfg(not(feature = "solutions"))]
pub mod exercises;
#[cfg(feature = "solutions")]
#[path = "solutions.rs"]
pub mod exercises;

pub use s1_models::generated_sql;
pub use s2_sessions::{
    CONNECT_TIMEOUT, DbConn, DbPool, MIGRATIONS, migrate, run_migrations,
    run_migrations_on_any_runtime, session, session_factory,
};
pub use s3_crud::{
    CreateCustomerError, create_customer, create_customers, customers_with_job_like,
    delete_customers, find_customer, update_customer,
};
pub use s4_relations::{
    count_statements, customers_with_orders_eager, customers_with_orders_naive,
    record_statements, seed_customers_with_orders, server_questions,
};
pub use s5_transactions::{
    TransferError, add_order, add_orders_then_fail, nested_transaction, order_items,
    transfer_orders,
};
pub use s6_pagination::{
    all_pages_by_keyset, all_pages_by_offset, orders_page_after, orders_page_by_offset,
    second_page_after_a_delete,
};
pub use s7_streaming::{STREAM_ORDERS, stream_order_total};

/// What every step runs against: the lesson's pool, which main.rs builds with step 2's
/// [`session_factory`].
pub struct Ctx {
    /// The pool every step takes its connection from.
    pub pool: DbPool,
}

/// The same seven steps with SeaORM, on the same tables, each run after its diesel-async
/// twin. SeaORM builds its SQL with sea-query (lesson 2) and runs it with sqlx (lesson 1).
pub mod seaorm {
    pub mod customer;
    pub mod order;

    pub mod s1_entities;
    pub mod s2_sessions;
    pub mod s3_crud;
    pub mod s4_relations;
    pub mod s5_transactions;
    pub mod s6_pagination;
    pub mod s7_streaming;

    pub mod report;

    pub use s1_entities::generated_sql;
    pub use s2_sessions::{
        CONNECT_TIMEOUT, connect, connect_options, connect_quiet, pool_status,
    };
    pub use s3_crud::{
        CreateCustomerError, create_customer, create_customers, customers_with_job_like,
        delete_customers, find_customer, new_customer, update_job,
    };
    pub use s4_relations::{
        StatementLog, WithOrders, count_statements, customers_with_orders_joined,
        customers_with_orders_loaded, customers_with_orders_naive, record_statements,
        seed_customers_with_orders, server_questions,
    };
    pub use s5_transactions::{
        TransferError, add_order, add_orders_then_fail, nested_transaction, order_items,
        owed_cents, transfer_orders,
    };
    pub use s6_pagination::{
        all_pages_by_keyset, all_pages_by_offset, orders_page_after,
        orders_page_by_offset, second_page_after_a_delete,
    };
    pub use s7_streaming::stream_order_total;

    /// What every SeaORM step runs against, which main.rs builds with step 2's
    /// [`connect`].
    pub struct Ctx {
        /// The lesson's SeaORM pool.
        pub db: sea_orm::DatabaseConnection,
        /// The database's URL, for step 2's second pool. It may hold a password: never
        /// print it.
        pub url: String,
    }
}
