//! One server per process, from the first of the three ways that works.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

#[cfg(feature = "docker")]
use crate::docker::DockerServer;
use crate::errors::NoServerError;
use crate::local::{LocalServer, find_server_binary};
use crate::redact::redact;

/// Where the server in use came from.
#[derive(Debug)]
pub enum Source {
    /// `DATABASE_URL`: the reader's own server. The workbook touches only the database it
    /// names.
    External,
    /// A container the workbook started.
    #[cfg(feature = "docker")]
    Docker(Box<DockerServer>),
    /// A local binary the workbook started.
    Local(LocalServer),
}

/// A running server and how to reach it.
#[derive(Debug)]
pub struct Server {
    url: url::Url,
    database: Option<String>,
    source: Source,
    startup: Duration,
}

impl Server {
    /// The URL of the server itself, with no database in it. It may hold a password: show
    /// it only through [`crate::redact`].
    pub fn url(&self) -> String {
        let mut url = self.url.clone();
        url.set_path("");
        url.to_string()
    }

    /// The URL of `database` on this server, keeping the user, password and query
    /// options.
    pub fn database_url(&self, database: &str) -> String {
        let mut url = self.url.clone();
        url.set_path(&format!("/{database}"));
        url.to_string()
    }

    /// The database named in `DATABASE_URL`, if it named one.
    pub fn configured_database(&self) -> Option<&str> {
        self.database.as_deref()
    }

    /// Where the server came from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// True when the workbook started this server itself, so server-wide settings and
    /// restarts harm nobody else's data.
    pub fn is_owned(&self) -> bool {
        !matches!(self.source, Source::External)
    }

    /// Kills the server at once, as a crash would: SIGKILL for a local server, `docker
    /// stop --time 0` for a container. Its data stays, so [`Server::restart`] brings it
    /// back on the same port. Only for a server the workbook started. Blocks.
    pub fn kill(&self) -> Result<()> {
        match &self.source {
            Source::Local(local) => {
                local.kill();
                Ok(())
            }
            #[cfg(feature = "docker")]
            Source::Docker(docker) => docker.kill(),
            Source::External => bail!(NOT_OURS),
        }
    }

    /// Starts the server again after [`Server::kill`], on the same port and data, and
    /// returns once it accepts connections. Only for a server the workbook started.
    /// Blocks.
    pub fn restart(&self) -> Result<()> {
        match &self.source {
            Source::Local(local) => local.restart(),
            #[cfg(feature = "docker")]
            Source::Docker(docker) => docker.restart(),
            Source::External => bail!(NOT_OURS),
        }
    }

    /// How long it took to get the server: starting it, or nothing for `DATABASE_URL`.
    pub fn startup(&self) -> Duration {
        self.startup
    }

    /// One line for the terminal: which server, from where, at which (redacted) URL.
    pub fn describe(&self) -> String {
        let url = redact(self.url.as_str());
        match &self.source {
            Source::External => format!("the server in DATABASE_URL at {url}"),
            #[cfg(feature = "docker")]
            Source::Docker(d) => format!(
                "{} in Docker, started in {:.1} s, at {url}",
                d.image(),
                self.startup.as_secs_f64()
            ),
            Source::Local(l) => format!(
                "a local {} {} started in {:.1} s at {url}",
                l.binary().display(),
                l.version(),
                self.startup.as_secs_f64()
            ),
        }
    }

    /// Starts (or, for `DATABASE_URL`, only describes) a server, without sharing it.
    ///
    /// Blocks while a server starts. Most code wants the shared [`server`] instead.
    pub fn start() -> Result<Server> {
        if let Some(raw) = std::env::var("DATABASE_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
        {
            let url = parse_database_url(&raw)?;
            let database = url
                .path()
                .trim_start_matches('/')
                .split('/')
                .next()
                .filter(|d| !d.is_empty())
                .map(str::to_owned);
            return Ok(Server {
                url,
                database,
                source: Source::External,
                startup: Duration::ZERO,
            });
        }
        Server::start_private()
    }

    /// Starts a server of the caller's own, never the one in `DATABASE_URL`: a container
    /// when Docker answers (unless `WORKBOOK_SERVER=local`), else a local server. For
    /// work that kills the server or changes its global settings, which would disturb
    /// anyone else on it.
    ///
    /// Blocks while the server starts.
    ///
    /// These are the second and third ways to a server: a container, else a local binary.
    pub fn start_private() -> Result<Server> {
        let mode = std::env::var("WORKBOOK_SERVER").unwrap_or_else(|_| "auto".to_owned());
        if !matches!(mode.as_str(), "auto" | "docker" | "local") {
            bail!("WORKBOOK_SERVER is {mode:?}; use auto, docker or local");
        }
        let started = Instant::now();
        let docker_why = if mode == "local" {
            "skipped, because WORKBOOK_SERVER=local".to_owned()
        } else {
            match try_docker(&mode)? {
                Ok(server) => return Ok(server),
                Err(why) => why,
            }
        };
        let local_why = if mode == "docker" {
            "skipped".to_owned()
        } else {
            match find_server_binary() {
                Some(binary) => {
                    let local = LocalServer::start(&binary).with_context(|| {
                        format!("cannot start a local server from {}", binary.display())
                    })?;
                    let mut server = Server::owned(&local.url(), Source::Local(local));
                    server.startup = started.elapsed();
                    return Ok(server);
                }
                None => match std::env::var("WORKBOOK_MYSQLD") {
                    Ok(path) => {
                        format!("WORKBOOK_MYSQLD={path} is not an executable file")
                    }
                    Err(_) => {
                        "neither mariadbd nor mysqld is on PATH, in /usr/sbin or in \
                               /usr/local/mysql/bin"
                            .to_owned()
                    }
                },
            }
        };
        Err(NoServerError {
            docker: docker_why,
            local: local_why,
        }
        .into())
    }

    fn owned(url: &str, source: Source) -> Server {
        let startup = match &source {
            #[cfg(feature = "docker")]
            Source::Docker(d) => d.startup(),
            Source::Local(l) => l.startup(),
            Source::External => Duration::ZERO,
        };
        Server {
            url: url::Url::parse(url).expect("the workbook builds valid URLs"),
            database: None,
            source,
            startup,
        }
    }
}

/// The second way: a container, when Docker answers. `Ok(Err(why))` lets the caller try
/// the local way; `Err` ends the search.
#[cfg(feature = "docker")]
fn try_docker(mode: &str) -> Result<std::result::Result<Server, String>> {
    use crate::docker::{ImageUnavailable, docker_available};
    match docker_available() {
        Ok(_) => match DockerServer::start() {
            Ok(docker) => {
                let url = docker.url().to_owned();
                Ok(Ok(Server::owned(&url, Source::Docker(Box::new(docker)))))
            }
            // Docker answers, but the image can be neither found nor pulled (no
            // registry): the local way may still work.
            Err(e) if mode == "auto" && e.is::<ImageUnavailable>() => {
                let why = format!(
                    "Docker answers, but {e}. Build one with `just mysql-image` and point \
                     WORKBOOK_MYSQL_IMAGE at it"
                );
                eprintln!("workbook: {why}; trying a local server instead");
                Ok(Err(why))
            }
            Err(e) => Err(e),
        },
        Err(why) if mode == "docker" => bail!("WORKBOOK_SERVER=docker, but {why}"),
        Err(why) => Ok(Err(why)),
    }
}

/// Built without the `docker` feature: the second way is not there.
#[cfg(not(feature = "docker"))]
fn try_docker(mode: &str) -> Result<std::result::Result<Server, String>> {
    let why = "this build has no Docker support (built without the `docker` feature)";
    if mode == "docker" {
        bail!("WORKBOOK_SERVER=docker, but {why}");
    }
    Ok(Err(why.to_owned()))
}

/// Checks that `DATABASE_URL` is a MySQL URL, without ever echoing its password.
fn parse_database_url(raw: &str) -> Result<url::Url> {
    // Only a `scheme://user:password@host` string can be redacted with certainty;
    // anything else is never echoed, since where its password is cannot be known.
    if !raw.contains("://") {
        bail!(
            "DATABASE_URL is not a URL: it has no scheme:// (its value is not shown, since it \
             may hold a password). Expected mysql://USER:PASSWORD@HOST:PORT/DATABASE, or unset \
             it to let the workbook start a server"
        );
    }
    let shown = redact(raw);
    let url = url::Url::parse(raw.trim()).map_err(|e| {
        anyhow::anyhow!(
            "DATABASE_URL is not a URL ({e}). Expected mysql://USER:PASSWORD@HOST:PORT/DATABASE, \
             or unset it to let the workbook start a server"
        )
    })?;
    if url.scheme() != "mysql" && url.scheme() != "mariadb" {
        bail!(
            "DATABASE_URL must start with mysql:// (it starts with {}://): {shown}",
            url.scheme()
        );
    }
    if url.host_str().is_none_or(str::is_empty) {
        bail!(
            "DATABASE_URL names no host: {shown}. Expected mysql://USER:PASSWORD@HOST:PORT/DATABASE"
        );
    }
    Ok(url)
}

const NOT_OURS: &str = "this server came from DATABASE_URL: the workbook kills and restarts \
                        only servers it started itself";

static SHARED: Mutex<Option<&'static Server>> = Mutex::new(None);

/// The process's server, started on first use and shared by every caller after that.
///
/// All tests in one test binary share it, and it lives until the process ends; then its
/// watchdog stops it and deletes its files.
pub async fn server() -> Result<&'static Server> {
    tokio::task::spawn_blocking(|| {
        let mut shared = SHARED.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(server) = *shared {
            return Ok(server);
        }
        let server: &'static Server = Box::leak(Box::new(Server::start()?));
        *shared = Some(server);
        Ok(server)
    })
    .await
    .context("the task that starts the server failed")?
}
