//! Step 7: the same concurrent pattern with sea-query on sqlx's pool, and with
//! diesel-async on its own pool.

use std::time::Duration;

use anyhow::{Context, Result};
use diesel_async::AsyncMysqlConnection;
use diesel_async::pooled_connection::deadpool::Pool;
use sqlx::{AssertSqlSafe, MySqlPool};

use crate::report::{StackRun, Stacks, millis};
use crate::s1_concurrent::{ACQUIRE_TIMEOUT, Workload, run_join_all, sized_pool, timed};

// ANCHOR: sea_query
/// The sleeping query built with sea-query and run through the sqlx pool.
pub async fn sea_query_sleepy(
    pool: &MySqlPool,
    task: u32,
    sleep: Duration,
) -> Result<u32> {
    use sea_query::{Expr, ExprTrait, Func, MysqlQueryBuilder, Query};
    use sea_query_sqlx::SqlxBinder;

    let (sql, values) = Query::select()
        .expr(Expr::val(task).cast_as("SIGNED"))
        .expr(Func::cust("SLEEP").arg(sleep.as_secs_f64()))
        .build_sqlx(MysqlQueryBuilder);
    let task: i64 = sqlx::query_scalar_with(AssertSqlSafe(sql), values)
        .fetch_one(pool)
        .await?;
    Ok(u32::try_from(task)?)
}

/// N sea-query tasks at once.
pub async fn run_sea_query(pool: &MySqlPool, work: Workload) -> Result<Vec<u32>> {
    let queries = (0..work.queries).map(|task| sea_query_sleepy(pool, task, work.sleep));
    futures::future::try_join_all(queries).await
}
// ANCHOR_END: sea_query

// ANCHOR: diesel_pool
/// diesel-async's connections, pooled by deadpool.
pub type DieselPool = Pool<AsyncMysqlConnection>;

/// A diesel-async pool (deadpool) of `size` connections, warmed up.
pub async fn diesel_pool(url: &str, size: u32) -> Result<DieselPool> {
    use diesel_async::pooled_connection::AsyncDieselConnectionManager;

    let manager = AsyncDieselConnectionManager::<AsyncMysqlConnection>::new(url);
    let pool = Pool::builder(manager)
        .max_size(size as usize)
        .build()
        .context("cannot build the diesel-async pool")?;
    // Open every connection now, as `sized_pool` does.
    let mut held = Vec::new();
    for _ in 0..size {
        let conn = pool.get().await;
        held.push(conn.context("cannot open a diesel-async connection")?);
    }
    drop(held);
    Ok(pool)
}
// ANCHOR_END: diesel_pool

// ANCHOR: diesel_async
#[derive(diesel::QueryableByName)]
struct Slept {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    task: i64,
}

/// The sleeping query through diesel-async, on a connection from its pool.
pub async fn diesel_sleepy(pool: &DieselPool, task: u32, sleep: Duration) -> Result<u32> {
    use diesel::sql_types::{BigInt, Double};
    use diesel_async::RunQueryDsl;

    let mut conn = pool.get().await?;
    let row: Slept =
        diesel::sql_query("SELECT CAST(? AS SIGNED) AS task, SLEEP(?) AS slept")
            .bind::<BigInt, _>(i64::from(task))
            .bind::<Double, _>(sleep.as_secs_f64())
            .get_result(&mut conn)
            .await?;
    Ok(u32::try_from(row.task)?)
}

/// N diesel-async tasks at once.
pub async fn run_diesel(pool: &DieselPool, work: Workload) -> Result<Vec<u32>> {
    let queries = (0..work.queries).map(|task| diesel_sleepy(pool, task, work.sleep));
    futures::future::try_join_all(queries).await
}
// ANCHOR_END: diesel_async

/// Step 7's report: the concurrent pattern timed on each stack.
pub async fn run(ctx: &crate::Ctx) -> Result<Stacks> {
    let work = ctx.work;
    let pool_size = work.pool_size();
    let stack = |stack, wall, rows: Vec<u32>| StackRun {
        stack,
        pool_size,
        queries: work.queries,
        wall_ms: millis(wall),
        ideal_ms: millis(work.ideal(pool_size)),
        same_results: rows == work.expected(),
    };
    let pool = sized_pool(&ctx.url, pool_size, ACQUIRE_TIMEOUT)
        .await
        .context("cannot open the step's pool")?;
    let (rows, t) = timed(run_join_all(&pool, work)).await;
    let mut stacks = vec![stack("sqlx", t, rows.context("the sqlx run failed")?)];
    let (rows, t) = timed(run_sea_query(&pool, work)).await;
    let rows = rows.context("the sea-query run failed")?;
    stacks.push(stack("sea-query + sqlx", t, rows));
    pool.close().await;
    let diesel = diesel_pool(&ctx.url, pool_size)
        .await
        .context("cannot open the diesel-async pool")?;
    let (rows, t) = timed(run_diesel(&diesel, work)).await;
    diesel.close();
    let rows = rows.context("the diesel-async run failed")?;
    stacks.push(stack("diesel-async + deadpool", t, rows));
    Ok(Stacks(stacks))
}
