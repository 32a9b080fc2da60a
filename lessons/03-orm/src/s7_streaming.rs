//! Step 7: rows one at a time with `load_stream`, SQLAlchemy's `session.stream()`.

use diesel::prelude::*;
use diesel_async::{AsyncMysqlConnection, RunQueryDsl};
use futures::TryStreamExt;

use crate::models::Order;
use crate::schema::orders;

// ANCHOR: load_stream
/// How many orders `customer` has, and their total in cents, read one row at a time:
/// `load_stream` hands each row over as it comes off the connection, and no `Vec` of
/// them is ever built. SQLAlchemy's `async for order in await session.stream(...)`.
pub async fn stream_order_total(
    conn: &mut AsyncMysqlConnection,
    customer_id: i16,
) -> QueryResult<(usize, i64)> {
    let mut rows = orders::table
        .filter(orders::customer_id.eq(customer_id))
        .order(orders::id.asc())
        .select(Order::as_select())
        .load_stream::<Order>(conn)
        .await?;
    let (mut count, mut total_cents) = (0, 0);
    // `conn` stays borrowed until `rows` is dropped: no other query can start on it
    // while the rows are still coming.
    while let Some(order) = rows.try_next().await? {
        count += 1;
        total_cents += i64::from(order.amount_cents);
    }
    Ok((count, total_cents))
}
// ANCHOR_END: load_stream

/// How many orders step 7 streams.
pub const STREAM_ORDERS: usize = 1_000;

/// Step 7's report: what the stream counted and summed, and the same sum from a `load`.
pub async fn run(ctx: &crate::Ctx) -> anyhow::Result<crate::report::Streaming> {
    use crate::s4_relations::seed_customers_with_orders;
    let conn = &mut *crate::s2_sessions::session(&ctx.pool).await?;
    let seeded = seed_customers_with_orders(conn, &["Ada"], STREAM_ORDERS).await?;
    let (streamed, total_cents) = stream_order_total(conn, seeded[0].id).await?;
    let loaded_total_cents = crate::s5_transactions::owed_cents(conn, &seeded[0]).await?;
    crate::s3_crud::delete_customers(conn, &[seeded[0].id]).await?;
    Ok(crate::report::Streaming {
        streamed,
        total_cents,
        loaded_total_cents,
    })
}
