//! Step 2: the data. Lesson 6's own rows in the shared `bench_customers` table, seeded
//! once from a fixed seed, and the ids that W2, W3 and the floor select.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use diesel::prelude::{Queryable, Selectable};
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use serde::Serialize;
use sqlx::MySqlConnection;
use sqlx::mysql::MySqlPool;

// ANCHOR: bench_customer
/// One row of `bench_customers`, as every stack reads it.
///
/// `id` is an `i32` because `bench_customers.id` is an `INT`: the article's
/// `customers.id` is a `SMALLINT`, which cannot hold 10,000 rows plus the ones W4 inserts
/// run after run.
#[derive(
    Debug, Clone, PartialEq, Eq, sqlx::FromRow, Queryable, Selectable, Serialize,
)]
#[diesel(table_name = schema::bench_customers)]
#[diesel(check_for_backend(diesel::mysql::Mysql))]
pub struct BenchCustomer {
    /// The primary key (`INT`).
    pub id: i32,
    /// The unique name.
    pub name: String,
    /// The job; the column is nullable.
    pub job: Option<String>,
}
// ANCHOR_END: bench_customer

// ANCHOR: new_customer
/// A row to insert (W4, and the seed): the server picks the id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewCustomer {
    /// The unique name.
    pub name: String,
    /// The job, or `None` for SQL NULL.
    pub job: Option<String>,
}
// ANCHOR_END: new_customer

// ANCHOR: schema
/// The diesel schema of the shared `bench_customers` table.
pub mod schema {
    diesel::table! {
        /// `bench_customers`: like the article's `customers`, with `id` widened to `INT`.
        bench_customers (id) {
            /// The primary key, an `INT AUTO_INCREMENT`.
            id -> Integer,
            /// The unique name.
            name -> Varchar,
            /// The job, nullable with a default of `''`.
            job -> Nullable<Varchar>,
        }
    }
}
// ANCHOR_END: schema

// ANCHOR: customers
/// The fixed seed behind the data and the ids. With `rand` pinned, every run, every stack
/// and every machine gets the same jobs and the same order of ids.
pub const SEED: u64 = 6;

const JOBS: [&str; 6] = [
    "Backend Developer",
    "Frontend Developer",
    "Data Engineer",
    "Site Reliability Engineer",
    "Product Manager",
    "",
];

/// `rows` customers named `{prefix}0000001` and on, with jobs drawn from `seed`.
fn customers(prefix: &str, rows: usize, seed: u64) -> Vec<NewCustomer> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut job = move || match rng.random_ratio(1, 10) {
        // About one job in ten is NULL, so that decoding `Option<String>` is measured.
        true => None,
        false => JOBS.choose(&mut rng).map(|j| (*j).to_owned()),
    };
    let name = |i: usize| format!("{prefix}{i:07}");
    (1..=rows)
        .map(|i| NewCustomer {
            name: name(i),
            job: job(),
        })
        .collect()
}
// ANCHOR_END: customers

/// Where lesson 6's seeded rows are: the ids `first..=last`, with no one else's rows
/// among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Seeded {
    /// The first id.
    pub first: i32,
    /// The last id.
    pub last: i32,
    /// Whether this call inserted them (`false`: they were already there).
    pub created: bool,
}

impl Seeded {
    /// How many rows: `last - first + 1`.
    pub fn rows(&self) -> usize {
        usize::try_from(self.last - self.first + 1).unwrap_or(0)
    }
}

// ANCHOR: seed
/// Makes sure `bench_customers` holds exactly `rows` of lesson 6's rows (named `m6-...`)
/// with consecutive ids, inserting them only when they are missing or a different
/// number. Rows that other lessons own are never touched.
pub async fn seed(pool: &MySqlPool, rows: usize) -> Result<Seeded> {
    let (count, first, last): (i64, Option<i32>, Option<i32>) = sqlx::query_as(
        "SELECT COUNT(*), MIN(id), MAX(id) FROM bench_customers WHERE name LIKE 'm6-%'",
    )
    .fetch_one(pool)
    .await?;
    if let (Some(first), Some(last)) = (first, last)
        && count == rows as i64
        && i64::from(last - first) + 1 == count
    {
        let created = false;
        return Ok(Seeded {
            first,
            last,
            created,
        });
    }
    let mut tx = pool.begin().await?;
    let first = insert_seed(&mut tx, rows).await?;
    tx.commit().await?;
    let last = first + rows as i32 - 1;
    Ok(Seeded {
        first,
        last,
        created: true,
    })
}
// ANCHOR_END: seed

// ANCHOR: insert_seed
/// Replaces lesson 6's rows with `rows` new ones, whose explicit ids follow the table's
/// highest, 1,000 to a statement. Returns the first id.
async fn insert_seed(tx: &mut MySqlConnection, rows: usize) -> Result<i32> {
    sqlx::query("DELETE FROM bench_customers WHERE name LIKE 'm6-%'")
        .execute(&mut *tx)
        .await?;
    let highest: Option<i32> = sqlx::query_scalar("SELECT MAX(id) FROM bench_customers")
        .fetch_one(&mut *tx)
        .await?;
    let first = highest.unwrap_or(0) + 1;
    let data = customers("m6-", rows, SEED);
    let mut ids = first..;
    for part in data.chunks(1_000) {
        let mut insert =
            sqlx::QueryBuilder::new("INSERT INTO bench_customers (id, name, job) ");
        insert.push_values(part.iter().zip(&mut ids), |mut values, (row, id)| {
            values
                .push_bind(id)
                .push_bind(&row.name)
                .push_bind(&row.job);
        });
        insert.build().execute(&mut *tx).await?;
    }
    Ok(first)
}
// ANCHOR_END: insert_seed

// ANCHOR: choose_ids
/// `n` distinct ids of the seeded rows, in an order fixed by [`SEED`]: W2, W3 and the
/// floor all read exactly these, in this order.
pub fn choose_ids(seeded: &Seeded, n: usize) -> Result<Vec<i32>> {
    if n > seeded.rows() {
        bail!("cannot choose {n} distinct ids from {} rows", seeded.rows());
    }
    let mut ids: Vec<i32> = (seeded.first..=seeded.last).collect();
    ids.shuffle(&mut StdRng::seed_from_u64(SEED));
    ids.truncate(n);
    Ok(ids)
}
// ANCHOR_END: choose_ids

/// The rows W4 inserts: `rows` customers named `m6w4-0000001` and on, with jobs from the
/// seed.
pub fn rows_to_insert(rows: usize) -> Vec<NewCustomer> {
    customers("m6w4-", rows, SEED + 4)
}

/// Deletes the rows W4 inserted (named `m6w4-...`), and returns how many there were.
pub async fn delete_inserted(pool: &MySqlPool) -> Result<u64> {
    let done = sqlx::query("DELETE FROM bench_customers WHERE name LIKE 'm6w4-%'")
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

// ANCHOR: purge
/// InnoDB's history length: how many committed transactions' undo logs its purge has yet
/// to process, or `None` when the account may not read it (that needs `PROCESS`).
pub async fn history_length(pool: &MySqlPool) -> Option<i64> {
    let sql = "SELECT CAST(`COUNT` AS SIGNED) FROM information_schema.INNODB_METRICS \
               WHERE NAME = 'trx_rseg_history_len'";
    sqlx::query_scalar(sql)
        .fetch_optional(pool)
        .await
        .ok()
        .flatten()
}

/// Waits, at most `limit`, until InnoDB has purged what W4's insert and delete left
/// behind, that is until its history length is back to `before`, so that no run pays for
/// the previous run's clean-up.
pub async fn wait_for_purge(pool: &MySqlPool, before: Option<i64>, limit: Duration) {
    let Some(before) = before else { return };
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        match history_length(pool).await {
            Some(now) if now > before => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            _ => return,
        }
    }
}
// ANCHOR_END: purge

/// Step 2's report: the seeded rows, and the ids chosen from them.
pub async fn run(ctx: &crate::Ctx) -> Result<crate::report::Data> {
    let seeded = seed(&ctx.pool, ctx.counts.rows).await?;
    let ids = choose_ids(&seeded, ctx.counts.ops)?;
    let how = if seeded.created {
        "inserted now"
    } else {
        "already there"
    };
    eprintln!("lesson-6: the seeded rows were {how}");
    Ok(crate::report::Data {
        seeded,
        ids,
        seed: SEED,
    })
}
