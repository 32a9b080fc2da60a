//! Several servers that work together: a primary with replicas, or a three-node cluster.
//!
//! The nodes follow the workbook's server choice (`WORKBOOK_SERVER`): in the Docker run,
//! each node is a container of the workbook's MySQL image on a private Docker network,
//! with a fixed address of its own there; in the local run, and wherever Docker does not
//! answer, each node is a local `mariadbd` or `mysqld` process on a loopback port of its
//! own. A node can be killed ([`Node::kill`]) and cut off ([`Node::disconnect`]: a real
//! cut of its network link in the Docker run, a paused process in the local one).
//! Either way, every node is removed when the [`Topology`] is dropped, and also when the
//! program ends in any other way, Ctrl-C included (see the `reaper` module).
//!
//! Node settings stay small (a 32 MB buffer pool, no performance schema), so that three
//! nodes and a lesson fit a two-core machine.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use sqlx::{AssertSqlSafe, Connection};

use crate::database::connect_one;
use crate::local::{Flavor, LocalServer, find_server_binary, free_port, greets};
use crate::reaper::Reaper;

/// How long the nodes of a topology may take to start, together.
const START_TIMEOUT: Duration = Duration::from_secs(180);

/// The options every node gets: small memory, binary log with GTIDs, row format.
fn common_options(flavor: Flavor, server_id: u32) -> Vec<String> {
    let mut options = vec![
        format!("--server-id={server_id}"),
        "--log-bin=binlog".to_owned(),
        "--binlog-format=ROW".to_owned(),
        "--innodb-buffer-pool-size=32M".to_owned(),
        "--performance-schema=OFF".to_owned(),
        "--max-connections=100".to_owned(),
    ];
    match flavor {
        // NOTE: MariaDB always writes GTIDs; strict mode refuses a binary log that
        // goes out of order instead of silently diverging.
        Flavor::MariaDb => options.extend(
            [
                "--log-slave-updates=ON",
                "--gtid-strict-mode=ON",
                "--innodb-log-file-size=16M",
            ]
            .map(str::to_owned),
        ),
        // NOTE: MySQL writes GTIDs only when told to; semi-synchronous replication is
        // a pair of plugins there (built in on MariaDB), loaded here and left off.
        Flavor::MySql => options.extend(
            [
                "--gtid-mode=ON",
                "--enforce-gtid-consistency=ON",
                "--log-replica-updates=ON",
                "--innodb-redo-log-capacity=16M",
                "--plugin-load-add=semisync_source.so",
                "--plugin-load-add=semisync_replica.so",
            ]
            .map(str::to_owned),
        ),
    }
    options
}

/// What a topology is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One primary that takes the writes, and replicas that copy its binary log by GTID.
    PrimaryWithReplicas,
    /// A multi-writer cluster: Galera (MariaDB) or Group Replication (MySQL).
    Cluster,
}

/// One server of a [`Topology`].
pub struct Node {
    name: String,
    url: String,
    peer: (String, u16),
    server_id: u32,
    backend: Backend,
}

enum Backend {
    Local(LocalServer),
    Docker { container: String, network: String },
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("name", &self.name)
            .field("url", &crate::redact(&self.url))
            .finish()
    }
}

impl Node {
    /// The node's name: `node1`, `node2`, ...
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The node's URL from this program, with no database in it.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The node's URL for `database`.
    pub fn database_url(&self, database: &str) -> String {
        format!("{}/{database}", self.url)
    }

    /// Where the other nodes reach this one: a loopback port, or the container's address
    /// on the private network and 3306.
    pub fn peer_address(&self) -> (&str, u16) {
        (&self.peer.0, self.peer.1)
    }

    /// The node's `server_id`, which is its number.
    pub fn server_id(&self) -> u32 {
        self.server_id
    }

    /// Kills the node at once, as a crash would: `SIGKILL`, or `docker kill`. Its data
    /// stays. Blocks.
    pub fn kill(&self) -> Result<()> {
        match &self.backend {
            Backend::Local(local) => {
                local.kill();
                Ok(())
            }
            Backend::Docker { container, .. } => docker(&["kill", container])
                .map(drop)
                .with_context(|| format!("cannot kill {} ({container})", self.name)),
        }
    }

    /// Cuts the node off: in the Docker run, `docker network disconnect` takes it off the
    /// private network, so that nothing reaches it and nothing leaves it (this program's
    /// connections through the published port included) and its peers get no reset,
    /// only silence; in the local run, where all nodes share the loopback interface, the
    /// process is paused (`SIGSTOP`), which its peers also meet as silence (see
    /// [`Topology::cuts_for_real`]). Blocks.
    pub fn disconnect(&self) -> Result<()> {
        match &self.backend {
            Backend::Local(local) => local.pause(),
            Backend::Docker { container, network } => {
                docker(&["network", "disconnect", network, container])
                    .map(drop)
                    .with_context(|| format!("cannot cut {} off", self.name))
            }
        }
    }

    /// Undoes [`Node::disconnect`]: the node is back on the network at the same address
    /// (or the process runs on). Blocks.
    pub fn reconnect(&self) -> Result<()> {
        match &self.backend {
            Backend::Local(local) => local.resume(),
            Backend::Docker { container, network } => docker(&[
                "network",
                "connect",
                "--ip",
                &self.peer.0,
                network,
                container,
            ])
            .map(drop)
            .with_context(|| format!("cannot connect {} again", self.name)),
        }
    }

    /// Starts the node again after [`Node::kill`], on the same address and data, and
    /// returns once it accepts connections. Blocks.
    pub fn restart(&self) -> Result<()> {
        match &self.backend {
            Backend::Local(local) => local.restart(),
            Backend::Docker { container, .. } => {
                docker(&["start", container])?;
                wait_until_ready(&self.url, Instant::now() + START_TIMEOUT)
            }
        }
    }
}

/// Several servers started together, and removed together.
pub struct Topology {
    flavor: Flavor,
    shape: Shape,
    nodes: Vec<Node>,
    where_: String,
    startup: Duration,
    // Dropped after the nodes: removes the containers and the network.
    _reaper: Option<Reaper>,
}

impl std::fmt::Debug for Topology {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Topology")
            .field("shape", &self.shape)
            .field("nodes", &self.nodes)
            .finish()
    }
}

impl Topology {
    /// Starts a primary (`node1`) and `replicas` replicas (`node2`, ...), and makes each
    /// replica copy the primary by GTID, read-only. Waits until every replica runs.
    ///
    /// Docker or local processes, as `WORKBOOK_SERVER` says (see the module's notes).
    pub async fn primary_with_replicas(replicas: usize) -> Result<Topology> {
        if replicas == 0 || replicas > 5 {
            bail!("a topology has 1 to 5 replicas, not {replicas}");
        }
        let topology = tokio::task::spawn_blocking(move || {
            start_nodes(1 + replicas, Shape::PrimaryWithReplicas)
        })
        .await
        .context("the task that starts the nodes failed")??;
        let (primary, rest) = topology.nodes.split_first().expect("one node at least");
        for replica in rest {
            follow(topology.flavor, replica, primary).await?;
        }
        Ok(topology)
    }

    /// Starts a three-node multi-writer cluster: Galera on MariaDB (local processes,
    /// with the `galera-4` package's provider), Group Replication on MySQL. Returns once
    /// all three nodes are members.
    pub async fn cluster() -> Result<Topology> {
        tokio::task::spawn_blocking(|| start_nodes(3, Shape::Cluster))
            .await
            .context("the task that starts the nodes failed")?
    }

    /// MariaDB or MySQL.
    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// Every node, the primary first.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The node that was started as the primary (`node1`).
    pub fn primary(&self) -> &Node {
        &self.nodes[0]
    }

    /// The nodes started as replicas.
    pub fn replicas(&self) -> &[Node] {
        &self.nodes[1..]
    }

    /// True when [`Node::disconnect`] cuts a real network link (the Docker run); false
    /// when it pauses a local process, which only looks like a cut from its peers: the
    /// kernel still takes in what they send, and hands it over on [`Node::reconnect`].
    pub fn cuts_for_real(&self) -> bool {
        self.nodes
            .iter()
            .all(|n| matches!(n.backend, Backend::Docker { .. }))
    }

    /// How long starting and joining every node took.
    pub fn startup(&self) -> Duration {
        self.startup
    }

    /// One line for the terminal: how many nodes, of what, where.
    pub fn describe(&self) -> String {
        let what = match (self.shape, self.flavor) {
            (Shape::PrimaryWithReplicas, _) => {
                format!("a primary and {} replicas", self.nodes.len() - 1)
            }
            (Shape::Cluster, Flavor::MariaDb) => "a 3-node Galera cluster".to_owned(),
            (Shape::Cluster, Flavor::MySql) => "a 3-node Group Replication".to_owned(),
        };
        format!(
            "{what}, {}, started in {:.1} s",
            self.where_,
            self.startup.as_secs_f64()
        )
    }
}

/// Makes `replica` copy `primary` by GTID, read-only, and waits until both of its
/// threads run.
async fn follow(flavor: Flavor, replica: &Node, primary: &Node) -> Result<()> {
    let (host, port) = primary.peer_address();
    let mut conn = connect_one(replica.url()).await?;
    // A replica starts from nothing of its own: whatever its start-up wrote to its binary
    // log would otherwise stand in the primary's way.
    let statements = match flavor {
        Flavor::MariaDb => vec![
            "RESET MASTER".to_owned(),
            "SET GLOBAL gtid_slave_pos = ''".to_owned(),
            format!(
                "CHANGE MASTER TO MASTER_HOST = '{host}', MASTER_PORT = {port}, \
                 MASTER_USER = 'root', MASTER_PASSWORD = '', MASTER_USE_GTID = slave_pos, \
                 MASTER_CONNECT_RETRY = 1"
            ),
            "SET GLOBAL read_only = ON".to_owned(),
            "START SLAVE".to_owned(),
        ],
        Flavor::MySql => vec![
            "RESET BINARY LOGS AND GTIDS".to_owned(),
            format!(
                "CHANGE REPLICATION SOURCE TO SOURCE_HOST = '{host}', SOURCE_PORT = {port}, \
                 SOURCE_USER = 'root', SOURCE_PASSWORD = '', SOURCE_AUTO_POSITION = 1, \
                 GET_SOURCE_PUBLIC_KEY = 1, SOURCE_CONNECT_RETRY = 1"
            ),
            "SET GLOBAL super_read_only = ON".to_owned(),
            "START REPLICA".to_owned(),
        ],
    };
    for sql in statements {
        // Only the workbook's own addresses and numbers reach these strings.
        sqlx::raw_sql(AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .with_context(|| format!("cannot make {} a replica", replica.name()))?;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (io, sql, error) = replica_threads(&mut conn).await?;
        if io == "Yes" && sql == "Yes" {
            break;
        }
        if Instant::now() > deadline {
            bail!(
                "{} did not start replicating within 30 s (IO {io}, SQL {sql}): {error}",
                replica.name()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    conn.close().await.ok();
    Ok(())
}

/// The replica's IO and SQL thread states (`Yes`, `No`, `Connecting`) and its last
/// error, from `SHOW REPLICA STATUS` (which MariaDB 10.5+ also understands).
async fn replica_threads(
    conn: &mut sqlx::MySqlConnection,
) -> Result<(String, String, String)> {
    use sqlx::Row;
    let row = sqlx::raw_sql("SHOW REPLICA STATUS")
        .fetch_optional(&mut *conn)
        .await
        .context("cannot read the replica's status")?
        .context("the node is not a replica")?;
    let text = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| row.try_get::<String, _>(*n).ok())
            .unwrap_or_default()
    };
    Ok((
        text(&["Replica_IO_Running", "Slave_IO_Running"]),
        text(&["Replica_SQL_Running", "Slave_SQL_Running"]),
        [text(&["Last_IO_Error"]), text(&["Last_SQL_Error"])].join(" "),
    ))
}

/// `WORKBOOK_SERVER`, checked.
fn server_mode() -> Result<String> {
    let mode = std::env::var("WORKBOOK_SERVER").unwrap_or_else(|_| "auto".to_owned());
    if !matches!(mode.as_str(), "auto" | "docker" | "local") {
        bail!("WORKBOOK_SERVER is {mode:?}; use auto, docker or local");
    }
    Ok(mode)
}

/// The image for Docker nodes, when Docker should and can be used.
fn docker_image(mode: &str) -> Result<Option<String>> {
    if mode == "local" {
        return Ok(None);
    }
    #[cfg(feature = "docker")]
    let answer = crate::docker::docker_available();
    #[cfg(not(feature = "docker"))]
    let answer: std::result::Result<String, String> =
        Err("this build has no Docker support".to_owned());
    let image = std::env::var("WORKBOOK_MYSQL_IMAGE")
        .ok()
        .filter(|i| !i.trim().is_empty());
    match (answer, image) {
        (Ok(_), Some(image)) if docker(&["image", "inspect", &image]).is_ok() => {
            Ok(Some(image))
        }
        (Ok(_), image) if mode == "docker" => bail!(
            "WORKBOOK_SERVER=docker, but the image {} is not on this machine: build one with \
             `just mysql-image` and point WORKBOOK_MYSQL_IMAGE at it",
            image
                .as_deref()
                .unwrap_or("(WORKBOOK_MYSQL_IMAGE is not set)")
        ),
        (Err(why), _) if mode == "docker" => bail!("WORKBOOK_SERVER=docker, but {why}"),
        _ => Ok(None),
    }
}

fn start_nodes(count: usize, shape: Shape) -> Result<Topology> {
    let started = Instant::now();
    let mode = server_mode()?;
    let mut topology = match docker_image(&mode)? {
        Some(image) => start_docker_nodes(&image, count, shape)?,
        None => {
            let binary = find_server_binary().context(
                "neither mariadbd nor mysqld is on PATH, in /usr/sbin or in /usr/local/mysql/bin",
            )?;
            match shape {
                Shape::PrimaryWithReplicas => start_local_nodes(&binary, count)?,
                Shape::Cluster => crate::cluster::start_local_galera(&binary, count)?,
            }
        }
    };
    topology.startup = started.elapsed();
    Ok(topology)
}

fn start_local_nodes(binary: &std::path::Path, count: usize) -> Result<Topology> {
    let flavor = if crate::cluster::binary_is_mariadb(binary) {
        Flavor::MariaDb
    } else {
        Flavor::MySql
    };
    // One after the other: initialising data directories in parallel only makes the
    // two cores thrash.
    let mut nodes = Vec::new();
    for i in 1..=count {
        let server_id = i as u32;
        let local = LocalServer::start_with(binary, &common_options(flavor, server_id))
            .with_context(|| {
            format!("cannot start node{i} from {}", binary.display())
        })?;
        nodes.push(Node {
            name: format!("node{i}"),
            url: local.url(),
            peer: ("127.0.0.1".to_owned(), local.port()),
            server_id,
            backend: Backend::Local(local),
        });
    }
    Ok(Topology {
        flavor,
        shape: Shape::PrimaryWithReplicas,
        where_: format!("local {} processes", binary.display()),
        nodes,
        startup: Duration::ZERO,
        _reaper: None,
    })
}

pub(crate) fn local_node(name: String, server_id: u32, local: LocalServer) -> Node {
    Node {
        name,
        url: local.url(),
        peer: ("127.0.0.1".to_owned(), local.port()),
        server_id,
        backend: Backend::Local(local),
    }
}

pub(crate) fn local_topology(
    flavor: Flavor,
    shape: Shape,
    where_: String,
    nodes: Vec<Node>,
) -> Topology {
    Topology {
        flavor,
        shape,
        where_,
        nodes,
        startup: Duration::ZERO,
        _reaper: None,
    }
}

/// Runs `docker ARGS`, returning its stdout, or its stderr as the error.
pub(crate) fn docker(args: &[&str]) -> Result<String> {
    let out = Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("cannot run docker")?;
    if !out.status.success() {
        bail!(
            "docker {} failed: {}",
            args.first().unwrap_or(&""),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn start_docker_nodes(image: &str, count: usize, shape: Shape) -> Result<Topology> {
    let flavor = if image.contains("mariadb") {
        Flavor::MariaDb
    } else {
        Flavor::MySql
    };
    if shape == Shape::Cluster && flavor == Flavor::MariaDb {
        bail!(
            "a Galera cluster runs on local mariadbd processes only: use WORKBOOK_SERVER=local"
        );
    }
    let tag = format!("workbook-{}-{}", std::process::id(), free_port()?);
    // The watchdog is there before anything it must remove.
    let reaper = Reaper::spawn(
        r#"ids=$(docker ps -aq --filter "label=workbook.topology=$1")
[ -z "$ids" ] || docker rm -f -v $ids >/dev/null 2>&1
docker network rm "$1" >/dev/null 2>&1"#,
        &[&tag],
    )
    .context("cannot start the cleanup watchdog (sh)")?;
    let addresses = create_network(&tag, count)?;
    let mut nodes = Vec::new();
    for (i, address) in (1..=count).zip(&addresses) {
        let server_id = i as u32;
        let name = format!("node{i}");
        let host_port = free_port()?.to_string();
        let mut args: Vec<String> = [
            "run",
            "-d",
            "--name",
            &format!("{tag}-{name}"),
            "--hostname",
            &name,
            "--network",
            &tag,
            "--ip",
            address,
            "--label",
            &format!("workbook.topology={tag}"),
            "-p",
            &format!("127.0.0.1:{host_port}:3306"),
            "-e",
            "MYSQL_ALLOW_EMPTY_PASSWORD=yes",
            image,
        ]
        .map(str::to_owned)
        .to_vec();
        args.extend(common_options(flavor, server_id));
        if flavor == Flavor::MySql {
            args.push("--mysqlx=OFF".to_owned());
        }
        if shape == Shape::Cluster {
            args.extend(crate::cluster::group_replication_options(&addresses, i));
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let container = docker(&refs)?;
        nodes.push(Node {
            name,
            url: format!("mysql://root@127.0.0.1:{host_port}"),
            peer: (address.clone(), 3306),
            server_id,
            backend: Backend::Docker {
                container,
                network: tag.clone(),
            },
        });
    }
    let deadline = Instant::now() + START_TIMEOUT;
    for node in &nodes {
        wait_until_ready(&node.url, deadline).with_context(|| {
            let Backend::Docker { container, .. } = &node.backend else {
                return String::new();
            };
            let logs = Command::new("docker")
                .args(["logs", "--tail", "15", container])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
                .unwrap_or_default();
            format!("{} did not start; the end of its log:\n{logs}", node.name)
        })?;
    }
    let mut topology = Topology {
        flavor,
        shape,
        where_: format!("containers of {image} on the Docker network {tag}"),
        nodes,
        startup: Duration::ZERO,
        _reaper: Some(reaper),
    };
    if shape == Shape::Cluster {
        crate::cluster::bootstrap_group_replication(&mut topology)?;
    }
    Ok(topology)
}

/// Creates the private network `tag` and returns `count` fixed addresses on it.
///
/// Docker picks a free subnet for a new network, but lets containers choose their address
/// only on a subnet given by the user, and a node that is disconnected and connected again
/// must come back at the same address (its peers and replicas know it by that). So the
/// network is made once to learn a free subnet, and made again with it.
fn create_network(tag: &str, count: usize) -> Result<Vec<String>> {
    let label = format!("workbook.topology={tag}");
    docker(&["network", "create", "--label", &label, tag])?;
    let subnet = docker(&[
        "network",
        "inspect",
        "-f",
        "{{range .IPAM.Config}}{{.Subnet}}{{end}}",
        tag,
    ]);
    docker(&["network", "rm", tag])?;
    let subnet = subnet?;
    let base: Ipv4Addr = subnet
        .split('/')
        .next()
        .and_then(|a| a.parse().ok())
        .with_context(|| {
            format!("Docker gave the network {tag} the subnet {subnet:?}")
        })?;
    docker(&[
        "network", "create", "--label", &label, "--subnet", &subnet, tag,
    ])?;
    // .1 is the gateway; the nodes take .11, .12, ...
    Ok((1..=count)
        .map(|i| Ipv4Addr::from(u32::from(base) + 10 + i as u32).to_string())
        .collect())
}

/// Waits until the server at `url` greets and accepts a root login.
fn wait_until_ready(url: &str, deadline: Instant) -> Result<()> {
    let port: u16 = url
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .context("the node's URL has no port")?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    loop {
        // The image's set-up runs a private server first, on its socket only: a greeting
        // on the published port means the real one is up.
        if greets(addr) {
            let login = runtime.block_on(async {
                let mut conn = connect_one(url).await?;
                sqlx::query("SELECT 1").execute(&mut conn).await?;
                conn.close().await.ok();
                anyhow::Ok(())
            });
            if login.is_ok() {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            bail!("no server answered at {addr} in time");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
