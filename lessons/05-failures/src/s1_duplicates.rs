//! Step 1: errors sorted into the cases a caller acts on, and a duplicate name as a
//! typed domain error, with sqlx, diesel and SeaORM.

use std::fmt;

use anyhow::{Context, Result};
use sea_orm::{DatabaseConnection, DbErr};
use sqlx::error::ErrorKind;
use sqlx::mysql::{MySqlDatabaseError, MySqlPool};

use crate::report::{Classified, DuplicatesReport, SeaOrmError};

// ANCHOR: failure
/// What went wrong, in the terms a caller acts on: retry, tell the user, or give up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Failure {
    /// 1062: a `UNIQUE` or primary key already holds the value.
    UniqueViolation,
    /// 1452 (no parent row) or 1451 (the row is still referenced).
    ForeignKeyViolation,
    /// 1213: a deadlock victim; InnoDB rolled back the whole transaction.
    Deadlock,
    /// 1205: a lock wait outlasted `innodb_lock_wait_timeout`; only the statement
    /// was undone.
    LockWaitTimeout,
    /// 1020 (MariaDB 11.6.2+): a row read has changed since; run it all again.
    RecordChanged,
    /// 1406: a value is longer than its column, under a strict `sql_mode`.
    DataTooLong,
    /// 3024 (MySQL's `MAX_EXECUTION_TIME`) or 1969 (MariaDB's `max_statement_time`).
    StatementTimeout,
    /// 1064 (cannot parse) or 1136 (values do not match columns): malformed SQL.
    MalformedSql,
    /// The connection broke: I/O errors, or MySQL's 4031 (idle too long).
    ConnectionLost,
    /// No connection could be had from the pool in time (the server may be down).
    PoolTimedOut,
    /// Anything else.
    Other,
}
// ANCHOR_END: failure

// ANCHOR: error_number
/// The MySQL error number of a database error, such as 1062, if `err` is one.
pub fn mysql_error_number(err: &sqlx::Error) -> Option<u16> {
    err.as_database_error()?
        .try_downcast_ref::<MySqlDatabaseError>()
        .map(MySqlDatabaseError::number)
}
// ANCHOR_END: error_number

// ANCHOR: classify
/// Sorts any sqlx error into a [`Failure`]: sqlx's portable [`ErrorKind`] first, then
/// the MySQL error number for what sqlx does not name.
pub fn classify(err: &sqlx::Error) -> Failure {
    match err {
        sqlx::Error::Database(db) => match db.kind() {
            ErrorKind::UniqueViolation => Failure::UniqueViolation,
            ErrorKind::ForeignKeyViolation => Failure::ForeignKeyViolation,
            _ => match mysql_error_number(err) {
                Some(1213) => Failure::Deadlock,
                Some(1205) => Failure::LockWaitTimeout,
                // NOTE: MariaDB 11.6.2+ says 1020 where MySQL loses the update.
                Some(1020) => Failure::RecordChanged,
                Some(1406) => Failure::DataTooLong,
                // NOTE: 3024 is MySQL's MAX_EXECUTION_TIME, 1969 MariaDB's limit.
                Some(3024 | 1969) => Failure::StatementTimeout,
                Some(1064 | 1136) => Failure::MalformedSql,
                // NOTE: MySQL 8.0.24+ says 4031 before it drops an idle connection.
                Some(4031) => Failure::ConnectionLost,
                _ => Failure::Other,
            },
        },
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => {
            Failure::ConnectionLost
        }
        sqlx::Error::PoolTimedOut => Failure::PoolTimedOut,
        _ => Failure::Other,
    }
}
// ANCHOR_END: classify

// ANCHOR: customer_error
/// Why a customer could not be added: the caller's business, not a crash.
#[derive(Debug)]
pub enum CustomerError {
    /// Another customer has this name (`UQ_name`): SQLAlchemy's `IntegrityError`.
    NameTaken(String),
    /// Anything else the database said, kept whole for the logs.
    Database(Box<dyn std::error::Error + Send + Sync>),
}

impl fmt::Display for CustomerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CustomerError::NameTaken(name) => {
                write!(f, "a customer named {name:?} already exists")
            }
            CustomerError::Database(e) => write!(f, "the database failed: {e}"),
        }
    }
}

impl std::error::Error for CustomerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CustomerError::NameTaken(_) => None,
            CustomerError::Database(e) => Some(e.as_ref()),
        }
    }
}
// ANCHOR_END: customer_error

// ANCHOR: add_customer
/// Adds a customer with sqlx; a duplicate name becomes [`CustomerError::NameTaken`].
pub async fn add_customer(
    pool: &MySqlPool,
    name: &str,
    job: &str,
) -> Result<u64, CustomerError> {
    let added = sqlx::query("INSERT INTO customers (name, job) VALUES (?, ?)")
        .bind(name)
        .bind(job)
        .execute(pool)
        .await;
    match added {
        Ok(done) => Ok(done.last_insert_id()),
        // `is_unique_violation()` is sqlx's portable test; here it means MySQL error
        // 1062.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Err(CustomerError::NameTaken(name.to_owned()))
        }
        Err(e) => Err(CustomerError::Database(Box::new(e))),
    }
}
// ANCHOR_END: add_customer

// ANCHOR: customer_error_diesel
/// Adds a customer with diesel-async; a duplicate name becomes
/// [`CustomerError::NameTaken`].
pub async fn add_customer_diesel(
    conn: &mut diesel_async::AsyncMysqlConnection,
    name: &str,
    job: &str,
) -> Result<(), CustomerError> {
    use diesel::result::{DatabaseErrorKind, Error as DieselError};
    use diesel::{ExpressionMethods, insert_into};
    use diesel_async::RunQueryDsl;

    use crate::schema::customers;

    let added = insert_into(customers::table)
        .values((customers::name.eq(name), customers::job.eq(job)))
        .execute(conn)
        .await;
    match added {
        Ok(_) => Ok(()),
        // diesel-async maps MySQL's 1062 (and 1586, 1859) to UniqueViolation.
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Err(CustomerError::NameTaken(name.to_owned()))
        }
        Err(e) => Err(CustomerError::Database(Box::new(e))),
    }
}
// ANCHOR_END: customer_error_diesel

// ANCHOR: customer_error_sea_orm
/// Adds a customer with SeaORM; a duplicate name becomes [`CustomerError::NameTaken`].
pub async fn add_customer_sea_orm(
    db: &DatabaseConnection,
    name: &str,
    job: &str,
) -> Result<i16, CustomerError> {
    use sea_orm::{ActiveValue::Set, EntityTrait, SqlErr};

    use crate::entities::customer;

    let customer = customer::ActiveModel {
        name: Set(name.to_owned()),
        job: Set(Some(job.to_owned())),
        ..Default::default()
    };
    match customer::Entity::insert(customer).exec(db).await {
        Ok(done) => Ok(done.last_insert_id),
        Err(e) => match e.sql_err() {
            // NOTE: the text inside names the key `customers.UQ_name` on MySQL and
            // `UQ_name` on MariaDB: match the variant, never the message.
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                Err(CustomerError::NameTaken(name.to_owned()))
            }
            _ => Err(CustomerError::Database(Box::new(e))),
        },
    }
}
// ANCHOR_END: customer_error_sea_orm

// ANCHOR: classify_db_err
/// The sqlx error inside a SeaORM error, when the driver or the server raised it.
pub fn sqlx_error_of(err: &DbErr) -> Option<&sqlx::Error> {
    use sea_orm::RuntimeErr;

    match err {
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => Some(e.as_ref()),
        _ => None,
    }
}

/// Sorts a SeaORM error into a [`Failure`]. `sql_err()` names only unique and
/// foreign-key violations; for the rest, [`classify`] reads the sqlx error inside.
pub fn classify_db_err(err: &DbErr) -> Failure {
    use sea_orm::ConnAcquireErr;

    match (sqlx_error_of(err), err) {
        (Some(e), _) => classify(e),
        (None, DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)) => {
            Failure::PoolTimedOut
        }
        (None, _) => Failure::Other,
    }
}
// ANCHOR_END: classify_db_err

/// One error the database returned, sorted by [`classify`].
pub fn classified(attempt: &str, err: &sqlx::Error) -> Classified {
    Classified {
        attempt: attempt.to_owned(),
        number: mysql_error_number(err),
        sqlstate: err
            .as_database_error()
            .and_then(|e| e.code())
            .map(|c| c.into_owned()),
        failure: classify(err),
    }
}

/// Step 1: a duplicate name through sqlx, diesel and SeaORM, and foreign-key errors,
/// classified.
///
/// Adds the customer "Ada" and one order for her, and deletes both before returning.
pub async fn duplicates(pool: &MySqlPool, url: &str) -> Result<DuplicatesReport> {
    // Start from a clean slate if an earlier run was interrupted halfway.
    remove_ada(pool).await?;
    let first = add_customer(pool, "Ada", "Analyst").await;
    let first_insert_ok = first.is_ok();
    let ada_id = first.map_err(|e| anyhow::anyhow!("{e}"))?;

    let second = add_customer(pool, "Ada", "Analyst").await;
    let sqlx_name_taken = matches!(second, Err(CustomerError::NameTaken(_)));
    let sqlx_second = second.map(|_| ()).map_err(|e| e.to_string());

    let mut diesel_conn = crate::schema::connect(url).await?;
    let third = add_customer_diesel(&mut diesel_conn, "Ada", "Analyst").await;
    let diesel_name_taken = matches!(third, Err(CustomerError::NameTaken(_)));
    let diesel_second = third.map_err(|e| e.to_string());
    drop(diesel_conn);

    // SeaORM on the same pool: a DatabaseConnection is a sqlx pool underneath.
    let db = DatabaseConnection::from(pool.clone());
    let fourth = add_customer_sea_orm(&db, "Ada", "Analyst").await;
    let sea_orm_name_taken = matches!(fourth, Err(CustomerError::NameTaken(_)));
    let sea_orm_second = fourth.map(|_| ()).map_err(|e| e.to_string());
    let (sea_orm_error, sea_orm_row) = sea_orm_duplicate(&db).await?;

    let mut classified = provoke_integrity_errors(pool, ada_id).await?;
    // The table lists SeaORM's duplicate right under sqlx's.
    classified.insert(classified.len().min(1), sea_orm_row);
    remove_ada(pool).await?;
    Ok(DuplicatesReport {
        first_insert_ok,
        sqlx_second,
        sqlx_name_taken,
        diesel_second,
        diesel_name_taken,
        sea_orm_second,
        sea_orm_name_taken,
        sea_orm_error,
        classified,
    })
}

/// A second "Ada" through SeaORM: its `DbErr` as SeaORM words it, and classified.
async fn sea_orm_duplicate(db: &DatabaseConnection) -> Result<(SeaOrmError, Classified)> {
    use sea_orm::{ActiveValue::Set, EntityTrait};

    use crate::entities::customer;

    let ada = customer::ActiveModel {
        name: Set("Ada".to_owned()),
        ..Default::default()
    };
    let Err(err) = customer::Entity::insert(ada).exec(db).await else {
        anyhow::bail!("SeaORM added a second customer named Ada");
    };
    let inner = sqlx_error_of(&err).context("SeaORM's error holds no sqlx error")?;
    let mut row = classified("INSERT a second Ada through SeaORM", inner);
    row.failure = classify_db_err(&err);
    let seen = SeaOrmError {
        message: err.to_string(),
        sql_err: err.sql_err(),
    };
    Ok((seen, row))
}

/// A second "Ada", an order for no customer, and deleting Ada while she has an order:
/// the three errors, classified.
async fn provoke_integrity_errors(
    pool: &MySqlPool,
    ada_id: u64,
) -> Result<Vec<Classified>> {
    let mut classified_errors = Vec::new();
    let dup = sqlx::query("INSERT INTO customers (name, job) VALUES ('Ada', '')")
        .execute(pool)
        .await;
    if let Err(e) = &dup {
        classified_errors.push(classified("INSERT a second customer named Ada", e));
    }
    let orphan = sqlx::query(
        "INSERT INTO orders (customer_id, item, amount_cents) VALUES (-1, 'ghost', 100)",
    )
    .execute(pool)
    .await;
    if let Err(e) = &orphan {
        classified_errors.push(classified("INSERT an order for customer -1", e));
    }
    sqlx::query(
        "INSERT INTO orders (customer_id, item, amount_cents) \
         VALUES (?, 'slide rule', 1999)",
    )
    .bind(ada_id)
    .execute(pool)
    .await
    .context("cannot add an order for Ada")?;
    let referenced = sqlx::query("DELETE FROM customers WHERE id = ?")
        .bind(ada_id)
        .execute(pool)
        .await;
    if let Err(e) = &referenced {
        classified_errors.push(classified("DELETE Ada while she has an order", e));
    }
    Ok(classified_errors)
}

/// Deletes the customer "Ada" that step 1 adds, and her orders.
async fn remove_ada(pool: &MySqlPool) -> Result<()> {
    sqlx::query(
        "DELETE o FROM orders o JOIN customers c ON c.id = o.customer_id \
         WHERE c.name = 'Ada'",
    )
    .execute(pool)
    .await
    .context("cannot delete Ada's orders")?;
    sqlx::query("DELETE FROM customers WHERE name = 'Ada'")
        .execute(pool)
        .await
        .context("cannot delete the customer Ada")?;
    Ok(())
}

/// Step 1's report: the duplicate through the three libraries, and the errors classified.
pub async fn run(ctx: &crate::Ctx) -> Result<DuplicatesReport> {
    duplicates(&ctx.pool, &ctx.url)
        .await
        .context("the duplicates step failed")
}
