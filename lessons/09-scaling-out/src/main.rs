//! Lesson 9, step by step: each step runs, then its report is printed. The servers are
//! started here and removed at the end, also on Ctrl-C.

use anyhow::Result;
use clap::Parser;
use lesson_9::report::Results;
use lesson_9::{Sizes, s1_replication, s2_split, s3_read_your_writes, s4_failover};
use lesson_9::{s5_cluster, setup};
use workbook::Topology;

#[tokio::main]
async fn main() -> Result<()> {
    let sizes = Sizes::parse();
    // Any message that quotes a URL shows it without its password.
    let redact =
        |e: anyhow::Error| anyhow::anyhow!(workbook::redact_text(&format!("{e:#}")));
    // Ctrl-C drops the steps and the servers they hold (a watchdog removes them anyway).
    tokio::select! {
        outcome = steps(sizes) => outcome.map_err(redact),
        _ = tokio::signal::ctrl_c() => anyhow::bail!("interrupted; the servers are removed"),
    }
}

async fn steps(sizes: Sizes) -> Result<()> {
    let (topology, version) = setup::start(|| Topology::primary_with_replicas(2)).await?;
    let ctx = setup::context(&topology, &sizes);
    let flavor = ctx.flavor;
    workbook::step("1", "Replication with GTIDs: a primary and two replicas");
    let lag = s1_replication::run(&ctx).await?;
    println!("{lag}");
    workbook::step("2", "Read/write splitting with two kinds of pool");
    println!("{}", s2_split::run(&ctx).await?);
    workbook::step("3", "Read-your-writes: wait for the write's GTID");
    let read_your_writes = s3_read_your_writes::run(&ctx).await?;
    println!("{read_your_writes}");
    workbook::step("4", "Failover, with and without semi-sync");
    let failovers = s4_failover::run(&ctx).await?;
    let shown: Vec<String> = failovers.iter().map(ToString::to_string).collect();
    println!("{}", shown.join("\n"));
    drop((ctx, topology));
    let mut cluster = None;
    if !sizes.no_cluster {
        let (topology, _) = setup::start(Topology::cluster).await?;
        let ctx = setup::context(&topology, &sizes);
        workbook::step("5", "A multi-writer cluster: conflicts, retries and quorum");
        cluster = Some(s5_cluster::run(&ctx).await?);
        println!("{}", cluster.as_ref().expect("just set"));
    }
    let version = version.as_str();
    let (lag, read_your_writes, failovers) = (&lag, &read_your_writes, &failovers[..]);
    let cluster = cluster.as_ref();
    let results = Results {
        version,
        lag,
        read_your_writes,
        failovers,
        cluster,
    };
    setup::write_results(&sizes, flavor, &results)
}
