//! Step 9: close the pool.

/// Step 9's report: whether the pool is closed after `close().await`.
pub async fn run(ctx: &crate::Ctx) -> anyhow::Result<crate::report::Closed> {
    ctx.pool.close().await;
    Ok(crate::report::Closed(ctx.pool.is_closed()))
}
