//! Step 7, with SeaORM: rows one at a time with `stream`.

use futures::TryStreamExt;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

use super::order;

// ANCHOR: stream
/// How many orders a customer has, and their total in cents, read one row at a time:
/// `stream` hands each row over as it comes off the connection, and no `Vec` of them is
/// ever built. The stream holds one of the pool's connections until it is dropped;
/// other queries on `db` meanwhile take other connections.
pub async fn stream_order_total(
    db: &DatabaseConnection,
    customer_id: i16,
) -> Result<(usize, i64), DbErr> {
    let mut rows = order::Entity::find()
        .filter(order::Column::CustomerId.eq(customer_id))
        .order_by_asc(order::Column::Id)
        .stream(db)
        .await?;
    let (mut count, mut total_cents) = (0, 0);
    while let Some(order) = rows.try_next().await? {
        count += 1;
        total_cents += i64::from(order.amount_cents);
    }
    Ok((count, total_cents))
}
// ANCHOR_END: stream

/// Step 7's report, with SeaORM: what the stream counted and summed, and the same sum
/// from loading every amount into a `Vec`.
pub async fn run(ctx: &super::Ctx) -> anyhow::Result<crate::report::Streaming> {
    use super::s4_relations::seed_customers_with_orders;
    let db = &ctx.db;
    let orders = crate::STREAM_ORDERS;
    let seeded = seed_customers_with_orders(db, &["Ada"], orders).await?;
    let (streamed, total_cents) = stream_order_total(db, seeded[0].id).await?;
    let loaded_total_cents = super::s5_transactions::owed_cents(db, seeded[0].id).await?;
    super::s3_crud::delete_customers(db, &[seeded[0].id]).await?;
    Ok(crate::report::Streaming {
        streamed,
        total_cents,
        loaded_total_cents,
    })
}
