//! Step 2: the article's `customers` table, described with the builder.

use anyhow::Result;
use sea_query::{ColumnDef, Index, MysqlQueryBuilder, Table, TableCreateStatement};
use sqlx::AssertSqlSafe;
use sqlx::mysql::MySqlPool;

use crate::s1_tables::Customers;

// ANCHOR: customers_table
/// The article's `customers` table, described with the builder: what SQLAlchemy Core's
/// `Table("customers", metadata, Column(...), ...)` is, down to the named unique key.
pub fn customers_table() -> TableCreateStatement {
    Table::create()
        .table(Customers::Table)
        .if_not_exists()
        .col(
            ColumnDef::new(Customers::Id)
                .small_integer()
                .not_null()
                .auto_increment()
                .primary_key(),
        )
        .col(ColumnDef::new(Customers::Name).string_len(50).not_null())
        .col(ColumnDef::new(Customers::Job).string_len(50).default(""))
        .index(
            Index::create()
                .unique()
                .name("UQ_name")
                .col(Customers::Name),
        )
        .to_owned()
}
// ANCHOR_END: customers_table

// ANCHOR: create_customers_table
/// Creates the `customers` table if it is not there yet, and returns the DDL it ran.
pub async fn create_customers_table(pool: &MySqlPool) -> Result<String> {
    // DDL takes no bind parameters in MySQL, so a schema statement only has
    // `to_string()`. What we assert: every part of it (names, types, the default '') is
    // written in this file.
    let sql = customers_table().to_string(MysqlQueryBuilder);
    sqlx::query(AssertSqlSafe(sql.clone()))
        .execute(pool)
        .await?;
    Ok(sql)
}
// ANCHOR_END: create_customers_table

/// Whether the database has a table called `customers`.
async fn has_customers_table(pool: &MySqlPool) -> sqlx::Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.tables
         WHERE table_schema = DATABASE() AND table_name = 'customers'",
    )
    .fetch_one(pool)
    .await?;
    Ok(n > 0)
}

/// Step 2's report: the DDL the builder made, and whether the table was there before.
pub async fn run(ctx: &crate::Ctx) -> Result<crate::report::Ddl> {
    use anyhow::Context;
    let existed = has_customers_table(&ctx.pool)
        .await
        .context("cannot look the customers table up")?;
    let sql = create_customers_table(&ctx.pool)
        .await
        .context("cannot create the customers table")?;
    Ok(crate::report::Ddl { sql, existed })
}
