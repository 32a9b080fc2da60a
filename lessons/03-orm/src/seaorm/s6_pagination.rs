//! Step 6, with SeaORM: pagination by `OFFSET` (`paginate`) and by key (`cursor_by`),
//! and what each does when a row goes away between two pages.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, ModelTrait};
use sea_orm::{PaginatorTrait, QueryFilter, QueryOrder};

use super::order;

// ANCHOR: offset_page
/// Page `page` (from 0) of a customer's orders, `size` per page, by id: `paginate` adds
/// `LIMIT ... OFFSET ...`. The server reads and throws away `page * size` rows to find
/// the page.
pub async fn orders_page_by_offset(
    db: &impl ConnectionTrait,
    customer_id: i16,
    page: u64,
    size: u64,
) -> Result<Vec<order::Model>, DbErr> {
    order::Entity::find()
        .filter(order::Column::CustomerId.eq(customer_id))
        .order_by_asc(order::Column::Id)
        .paginate(db, size)
        .fetch_page(page)
        .await
}
// ANCHOR_END: offset_page

// ANCHOR: keyset_page
/// The `size` orders of a customer that come after the order with id `after` (0 for the
/// first page): `cursor_by` orders by the key and adds `WHERE id > ?` and `LIMIT ?`.
pub async fn orders_page_after(
    db: &impl ConnectionTrait,
    customer_id: i16,
    after: i32,
    size: u64,
) -> Result<Vec<order::Model>, DbErr> {
    order::Entity::find()
        .filter(order::Column::CustomerId.eq(customer_id))
        .cursor_by(order::Column::Id)
        .after(after)
        .first(size)
        .all(db)
        .await
}
// ANCHOR_END: keyset_page

// ANCHOR: offset_pages
/// Every order of a customer, page by page with `OFFSET`: the paginator counts the
/// pages itself, and `fetch_and_next` gives `None` at the first empty page.
pub async fn all_pages_by_offset(
    db: &impl ConnectionTrait,
    customer_id: i16,
    size: u64,
) -> Result<Vec<Vec<order::Model>>, DbErr> {
    let mut pages = order::Entity::find()
        .filter(order::Column::CustomerId.eq(customer_id))
        .order_by_asc(order::Column::Id)
        .paginate(db, size);
    let mut all = Vec::new();
    while let Some(page) = pages.fetch_and_next().await? {
        all.push(page);
    }
    Ok(all)
}
// ANCHOR_END: offset_pages

/// Every order of a customer, page by page with the keyset: each page starts after the
/// last id of the one before, until a page comes back short.
pub async fn all_pages_by_keyset(
    db: &impl ConnectionTrait,
    customer_id: i16,
    size: u64,
) -> Result<Vec<Vec<order::Model>>, DbErr> {
    let mut pages: Vec<Vec<order::Model>> = Vec::new();
    loop {
        let after = pages.last().and_then(|p| p.last()).map_or(0, |o| o.id);
        let page = orders_page_after(db, customer_id, after, size).await?;
        let full = page.len() as u64 == size;
        if !page.is_empty() {
            pages.push(page);
        }
        if !full {
            return Ok(pages);
        }
    }
}

/// Reads the first page of a customer's orders, deletes its first order (as another
/// session might, between a reader's two clicks), then reads the second page both
/// ways. Returns the items of page 2 by offset and by keyset.
pub async fn second_page_after_a_delete(
    db: &impl ConnectionTrait,
    customer_id: i16,
    size: u64,
) -> Result<(Vec<String>, Vec<String>), DbErr> {
    let page_one = orders_page_by_offset(db, customer_id, 0, size).await?;
    let (Some(gone), Some(last_seen)) = (page_one.first(), page_one.last()) else {
        return Ok((Vec::new(), Vec::new()));
    };
    gone.clone().delete(db).await?;
    let by_offset = orders_page_by_offset(db, customer_id, 1, size).await?;
    let by_keyset = orders_page_after(db, customer_id, last_seen.id, size).await?;
    let items = |page: Vec<order::Model>| page.into_iter().map(|o| o.item).collect();
    Ok((items(by_offset), items(by_keyset)))
}

/// How many orders step 6 pages through, as in diesel's step 6.
const ORDERS: usize = 23;
/// How many orders to a page.
const PAGE_SIZE: u64 = 10;

/// Step 6's report, with SeaORM: the SQL of each kind of page, every page both ways,
/// and page 2 both ways after a row of page 1 went away.
pub async fn run(
    ctx: &super::Ctx,
) -> anyhow::Result<crate::report::Pagination<order::Model>> {
    use super::s4_relations::{seed_customers_with_orders, watched};
    let db = &ctx.db;
    let seeded = seed_customers_with_orders(db, &["Ada"], ORDERS).await?;
    let id = seeded[0].id;
    let log = super::s4_relations::StatementLog::default();
    orders_page_by_offset(&watched(db, &log), id, 0, PAGE_SIZE).await?;
    let offset_sql = log.take();
    orders_page_after(&watched(db, &log), id, 0, PAGE_SIZE).await?;
    let keyset_sql = log.take();
    let by_offset = all_pages_by_offset(db, id, PAGE_SIZE).await?;
    let by_keyset = all_pages_by_keyset(db, id, PAGE_SIZE).await?;
    let (drift_offset, drift_keyset) =
        second_page_after_a_delete(db, id, PAGE_SIZE).await?;
    super::s3_crud::delete_customers(db, &[id]).await?;
    Ok(crate::report::Pagination {
        offset_sql,
        keyset_sql,
        by_offset,
        by_keyset,
        drift_offset,
        drift_keyset,
    })
}
