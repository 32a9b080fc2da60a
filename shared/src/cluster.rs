//! The multi-writer clusters of [`crate::Topology::cluster`]: Galera on local `mariadbd`
//! processes, Group Replication in MySQL containers.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use sqlx::{AssertSqlSafe, Connection, Row};

use crate::database::connect_one;
use crate::local::{Flavor, LocalServer, free_port};
use crate::topology::{Shape, Topology, local_node, local_topology};

/// Where Debian's `galera-4` package puts the wsrep provider.
const GALERA_PROVIDER: &str = "/usr/lib/galera/libgalera_smm.so";

/// How long a cluster may take to reach all of its members.
const FORM_TIMEOUT: Duration = Duration::from_secs(120);

pub(crate) fn binary_is_mariadb(binary: &Path) -> bool {
    Command::new(binary)
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("MariaDB"))
}

/// Three (or `count`) local `mariadbd` with the Galera provider, on loopback ports: the
/// first bootstraps the cluster, the others join it by an rsync state transfer.
pub(crate) fn start_local_galera(binary: &Path, count: usize) -> Result<Topology> {
    if !binary_is_mariadb(binary) {
        bail!(
            "a local cluster is Galera, which needs mariadbd; {} is MySQL (Group Replication \
             runs in the Docker run: WORKBOOK_SERVER=docker)",
            binary.display()
        );
    }
    if !Path::new(GALERA_PROVIDER).is_file() {
        bail!(
            "Galera's provider {GALERA_PROVIDER} is missing: apt-get install galera-4 rsync"
        );
    }
    // Three ports a node: group communication, incremental and full state transfer.
    let ports: Vec<[u16; 3]> = (0..count)
        .map(|_| Ok([free_port()?, free_port()?, free_port()?]))
        .collect::<Result<_>>()?;
    let members = ports
        .iter()
        .map(|p| format!("127.0.0.1:{}", p[0]))
        .collect::<Vec<_>>()
        .join(",");
    let mut nodes = Vec::new();
    for (i, [gcomm, ist, sst]) in ports.iter().enumerate() {
        let server_id = i as u32 + 1;
        let mut options = vec![
            format!("--server-id={server_id}"),
            "--innodb-buffer-pool-size=32M".to_owned(),
            "--innodb-log-file-size=16M".to_owned(),
            "--performance-schema=OFF".to_owned(),
            "--binlog-format=ROW".to_owned(),
            "--innodb-autoinc-lock-mode=2".to_owned(),
            "--wsrep-on=ON".to_owned(),
            format!("--wsrep-provider={GALERA_PROVIDER}"),
            "--wsrep-cluster-name=workbook".to_owned(),
            format!("--wsrep-node-name=node{server_id}"),
            format!("--wsrep-cluster-address=gcomm://{members}"),
            "--wsrep-node-address=127.0.0.1".to_owned(),
            format!(
                "--wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:{gcomm};\
                 ist.recv_addr=127.0.0.1:{ist};gcache.size=16M;\
                 evs.suspect_timeout=PT3S;evs.inactive_timeout=PT6S"
            ),
            "--wsrep-sst-method=rsync".to_owned(),
            format!("--wsrep-sst-receive-address=127.0.0.1:{sst}"),
            "--wsrep-slave-threads=1".to_owned(),
        ];
        if i == 0 {
            options.push("--wsrep-new-cluster".to_owned());
        }
        let local = LocalServer::start_with(binary, &options)
            .with_context(|| format!("cannot start Galera node{server_id}"))?;
        nodes.push(local_node(format!("node{server_id}"), server_id, local));
    }
    let topology = local_topology(
        Flavor::MariaDb,
        Shape::Cluster,
        format!(
            "local {} processes with {GALERA_PROVIDER}",
            binary.display()
        ),
        nodes,
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(wait_for_members(&topology, count))?;
    Ok(topology)
}

/// The Group Replication options of node `i` (from 1), the nodes being at `addresses`
/// on the private network.
pub(crate) fn group_replication_options(addresses: &[String], i: usize) -> Vec<String> {
    // NOTE: the members know each other by IP address, not by container name. XCom, the
    // group communication engine, runs in one thread, and resolves a member's name each
    // time it tries to reach it again; Docker's DNS answers for a stopped container's
    // name only once the upstream servers time out (20 s here), so with names one killed
    // node froze the whole group: no commit, and no failure detected, for as long as it
    // stayed down.
    let seeds = addresses
        .iter()
        .map(|a| format!("{a}:33061"))
        .collect::<Vec<_>>()
        .join(",");
    // Any fixed UUID names the group; this one is the workbook's.
    let group = "5eaf1e1d-0000-4000-8000-00000000b00c";
    vec![
        // NOTE: Group Replication reads its members from the performance schema.
        "--performance-schema=ON".to_owned(),
        "--plugin-load-add=group_replication.so".to_owned(),
        format!("--group-replication-group-name={group}"),
        "--group-replication-start-on-boot=OFF".to_owned(),
        format!(
            "--group-replication-local-address={}:33061",
            addresses[i - 1]
        ),
        format!("--group-replication-group-seeds={seeds}"),
        "--group-replication-single-primary-mode=OFF".to_owned(),
        "--group-replication-enforce-update-everywhere-checks=ON".to_owned(),
        // NOTE: a member is suspected after 5 s of silence (fixed); with an expel timeout
        // of 0 it is expelled at once then. A member left in a minority blocks its writes
        // for the unreachable-majority timeout (5 s here; by default for ever), then
        // leaves the group, rolls back what waited, and turns super_read_only on.
        "--group-replication-unreachable-majority-timeout=5".to_owned(),
        "--group-replication-member-expel-timeout=0".to_owned(),
        "--group-replication-recovery-get-public-key=ON".to_owned(),
    ]
}

/// Starts Group Replication: node1 bootstraps the group, the others join it.
pub(crate) fn bootstrap_group_replication(topology: &mut Topology) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        for (i, node) in topology.nodes().iter().enumerate() {
            let mut conn = connect_one(node.url()).await?;
            let mut statements = vec![
                "CHANGE REPLICATION SOURCE TO SOURCE_USER = 'root', SOURCE_PASSWORD = '' \
                 FOR CHANNEL 'group_replication_recovery'",
            ];
            if i == 0 {
                statements.extend([
                    "SET GLOBAL group_replication_bootstrap_group = ON",
                    "START GROUP_REPLICATION",
                    "SET GLOBAL group_replication_bootstrap_group = OFF",
                ]);
            } else {
                statements.push("START GROUP_REPLICATION");
            }
            for sql in statements {
                sqlx::raw_sql(AssertSqlSafe(sql))
                    .execute(&mut conn)
                    .await
                    .with_context(|| format!("{}: {sql}", node.name()))?;
            }
            conn.close().await.ok();
        }
        wait_for_members(topology, topology.nodes().len()).await
    })
}

/// Waits until every node counts `count` members in a working cluster.
async fn wait_for_members(topology: &Topology, count: usize) -> Result<()> {
    let deadline = Instant::now() + FORM_TIMEOUT;
    for node in topology.nodes() {
        loop {
            let seen = members(topology.flavor(), node.url()).await.unwrap_or(0);
            if seen >= count {
                break;
            }
            if Instant::now() > deadline {
                bail!(
                    "{} sees {seen} of {count} members after {} s",
                    node.name(),
                    FORM_TIMEOUT.as_secs()
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    Ok(())
}

/// How many members the node at `url` counts in its working cluster.
async fn members(flavor: Flavor, url: &str) -> Result<usize> {
    let mut conn = connect_one(url).await?;
    let count = match flavor {
        Flavor::MariaDb => {
            let rows = sqlx::raw_sql(
                "SHOW GLOBAL STATUS WHERE Variable_name IN \
                 ('wsrep_cluster_size', 'wsrep_ready', 'wsrep_cluster_status')",
            )
            .fetch_all(&mut conn)
            .await?;
            let value = |name: &str| {
                rows.iter()
                    .find(|r| r.try_get::<String, _>(0).is_ok_and(|n| n == name))
                    .and_then(|r| r.try_get::<String, _>(1).ok())
                    .unwrap_or_default()
            };
            if value("wsrep_ready") == "ON" && value("wsrep_cluster_status") == "Primary"
            {
                value("wsrep_cluster_size").parse().unwrap_or(0)
            } else {
                0
            }
        }
        Flavor::MySql => {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM performance_schema.replication_group_members \
                 WHERE MEMBER_STATE = 'ONLINE'",
            )
            .fetch_one(&mut conn)
            .await?;
            usize::try_from(n).unwrap_or(0)
        }
    };
    conn.close().await.ok();
    Ok(count)
}
