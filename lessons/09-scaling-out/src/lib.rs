//! Lesson 9: outgrowing one server — read replicas, failover, and a real cluster.
//!
//! One module a step, in the chapter's order. Each starts with the code the book shows;
//! its `run`, at the end, is what `main.rs` calls, and returns a report of plain data
//! that [`report`] prints. The servers come from the helper crate's topology builder;
//! the steps get them as plain URLs and actions ([`Ctx`]), so that their code pastes
//! into a service unchanged.
//!
//! Step 6 of the chapter (proxies, Vitess, TiDB) is on paper only: no code runs for it.

pub mod s1_replication;
pub mod s2_split;
pub mod s3_read_your_writes;
pub mod s4_failover;
pub mod s5_cluster;

pub mod report;
pub mod setup;

// The exercises at the end of the chapter. With the `solutions` feature, the worked
// answers stand in their place, so that CI can check that every exercise is solvable.
#[cfg(not(feature = "solutions"))]
pub mod exercises;
#[cfg(feature = "solutions")]
#[path = "solutions.rs"]
pub mod exercises;

use std::sync::Arc;

pub use s2_split::Pools;
pub use s3_read_your_writes::{wait_for_gtid, write_and_get_gtid};
pub use s4_failover::{WritePool, gtid_count};
pub use s5_cluster::{is_retryable, with_retry};

/// The database the lesson creates on the primary (and so, through replication, on every
/// replica) and drops at the end.
pub const DATABASE: &str = "lesson9";

/// Where the JSON results and the chart go by default: `results/` beside the lesson.
pub fn default_results_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("results")
}

/// Which server the nodes run: the SQL for replication differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Flavor {
    /// MariaDB: `MASTER_GTID_WAIT`, `CHANGE MASTER TO`, Galera.
    MariaDb,
    /// MySQL: `WAIT_FOR_EXECUTED_GTID_SET`, `CHANGE REPLICATION SOURCE TO`, Group
    /// Replication.
    MySql,
}

/// Something to do to a node that blocks until it is done, such as killing it.
pub type NodeAction = Arc<dyn Fn() -> anyhow::Result<()> + Send + Sync>;

/// One server of the lesson's topology, as the steps see it.
#[derive(Clone)]
pub struct NodeControl {
    /// `node1`, `node2`, ...
    pub name: String,
    /// The node's URL for the lesson's database. It may hold a password: never print it.
    pub url: String,
    /// Where the other nodes reach it (host, port), for `CHANGE MASTER TO`.
    pub peer: (String, u16),
    /// Kills the node at once, as a crash would. Blocks.
    pub kill: NodeAction,
    /// Cuts the node off the network (in the local run: pauses it, see [`Ctx::real_cuts`]).
    /// Blocks.
    pub cut: NodeAction,
    /// Undoes `cut`: the node is back, at the same address. Blocks.
    pub reconnect: NodeAction,
}

impl std::fmt::Debug for NodeControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeControl")
            .field("name", &self.name)
            .finish()
    }
}

/// Step 1's default: how long the write load runs, in milliseconds.
pub const DEFAULT_LOAD_MS: u64 = 3000;
/// Steps 1 and 3's default: tasks writing at once.
pub const DEFAULT_WRITERS: u32 = 4;
/// Steps 1 and 3's default: rows a second each writer inserts at most.
pub const DEFAULT_RATE: u32 = 250;
/// Step 3's default: reads after a write, with and without the wait.
pub const DEFAULT_READS: u32 = 200;
/// Step 4's default: how long the link to the replicas is cut before the primary dies.
pub const DEFAULT_CUT_MS: u64 = 500;
/// Step 5's default: transactions each writer commits.
pub const DEFAULT_TRANSACTIONS: u32 = 60;

/// How much work each step does. The defaults make a whole run take about a minute.
#[derive(Debug, Clone, PartialEq, Eq, clap::Parser)]
#[command(about = "Lesson 9: read replicas, failover and a cluster, each run for real.")]
pub struct Sizes {
    /// Step 1: how long the write load runs (ms) while the lag is sampled.
    #[arg(long, default_value_t = DEFAULT_LOAD_MS, value_parser = clap::value_parser!(u64).range(200..600_000))]
    pub load_ms: u64,
    /// Steps 1, 3 and 4: tasks writing at once.
    #[arg(long, default_value_t = DEFAULT_WRITERS, value_parser = clap::value_parser!(u32).range(1..100))]
    pub writers: u32,
    /// Steps 1 and 3: rows a second each writer inserts at most.
    #[arg(long, default_value_t = DEFAULT_RATE, value_parser = clap::value_parser!(u32).range(1..100_000))]
    pub rate: u32,
    /// Step 3: reads right after a write, each way.
    #[arg(long, default_value_t = DEFAULT_READS, value_parser = clap::value_parser!(u32).range(1..1_000_000))]
    pub reads: u32,
    /// Step 4: how long the replicas receive nothing before the primary is killed (ms).
    #[arg(long, default_value_t = DEFAULT_CUT_MS, value_parser = clap::value_parser!(u64).range(0..60_000))]
    pub cut_ms: u64,
    /// Step 5: transactions each writer commits.
    #[arg(long, default_value_t = DEFAULT_TRANSACTIONS, value_parser = clap::value_parser!(u32).range(1..1_000_000))]
    pub transactions: u32,
    /// Where the JSON results and the SVG chart go (`results/` beside the lesson, by
    /// default); nothing is written with `--no-results`.
    #[arg(long)]
    pub results: Option<std::path::PathBuf>,
    /// Writes no results files.
    #[arg(long)]
    pub no_results: bool,
    /// Leaves out step 5 (the cluster).
    #[arg(long)]
    pub no_cluster: bool,
}

impl Sizes {
    /// The sizes from command-line arguments (the program's name first), or clap's
    /// error saying which flag is wrong.
    pub fn from_args<I, T>(args: I) -> Result<Sizes, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        <Sizes as clap::Parser>::try_parse_from(args)
    }
}

/// What steps 1 to 4 run against: a primary and its replicas.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The servers' kind.
    pub flavor: Flavor,
    /// The primary first, then the replicas.
    pub nodes: Vec<NodeControl>,
    /// How much work each step does.
    pub sizes: Sizes,
    /// True when a node's `cut` takes it off a real network (the Docker run); false when
    /// it pauses a local process (the local run).
    pub real_cuts: bool,
}

impl Ctx {
    /// The primary, as started.
    pub fn primary(&self) -> &NodeControl {
        &self.nodes[0]
    }

    /// The replicas, as started.
    pub fn replicas(&self) -> &[NodeControl] {
        &self.nodes[1..]
    }
}

/// Creates the lesson's database and tables on the primary; the replicas get them by
/// replication.
pub async fn create_tables(server_url: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut conn = sqlx::MySqlConnection::connect(server_url).await?;
    for sql in [
        "CREATE DATABASE IF NOT EXISTS lesson9 CHARACTER SET utf8mb4",
        "CREATE TABLE IF NOT EXISTS lesson9.heartbeat \
         (id INT PRIMARY KEY, beat BIGINT NOT NULL)",
        "INSERT IGNORE INTO lesson9.heartbeat VALUES (1, 0)",
        "CREATE TABLE IF NOT EXISTS lesson9.events (id BIGINT AUTO_INCREMENT PRIMARY KEY, \
         writer INT NOT NULL, payload VARCHAR(255) NOT NULL)",
        "CREATE TABLE IF NOT EXISTS lesson9.notes (id BIGINT AUTO_INCREMENT PRIMARY KEY, \
         body VARCHAR(255) NOT NULL)",
        "CREATE TABLE IF NOT EXISTS lesson9.orders (id BIGINT PRIMARY KEY, \
         writer INT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS lesson9.counters (id INT PRIMARY KEY, \
         n BIGINT NOT NULL)",
    ] {
        sqlx::raw_sql(sql).execute(&mut conn).await?;
    }
    conn.close().await.ok();
    Ok(())
}
