//! Step 7: streaming 10,000 rows, one at a time.

use std::collections::BTreeMap;

use futures::TryStreamExt;
use sqlx::{MySql, MySqlPool, QueryBuilder};

/// How many rows step 7 streams.
pub const STREAM_ROWS: u32 = 10_000;

/// The jobs the streamed rows cycle through.
const STREAM_JOBS: [&str; 4] = [
    "Backend Developer",
    "Data Engineer",
    "Frontend Developer",
    "Site Reliability Engineer",
];

// ANCHOR: seed
/// Puts [`STREAM_ROWS`] rows named `stream-00001` ... into the shared `bench_customers`
/// table, unless an earlier run did. Returns how many such rows the table holds.
pub async fn seed_stream_rows(pool: &MySqlPool) -> sqlx::Result<i64> {
    if count_stream_rows(pool).await? == i64::from(STREAM_ROWS) {
        return Ok(i64::from(STREAM_ROWS)); // Seeded by an earlier run.
    }
    let numbers: Vec<u32> = (1..=STREAM_ROWS).collect();
    let mut tx = pool.begin().await?;
    // 1,000 rows (2,000 bound values) per statement stays well below the protocol's
    // limit of 65,535 placeholders and the server's max_allowed_packet.
    for chunk in numbers.chunks(1_000) {
        let mut insert =
            QueryBuilder::<MySql>::new("INSERT INTO bench_customers (name, job) ");
        insert.push_values(chunk, |mut row, n| {
            row.push_bind(format!("stream-{n:05}"))
                .push_bind(STREAM_JOBS[*n as usize % STREAM_JOBS.len()]);
        });
        // Rows left by an interrupted earlier run stay as they are.
        insert.push(" ON DUPLICATE KEY UPDATE id = id");
        insert.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    count_stream_rows(pool).await
}
// ANCHOR_END: seed

async fn count_stream_rows(pool: &MySqlPool) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM bench_customers WHERE name LIKE 'stream-%'")
        .fetch_one(pool)
        .await
}

// ANCHOR: bench_customer
/// A row of `bench_customers`: the same columns as `customers`, with an `INT` id.
#[derive(Debug, sqlx::FromRow)]
pub struct BenchCustomer {
    /// `INT NOT NULL AUTO_INCREMENT`.
    pub id: i32,
    /// `VARCHAR(50) NOT NULL`.
    pub name: String,
    /// `VARCHAR(50) DEFAULT ''`.
    pub job: Option<String>,
}
// ANCHOR_END: bench_customer

// ANCHOR: stream
/// Reads the streamed rows one at a time: only the row at hand is held in memory.
pub async fn stream_rows(pool: &MySqlPool) -> sqlx::Result<StreamSummary> {
    let mut rows = sqlx::query_as::<_, BenchCustomer>(
        "SELECT id, name, job FROM bench_customers \
         WHERE name LIKE 'stream-%' ORDER BY id",
    )
    .fetch(pool);
    let mut summary = StreamSummary::default();
    while let Some(row) = rows.try_next().await? {
        summary.rows += 1;
        let job = row.job.unwrap_or_default();
        *summary.by_job.entry(job).or_default() += 1;
        summary.last_name = row.name;
    }
    Ok(summary)
}
// ANCHOR_END: stream

/// What [`stream_rows`] saw.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct StreamSummary {
    /// How many rows came through.
    pub rows: u64,
    /// How many rows had each job.
    pub by_job: BTreeMap<String, u64>,
    /// The last name, in id order.
    pub last_name: String,
}

/// Step 7's report: the rows seeded, and what the stream saw. The shared schema's
/// `bench_customers` table must exist.
pub async fn run(ctx: &crate::Ctx) -> anyhow::Result<crate::report::Streamed> {
    let seeded = seed_stream_rows(&ctx.pool).await?;
    let summary = stream_rows(&ctx.pool).await?;
    Ok(crate::report::Streamed { seeded, summary })
}
