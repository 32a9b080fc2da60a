//! Step 3, with SeaORM: create, read, update and delete through the entities and their
//! `ActiveModel`s, the id of an insert on a server without `RETURNING`, and a duplicate
//! name as a typed error.

use std::fmt;

use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait};
use sea_orm::{IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, SqlErr};
use sea_orm::{TransactionSession, TransactionTrait};

use super::{customer, order};

// ANCHOR: new_customer
/// A customer to insert, as an `ActiveModel`: each field `Set` to a value, or `NotSet`
/// to leave it out of the `INSERT`: the `id`, which AUTO_INCREMENT gives, and the `job`
/// when there is none, which then gets the column's default, `''`.
pub fn new_customer(name: &str, job: Option<&str>) -> customer::ActiveModel {
    customer::ActiveModel {
        id: NotSet,
        name: Set(name.to_owned()),
        job: match job {
            Some(job) => Set(Some(job.to_owned())),
            None => NotSet,
        },
    }
}
// ANCHOR_END: new_customer

// ANCHOR: create_customer
/// Inserts one customer and returns the row. MySQL has no `RETURNING`, so `insert`
/// takes the new id from the server's OK packet (`last_insert_id`, no extra statement)
/// and then selects the row by it: two statements.
pub async fn create_customer(
    db: &impl ConnectionTrait,
    name: &str,
    job: Option<&str>,
) -> Result<customer::Model, CreateCustomerError> {
    // NOTE: MariaDB 10.5+ has `INSERT ... RETURNING` and MySQL has not; SeaORM sends it
    // only with its feature `mariadb-use-returning`, which MySQL would refuse.
    match new_customer(name, job).insert(db).await {
        Ok(created) => Ok(created),
        // NOTE: `sql_err` reads the server's error number, 1062 on MySQL 8 and MariaDB
        // alike, so their different messages do not matter.
        Err(e) => match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                Err(CreateCustomerError::DuplicateName(name.to_owned()))
            }
            _ => Err(CreateCustomerError::Database(e)),
        },
    }
}
// ANCHOR_END: create_customer

// ANCHOR: create_error
/// Why a customer could not be created.
#[derive(Debug)]
pub enum CreateCustomerError {
    /// Another customer already has this name (the `UQ_name` unique key).
    DuplicateName(String),
    /// Anything else: SeaORM's one error type, `DbErr`.
    Database(DbErr),
}
// ANCHOR_END: create_error

impl fmt::Display for CreateCustomerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DuplicateName(name) => {
                write!(f, "a customer named {name:?} already exists")
            }
            Self::Database(e) => write!(f, "cannot create the customer: {e}"),
        }
    }
}

impl std::error::Error for CreateCustomerError {}

// ANCHOR: create_many
/// Inserts customers, given as `(name, job)`, in one multi-row `INSERT`, and reads them
/// back by their unique names. Returns them with the `last_insert_id` that `exec`
/// reported: on MySQL, the id of the FIRST row that the statement inserted.
pub async fn create_customers(
    db: &impl ConnectionTrait,
    new: &[(&str, Option<&str>)],
) -> Result<(Vec<customer::Model>, Option<i16>), DbErr> {
    let rows = new.iter().map(|&(name, job)| new_customer(name, job));
    let inserted = customer::Entity::insert_many(rows).exec(db).await?;
    let created = customer::Entity::find()
        .filter(customer::Column::Name.is_in(new.iter().map(|&(name, _)| name)))
        .order_by_asc(customer::Column::Name)
        .all(db)
        .await?;
    Ok((created, inserted.last_insert_id))
}
// ANCHOR_END: create_many

// ANCHOR: query
/// Up to `limit` customers whose job contains `word`, by name.
pub async fn customers_with_job_like(
    db: &impl ConnectionTrait,
    word: &str,
    limit: u64,
) -> Result<Vec<customer::Model>, DbErr> {
    customer::Entity::find()
        .filter(customer::Column::Job.contains(word))
        .order_by_asc(customer::Column::Name)
        .limit(limit)
        .all(db)
        .await
}

/// The customer with primary key `id`, if there is one: always a query.
pub async fn find_customer(
    db: &impl ConnectionTrait,
    id: i16,
) -> Result<Option<customer::Model>, DbErr> {
    customer::Entity::find_by_id(id).one(db).await
}
// ANCHOR_END: query

// ANCHOR: update
/// Gives `customer` a new job and returns the row as it now is. The `ActiveModel`
/// remembers which fields were `Set`, so the `UPDATE` sets `job` only; with no
/// `RETURNING`, `update` then selects the row again.
pub async fn update_job(
    db: &impl ConnectionTrait,
    customer: customer::Model,
    job: Option<&str>,
) -> Result<customer::Model, DbErr> {
    let mut changes = customer.into_active_model();
    changes.job = Set(job.map(str::to_owned));
    changes.update(db).await
}
// ANCHOR_END: update

// ANCHOR: delete
/// Deletes the customers with these ids, and their orders first (the foreign key
/// demands it), in one transaction: `begin`, then `commit`. Dropping the transaction
/// without `commit`, as a `?` does, rolls it back. Returns how many customers went.
pub async fn delete_customers(
    db: &impl TransactionTrait,
    ids: &[i16],
) -> Result<u64, DbErr> {
    let txn = db.begin().await?;
    order::Entity::delete_many()
        .filter(order::Column::CustomerId.is_in(ids.iter().copied()))
        .exec(&txn)
        .await?;
    let deleted = customer::Entity::delete_many()
        .filter(customer::Column::Id.is_in(ids.iter().copied()))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(deleted.rows_affected)
}
// ANCHOR_END: delete

/// The customers that step 3 creates with one `insert_many`, as in diesel's step 3.
const THREE: [(&str, Option<&str>); 3] = [
    ("Grace", Some("Compiler Developer")),
    ("Linus", Some("Kernel Developer")),
    ("Margaret", None),
];

/// Step 3's report, with SeaORM: each CRUD call's result. What the step creates, it
/// deletes again.
pub async fn run(ctx: &super::Ctx) -> anyhow::Result<super::report::Crud> {
    let db = &ctx.db;
    let log = super::s4_relations::StatementLog::default();
    let created = create_customer(
        &super::s4_relations::watched(db, &log),
        "Ada",
        Some("Engineer"),
    )
    .await?;
    let insert_sql = log.take();
    let (many, last_insert_id) = create_customers(db, &THREE).await?;
    let developers = customers_with_job_like(db, "Developer", 2).await?;
    let found = find_customer(db, created.id).await?;
    let missing = find_customer(db, -1).await?;
    let updated = update_job(db, created.clone(), Some("Staff Engineer")).await?;
    let mut ids: Vec<i16> = many.iter().map(|c| c.id).chain([created.id]).collect();
    let duplicate = match create_customer(db, "Lynn", Some("Frontend Developer")).await {
        Ok(second) => {
            ids.push(second.id);
            Ok(second)
        }
        Err(CreateCustomerError::DuplicateName(name)) => Err(name),
        Err(e) => return Err(e.into()),
    };
    let last_insert_row = many.iter().position(|c| Some(c.id) == last_insert_id);
    let deleted = delete_customers(db, &ids).await?;
    Ok(super::report::Crud {
        created,
        insert_sql,
        many,
        last_insert_row,
        developers,
        found,
        missing,
        updated,
        duplicate,
        deleted,
    })
}
