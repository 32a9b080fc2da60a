//! The diesel schema of the tables the lesson writes through diesel.

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
    /// The lesson's table for hostile strings.
    lesson5_strings (id) {
        /// The row's id.
        id -> Integer,
        /// Which library wrote the row.
        via -> Varchar,
        /// The string's number in the generated list.
        k -> Integer,
        /// `VARCHAR(50) NOT NULL`.
        body -> Varchar,
    }
}

/// A diesel-async connection to `url`, for the steps that write through diesel.
pub async fn connect(url: &str) -> anyhow::Result<diesel_async::AsyncMysqlConnection> {
    use anyhow::Context;
    use diesel_async::AsyncConnection;

    diesel_async::AsyncMysqlConnection::establish(url)
        .await
        .context("diesel cannot connect")
}
