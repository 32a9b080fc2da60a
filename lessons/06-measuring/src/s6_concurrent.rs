//! Step 6, W3: W2's selects spread over many tasks on a pool of as many connections,
//! each task taking a connection for every query, as a request handler does.

use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::report::{Reference, ResultRow, Table};
use crate::{BenchCustomer, Check, Pool, Stack, measure, open_pool};

// ANCHOR: concurrent_point_selects
/// W3 on one stack: the same selects spread over `tasks` tasks, each taking a connection
/// from the pool for every query, as a web handler does. The rows come back sorted by id.
pub async fn concurrent_point_selects(
    stack: Stack,
    pool: &Pool,
    ids: &Arc<[i32]>,
    tasks: usize,
) -> Result<(Duration, Vec<BenchCustomer>)> {
    let per_task = ids.len().div_ceil(tasks);
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let share = t * per_task..ids.len().min((t + 1) * per_task);
            tokio::spawn(select_share(stack, pool.clone(), Arc::clone(ids), share))
        })
        .collect();
    let mut found = Vec::with_capacity(ids.len());
    for handle in handles {
        found.extend(handle.await.context("a W3 task panicked")??);
    }
    let took = start.elapsed();
    found.sort_by_key(|c| c.id);
    Ok((took, found))
}
// ANCHOR_END: concurrent_point_selects

// ANCHOR: select_share
/// One W3 task: its share of the ids, with a connection taken from the pool for each.
async fn select_share(
    stack: Stack,
    pool: Pool,
    ids: Arc<[i32]>,
    share: Range<usize>,
) -> Result<Vec<BenchCustomer>> {
    let mut found = Vec::with_capacity(share.len());
    for &id in ids.get(share).unwrap_or_default() {
        found.push(pool.get().await?.select_one(stack, id).await?);
    }
    Ok(found)
}
// ANCHOR_END: select_share

/// Step 6's report: W3 on every stack. Every stack must return the same rows.
pub async fn run(ctx: &crate::Ctx) -> Result<Table> {
    if !ctx.wants("w3") {
        return Ok(Table::default());
    }
    let tasks = ctx.counts.tasks;
    let (mut rows, mut reference) = (Vec::new(), Reference::default());
    for &stack in &ctx.stacks {
        for check in [Check::BeforeEachUse, Check::Never] {
            let variant = match check {
                Check::BeforeEachUse => format!("{tasks} tasks, pool of {tasks}"),
                Check::Never => format!("{tasks} tasks, pool of {tasks}, no check"),
            };
            let pool = open_pool(stack, &ctx.url, tasks as u32, check).await?;
            let label = format!("W3 {stack}, {variant}");
            let (t, found) = measure(&label, ctx.counts.repeats, || {
                concurrent_point_selects(stack, &pool, &ctx.ids, tasks)
            })
            .await?;
            pool.close().await;
            reference.check(&label, found, ctx.ids.len())?;
            let ops = ctx.ids.len();
            rows.push(ResultRow::new(stack.name(), "W3", &variant, ops, &t));
        }
    }
    rows.extend(ctx.sqlalchemy("W3"));
    Ok(Table { rows })
}
