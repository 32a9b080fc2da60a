//! Step 4, with SeaORM: relationships, and the N+1 trap counted twice: by sqlx's
//! statement log and by the server.

use std::sync::{Arc, Mutex, PoisonError};

use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr};
use sea_orm::{EntityTrait, LoaderTrait};
use sea_orm::{ModelTrait, QueryFilter, QueryOrder, Statement};
use sea_orm::{TransactionSession, TransactionTrait};
use tracing::field::{Field, Visit};
use tracing::instrument::WithSubscriber;
use tracing::{Event, Metadata, Subscriber, span};

use super::{customer, order};

// ANCHOR: statement_log
/// A `tracing` subscriber that writes down the SQL of every statement that sqlx logs
/// (its events with the target `sqlx::query`), without bind values: diesel's
/// `Instrumentation`, on sqlx's side. It sees the pools whose `sqlx_logging` is on.
#[derive(Clone, Default)]
pub struct StatementLog(Arc<Mutex<Vec<String>>>);

impl Subscriber for StatementLog {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target() == "sqlx::query"
    }

    fn event(&self, event: &Event<'_>) {
        let mut sql = SqlFields::default();
        event.record(&mut sql);
        self.push(sql.into_sql());
    }

    // Spans: `enabled` lets none through, so these are never called.
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}
// ANCHOR_END: statement_log

impl StatementLog {
    /// Writes down one statement's SQL.
    pub fn push(&self, sql: String) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(sql);
    }

    /// The statements written down so far, taken out of the log.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

// ANCHOR: sql_fields
/// The two fields of sqlx's event that hold the SQL.
#[derive(Default)]
struct SqlFields {
    summary: String,
    statement: String,
}

impl Visit for SqlFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "summary" => self.summary = value.to_owned(),
            "db.statement" => self.statement = value.trim().to_owned(),
            _ => {}
        }
    }

    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

impl SqlFields {
    /// `summary` is the statement's first four words; `db.statement` is the whole of it,
    /// and empty when it has no more words than that.
    fn into_sql(self) -> String {
        if self.statement.is_empty() {
            self.summary
        } else {
            self.statement
        }
    }
}
// ANCHOR_END: sql_fields

// ANCHOR: record_statements
/// Runs `work` and returns its result with the SQL of every statement that sqlx logged
/// while it ran. The log is the subscriber of this future only (`with_subscriber`), so
/// what other tasks send stays out of it.
pub async fn record_statements<R, E>(
    work: impl Future<Output = Result<R, E>>,
) -> Result<(R, Vec<String>), E> {
    let log = StatementLog::default();
    let result = work.with_subscriber(log.clone()).await;
    result.map(|r| (r, log.take()))
}

/// Runs `work` and returns its result with how many statements sqlx logged.
pub async fn count_statements<R, E>(
    work: impl Future<Output = Result<R, E>>,
) -> Result<(R, usize), E> {
    let (r, statements) = record_statements(work).await?;
    Ok((r, statements.len()))
}
// ANCHOR_END: record_statements

// ANCHOR: metric_callback
/// A copy of `db`, on the same pool, that writes down in `log` the SQL of every
/// statement that SeaORM runs through it: SeaORM's own hook, which also gets each
/// statement's time. It sees SeaORM's statements only: not the `BEGIN`, `SAVEPOINT` and
/// `COMMIT` that sqlx sends for a transaction, nor the `SET` of a new connection.
pub fn watched(db: &DatabaseConnection, log: &StatementLog) -> DatabaseConnection {
    let mut watched = db.clone();
    let log = log.clone();
    watched.set_metric_callback(move |info| log.push(info.statement.sql.clone()));
    watched
}
// ANCHOR_END: metric_callback

// ANCHOR: questions
/// The server's count of statements this session has sent (`Questions`), the `SHOW`
/// included. Run it on a transaction, which holds one connection throughout: on the
/// pool, each statement may go to another session.
///
/// NOTE: `SHOW SESSION STATUS` works on MySQL 8 and MariaDB alike.
pub async fn server_questions(conn: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let show = "SHOW SESSION STATUS LIKE 'Questions'";
    let row = conn
        .query_one_raw(Statement::from_string(DbBackend::MySql, show))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the status Questions".to_owned()))?;
    let value: String = row.try_get("", "Value")?;
    value
        .parse()
        .map_err(|e| DbErr::Type(format!("Questions is {value:?}: {e}")))
}
// ANCHOR_END: questions

/// Each customer with their orders, as every way of loading below returns them.
pub type WithOrders = Vec<(customer::Model, Vec<order::Model>)>;

// ANCHOR: naive
/// The customers named `names`, by name, each with their orders: one query for the
/// customers, then `find_related` for each of them: one more per customer, the N+1
/// pattern.
pub async fn customers_with_orders_naive(
    db: &impl ConnectionTrait,
    names: &[&str],
) -> Result<WithOrders, DbErr> {
    let found = customer::Entity::find()
        .filter(customer::Column::Name.is_in(names.iter().copied()))
        .order_by_asc(customer::Column::Name)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(found.len());
    for customer in found {
        let orders = customer
            .find_related(order::Entity)
            .order_by_asc(order::Column::Id)
            .all(db)
            .await?;
        out.push((customer, orders));
    }
    Ok(out)
}
// ANCHOR_END: naive

// ANCHOR: with_related
/// The same in one statement: `find_with_related` joins the orders to the customers
/// (`LEFT JOIN`) and gathers each customer's rows in memory, SQLAlchemy's
/// `joinedload`. A customer's columns come back once for each of their orders.
pub async fn customers_with_orders_joined(
    db: &impl ConnectionTrait,
    names: &[&str],
) -> Result<WithOrders, DbErr> {
    customer::Entity::find()
        .filter(customer::Column::Name.is_in(names.iter().copied()))
        .find_with_related(order::Entity)
        .order_by_asc(customer::Column::Name)
        .order_by_asc(order::Column::Id)
        .all(db)
        .await
}
// ANCHOR_END: with_related

// ANCHOR: load_many
/// The same in two statements, whatever the number of customers: the customers, then
/// all of their orders at once (`WHERE customer_id IN (...)`) with the loader, which
/// sorts them to their customers in memory: SQLAlchemy's `selectinload`.
pub async fn customers_with_orders_loaded(
    db: &impl ConnectionTrait,
    names: &[&str],
) -> Result<WithOrders, DbErr> {
    let found = customer::Entity::find()
        .filter(customer::Column::Name.is_in(names.iter().copied()))
        .order_by_asc(customer::Column::Name)
        .all(db)
        .await?;
    let orders = found
        .load_many(order::Entity::find().order_by_asc(order::Column::Id), db)
        .await?;
    Ok(found.into_iter().zip(orders).collect())
}
// ANCHOR_END: load_many

/// Creates customers named `names` (job "Buyer"), with `orders_each` orders each
/// (`item 1` for 1.00, `item 2` for 2.00, ...), in one transaction. Returns the
/// customers, by name.
pub async fn seed_customers_with_orders(
    db: &impl TransactionTrait,
    names: &[&str],
    orders_each: usize,
) -> Result<Vec<customer::Model>, DbErr> {
    let txn = db.begin().await?;
    let new: Vec<(&str, Option<&str>)> =
        names.iter().map(|&n| (n, Some("Buyer"))).collect();
    let (created, _) = super::s3_crud::create_customers(&txn, &new).await?;
    let orders = created.iter().flat_map(|c| {
        (1..=orders_each).map(|i| order::ActiveModel {
            customer_id: Set(c.id),
            item: Set(format!("item {i}")),
            amount_cents: Set(100 * i as i32),
            ..Default::default()
        })
    });
    order::Entity::insert_many(orders).exec(&txn).await?;
    txn.commit().await?;
    Ok(created)
}

/// Step 4's report, with SeaORM: the statements each way took, by sqlx's log and by the
/// server's count, and what the loader loaded.
pub async fn run(ctx: &super::Ctx) -> anyhow::Result<super::report::Relations> {
    use super::report::Count;
    let names = ["Ada", "Grace", "Linus"];
    let seeded = seed_customers_with_orders(&ctx.db, &names, 2).await?;
    // One connection for all of it: the server counts statements per session.
    let txn = ctx.db.begin().await?;
    let (mut counts, mut results) = (Vec::new(), Vec::new());
    for way in 0..3 {
        let before = server_questions(&txn).await?;
        let (result, statements) = count_statements(async {
            match way {
                0 => customers_with_orders_naive(&txn, &names).await,
                1 => customers_with_orders_joined(&txn, &names).await,
                _ => customers_with_orders_loaded(&txn, &names).await,
            }
        })
        .await?;
        // The reading of `Questions` counts itself: take it off the difference.
        let server = server_questions(&txn).await? - before - 1;
        counts.push(Count { statements, server });
        results.push(result);
    }
    txn.commit().await?;
    let ids: Vec<i16> = seeded.iter().map(|c| c.id).collect();
    super::s3_crud::delete_customers(&ctx.db, &ids).await?;
    Ok(super::report::Relations {
        customers: names.len(),
        naive: counts[0],
        joined: counts[1],
        loaded: counts[2],
        same: results.windows(2).all(|pair| pair[0] == pair[1]),
        result: results.pop().unwrap_or_default(),
    })
}
