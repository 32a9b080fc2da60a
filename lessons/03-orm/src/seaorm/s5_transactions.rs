//! Step 5, with SeaORM: a transaction that rolls back on `Err`, a nested `begin` that is
//! a savepoint, and a rule checked after the write.

use std::fmt;

use anyhow::anyhow;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait};
use sea_orm::{QueryFilter, QueryOrder, QuerySelect, TransactionError, TransactionTrait};

use super::{customer, order};
use crate::models::dollars;

// ANCHOR: transaction
/// Adds two orders in one transaction and then fails on purpose: `transaction_async`
/// runs the async closure on a new transaction, commits on `Ok` and rolls back on
/// `Err`, so neither order stays. The error says which went wrong: the closure
/// (`TransactionError::Transaction`) or BEGIN, COMMIT or ROLLBACK (`Connection`).
pub async fn add_orders_then_fail(
    db: &DatabaseConnection,
    customer: &customer::Model,
) -> Result<(), TransactionError<anyhow::Error>> {
    db.transaction_async(async |txn| {
        add_order(txn, customer, "desk", 25_000).await?;
        add_order(txn, customer, "chair", 12_000).await?;
        Err(anyhow!("the card was declined"))
    })
    .await
}
// ANCHOR_END: transaction

// ANCHOR: nested
/// A transaction with a nested one inside: `begin` on a transaction, which
/// `transaction_async` calls, sends a SAVEPOINT. The inner one fails and rolls back to
/// its savepoint; the outer one goes on and commits. Returns the inner error.
pub async fn nested_transaction(
    db: &DatabaseConnection,
    customer: &customer::Model,
) -> Result<String, DbErr> {
    let outer = db.begin().await?;
    add_order(&outer, customer, "lamp", 3_500).await?;
    let inner = outer
        .transaction_async(async |inner| {
            add_order(inner, customer, "rug", 9_900).await?;
            Err::<(), _>(anyhow!("the rug is out of stock"))
        })
        .await;
    let inner_error = match inner {
        Ok(()) => String::new(),
        Err(e) => e.to_string(),
    };
    outer.commit().await?;
    Ok(inner_error)
}
// ANCHOR_END: nested

// ANCHOR: transfer
/// Moves every order of `from` to `to`, unless `to` would then owe more than
/// `limit_cents`: the UPDATE first, the check after it, rolled back together when the
/// check fails. The closure's boxed future may borrow nothing but the transaction: it
/// captures the ids, copied. Returns how many orders moved.
pub async fn transfer_orders(
    db: &DatabaseConnection,
    from: &customer::Model,
    to: &customer::Model,
    limit_cents: i64,
) -> Result<u64, TransferError> {
    let (from_id, to_id) = (from.id, to.id);
    let moved = db.transaction(move |txn| {
        Box::pin(async move {
            let moved = order::Entity::update_many()
                .col_expr(order::Column::CustomerId, Expr::value(to_id))
                .filter(order::Column::CustomerId.eq(from_id))
                .exec(txn)
                .await?;
            let total_cents = owed_cents(txn, to_id).await?;
            if total_cents > limit_cents {
                return Err(TransferError::OverLimit {
                    total_cents,
                    limit_cents,
                });
            }
            Ok(moved.rows_affected)
        })
    });
    Ok(moved.await?)
}
// ANCHOR_END: transfer

// ANCHOR: transfer_error
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
    Database(DbErr),
}

/// What lets `?` turn a `DbErr` into a `TransferError` inside the transaction.
impl From<DbErr> for TransferError {
    fn from(e: DbErr) -> Self {
        Self::Database(e)
    }
}
// ANCHOR_END: transfer_error

/// What lets `?` turn the transaction's error into a `TransferError`: a failed `BEGIN`,
/// `COMMIT` or `ROLLBACK` is a database error too.
impl From<TransactionError<TransferError>> for TransferError {
    fn from(e: TransactionError<TransferError>) -> Self {
        match e {
            TransactionError::Connection(e) => Self::Database(e),
            TransactionError::Transaction(e) => e,
        }
    }
}

impl fmt::Display for TransferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OverLimit {
                total_cents,
                limit_cents,
            } => {
                let (total, limit) = (dollars(*total_cents), dollars(*limit_cents));
                write!(
                    f,
                    "the receiver would owe {total}, over the limit of {limit}"
                )
            }
            Self::Database(e) => write!(f, "the transfer failed: {e}"),
        }
    }
}

impl std::error::Error for TransferError {}

/// What the customer with id `customer_id` owes: the total of their orders, in cents,
/// summed in Rust (MySQL's `SUM` of an `INT` is a `DECIMAL`).
pub async fn owed_cents(
    db: &impl ConnectionTrait,
    customer_id: i16,
) -> Result<i64, DbErr> {
    let amounts: Vec<i32> = order::Entity::find()
        .select_only()
        .column(order::Column::AmountCents)
        .filter(order::Column::CustomerId.eq(customer_id))
        .into_tuple()
        .all(db)
        .await?;
    Ok(amounts.into_iter().map(i64::from).sum())
}

/// Adds one order for `customer`, in one statement, and returns its id.
pub async fn add_order(
    db: &impl ConnectionTrait,
    customer: &customer::Model,
    item: &str,
    amount_cents: i32,
) -> Result<i32, DbErr> {
    let new = order::ActiveModel {
        customer_id: Set(customer.id),
        item: Set(item.to_owned()),
        amount_cents: Set(amount_cents),
        ..Default::default()
    };
    Ok(order::Entity::insert(new).exec(db).await?.last_insert_id)
}

/// The items of `customer`'s orders, oldest first.
pub async fn order_items(
    db: &impl ConnectionTrait,
    customer: &customer::Model,
) -> Result<Vec<String>, DbErr> {
    order::Entity::find()
        .select_only()
        .column(order::Column::Item)
        .filter(order::Column::CustomerId.eq(customer.id))
        .order_by_asc(order::Column::Id)
        .into_tuple()
        .all(db)
        .await
}

/// The limit of the transfer that step 5 attempts, in cents (as in diesel's step 5).
const LIMIT_CENTS: i64 = 160_000;

/// Step 5's report, with SeaORM: what each transaction left behind, and the statements
/// the nested one sent.
pub async fn run(ctx: &super::Ctx) -> anyhow::Result<crate::report::Transactions> {
    use super::s4_relations::{record_statements, seed_customers_with_orders};
    let db = &ctx.db;
    let seeded = seed_customers_with_orders(db, &["Ada", "Grace"], 0).await?;
    let (ada, grace) = (&seeded[0], &seeded[1]);
    let rolled_back = add_orders_then_fail(db, ada)
        .await
        .err()
        .map(|e| e.to_string());
    let after_rollback = order_items(db, ada).await?;
    // Every connection back in the pool first: the transaction then takes an idle one,
    // and opens none (whose `SET` the log would show).
    super::s2_sessions::settle(db).await;
    let (inner_error, statements) =
        record_statements(nested_transaction(db, ada)).await?;
    let after_commit = order_items(db, ada).await?;
    for (item, cents) in [("monitor", 20_000), ("keyboard", 8_000)] {
        add_order(db, ada, item, cents).await?;
    }
    add_order(db, grace, "laptop", 150_000).await?;
    let transfer = match transfer_orders(db, ada, grace, LIMIT_CENTS).await {
        Ok(moved) => crate::report::Transfer::Moved(usize::try_from(moved)?),
        Err(TransferError::OverLimit {
            total_cents,
            limit_cents,
        }) => crate::report::Transfer::Refused {
            total_cents,
            limit_cents,
        },
        Err(e) => return Err(e.into()),
    };
    let mut after_transfer = Vec::new();
    for customer in [ada, grace] {
        after_transfer.push((customer.name.clone(), order_items(db, customer).await?));
    }
    let ids: Vec<i16> = seeded.iter().map(|c| c.id).collect();
    super::s3_crud::delete_customers(db, &ids).await?;
    Ok(crate::report::Transactions {
        rolled_back,
        after_rollback,
        inner_error,
        statements,
        after_commit,
        transfer,
        after_transfer,
    })
}
