//! Lesson 3: the ORM with diesel-async.
//!
//! The article's third scenario is SQLAlchemy's ORM: mapped classes, an `AsyncSession`,
//! CRUD, and relationships loaded eagerly. Here the same with diesel and diesel-async on
//! MySQL. Each step is a small public function that `main.rs` calls and the book
//! includes.

// The exercises at the end of the chapter. With the `solutions` feature, the worked
// answers stand in their place, so that CI can check that every exercise is solvable.
#[cfg(not(feature = "solutions"))]
pub mod exercises;
#[cfg(feature = "solutions")]
#[path = "solutions.rs"]
pub mod exercises;

pub mod models;
pub mod schema;

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::mysql::Mysql;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::{
    AsyncConnection, AsyncMigrationHarness, AsyncMysqlConnection, RunQueryDsl,
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::models::{Customer, CustomerChanges, NewCustomer, NewOrder, Order};
use crate::schema::{customers, orders};

/// How long taking a connection from the pool may take before it is reported as an error.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------------------------------
// Step 1: schema and models
// ---------------------------------------------------------------------------------------

// ANCHOR: debug_query
/// The SQL that diesel generates for a typical load and a typical insert, as diesel's
/// `debug_query` shows it: the statement with `?` placeholders, then its bind values.
pub fn generated_sql() -> Vec<String> {
    let load = customers::table
        .filter(customers::name.eq("Lynn"))
        .select(Customer::as_select());
    let insert = diesel::insert_into(customers::table).values(NewCustomer {
        name: "Ada",
        job: Some("Engineer"),
    });
    vec![
        diesel::debug_query::<Mysql, _>(&load).to_string(),
        diesel::debug_query::<Mysql, _>(&insert).to_string(),
    ]
}
// ANCHOR_END: debug_query

// ---------------------------------------------------------------------------------------
// Step 2: the pool as a session factory, and migrations
// ---------------------------------------------------------------------------------------

// ANCHOR: pool
/// A pool of diesel-async MySQL connections: `async_sessionmaker`'s part.
pub type DbPool = Pool<AsyncMysqlConnection>;

/// A connection taken from the pool: `AsyncSession`'s part. It goes back when dropped.
pub type DbConn = Object<AsyncMysqlConnection>;

/// Builds a pool of at most `max_size` connections to `url`. Nothing connects yet.
pub fn session_factory(url: &str, max_size: usize) -> Result<DbPool> {
    refuse_tls_without_support(url)?;
    let manager = AsyncDieselConnectionManager::<AsyncMysqlConnection>::new(url);
    Pool::builder(manager)
        .max_size(max_size)
        .build()
        .context("cannot build the connection pool")
}

/// Takes a connection from the pool, failing within [`CONNECT_TIMEOUT`] with one line
/// that never shows the password.
pub async fn session(pool: &DbPool) -> Result<DbConn> {
    match tokio::time::timeout(CONNECT_TIMEOUT, pool.get()).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => {
            let message = workbook::redact_text(&e.to_string());
            // mysql_async reads the URL, and its parameters are not sqlx's (`ssl-mode`,
            // ...).
            let hint = if message.contains("URL parameter") {
                "; diesel-async's URL parameters are mysql_async's, such as require_ssl=true"
            } else {
                ""
            };
            Err(anyhow!("cannot connect: {message}{hint}"))
        }
        Err(_) => Err(anyhow!(
            "cannot connect: no answer within {} s",
            CONNECT_TIMEOUT.as_secs()
        )),
    }
}
// ANCHOR_END: pool

// ANCHOR: tls_guard
/// Refuses a URL that asks mysql_async for TLS (`require_ssl=true`), because this build
/// has none: diesel-async compiles mysql_async without TLS, and mysql_async then panics
/// on the first connection instead of returning an error. The book's chapter says how to
/// add TLS.
pub fn refuse_tls_without_support(url: &str) -> Result<()> {
    let parsed = url::Url::parse(url)
        .map_err(|e| anyhow!("{} is not a valid URL: {e}", workbook::redact(url)))?;
    let wants_tls = parsed
        .query_pairs()
        .any(|(key, value)| key == "require_ssl" && value == "true");
    if wants_tls {
        anyhow::bail!(
            "{} asks for TLS (require_ssl=true), but this build of mysql_async has no TLS: \
             enable its `rustls-tls` feature (see the chapter), or remove the parameter",
            workbook::redact(url)
        );
    }
    Ok(())
}
// ANCHOR_END: tls_guard

// ANCHOR: migrations
/// The lesson's migrations (`lessons/03-orm/migrations/`), compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Runs the pending migrations on `conn` and returns the versions now applied, oldest
/// first.
///
/// NOTE: `AsyncMigrationHarness` runs diesel's synchronous migration code inside
/// `tokio::task::block_in_place`, which panics on tokio's current-thread runtime. Call
/// this from the multi-thread runtime (`#[tokio::main]`, `#[tokio::test(flavor =
/// "multi_thread")]`).
pub fn run_migrations(conn: DbConn) -> Result<(Vec<String>, DbConn)> {
    let mut harness = AsyncMigrationHarness::new(conn);
    harness
        .run_pending_migrations(MIGRATIONS)
        .map_err(|e| anyhow!("cannot run the migrations: {e}"))?;
    let mut applied: Vec<String> = harness
        .applied_migrations()
        .map_err(|e| anyhow!("cannot list the applied migrations: {e}"))?
        .iter()
        .map(ToString::to_string)
        .collect();
    applied.sort();
    Ok((applied, harness.into_inner()))
}
// ANCHOR_END: migrations

// ANCHOR: migrations_blocking
/// [`run_migrations`] on tokio's blocking thread pool: this works on any tokio runtime,
/// the current-thread one included, because `block_in_place` is allowed outside the
/// runtime's worker threads.
pub async fn run_migrations_on_any_runtime(
    conn: DbConn,
) -> Result<(Vec<String>, DbConn)> {
    tokio::task::spawn_blocking(move || run_migrations(conn))
        .await
        .context("the migration task failed")?
}
// ANCHOR_END: migrations_blocking

// ---------------------------------------------------------------------------------------
// Step 3: CRUD
// ---------------------------------------------------------------------------------------

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

// ANCHOR: last_insert_id
#[diesel::declare_sql_function]
extern "SQL" {
    /// MySQL's `LAST_INSERT_ID()`: the first AUTO_INCREMENT value that this connection's
    /// last INSERT generated. It is per connection, so other sessions' inserts never
    /// change it.
    fn last_insert_id() -> diesel::sql_types::Unsigned<diesel::sql_types::BigInt>;
}

/// Inserts one customer and reads the new row back: MySQL has no `RETURNING`, so this
/// takes a second statement, `SELECT LAST_INSERT_ID()`, then a third to load the row by
/// its key.
pub async fn create_customer(
    conn: &mut AsyncMysqlConnection,
    new: &NewCustomer<'_>,
) -> Result<Customer, CreateCustomerError> {
    match diesel::insert_into(customers::table)
        .values(new)
        .execute(conn)
        .await
    {
        Ok(_) => {}
        // NOTE: MySQL 8 and MariaDB both report error 1062, which diesel-async maps to
        // `UniqueViolation`; only the message differs (MySQL 8 names the key
        // 'customers.UQ_name', MariaDB 'UQ_name'), so match on the kind, never on the
        // text.
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            return Err(CreateCustomerError::DuplicateName(new.name.to_owned()));
        }
        Err(e) => return Err(e.into()),
    }
    let id: u64 = diesel::select(last_insert_id()).get_result(conn).await?;
    let id =
        i16::try_from(id).map_err(|e| DieselError::DeserializationError(Box::new(e)))?;
    let customer = customers::table
        .find(id)
        .select(Customer::as_select())
        .first(conn)
        .await?;
    Ok(customer)
}
// ANCHOR_END: last_insert_id

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
// ANCHOR_END: query

// ANCHOR: update_delete
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
// ANCHOR_END: update_delete

// ---------------------------------------------------------------------------------------
// Step 4: relationships and the N+1 trap
// ---------------------------------------------------------------------------------------

// ANCHOR: statement_log
/// A diesel `Instrumentation` that writes down the SQL of every statement the connection
/// sends, without its bind values.
#[derive(Clone, Default)]
pub struct StatementLog(Arc<Mutex<Vec<String>>>);

impl Instrumentation for StatementLog {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            let text = query.to_string();
            let sql = text.split(" -- binds:").next().unwrap_or_default().trim();
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(sql.to_owned());
        }
    }
}

/// Runs `work` on `conn` and returns its result with the SQL of every statement it sent.
pub async fn record_statements<R, E>(
    conn: &mut AsyncMysqlConnection,
    work: impl AsyncFnOnce(&mut AsyncMysqlConnection) -> Result<R, E>,
) -> Result<(R, Vec<String>), E> {
    let log = StatementLog::default();
    conn.set_instrumentation(log.clone());
    let result = work(conn).await;
    // The connection goes back to the pool: take the log off it again.
    conn.set_instrumentation(None::<StatementLog>);
    let statements =
        std::mem::take(&mut *log.0.lock().unwrap_or_else(PoisonError::into_inner));
    result.map(|r| (r, statements))
}

/// Runs `work` on `conn` and returns its result with how many statements it sent.
pub async fn count_statements<R, E>(
    conn: &mut AsyncMysqlConnection,
    work: impl AsyncFnOnce(&mut AsyncMysqlConnection) -> Result<R, E>,
) -> Result<(R, usize), E> {
    let (r, statements) = record_statements(conn, work).await?;
    Ok((r, statements.len()))
}
// ANCHOR_END: statement_log

// ANCHOR: questions
/// One row of `SHOW SESSION STATUS`.
#[derive(QueryableByName)]
struct StatusRow {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = Value)]
    value: String,
}

/// The server's count of statements this session has sent (`Questions`), the `SHOW` that
/// reads it included. Prepared statements count once per execution; preparing and closing
/// them (`COM_STMT_PREPARE`, `COM_STMT_CLOSE`) do not count.
///
/// NOTE: `SHOW SESSION STATUS` works on MySQL 8 and MariaDB alike; MariaDB also has
/// `information_schema.SESSION_STATUS`, which MySQL 8 removed (it has
/// `performance_schema.session_status`, which MariaDB fills only when performance_schema
/// is on).
pub async fn server_questions(conn: &mut AsyncMysqlConnection) -> QueryResult<u64> {
    let row: StatusRow = diesel::sql_query("SHOW SESSION STATUS LIKE 'Questions'")
        .get_result(conn)
        .await?;
    row.value
        .parse()
        .map_err(|e| DieselError::DeserializationError(Box::new(e)))
}
// ANCHOR_END: questions

// ANCHOR: naive
/// The customers named `names`, by name, each with its orders: one query for the
/// customers, then one more per customer. This is the N+1 pattern that lazy loading
/// hides.
pub async fn customers_with_orders_naive(
    conn: &mut AsyncMysqlConnection,
    names: &[&str],
) -> QueryResult<Vec<(Customer, Vec<Order>)>> {
    let found: Vec<Customer> = customers::table
        .filter(customers::name.eq_any(names))
        .order(customers::name.asc())
        .select(Customer::as_select())
        .load(conn)
        .await?;
    let mut out = Vec::with_capacity(found.len());
    for customer in found {
        let orders = Order::belonging_to(&customer)
            .order(orders::id.asc())
            .select(Order::as_select())
            .load(conn)
            .await?;
        out.push((customer, orders));
    }
    Ok(out)
}
// ANCHOR_END: naive

// ANCHOR: eager
/// The same result in two statements, whatever the number of customers: the customers,
/// then all their orders at once (`WHERE customer_id IN (...)`), grouped in memory. This
/// is SQLAlchemy's `selectinload`.
pub async fn customers_with_orders_eager(
    conn: &mut AsyncMysqlConnection,
    names: &[&str],
) -> QueryResult<Vec<(Customer, Vec<Order>)>> {
    let found: Vec<Customer> = customers::table
        .filter(customers::name.eq_any(names))
        .order(customers::name.asc())
        .select(Customer::as_select())
        .load(conn)
        .await?;
    let orders: Vec<Order> = Order::belonging_to(&found)
        .order(orders::id.asc())
        .select(Order::as_select())
        .load(conn)
        .await?;
    let grouped = orders.grouped_by(&found);
    Ok(found.into_iter().zip(grouped).collect())
}
// ANCHOR_END: eager

/// Creates customers named `names` (job "Buyer"), with `orders_each` orders each, in one
/// transaction. Returns the customers, by name.
pub async fn seed_customers_with_orders(
    conn: &mut AsyncMysqlConnection,
    names: &[&str],
    orders_each: usize,
) -> QueryResult<Vec<Customer>> {
    let names = names.to_vec();
    conn.transaction(async |conn| {
        let new: Vec<NewCustomer> = names
            .iter()
            .map(|name| NewCustomer {
                name,
                job: Some("Buyer"),
            })
            .collect();
        let created = create_customers(conn, &new).await?;
        let items: Vec<String> = (1..=orders_each).map(|i| format!("item {i}")).collect();
        let new_orders: Vec<NewOrder> = created
            .iter()
            .flat_map(|c| {
                items.iter().enumerate().map(|(i, item)| NewOrder {
                    customer_id: c.id,
                    item,
                    amount_cents: 100 * (i as i32 + 1),
                })
            })
            .collect();
        if !new_orders.is_empty() {
            diesel::insert_into(orders::table)
                .values(&new_orders)
                .execute(conn)
                .await?;
        }
        Ok(created)
    })
    .await
}

// ---------------------------------------------------------------------------------------
// Step 5: transactions
// ---------------------------------------------------------------------------------------

/// Adds one order for `customer`.
pub async fn add_order(
    conn: &mut AsyncMysqlConnection,
    customer: &Customer,
    item: &str,
    amount_cents: i32,
) -> QueryResult<usize> {
    diesel::insert_into(orders::table)
        .values(NewOrder {
            customer_id: customer.id,
            item,
            amount_cents,
        })
        .execute(conn)
        .await
}

/// The items of `customer`'s orders, oldest first.
pub async fn order_items(
    conn: &mut AsyncMysqlConnection,
    customer: &Customer,
) -> QueryResult<Vec<String>> {
    Order::belonging_to(customer)
        .order(orders::id.asc())
        .select(orders::item)
        .load(conn)
        .await
}

// ANCHOR: transaction
/// Adds two orders in one transaction and then fails on purpose: `transaction` rolls back
/// on `Err`, so neither order stays. Returns the error that caused the rollback.
pub async fn add_orders_then_fail(
    conn: &mut AsyncMysqlConnection,
    customer: &Customer,
) -> Result<()> {
    conn.transaction(async |conn| {
        add_order(conn, customer, "desk", 25_000).await?;
        add_order(conn, customer, "chair", 12_000).await?;
        Err::<(), _>(anyhow!("the card was declined"))
    })
    .await
}
// ANCHOR_END: transaction

// ANCHOR: nested
/// A transaction with a nested one inside: the inner one becomes a SAVEPOINT. The inner
/// one fails and rolls back to its savepoint; the outer one goes on and commits. Returns
/// the inner error.
pub async fn nested_transaction(
    conn: &mut AsyncMysqlConnection,
    customer: &Customer,
) -> QueryResult<String> {
    conn.transaction(async |conn| {
        add_order(conn, customer, "lamp", 3_500).await?;
        let inner = conn
            .transaction(async |conn| {
                add_order(conn, customer, "rug", 9_900).await?;
                Err::<(), _>(anyhow!("the rug is out of stock"))
            })
            .await;
        let inner_error = match inner {
            Ok(()) => String::new(),
            Err(e) => e.to_string(),
        };
        Ok(inner_error)
    })
    .await
}
// ANCHOR_END: nested

// ANCHOR: transfer
/// Why a transfer of orders was refused.
#[derive(Debug)]
pub enum TransferError {
    /// The receiving customer would owe more than the limit.
    OverLimit {
        /// What the receiver would owe, in cents.
        total_cents: i64,
        /// The limit, in cents.
        limit_cents: i64,
    },
    /// Anything the database reported.
    Database(DieselError),
}

impl fmt::Display for TransferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OverLimit {
                total_cents,
                limit_cents,
            } => write!(
                f,
                "the receiver would owe {}, over the limit of {}",
                models::dollars(*total_cents),
                models::dollars(*limit_cents)
            ),
            Self::Database(e) => write!(f, "the transfer failed: {e}"),
        }
    }
}

impl std::error::Error for TransferError {}

impl From<DieselError> for TransferError {
    fn from(e: DieselError) -> Self {
        Self::Database(e)
    }
}

/// Moves every order of `from` to `to`, unless `to` would then owe more than
/// `limit_cents`. The UPDATE runs first and the check after it: when the check fails, the
/// transaction rolls the UPDATE back, and both customers keep the orders they had.
/// Returns how many moved.
pub async fn transfer_orders(
    conn: &mut AsyncMysqlConnection,
    from: &Customer,
    to: &Customer,
    limit_cents: i64,
) -> Result<usize, TransferError> {
    conn.transaction(async |conn| {
        let moved = diesel::update(orders::table.filter(orders::customer_id.eq(from.id)))
            .set(orders::customer_id.eq(to.id))
            .execute(conn)
            .await?;
        let amounts: Vec<i32> = Order::belonging_to(to)
            .select(orders::amount_cents)
            .load(conn)
            .await?;
        let total_cents: i64 = amounts.into_iter().map(i64::from).sum();
        if total_cents > limit_cents {
            return Err(TransferError::OverLimit {
                total_cents,
                limit_cents,
            });
        }
        Ok(moved)
    })
    .await
}
// ANCHOR_END: transfer

// ---------------------------------------------------------------------------------------
// Step 6: pagination
// ---------------------------------------------------------------------------------------

// ANCHOR: offset_page
/// Page `page` (from 0) of `customer`'s orders, `size` per page, by id: `LIMIT ... OFFSET
/// ...`. The server reads and throws away `page * size` rows to find the page.
pub async fn orders_page_by_offset(
    conn: &mut AsyncMysqlConnection,
    customer_id: i16,
    page: i64,
    size: i64,
) -> QueryResult<Vec<Order>> {
    orders::table
        .filter(orders::customer_id.eq(customer_id))
        .order(orders::id.asc())
        .limit(size)
        .offset(page * size)
        .select(Order::as_select())
        .load(conn)
        .await
}
// ANCHOR_END: offset_page

// ANCHOR: keyset_page
/// The `size` orders of `customer` that come after the order with id `after` (use 0 for
/// the first page): `WHERE id > ? ORDER BY id LIMIT ?`. The index finds the start
/// directly.
pub async fn orders_page_after(
    conn: &mut AsyncMysqlConnection,
    customer_id: i16,
    after: i32,
    size: i64,
) -> QueryResult<Vec<Order>> {
    orders::table
        .filter(orders::customer_id.eq(customer_id))
        .filter(orders::id.gt(after))
        .order(orders::id.asc())
        .limit(size)
        .select(Order::as_select())
        .load(conn)
        .await
}

/// Every order of `customer`, page by page with the keyset: each page starts after the
/// last id of the one before. Returns the pages.
pub async fn all_pages_by_keyset(
    conn: &mut AsyncMysqlConnection,
    customer_id: i16,
    size: i64,
) -> QueryResult<Vec<Vec<Order>>> {
    let mut pages = Vec::new();
    let mut after = 0;
    loop {
        let page = orders_page_after(conn, customer_id, after, size).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        let full = page.len() as i64 == size;
        pages.push(page);
        if !full {
            break;
        }
    }
    Ok(pages)
}
// ANCHOR_END: keyset_page

// ANCHOR: drift
/// Reads the first page of `customer`'s orders, deletes the first order on it (as another
/// session might, between a reader's two clicks), then reads the second page both ways.
/// Returns the items of page 2 by offset and by keyset.
pub async fn second_page_after_a_delete(
    conn: &mut AsyncMysqlConnection,
    customer_id: i16,
    size: i64,
) -> QueryResult<(Vec<String>, Vec<String>)> {
    let page_one = orders_page_by_offset(conn, customer_id, 0, size).await?;
    // `as_slice()`: diesel's `RunQueryDsl::first` would shadow the slice's `first`.
    let (Some(gone), Some(last_seen)) = (page_one.as_slice().first(), page_one.last())
    else {
        return Ok((Vec::new(), Vec::new()));
    };
    diesel::delete(gone).execute(conn).await?;
    let by_offset = orders_page_by_offset(conn, customer_id, 1, size).await?;
    let by_keyset = orders_page_after(conn, customer_id, last_seen.id, size).await?;
    let items = |page: Vec<Order>| page.into_iter().map(|o| o.item).collect();
    Ok((items(by_offset), items(by_keyset)))
}
// ANCHOR_END: drift

/// Every order of `customer`, page by page with `OFFSET`, until a page comes back short.
pub async fn all_pages_by_offset(
    conn: &mut AsyncMysqlConnection,
    customer_id: i16,
    size: i64,
) -> QueryResult<Vec<Vec<Order>>> {
    let mut pages = Vec::new();
    for page in 0.. {
        let rows = orders_page_by_offset(conn, customer_id, page, size).await?;
        let full = rows.len() as i64 == size;
        if !rows.is_empty() {
            pages.push(rows);
        }
        if !full {
            break;
        }
    }
    Ok(pages)
}

/// What a rename did: for exercise 3.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenameOutcome {
    /// The customer has the new name now.
    Renamed,
    /// No customer has that id.
    NotFound,
    /// Another customer already has the new name; nothing changed.
    NameTaken,
}
