//! Step 4: relationships, and the N+1 trap counted twice: by diesel and by the server.

use std::sync::{Arc, Mutex, PoisonError};

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel_async::{AsyncConnection, AsyncMysqlConnection, RunQueryDsl};

use crate::models::{Customer, NewCustomer, NewOrder, Order};
use crate::schema::{customers, orders};

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
// ANCHOR_END: statement_log

// ANCHOR: record_statements
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
// ANCHOR_END: record_statements

// ANCHOR: questions
/// One row of `SHOW SESSION STATUS`.
#[derive(QueryableByName)]
struct StatusRow {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = Value)]
    value: String,
}

/// The server's count of statements this session has sent (`Questions`), the `SHOW`
/// that reads it included. A prepared statement counts once per execution; preparing
/// and closing it do not count.
///
/// NOTE: `SHOW SESSION STATUS` works on MySQL 8 and MariaDB alike; MariaDB also has
/// `information_schema.SESSION_STATUS`, which MySQL 8 removed.
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
        let created = crate::s3_crud::create_customers(conn, &new).await?;
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

/// Step 4's report: the statements each way took, by diesel's count and the server's,
/// and what the eager way loaded.
pub async fn run(ctx: &crate::Ctx) -> anyhow::Result<crate::report::Relations> {
    let conn = &mut *crate::s2_sessions::session(&ctx.pool).await?;
    let names = ["Ada", "Grace", "Linus"];
    let seeded = seed_customers_with_orders(conn, &names, 2).await?;
    let before = server_questions(conn).await?;
    let (_, naive) =
        count_statements(conn, async |c| customers_with_orders_naive(c, &names).await)
            .await?;
    let middle = server_questions(conn).await?;
    let (loaded, eager) =
        count_statements(conn, async |c| customers_with_orders_eager(c, &names).await)
            .await?;
    let after = server_questions(conn).await?;
    let ids: Vec<i16> = seeded.iter().map(|c| c.id).collect();
    crate::s3_crud::delete_customers(conn, &ids).await?;
    // Each reading of `Questions` counts itself: take it off the difference.
    Ok(crate::report::Relations {
        customers: names.len(),
        naive_statements: naive,
        naive_server: middle - before - 1,
        eager_statements: eager,
        eager_server: after - middle - 1,
        loaded,
    })
}
