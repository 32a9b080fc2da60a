//! The worked answers to lesson 5's exercises. The `solutions` feature compiles this file
//! in place of `exercises.rs`.

use anyhow::Result;
use sea_orm::DatabaseConnection;
use sqlx::mysql::MySqlPool;

// ANCHOR: exercise_1
/// Exercise 5.1: the names of the customers whose name contains `fragment` literally, in
/// alphabetical order. `%`, `_` and `\` in `fragment` match only themselves.
pub async fn customers_named_like(
    pool: &MySqlPool,
    fragment: &str,
) -> Result<Vec<String>> {
    // A bind keeps the fragment out of the SQL text, but LIKE still reads its wildcards:
    // escape them, and the escape character first.
    let mut pattern = String::from("%");
    for c in fragment.chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    // NOTE: `\` is LIKE's default escape character on MySQL and MariaDB (unless sql_mode
    // has NO_BACKSLASH_ESCAPES); `ESCAPE '!'` with `!` as the escape would work under
    // both modes.
    let names =
        sqlx::query_scalar("SELECT name FROM customers WHERE name LIKE ? ORDER BY name")
            .bind(pattern)
            .fetch_all(pool)
            .await?;
    Ok(names)
}
// ANCHOR_END: exercise_1

/// What [`rename_customer`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Renamed {
    /// The customer has the new name.
    Done,
    /// Another customer already has that name; nothing changed.
    NameTaken,
    /// No customer has this id.
    NoSuchCustomer,
}

// ANCHOR: exercise_2
/// Exercise 5.2: gives customer `id` the name `new_name`, and says what happened. Any
/// other database error is an `Err`.
pub async fn rename_customer(
    pool: &MySqlPool,
    id: i16,
    new_name: &str,
) -> Result<Renamed> {
    let updated = sqlx::query("UPDATE customers SET name = ? WHERE id = ?")
        .bind(new_name)
        .bind(id)
        .execute(pool)
        .await;
    match updated {
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Ok(Renamed::NameTaken)
        }
        Err(e) => Err(e.into()),
        // sqlx asks MySQL for rows *matched* (CLIENT_FOUND_ROWS), so renaming a customer
        // to their own name still counts 1: zero means no customer has this id.
        Ok(done) if done.rows_affected() == 0 => Ok(Renamed::NoSuchCustomer),
        Ok(_) => Ok(Renamed::Done),
    }
}
// ANCHOR_END: exercise_2

// ANCHOR: exercise_3
/// Exercise 5.3: takes `quantity` items of product `product` from the table
/// `stock (product INT PRIMARY KEY, left_in_stock INT NOT NULL)`, if that many are left.
/// Returns whether it did. Many tasks call this at once: stock must never go below zero,
/// and every `true` must have taken its items.
pub async fn reserve(pool: &MySqlPool, product: i32, quantity: i32) -> Result<bool> {
    // One statement checks and takes at once: InnoDB locks the row for the UPDATE, so no
    // other reservation can read the old count in between.
    let done = sqlx::query(
        "UPDATE stock SET left_in_stock = left_in_stock - ? \
         WHERE product = ? AND left_in_stock >= ?",
    )
    .bind(quantity)
    .bind(product)
    .bind(quantity)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}
// ANCHOR_END: exercise_3

// ANCHOR: exercise_4
/// Exercise 5.4: exercise 5.2 with SeaORM, through the entity
/// `crate::entities::customer`: gives customer `id` the name `new_name`, and says what
/// happened. Any other database error is an `Err`.
pub async fn rename_customer_sea_orm(
    db: &DatabaseConnection,
    id: i16,
    new_name: &str,
) -> Result<Renamed> {
    use sea_orm::ActiveValue::{Set, Unchanged};
    use sea_orm::{ActiveModelTrait, DbErr, SqlErr};

    use crate::entities::customer;

    // `Unchanged` names the row by its key; `Set` is the one column the UPDATE writes.
    let renamed = customer::ActiveModel {
        id: Unchanged(id),
        name: Set(new_name.to_owned()),
        ..Default::default()
    };
    match renamed.update(db).await {
        Ok(_) => Ok(Renamed::Done),
        // SeaORM's own error when the UPDATE matched no row (with CLIENT_FOUND_ROWS, a
        // rename to the same name still matches one).
        Err(DbErr::RecordNotUpdated) => Ok(Renamed::NoSuchCustomer),
        Err(e) => match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Ok(Renamed::NameTaken),
            _ => Err(e.into()),
        },
    }
}
// ANCHOR_END: exercise_4
