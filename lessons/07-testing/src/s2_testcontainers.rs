//! Step 2: testcontainers in your own tests: one MySQL container per test binary, a fresh
//! database per test.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use sqlx::mysql::{MySqlPool, MySqlPoolOptions};
use sqlx::{AssertSqlSafe, Connection, MySqlConnection};
use testcontainers::core::IntoContainerPort;
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, ImageExt};
use testcontainers_modules::mysql::Mysql;
use tokio::sync::OnceCell;

use crate::Ctx;
use crate::s1_sqlx_test::{MIGRATOR, add_customer, customer_names};

// ANCHOR: image
/// The image the tests start: `WORKBOOK_MYSQL_IMAGE` when set (a local image, say),
/// else the official MySQL 8.4, as `(name, tag)`.
pub fn mysql_image() -> (String, String) {
    let image = std::env::var("WORKBOOK_MYSQL_IMAGE")
        .ok()
        .filter(|i| !i.trim().is_empty())
        .unwrap_or_else(|| "mysql:8.4".to_owned());
    match image.rsplit_once(':') {
        Some((name, tag)) => (name.to_owned(), tag.to_owned()),
        None => (image, "latest".to_owned()),
    }
}
// ANCHOR_END: image

// ANCHOR: server
/// A MySQL container, its server URL, and the watchdog that removes it.
pub struct Server {
    /// `mysql://root@HOST:PORT`, with no database.
    pub url: String,
    /// The container, for the tests that stop or pause it.
    pub container: ContainerAsync<Mysql>,
    _watchdog: Watchdog,
}
// ANCHOR_END: server

// ANCHOR: container
/// Starts MySQL, labelled so that leftovers can be found, and waits until it answers.
/// `host_port` pins the published port (a restarted container keeps it); 0 lets
/// Docker choose.
pub async fn start_mysql(host_port: u16) -> Result<Server> {
    let (name, tag) = mysql_image();
    let request = Mysql::default()
        .with_name(name)
        .with_tag(tag)
        .with_label("lesson", "testing")
        .with_startup_timeout(Duration::from_secs(180));
    let container = match host_port {
        0 => request.start().await,
        port => request.with_mapped_port(port, 3306.tcp()).start().await,
    }
    .context("cannot start MySQL in Docker (does a daemon run, with the image?)")?;
    let watchdog = Watchdog::spawn(container.id())?;
    let host = match container.get_host().await?.to_string() {
        h if h == "localhost" => "127.0.0.1".to_owned(), // not ::1
        h => h,
    };
    let port = container.get_host_port_ipv4(3306).await?;
    let url = format!("mysql://root@{host}:{port}");
    wait_until_it_answers(&url, Duration::from_secs(60)).await?;
    Ok(Server {
        url,
        container,
        _watchdog: watchdog,
    })
}
// ANCHOR_END: container

// ANCHOR: readiness
/// testcontainers waits for MySQL's "ready for connections" lines; a real connection
/// is the proof. Retries until `limit`.
pub async fn wait_until_it_answers(url: &str, limit: Duration) -> Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        match MySqlConnection::connect(url).await {
            Ok(conn) => return Ok(conn.close().await?),
            Err(e) if Instant::now() > deadline => {
                bail!("MySQL did not answer within {limit:?}: {e}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}
// ANCHOR_END: readiness

// ANCHOR: watchdog
/// Removes a container when this process ends, however it ends (a passing run, a
/// panic, Ctrl-C, `kill -9`): a shell, in a process group of its own so that Ctrl-C
/// spares it, waits on a pipe from this process, which closes only when it exits.
struct Watchdog(#[allow(dead_code)] std::process::ChildStdin);

impl Watchdog {
    fn spawn(container: &str) -> Result<Watchdog> {
        use std::os::unix::process::CommandExt;
        let mut shell = Command::new("sh")
            .args(["-c", r#"read _; docker rm -f -v "$1" >/dev/null 2>&1"#])
            .args(["watchdog", container])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .context("cannot start the container's watchdog (sh)")?;
        shell.stdin.take().map(Watchdog).context("no pipe")
    }
}
// ANCHOR_END: watchdog

// ANCHOR: shared
/// The container every test of this binary shares, started by the first test to ask.
static MYSQL: OnceCell<Server> = OnceCell::const_new();
static NEXT: AtomicU32 = AtomicU32::new(0);

/// A fresh, empty database in the shared container, and a pool on it. The container
/// goes with the process, and its databases with it.
pub async fn fresh_database() -> Result<MySqlPool> {
    let server = MYSQL.get_or_try_init(|| start_mysql(0)).await?;
    database_in(server, NEXT.fetch_add(1, Ordering::Relaxed)).await
}

/// Makes database `t<n>` on `server`, and opens a pool on it.
pub async fn database_in(server: &Server, n: u32) -> Result<MySqlPool> {
    let name = format!("t{n}");
    let mut admin = MySqlConnection::connect(&server.url).await?;
    let create = format!("CREATE DATABASE {name} CHARACTER SET utf8mb4");
    sqlx::query(AssertSqlSafe(create))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    let url = format!("{}/{name}", server.url);
    Ok(MySqlPoolOptions::new()
        .max_connections(5)
        .connect(&url)
        .await?)
}
// ANCHOR_END: shared

// ANCHOR: scenario
/// The test's body: the same as step 1's, on a database the test made itself.
pub async fn adds_a_customer_in_a_container(pool: MySqlPool) -> Result<()> {
    MIGRATOR.run(&pool).await?;
    add_customer(&pool, "Ada", "Engineer").await?;
    ensure!(customer_names(&pool).await? == ["Ada", "Lynn"]);
    pool.close().await;
    Ok(())
}
// ANCHOR_END: scenario

/// Starts a container of its own (timed), then runs the scenario twice, each in a fresh
/// database of the container.
pub async fn run(ctx: &Ctx) -> Result<String> {
    if !ctx.docker {
        return Ok("skipped: no Docker daemon answered".to_owned());
    }
    let (name, tag) = mysql_image();
    let started = Instant::now();
    let server = start_mysql(0).await?;
    let startup = started.elapsed();
    let mut took = Duration::ZERO;
    for n in 0..2 {
        let began = Instant::now();
        adds_a_customer_in_a_container(database_in(&server, n).await?).await?;
        took += began.elapsed();
    }
    // Both databases go with the container.
    ctx.count(2, 2);
    ctx.record("testcontainers, database per test", 2, took);
    let id = server.container.id().to_owned();
    drop(server);
    // The watchdog removes the container once its pipe closes.
    Ok(format!(
        "image: {name}:{tag}, labelled lesson=testing\n\
         container started and answering in {}\n\
         2 tests, each in a fresh database of the container: ok, in {}\n\
         container removed when its owner dropped it: {}",
        crate::s1_sqlx_test::ms(startup),
        crate::s1_sqlx_test::ms(took),
        container_gone(&id).await
    ))
}

/// Waits up to 30 s for the container to be gone, as `docker ps -a` sees it.
async fn container_gone(id: &str) -> &'static str {
    for _ in 0..300 {
        let listed = Command::new("docker")
            .args(["ps", "-aq", "--no-trunc", "--filter", &format!("id={id}")])
            .output();
        match listed {
            Ok(out) if out.stdout.is_empty() => return "yes",
            Ok(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(_) => return "cannot tell (no docker command)",
        }
    }
    "no, still there after 30 s"
}

#[cfg(test)]
mod tests {
    use super::*;

    // ANCHOR: tests
    #[tokio::test]
    #[ignore = "needs a Docker daemon; run with `cargo test -- --include-ignored`"]
    async fn a_customer_added_in_a_container_is_listed() -> Result<()> {
        adds_a_customer_in_a_container(fresh_database().await?).await
    }

    #[tokio::test]
    #[ignore = "needs a Docker daemon; run with `cargo test -- --include-ignored`"]
    async fn a_second_test_shares_the_container_but_not_the_database() -> Result<()> {
        adds_a_customer_in_a_container(fresh_database().await?).await
    }
    // ANCHOR_END: tests
}
