//! Step 6: pagination by `OFFSET` and by keyset, and what each does when a row goes away
//! between two pages.

use diesel::prelude::*;
use diesel_async::{AsyncMysqlConnection, RunQueryDsl};

use crate::models::Order;
use crate::schema::orders;

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
// ANCHOR_END: keyset_page

// ANCHOR: keyset_pages
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
// ANCHOR_END: keyset_pages

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

/// How many orders step 6 pages through.
const ORDERS: usize = 23;
/// How many orders to a page.
const PAGE_SIZE: i64 = 10;

/// Step 6's report: the SQL of each kind of page, every page both ways, and page 2 both
/// ways after a row of page 1 went away.
pub async fn run(ctx: &crate::Ctx) -> anyhow::Result<crate::report::Pagination> {
    use crate::s4_relations::{record_statements, seed_customers_with_orders};
    let conn = &mut *crate::s2_sessions::session(&ctx.pool).await?;
    let seeded = seed_customers_with_orders(conn, &["Ada"], ORDERS).await?;
    let id = seeded[0].id;
    let (_, offset_sql) = record_statements(conn, async |c| {
        orders_page_by_offset(c, id, 0, PAGE_SIZE).await
    })
    .await?;
    let (_, keyset_sql) =
        record_statements(conn, async |c| orders_page_after(c, id, 0, PAGE_SIZE).await)
            .await?;
    let by_offset = all_pages_by_offset(conn, id, PAGE_SIZE).await?;
    let by_keyset = all_pages_by_keyset(conn, id, PAGE_SIZE).await?;
    let (drift_offset, drift_keyset) =
        second_page_after_a_delete(conn, id, PAGE_SIZE).await?;
    crate::s3_crud::delete_customers(conn, &[id]).await?;
    Ok(crate::report::Pagination {
        offset_sql,
        keyset_sql,
        by_offset,
        by_keyset,
        drift_offset,
        drift_keyset,
    })
}
