//! Step 2: one connection per task, which the borrow checker enforces.

use anyhow::{Context, Result};
use sqlx::MySqlPool;
use tokio::task::JoinSet;

use crate::report::OwnConnections;
use crate::s1_concurrent::{ACQUIRE_TIMEOUT, Workload, sized_pool};

// ANCHOR: one_connection_per_task
/// N tasks, each with its own connection for as long as it works: returns the distinct
/// `CONNECTION_ID()`s the tasks saw.
pub async fn connection_ids_of_tasks(
    pool: &MySqlPool,
    work: Workload,
) -> Result<Vec<u64>> {
    let mut tasks = JoinSet::new();
    for _ in 0..work.queries {
        let pool = pool.clone();
        tasks.spawn(async move {
            // The task's session: every statement below runs on this one connection.
            let mut conn = pool.acquire().await?;
            let id: u64 = sqlx::query_scalar("SELECT CONNECTION_ID()")
                .fetch_one(&mut *conn)
                .await?;
            sqlx::query("SELECT SLEEP(?)")
                .bind(work.sleep.as_secs_f64())
                .execute(&mut *conn)
                .await?;
            anyhow::Ok(id)
        });
    }
    let mut ids = Vec::new();
    while let Some(finished) = tasks.join_next().await {
        ids.push(finished??);
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}
// ANCHOR_END: one_connection_per_task

/// Step 2's report: how many distinct connections the tasks ran on.
pub async fn run(ctx: &crate::Ctx) -> Result<OwnConnections> {
    let work = ctx.work;
    let pool = sized_pool(&ctx.url, work.pool_size(), ACQUIRE_TIMEOUT)
        .await
        .context("cannot open the step's pool")?;
    let ids = connection_ids_of_tasks(&pool, work)
        .await
        .context("cannot run the tasks")?;
    pool.close().await;
    Ok(OwnConnections {
        tasks: work.queries,
        pool_size: work.pool_size(),
        distinct_connections: ids.len(),
    })
}
