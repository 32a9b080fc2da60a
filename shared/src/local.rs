//! The third way: a throwaway local `mariadbd` or `mysqld`.
//!
//! The server gets a fresh data directory in a temporary directory, a free port on
//! 127.0.0.1, and its own socket and log. It is stopped, and the directory deleted, when
//! the [`LocalServer`] is dropped or stopped, and also when the program ends in any other
//! way (see the `reaper` module).

use std::fs;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::reaper::Reaper;

/// Where to look for a server binary after `PATH`.
const EXTRA_DIRS: &[&str] = &["/usr/sbin", "/usr/local/mysql/bin", "/usr/local/sbin"];

/// How long a fresh server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// Which server a binary is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// MariaDB (`mariadbd`, or `mysqld` from a MariaDB package).
    MariaDb,
    /// Oracle's MySQL.
    MySql,
}

/// Finds `mariadbd` or `mysqld`: `WORKBOOK_MYSQLD` if set, else on `PATH`, then in the
/// usual system directories.
pub fn find_server_binary() -> Option<PathBuf> {
    if let Some(explicit) = std::env::var_os("WORKBOOK_MYSQLD") {
        let path = PathBuf::from(explicit);
        return is_executable(&path).then_some(path);
    }
    let path_dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    let dirs = path_dirs
        .into_iter()
        .chain(EXTRA_DIRS.iter().map(PathBuf::from));
    let dirs: Vec<PathBuf> = dirs.collect();
    ["mariadbd", "mysqld"]
        .iter()
        .flat_map(|name| dirs.iter().map(move |d| d.join(name)))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn find_tool(names: &[&str], near: &Path) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(dir) = near.parent() {
        dirs.push(dir.to_path_buf());
        dirs.push(dir.join("../bin"));
        dirs.push(dir.join("../scripts"));
    }
    dirs.extend(["/usr/bin", "/usr/local/bin"].map(PathBuf::from));
    names
        .iter()
        .flat_map(|n| dirs.iter().map(move |d| d.join(n)))
        .find(|p| is_executable(p))
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
        || std::env::var("USER").is_ok_and(|u| u == "root")
}

/// A server process the workbook started, with its own data directory.
pub struct LocalServer {
    binary: PathBuf,
    flavor: Flavor,
    version: String,
    dir: PathBuf,
    port: u16,
    child: Mutex<Option<Child>>,
    reaper: Mutex<Option<Reaper>>,
    startup: Duration,
    options: Vec<String>,
}

impl std::fmt::Debug for LocalServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalServer")
            .field("binary", &self.binary)
            .field("port", &self.port)
            .field("dir", &self.dir)
            .finish()
    }
}

impl LocalServer {
    /// Initialises a data directory and starts `binary` on a free loopback port.
    ///
    /// This blocks for as long as the server takes to start (about 1.5 s for MariaDB,
    /// several seconds for MySQL 8); call it from `spawn_blocking` in async code.
    pub fn start(binary: &Path) -> Result<LocalServer> {
        LocalServer::start_with(binary, &[])
    }

    /// Like [`LocalServer::start`], with more server options (`--server-id=2`,
    /// `--log-bin=binlog`, ...) after the workbook's own, so that they win. A restart
    /// keeps them.
    pub fn start_with(binary: &Path, options: &[String]) -> Result<LocalServer> {
        let started = Instant::now();
        let version_text = Command::new(binary)
            .arg("--version")
            .output()
            .with_context(|| format!("cannot run {}", binary.display()))?;
        let version_text = String::from_utf8_lossy(&version_text.stdout).into_owned();
        let flavor = if version_text.contains("MariaDB") {
            Flavor::MariaDb
        } else {
            Flavor::MySql
        };
        let version = version_text
            .split_whitespace()
            .skip_while(|w| *w != "Ver")
            .nth(1)
            .unwrap_or("unknown")
            .to_owned();

        let dir = tempfile::Builder::new()
            .prefix("workbook-mysqld-")
            .tempdir()
            .context("cannot create a temporary directory for the server")?
            .keep();
        // From here on, the watchdog removes the directory however the program ends.
        let reaper = Reaper::spawn(
            // Stops every process working in the directory (the server, or the
            // initialisation still running when the program was killed), then deletes the
            // directory.
            r#"dir=$1
alive() {
  if [ -r "/proc/$1/stat" ]; then ! grep -q ') Z ' "/proc/$1/stat"; else kill -0 "$1" 2>/dev/null; fi
}
pids() {
  # Without /proc, only the pid file tells (a stale one could name a reused pid: Linux avoids it).
  [ -d /proc/self ] || { cat "$dir/mysqld.pid" 2>/dev/null; return; }
  for p in /proc/[0-9]*; do
    [ "${p#/proc/}" = "$$" ] && continue
    grep -qF -- "$dir" "$p/cmdline" 2>/dev/null && echo "${p#/proc/}"
  done
}
running() { for pid in $(pids); do alive "$pid" && return 0; done; return 1; }
for pid in $(pids); do kill -CONT "$pid" 2>/dev/null; kill -TERM "$pid" 2>/dev/null; done
i=0; while running && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
for pid in $(pids); do alive "$pid" && kill -KILL "$pid" 2>/dev/null; done
rm -rf "$dir""#,
            &[&dir.to_string_lossy()],
        )
        .context("cannot start the cleanup watchdog (sh)")?;

        let mut server = LocalServer {
            binary: binary.to_path_buf(),
            flavor,
            version,
            dir,
            port: 0,
            child: Mutex::new(None),
            reaper: Mutex::new(Some(reaper)),
            startup: Duration::ZERO,
            options: options.to_vec(),
        };
        server.initialise()?;
        if server
            .options
            .iter()
            .any(|o| o == "--wsrep-sst-method=rsync")
        {
            server.open_for_rsync();
        }
        // A port found free can be taken before the server binds it: try a few.
        let mut last_error = None;
        for _ in 0..3 {
            server.port = free_port()?;
            match server.launch() {
                Ok(()) => {
                    server.startup = started.elapsed();
                    return Ok(server);
                }
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("the server did not start")))
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn files_dir(&self) -> PathBuf {
        self.dir.join("files")
    }

    fn initialise(&self) -> Result<()> {
        fs::create_dir_all(self.files_dir())
            .context("cannot create the server's files folder")?;
        let log = self.dir.join("initialise.log");
        let mut cmd = match self.flavor {
            Flavor::MariaDb => {
                let tool =
                    find_tool(&["mariadb-install-db", "mysql_install_db"], &self.binary)
                        .context(
                            "found mariadbd but not mariadb-install-db to initialise it",
                        )?;
                let mut cmd = Command::new(tool);
                cmd.arg("--no-defaults")
                    .arg(format!("--datadir={}", self.data_dir().display()))
                    .arg("--auth-root-authentication-method=normal")
                    .arg("--skip-test-db");
                cmd
            }
            Flavor::MySql => {
                let mut cmd = Command::new(&self.binary);
                cmd.arg("--no-defaults")
                    .arg("--initialize-insecure")
                    .arg(format!("--datadir={}", self.data_dir().display()))
                    .arg(format!("--secure-file-priv={}", self.files_dir().display()));
                cmd
            }
        };
        if running_as_root() {
            cmd.arg("--user=root");
        }
        let out = fs::File::create(&log)?;
        let status = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .status()
            .context("cannot run the server's initialisation")?;
        if !status.success() {
            bail!(
                "initialising a data directory for {} failed ({status}):\n{}",
                self.binary.display(),
                tail(&log, 15)
            );
        }
        Ok(())
    }

    /// NOTE: Galera's rsync state transfer runs an rsync daemon that, started by root,
    /// writes as `nobody`: the directories above the joiner's data directory must be open
    /// to it, and the data directory its own (it cannot replace root's files in it).
    fn open_for_rsync(&self) {
        use std::os::unix::fs::PermissionsExt;
        let _ = fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o755));
        let data = self.data_dir();
        let _ = Command::new("chmod")
            .arg("-R")
            .arg("a+rwX")
            .arg(&data)
            .status();
        if running_as_root() {
            let _ = Command::new("chown")
                .arg("-R")
                .arg("nobody")
                .arg(&data)
                .status();
        }
    }

    fn launch(&self) -> Result<()> {
        use std::os::unix::process::CommandExt;
        let error_log = self.dir.join("error.log");
        let _ = fs::remove_file(&error_log);
        // Every start makes sure root may log in over TCP from 127.0.0.1 without a
        // password; kept out of the binary log, so that a replica's restart writes no
        // transaction of its own.
        let init = self.dir.join("init.sql");
        fs::write(
            &init,
            "SET SQL_LOG_BIN = 0;\n\
             CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';\n\
             GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;\n",
        )?;
        let mut cmd = Command::new(&self.binary);
        cmd.arg("--no-defaults")
            .arg(format!("--datadir={}", self.data_dir().display()))
            .arg(format!("--port={}", self.port))
            .arg("--bind-address=127.0.0.1")
            .arg(format!(
                "--socket={}",
                self.dir.join("mysqld.sock").display()
            ))
            .arg(format!(
                "--pid-file={}",
                self.dir.join("mysqld.pid").display()
            ))
            .arg(format!("--log-error={}", error_log.display()))
            .arg(format!("--init-file={}", init.display()))
            // NOTE: MySQL's Debian build defaults this to /var/lib/mysql-files and
            // refuses to start when that is missing; a directory of our own works for
            // both servers.
            .arg(format!("--secure-file-priv={}", self.files_dir().display()))
            .arg("--skip-log-bin")
            .arg("--innodb-buffer-pool-size=128M");
        if self.flavor == Flavor::MySql {
            // NOTE: MySQL 8 also opens the X Protocol port (33060) unless told not to.
            cmd.arg("--mysqlx=OFF");
        }
        if running_as_root() {
            cmd.arg("--user=root");
        }
        cmd.args(&self.options);
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group: Ctrl-C reaches the lesson, and the watchdog stops
            // the server.
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {}", self.binary.display()))?;
        *self.child.lock().expect("child lock") = Some(child);

        let deadline = Instant::now() + START_TIMEOUT;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        loop {
            if let Some(status) = self
                .child
                .lock()
                .expect("child lock")
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                bail!(
                    "{} exited during start-up ({status}); the end of its log:\n{}",
                    self.binary.display(),
                    tail(&error_log, 15)
                );
            }
            if greets(addr) {
                return Ok(());
            }
            if Instant::now() > deadline {
                self.kill();
                bail!(
                    "{} did not accept connections on {addr} within {} s; the end of its log:\n{}",
                    self.binary.display(),
                    START_TIMEOUT.as_secs(),
                    tail(&error_log, 15)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The server's URL, with no database: `mysql://root@127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("mysql://root@127.0.0.1:{}", self.port)
    }

    /// The loopback port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// MariaDB or MySQL.
    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// The version the binary reports, such as `10.11.19-MariaDB`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The binary that runs.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// The temporary directory that holds the data directory, socket and logs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How long initialising and starting took.
    pub fn startup(&self) -> Duration {
        self.startup
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child
            .lock()
            .expect("child lock")
            .as_ref()
            .map(Child::id)
    }

    /// Kills the server at once (`SIGKILL`), as a crash would. Its data directory stays,
    /// so [`LocalServer::restart`] can bring it back on the same port.
    pub fn kill(&self) {
        if let Some(mut child) = self.child.lock().expect("child lock").take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Pauses the server (`SIGSTOP`): it answers nothing until [`LocalServer::resume`],
    /// though the kernel still accepts connections and data for it.
    pub fn pause(&self) -> Result<()> {
        self.signal("-STOP")
    }

    /// Lets a paused server run on (`SIGCONT`).
    pub fn resume(&self) -> Result<()> {
        self.signal("-CONT")
    }

    fn signal(&self, signal: &str) -> Result<()> {
        let pid = self.pid().context("the server does not run")?;
        let status = Command::new("kill")
            .arg(signal)
            .arg(pid.to_string())
            .stderr(Stdio::null())
            .status()
            .context("cannot run kill")?;
        if !status.success() {
            bail!("kill {signal} {pid} failed");
        }
        Ok(())
    }

    /// Starts the server again on the same port and data directory, after
    /// [`LocalServer::kill`].
    pub fn restart(&self) -> Result<()> {
        self.kill();
        self.launch()
    }

    /// Stops the server gracefully (`SIGTERM`, then `SIGKILL` after 30 s) and deletes its
    /// directory.
    pub fn stop(self) {
        // Drop does the work.
    }

    fn shut_down(&self) {
        if let Some(mut child) = self.child.lock().expect("child lock").take() {
            // A paused server must run to hear SIGTERM.
            for signal in ["-CONT", "-TERM"] {
                let _ = Command::new("kill")
                    .arg(signal)
                    .arg(child.id().to_string())
                    .stderr(Stdio::null())
                    .status();
            }
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        // The watchdog finds the server gone and removes the directory.
        if let Some(mut reaper) = self.reaper.lock().expect("reaper lock").take() {
            reaper.run_now();
        }
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// A free TCP port on 127.0.0.1, found by binding port 0.
pub(crate) fn free_port() -> Result<u16> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("no free loopback port")?;
    Ok(listener.local_addr()?.port())
}

/// True when something at `addr` accepts a connection and sends a MySQL greeting.
pub(crate) fn greets(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200))
    else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut header = [0u8; 5];
    // A greeting is a packet whose payload starts with protocol version 10.
    stream.read_exact(&mut header).is_ok() && header[4] == 10
}

/// The last `n` lines of a log file, indented, for error messages.
fn tail(path: &Path, n: usize) -> String {
    let text =
        fs::read_to_string(path).unwrap_or_else(|e| format!("({}: {e})", path.display()));
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
