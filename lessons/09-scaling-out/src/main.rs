//! Lesson 9, step by step: each step runs, then its report is printed. The servers are
//! started here and removed at the end, also on Ctrl-C.

use anyhow::Result;
use clap::Parser;
use lesson_9::report::{Results, write_results};
use lesson_9::{Ctx, Sizes, s1_replication, s2_split, s3_read_your_writes, s4_failover};
use lesson_9::{s5_cluster, setup};
use workbook::Topology;

#[tokio::main]
async fn main() -> Result<()> {
    let sizes = Sizes::parse();
    // Any message that quotes a URL shows it without its password.
    let redacted =
        |e: anyhow::Error| anyhow::anyhow!(workbook::redact_text(&format!("{e:#}")));
    steps(sizes).await.map_err(redacted)
}

async fn steps(sizes: Sizes) -> Result<()> {
    let (topology, version) = setup::start(|| Topology::primary_with_replicas(2)).await?;
    let flavor = setup::flavor(&topology);
    let ctx = Ctx {
        flavor,
        nodes: setup::controls(&topology),
        sizes: sizes.clone(),
    };
    workbook::step("1", "Replication with GTIDs: a primary and two replicas");
    let lag = s1_replication::run(&ctx).await?;
    println!("{lag}");
    workbook::step("2", "Read/write splitting with two kinds of pool");
    println!("{}", s2_split::run(&ctx).await?);
    workbook::step("3", "Read-your-writes: wait for the write's GTID");
    let ryw = s3_read_your_writes::run(&ctx).await?;
    println!("{ryw}");
    workbook::step("4", "Failover, with and without semi-sync");
    let failovers = s4_failover::run(&ctx).await?;
    let shown: Vec<String> = failovers.iter().map(ToString::to_string).collect();
    println!("{}", shown.join("\n"));
    drop((ctx, topology));
    let cluster = if sizes.no_cluster {
        None
    } else {
        let (cluster, _) = setup::start(Topology::cluster).await?;
        let nodes = setup::controls(&cluster);
        let ctx = Ctx {
            flavor,
            nodes,
            sizes: sizes.clone(),
        };
        workbook::step("5", "A multi-writer cluster: conflicts, retries and quorum");
        let report = s5_cluster::run(&ctx).await?;
        println!("{report}");
        Some(report)
    };
    if !sizes.no_results {
        let dir = sizes
            .results
            .clone()
            .unwrap_or_else(lesson_9::default_results_dir);
        let version = version.as_str();
        let results = Results {
            version,
            lag: &lag,
            read_your_writes: &ryw,
            failovers: &failovers,
            cluster: cluster.as_ref(),
        };
        for path in write_results(&dir, flavor, &results)? {
            eprintln!("lesson-9: wrote {}", path.display());
        }
    }
    Ok(())
}
