//! Step 2: the first query, `SELECT VERSION()`.

use sqlx::MySqlPool;

// ANCHOR: version
/// `SELECT VERSION()`.
pub async fn server_version(pool: &MySqlPool) -> sqlx::Result<String> {
    let version: String = sqlx::query_scalar("SELECT VERSION()")
        .fetch_one(pool)
        .await?;
    Ok(version)
}
// ANCHOR_END: version

/// Step 2's report: the server's version.
pub async fn run(ctx: &crate::Ctx) -> anyhow::Result<crate::report::Version> {
    let version = server_version(&ctx.pool).await?;
    Ok(crate::report::Version(version))
}
