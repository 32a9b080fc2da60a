//! Step 5: transactions: a rollback on `Err`, a savepoint, and a rule checked after the
//! write.

use std::fmt;

use anyhow::{Result, anyhow};
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel_async::{AsyncConnection, AsyncMysqlConnection, RunQueryDsl};

use crate::models::{Customer, NewOrder, Order, dollars};
use crate::schema::orders;

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
        let total_cents = owed_cents(conn, to).await?;
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
    Database(DieselError),
}
// ANCHOR_END: transfer_error

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

impl From<DieselError> for TransferError {
    fn from(e: DieselError) -> Self {
        Self::Database(e)
    }
}

/// What `customer` owes: the total of their orders, in cents.
pub async fn owed_cents(
    conn: &mut AsyncMysqlConnection,
    customer: &Customer,
) -> QueryResult<i64> {
    let amounts: Vec<i32> = Order::belonging_to(customer)
        .select(orders::amount_cents)
        .load(conn)
        .await?;
    Ok(amounts.into_iter().map(i64::from).sum())
}

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

/// The limit of the transfer that step 5 attempts, in cents.
const LIMIT_CENTS: i64 = 160_000;

/// Step 5's report: what each transaction left behind, and the statements the nested one
/// sent.
pub async fn run(ctx: &crate::Ctx) -> Result<crate::report::Transactions> {
    let conn = &mut *crate::s2_sessions::session(&ctx.pool).await?;
    let seeded =
        crate::s4_relations::seed_customers_with_orders(conn, &["Ada", "Grace"], 0)
            .await?;
    let (ada, grace) = (&seeded[0], &seeded[1]);
    let rolled_back = match add_orders_then_fail(conn, ada).await {
        Ok(()) => None,
        Err(e) => Some(e.to_string()),
    };
    let after_rollback = order_items(conn, ada).await?;
    let (inner_error, statements) =
        crate::s4_relations::record_statements(conn, async |c| {
            nested_transaction(c, ada).await
        })
        .await?;
    let after_commit = order_items(conn, ada).await?;
    for (item, cents) in [("monitor", 20_000), ("keyboard", 8_000)] {
        add_order(conn, ada, item, cents).await?;
    }
    add_order(conn, grace, "laptop", 150_000).await?;
    let transfer = match transfer_orders(conn, ada, grace, LIMIT_CENTS).await {
        Ok(moved) => crate::report::Transfer::Moved(moved),
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
        after_transfer.push((customer.name.clone(), order_items(conn, customer).await?));
    }
    let ids: Vec<i16> = seeded.iter().map(|c| c.id).collect();
    crate::s3_crud::delete_customers(conn, &ids).await?;
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
