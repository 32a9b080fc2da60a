//! Step 3: create, read, update and delete, and a duplicate name as a typed error.

use std::fmt;

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::{AsyncConnection, AsyncMysqlConnection, RunQueryDsl};

use crate::models::{Customer, CustomerChanges, NewCustomer};
use crate::schema::{customers, orders};

// ANCHOR: last_insert_id
#[diesel::declare_sql_function]
extern "SQL" {
    /// MySQL's `LAST_INSERT_ID()`: the first AUTO_INCREMENT value that this connection's
    /// last INSERT generated. It is per connection, so other sessions' inserts never
    /// change it.
    fn last_insert_id() -> diesel::sql_types::Unsigned<diesel::sql_types::BigInt>;
}

/// The customer that this connection's last INSERT created. MySQL has no `RETURNING`,
/// so this takes two statements: `SELECT LAST_INSERT_ID()`, then the row by its key.
pub async fn last_inserted_customer(
    conn: &mut AsyncMysqlConnection,
) -> QueryResult<Customer> {
    let id: u64 = diesel::select(last_insert_id()).get_result(conn).await?;
    let id =
        i16::try_from(id).map_err(|e| DieselError::DeserializationError(Box::new(e)))?;
    customers::table
        .find(id)
        .select(Customer::as_select())
        .first(conn)
        .await
}
// ANCHOR_END: last_insert_id

// ANCHOR: create_customer
/// Inserts one customer and reads the new row back, on the same connection.
pub async fn create_customer(
    conn: &mut AsyncMysqlConnection,
    new: &NewCustomer<'_>,
) -> Result<Customer, CreateCustomerError> {
    let inserted = diesel::insert_into(customers::table)
        .values(new)
        .execute(conn)
        .await;
    match inserted {
        Ok(_) => Ok(last_inserted_customer(conn).await?),
        // NOTE: MySQL 8 and MariaDB both report error 1062, which diesel-async maps to
        // `UniqueViolation`; only the message differs (MySQL 8 names the key
        // 'customers.UQ_name', MariaDB 'UQ_name'), so match on the kind, never on the
        // text.
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Err(CreateCustomerError::DuplicateName(new.name.to_owned()))
        }
        Err(e) => Err(e.into()),
    }
}
// ANCHOR_END: create_customer

// ANCHOR: create_error
/// Why a customer could not be created.
#[derive(Debug)]
pub enum CreateCustomerError {
    /// Another customer already has this name (the `UQ_name` unique key).
    DuplicateName(String),
    /// Anything else the database reported.
    Database(DieselError),
}

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

impl From<DieselError> for CreateCustomerError {
    fn from(e: DieselError) -> Self {
        Self::Database(e)
    }
}
// ANCHOR_END: create_error

// ANCHOR: create_many
/// Inserts many customers in one multi-row `INSERT`, then reads them back by their unique
/// names. (`LAST_INSERT_ID()` would give only the first row's id.)
pub async fn create_customers(
    conn: &mut AsyncMysqlConnection,
    new: &[NewCustomer<'_>],
) -> QueryResult<Vec<Customer>> {
    diesel::insert_into(customers::table)
        .values(new)
        .execute(conn)
        .await?;
    let names: Vec<&str> = new.iter().map(|c| c.name).collect();
    customers::table
        .filter(customers::name.eq_any(names))
        .order(customers::name.asc())
        .select(Customer::as_select())
        .load(conn)
        .await
}
// ANCHOR_END: create_many

// ANCHOR: query
/// Up to `limit` customers whose job contains `word`, by name:
/// `select(Customer).where(...)`.
pub async fn customers_with_job_like(
    conn: &mut AsyncMysqlConnection,
    word: &str,
    limit: i64,
) -> QueryResult<Vec<Customer>> {
    customers::table
        .filter(customers::job.like(format!("%{word}%")))
        .order(customers::name.asc())
        .limit(limit)
        .select(Customer::as_select())
        .load(conn)
        .await
}
// ANCHOR_END: query

// ANCHOR: find
/// The customer with primary key `id`, if there is one: `session.get(Customer, id)`.
pub async fn find_customer(
    conn: &mut AsyncMysqlConnection,
    id: i16,
) -> QueryResult<Option<Customer>> {
    customers::table
        .find(id)
        .select(Customer::as_select())
        .first(conn)
        .await
        .optional()
}
// ANCHOR_END: find

// ANCHOR: update
/// Applies `changes` to `customer` and returns the row as it now is (no `RETURNING`
/// again).
pub async fn update_customer(
    conn: &mut AsyncMysqlConnection,
    customer: &Customer,
    changes: &CustomerChanges<'_>,
) -> QueryResult<Customer> {
    diesel::update(customer).set(changes).execute(conn).await?;
    customers::table
        .find(customer.id)
        .select(Customer::as_select())
        .first(conn)
        .await
}
// ANCHOR_END: update

// ANCHOR: delete
/// Deletes the customers with these ids, and their orders first (the foreign key demands
/// it). Returns how many customers went.
pub async fn delete_customers(
    conn: &mut AsyncMysqlConnection,
    ids: &[i16],
) -> QueryResult<usize> {
    let ids = ids.to_vec();
    conn.transaction(async |conn| {
        diesel::delete(orders::table.filter(orders::customer_id.eq_any(&ids)))
            .execute(conn)
            .await?;
        diesel::delete(customers::table.filter(customers::id.eq_any(&ids)))
            .execute(conn)
            .await
    })
    .await
}
// ANCHOR_END: delete

/// The customers that step 3 creates, with one multi-row `INSERT`.
const THREE: [NewCustomer<'static>; 3] = [
    NewCustomer {
        name: "Grace",
        job: Some("Compiler Developer"),
    },
    NewCustomer {
        name: "Linus",
        job: Some("Kernel Developer"),
    },
    NewCustomer {
        name: "Margaret",
        job: None,
    },
];

/// Step 3's report: each CRUD call's result. What the step creates, it deletes again.
pub async fn run(ctx: &crate::Ctx) -> anyhow::Result<crate::report::Crud> {
    let conn = &mut *crate::s2_sessions::session(&ctx.pool).await?;
    let ada = NewCustomer {
        name: "Ada",
        job: Some("Engineer"),
    };
    let created = create_customer(conn, &ada).await?;
    let many = create_customers(conn, &THREE).await?;
    let developers = customers_with_job_like(conn, "Developer", 2).await?;
    let found = find_customer(conn, created.id).await?;
    let missing = find_customer(conn, -1).await?;
    let changes = CustomerChanges {
        job: Some(Some("Staff Engineer")),
        ..CustomerChanges::default()
    };
    let updated = update_customer(conn, &created, &changes).await?;
    let mut ids: Vec<i16> = many.iter().map(|c| c.id).chain([created.id]).collect();
    let lynn = NewCustomer {
        name: "Lynn",
        job: Some("Frontend Developer"),
    };
    let duplicate = match create_customer(conn, &lynn).await {
        Ok(second) => {
            ids.push(second.id);
            Ok(second)
        }
        Err(CreateCustomerError::DuplicateName(name)) => Err(name),
        Err(e) => return Err(e.into()),
    };
    let deleted = delete_customers(conn, &ids).await?;
    Ok(crate::report::Crud {
        created,
        many,
        developers,
        found,
        missing,
        updated,
        duplicate,
        deleted,
    })
}
