//! The tables as diesel sees them. `diesel print-schema` writes this file from a live
//! database; here it is written by hand, and a test checks it against what the migrations
//! create.

// ANCHOR: customers_table
diesel::table! {
    /// The article's table: `id` is a SMALLINT, `job` may be NULL and defaults to ''.
    customers (id) {
        /// The primary key, `SMALLINT AUTO_INCREMENT`.
        id -> SmallInt,
        /// The customer's name, unique (`UQ_name`).
        #[max_length = 50]
        name -> Varchar,
        /// The job, nullable, `DEFAULT ''`.
        #[max_length = 50]
        job -> Nullable<Varchar>,
    }
}
// ANCHOR_END: customers_table

// ANCHOR: orders_table
diesel::table! {
    /// Orders, each belonging to one customer.
    orders (id) {
        /// The primary key, `INT AUTO_INCREMENT`.
        id -> Integer,
        /// The customer who placed the order (a foreign key).
        customer_id -> SmallInt,
        /// What was ordered.
        #[max_length = 100]
        item -> Varchar,
        /// The price in whole cents.
        amount_cents -> Integer,
    }
}

diesel::joinable!(orders -> customers (customer_id));
diesel::allow_tables_to_appear_in_same_query!(customers, orders);
// ANCHOR_END: orders_table
