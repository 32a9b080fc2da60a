//! The second way: MySQL 8.4 in a Docker container, through testcontainers.
//!
//! Before anything touches Docker, [`docker_available`] asks the daemon's `/_ping`
//! endpoint with one-second timeouts, so a machine without a daemon moves on at once and
//! never hangs.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use testcontainers::core::IntoContainerPort;
use testcontainers::runners::SyncRunner;
use testcontainers::{Container, ImageExt};
use testcontainers_modules::mariadb::Mariadb;
use testcontainers_modules::mysql::Mysql;

use crate::reaper::Reaper;

/// The image the workbook starts, unless `WORKBOOK_MYSQL_IMAGE` names another
/// (`mysql:8.0`, `mariadb:11.4`, ...).
pub const DEFAULT_IMAGE: &str = "mysql:8.4";

const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// Where the Docker daemon is expected: `DOCKER_HOST`, or the default socket.
pub(crate) fn docker_endpoint() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".to_owned())
}

/// Asks the Docker daemon whether it is there. `Ok` names the endpoint that answered;
/// `Err` says why not. Takes about a second at most.
pub fn docker_available() -> std::result::Result<String, String> {
    let endpoint = docker_endpoint();
    let request = b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n";
    let mut reply = Vec::new();
    let outcome = if let Some(path) = endpoint.strip_prefix("unix://") {
        UnixStream::connect(path).and_then(|mut s| {
            s.set_read_timeout(Some(PROBE_TIMEOUT))?;
            s.set_write_timeout(Some(PROBE_TIMEOUT))?;
            s.write_all(request)?;
            s.take(4096).read_to_end(&mut reply)
        })
    } else if let Some(host) = endpoint.strip_prefix("tcp://") {
        let addr = host
            .to_socket_addrs()
            .map_err(|e| format!("{endpoint}: {e}"))?
            .next()
            .ok_or_else(|| format!("{endpoint}: no address"))?;
        TcpStream::connect_timeout(&addr, PROBE_TIMEOUT).and_then(|mut s| {
            s.set_read_timeout(Some(PROBE_TIMEOUT))?;
            s.set_write_timeout(Some(PROBE_TIMEOUT))?;
            s.write_all(request)?;
            s.take(4096).read_to_end(&mut reply)
        })
    } else {
        return Err(format!(
            "{endpoint}: only unix:// and tcp:// DOCKER_HOST values are checked"
        ));
    };
    match outcome {
        Ok(_)
            if reply.starts_with(b"HTTP/1.") && reply.windows(3).any(|w| w == b"200") =>
        {
            Ok(endpoint)
        }
        Ok(_) => Err(format!("{endpoint} answered, but not as a Docker daemon")),
        Err(e) => Err(format!("no Docker daemon answered at {endpoint} ({e})")),
    }
}

/// The container, started with the module whose readiness check fits the image.
enum Running {
    Mysql(Container<Mysql>),
    Mariadb(Container<Mariadb>),
}

impl Running {
    fn id(&self) -> &str {
        match self {
            Running::Mysql(c) => c.id(),
            Running::Mariadb(c) => c.id(),
        }
    }

    /// Stops the container at once: `docker stop --time 0` sends SIGKILL right away.
    fn kill(&self) -> testcontainers::core::error::Result<()> {
        match self {
            Running::Mysql(c) => c.stop_with_timeout(Some(0)),
            Running::Mariadb(c) => c.stop_with_timeout(Some(0)),
        }
    }

    fn start(&self) -> testcontainers::core::error::Result<()> {
        match self {
            Running::Mysql(c) => c.start(),
            Running::Mariadb(c) => c.start(),
        }
    }

    fn endpoint(&self) -> testcontainers::core::error::Result<(url::Host, u16)> {
        match self {
            Running::Mysql(c) => Ok((c.get_host()?, c.get_host_port_ipv4(3306)?)),
            Running::Mariadb(c) => Ok((c.get_host()?, c.get_host_port_ipv4(3306)?)),
        }
    }
}

/// A MySQL container started by the workbook; removed when dropped, or when the program
/// ends.
///
/// It is safe to drop anywhere: inside or outside an async runtime, and during a panic.
pub struct DockerServer {
    container: Option<Running>,
    url: String,
    address: SocketAddr,
    image: String,
    startup: Duration,
    _reaper: Reaper,
}

impl std::fmt::Debug for DockerServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerServer")
            .field("image", &self.image)
            .field("url", &self.url)
            .finish()
    }
}

impl DockerServer {
    /// Starts the image (`WORKBOOK_MYSQL_IMAGE`, default [`DEFAULT_IMAGE`]) and waits
    /// until it accepts connections. Blocks: call it from `spawn_blocking` in async code.
    pub fn start() -> Result<DockerServer> {
        let started = Instant::now();
        let image = std::env::var("WORKBOOK_MYSQL_IMAGE")
            .ok()
            .filter(|i| !i.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_IMAGE.to_owned());
        let (name, tag) = image.rsplit_once(':').unwrap_or((&image, "latest"));
        let timeout = Duration::from_secs(300);
        // A fixed host port, so that a restarted container is where it was (Docker would
        // otherwise publish it on another free port).
        let host_port = crate::local::free_port()?;
        // NOTE: the two images log different lines when ready, so each has its own
        // module; waiting for MySQL's lines on a MariaDB image would wait until the
        // timeout.
        let container = if name.rsplit('/').next().unwrap_or(name) == "mariadb" {
            Mariadb::default()
                .with_name(name)
                .with_tag(tag)
                .with_startup_timeout(timeout)
                .with_mapped_port(host_port, 3306.tcp())
                .start()
                .map(Running::Mariadb)
        } else {
            Mysql::default()
                .with_name(name)
                .with_tag(tag)
                .with_startup_timeout(timeout)
                .with_mapped_port(host_port, 3306.tcp())
                .start()
                .map(Running::Mysql)
        }
        .map_err(|e| start_error(&image, e))?;
        // The container goes when the program does, even when it never drops this value.
        let reaper =
            Reaper::spawn(r#"docker rm -f -v "$1" >/dev/null 2>&1"#, &[container.id()])
                .context("cannot start the cleanup watchdog (sh)")?;
        let (host, port) = container
            .endpoint()
            .context("the container exposes no port 3306")?;
        // The published port listens on the host's IPv4 loopback; `localhost` could
        // resolve to ::1 first.
        let host = match host.to_string().as_str() {
            "localhost" => "127.0.0.1".to_owned(),
            other => other.to_owned(),
        };
        let address = format!("{host}:{port}")
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .with_context(|| {
                format!("cannot resolve the container's address {host}:{port}")
            })?;
        Ok(DockerServer {
            url: format!("mysql://root@{host}:{port}"),
            address,
            container: Some(container),
            image,
            startup: started.elapsed(),
            _reaper: reaper,
        })
    }

    /// The server's URL, with no database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The image that runs, such as `mysql:8.4`.
    pub fn image(&self) -> &str {
        &self.image
    }

    /// The container's id.
    pub fn id(&self) -> &str {
        self.container.as_ref().map_or("", Running::id)
    }

    /// How long pulling (if needed) and starting took.
    pub fn startup(&self) -> Duration {
        self.startup
    }

    /// Stops the container at once (SIGKILL), as a crash would. Its data stays, so
    /// [`DockerServer::restart`] brings it back on the same port. Blocks.
    pub fn kill(&self) -> Result<()> {
        let container = self.container.as_ref().context("the container is gone")?;
        container
            .kill()
            .with_context(|| format!("cannot stop the container {}", container.id()))
    }

    /// Starts the container again after [`DockerServer::kill`] and waits (up to two
    /// minutes) until the server greets on the same port. Blocks.
    pub fn restart(&self) -> Result<()> {
        let container = self.container.as_ref().context("the container is gone")?;
        container
            .start()
            .with_context(|| format!("cannot start the container {}", container.id()))?;
        let deadline = Instant::now() + Duration::from_secs(120);
        while !crate::local::greets(self.address) {
            if Instant::now() > deadline {
                anyhow::bail!(
                    "the restarted container {} did not answer within two minutes",
                    container.id()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }
}

impl Drop for DockerServer {
    fn drop(&mut self) {
        // testcontainers' blocking container removes itself by blocking on a runtime of
        // its own, which panics inside another runtime (a test's, say). A thread of its
        // own has none; if removal fails anyway, the watchdog still removes the
        // container.
        if let Some(container) = self.container.take() {
            let _ = std::thread::spawn(move || drop(container)).join();
        }
    }
}

/// The image could be neither found locally nor pulled: the caller may use another way.
#[derive(Debug)]
pub struct ImageUnavailable {
    /// The image, such as `mysql:8.4`.
    pub image: String,
    /// What Docker said.
    pub reason: String,
}

impl std::fmt::Display for ImageUnavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the image {} is not on this machine and cannot be pulled ({})",
            self.image, self.reason
        )
    }
}

impl std::error::Error for ImageUnavailable {}

fn start_error(image: &str, error: testcontainers::TestcontainersError) -> anyhow::Error {
    use testcontainers::TestcontainersError;
    use testcontainers::core::client::ClientError;
    match error {
        TestcontainersError::Client(ClientError::PullImage { descriptor, err }) => {
            let reason = err.to_string();
            let reason = reason.lines().next().unwrap_or_default();
            ImageUnavailable {
                image: descriptor,
                reason: reason.to_owned(),
            }
            .into()
        }
        other => anyhow::Error::new(other)
            .context(format!("cannot start the Docker image {image}")),
    }
}
