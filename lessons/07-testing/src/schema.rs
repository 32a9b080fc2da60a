//! The diesel schema of the article's table, as the steps write to it through diesel.

diesel::table! {
    /// The article's `customers` table.
    customers (id) {
        /// `SMALLINT AUTO_INCREMENT`.
        id -> SmallInt,
        /// `VARCHAR(50) NOT NULL`, unique.
        name -> Varchar,
        /// `VARCHAR(50) DEFAULT ''`.
        job -> Nullable<Varchar>,
    }
}

diesel::table! {
    /// Step 5's table of values that make a round trip.
    round_trips (id) {
        /// The row's id.
        id -> Integer,
        /// `VARCHAR(50)`, `utf8mb4`, the database's default collation.
        body -> Varchar,
        /// `DATE`.
        day -> Date,
    }
}
