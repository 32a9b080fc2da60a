//! What the workbook's tests share: running a lesson's real binary, comparing its output
//! with the captured file that the book shows, and reading the book's sources.
//!
//! Captured output lives beside each lesson as `output.txt`. A lesson prints a header `==
//! Step N: title ==` before each step; the captured file holds the same text with
//! `ANCHOR: step-N` / `ANCHOR_END: step-N` lines around each step's part, which the book
//! includes. Run the tests with `WORKBOOK_BLESS=1` to write the files anew from a real
//! run.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use regex::Regex;

/// The workspace's root directory.
///
/// Read when the tests run (cargo sets `CARGO_MANIFEST_DIR` for them), not only when they
/// compile: with a target directory shared between checkouts, a compiled copy could
/// otherwise look at the checkout that built it first.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest_dir
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The directory of the lesson crate that is package `package`, such as
/// `lessons/01-plain-sql`.
pub fn lesson_dir(package: &str) -> PathBuf {
    let number = package.trim_start_matches("lesson-");
    let prefix = format!("{:0>2}-", number);
    let lessons = workspace_root().join("lessons");
    std::fs::read_dir(&lessons)
        .expect("lessons/ exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
        })
        .unwrap_or_else(|| panic!("no directory for {package} in {}", lessons.display()))
}

/// Builds the lesson binaries once per test process (with the profile the tests use), and
/// returns its path.
pub fn lesson_binary(package: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    let exe = std::env::current_exe().expect("the test binary has a path");
    // target/<profile>/deps/workbook-<hash>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary lives in target/<profile>/deps");
    let release = profile_dir.file_name().is_some_and(|n| n == "release");
    BUILT.get_or_init(|| {
        // All lesson binaries at once. `--tests` makes cargo resolve features as `cargo
        // test --workspace` does (dev-dependencies included), so this build reuses what
        // that command compiled instead of compiling the dependencies a second time.
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut cmd = Command::new(cargo);
        cmd.current_dir(workspace_root()).args([
            "build",
            "--quiet",
            "--workspace",
            "--bins",
            "--tests",
        ]);
        if release {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("cargo runs");
        assert!(
            status.success(),
            "cargo build --workspace --bins --tests failed"
        );
    });
    profile_dir.join(package)
}

/// What a finished run of a lesson printed, and how it ended.
#[derive(Debug)]
pub struct Run {
    /// Everything on stdout.
    pub stdout: String,
    /// Everything on stderr.
    pub stderr: String,
    /// The exit status, or `None` when the run was killed at the time limit.
    pub status: Option<ExitStatus>,
    /// How long it ran.
    pub elapsed: Duration,
}

impl Run {
    /// The exit code, or `None` when killed by a signal or the time limit.
    pub fn code(&self) -> Option<i32> {
        self.status.and_then(|s| s.code())
    }

    /// Panics with both streams when the run did not exit 0.
    pub fn assert_success(&self) -> &Self {
        assert_eq!(
            self.code(),
            Some(0),
            "the lesson failed\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// A lesson binary ready to run, with a clean environment for the workbook's variables.
pub struct LessonCommand {
    cmd: Command,
    limit: Duration,
}

impl LessonCommand {
    /// `package`'s binary, with `DATABASE_URL` set to `database_url` (pass `None` to
    /// leave it unset), and with every other `WORKBOOK_*` and backtrace variable removed.
    pub fn new(package: &str, database_url: Option<&str>) -> LessonCommand {
        LessonCommand::of(Command::new(lesson_binary(package)), database_url)
    }

    /// Lesson `number`'s SQLAlchemy twin, run by the Python of the workbook's virtual
    /// environment (made first if missing), with the same clean environment as
    /// [`LessonCommand::new`].
    pub fn python(number: u32, database_url: Option<&str>) -> LessonCommand {
        // One test makes the environment while the others wait for it.
        static MAKING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let making = MAKING.lock().unwrap_or_else(|e| e.into_inner());
        let python = workbook::python().expect("the Python environment can be made");
        drop(making);
        let file = workbook::python_lesson(number).expect("the lesson has a Python twin");
        let mut cmd = Command::new(python);
        cmd.arg(file).env("PYTHONPATH", workbook::python_path());
        LessonCommand::of(cmd, database_url)
    }

    fn of(mut cmd: Command, database_url: Option<&str>) -> LessonCommand {
        cmd.current_dir(workspace_root());
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy().into_owned();
            if key.starts_with("WORKBOOK_")
                || key == "RUST_BACKTRACE"
                || key == "RUST_LIB_BACKTRACE"
                || key == "DATABASE_URL"
                || key == "RUST_LOG"
            {
                cmd.env_remove(&key);
            }
        }
        if let Some(url) = database_url {
            cmd.env("DATABASE_URL", url);
        }
        LessonCommand {
            cmd,
            limit: Duration::from_secs(300),
        }
    }

    /// Lets the lesson start a server of this test run's kind, as the shared test server
    /// was: passes on `WORKBOOK_SERVER`, `WORKBOOK_MYSQL_IMAGE` and `WORKBOOK_MYSQLD`.
    /// For a lesson run without `DATABASE_URL`, whose output must come from the server
    /// the run is about (MySQL in the Docker run, MariaDB in the local one).
    pub fn server_of_this_run(mut self) -> Self {
        for key in ["WORKBOOK_SERVER", "WORKBOOK_MYSQL_IMAGE", "WORKBOOK_MYSQLD"] {
            if let Some(value) = std::env::var_os(key) {
                self.cmd.env(key, value);
            }
        }
        self
    }

    /// Sets an environment variable for the run.
    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    /// Adds command-line arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }

    /// Kills the run if it takes longer than `limit`.
    pub fn time_limit(mut self, limit: Duration) -> Self {
        self.limit = limit;
        self
    }

    /// Starts the run without waiting for it.
    pub fn spawn(mut self) -> std::process::Child {
        self.cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the lesson binary starts")
    }

    /// Runs to the end, or until the time limit.
    pub fn run(self) -> Run {
        let limit = self.limit;
        let started = Instant::now();
        let mut child = self.spawn();
        let mut out = child.stdout.take().expect("stdout is piped");
        let mut err = child.stderr.take().expect("stderr is piped");
        let out_reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s);
            s
        });
        let err_reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait works") {
                break Some(status);
            }
            if started.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        Run {
            stdout: out_reader.join().unwrap_or_default(),
            stderr: err_reader.join().unwrap_or_default(),
            status,
            elapsed: started.elapsed(),
        }
    }
}

/// Replaces what varies between runs and machines: the server's address and port,
/// durations, and version numbers. Each extra `(pattern, replacement)` pair is applied
/// after these.
pub fn mask(text: &str, extra: &[(&str, &str)]) -> String {
    static DEFAULTS: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    let defaults = DEFAULTS.get_or_init(|| {
        [
            // The server's address: a loopback port, or where testcontainers says Docker
            // publishes it (the bridge's gateway, when the tests themselves run in a
            // container).
            (
                r"\b(?:127\.0\.0\.1|\d{1,3}(?:\.\d{1,3}){3}|localhost):\d+",
                "127.0.0.1:PORT",
            ),
            (r"\b\d+\.\d+\.\d+[-\w.+~]*", "<version>"),
            (r"\b\d+(\.\d+)?\s?(ms|µs|us|ns|s)\b", "<time>"),
            // Tests run each lesson in a fresh database; the book shows `sales`.
            (r"\bwbt_\w+", "sales"),
        ]
        .into_iter()
        .map(|(p, r)| (Regex::new(p).expect("valid pattern"), r))
        .collect()
    });
    let mut text = text.to_owned();
    for (re, replacement) in defaults {
        text = re.replace_all(&text, *replacement).into_owned();
    }
    for (pattern, replacement) in extra {
        let re = Regex::new(pattern).expect("valid pattern");
        text = re.replace_all(&text, *replacement).into_owned();
    }
    text
}

/// Adds `ANCHOR: step-N` / `ANCHOR_END: step-N` lines around each step of a lesson's output.
pub fn with_anchors(stdout: &str) -> String {
    let header = Regex::new(r"^== Step ([\w.-]+): .* ==$").expect("valid pattern");
    let mut out = String::new();
    let mut open: Option<String> = None;
    for line in stdout.lines() {
        if let Some(caps) = header.captures(line) {
            if let Some(step) = open.take() {
                trim_trailing_blank(&mut out);
                out.push_str(&format!("ANCHOR_END: step-{step}\n\n"));
            }
            out.push_str(line);
            out.push('\n');
            let step = caps[1].to_owned();
            out.push_str(&format!("ANCHOR: step-{step}\n"));
            open = Some(step);
        } else if open.is_some() || !line.trim().is_empty() {
            out.push_str(line);
            out.push('\n');
        }
    }
    if let Some(step) = open {
        trim_trailing_blank(&mut out);
        out.push_str(&format!("ANCHOR_END: step-{step}\n"));
    }
    out
}

fn trim_trailing_blank(out: &mut String) {
    while out.ends_with("\n\n") {
        out.pop();
    }
}

fn without_anchors(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with("ANCHOR: ") && !l.starts_with("ANCHOR_END: "))
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The kind of server the tests run on: each kind has captured files of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    /// Oracle's MySQL: the article's server, whose output the book shows.
    MySql,
    /// MariaDB: its captures sit beside MySQL's, as `NAME.mariadb.txt`.
    MariaDb,
}

/// The kind of the shared test server, asked once per process.
pub fn server_kind() -> ServerKind {
    static KIND: OnceLock<ServerKind> = OnceLock::new();
    *KIND.get_or_init(|| {
        // Callers may be inside a test's runtime, which cannot be blocked on: use a
        // thread with a runtime of its own.
        let version = std::thread::spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let server = workbook::server().await?;
                let pool = workbook::connect(&server.url()).await?;
                let version = workbook::server_version(&pool).await?;
                pool.close().await;
                anyhow::Ok(version)
            })
        })
        .join()
        .expect("the version thread does not panic")
        .expect("the test server answers SELECT VERSION()");
        if version.contains("MariaDB") {
            ServerKind::MariaDb
        } else {
            ServerKind::MySql
        }
    })
}

/// True when this run writes the captures anew (`WORKBOOK_BLESS=1`, as `just bless` sets).
pub fn blessing() -> bool {
    std::env::var("WORKBOOK_BLESS").is_ok_and(|v| v == "1")
}

/// The one snapshot check. Each capture is `dir/STEM.txt`, from MySQL, which the book
/// shows; where MariaDB prints something else, MariaDB's is `dir/STEM.mariadb.txt` beside
/// it.
///
/// Compares `text` with the capture for this run's server after [`mask`]ing both with
/// `extra` masks (anchor lines and blank lines left out). With `WORKBOOK_BLESS=1`, writes
/// `fresh` instead: on MySQL to `STEM.txt`; on MariaDB to `STEM.mariadb.txt`, or removes
/// that file when MariaDB's run matches MySQL's capture (so bless MySQL first, as `just
/// bless` does).
pub fn assert_matches_snapshot(
    dir: &Path,
    stem: &str,
    text: &str,
    fresh: &str,
    extra: &[(&str, &str)],
) {
    let mysql = dir.join(format!("{stem}.txt"));
    let mariadb = dir.join(format!("{stem}.mariadb.txt"));
    let masked = |t: &str| mask(&without_anchors(t), extra);
    let mysql_capture = std::fs::read_to_string(&mysql);
    if blessing() {
        std::fs::create_dir_all(dir).expect("the captures' folder can be made");
        match server_kind() {
            ServerKind::MySql => std::fs::write(&mysql, fresh),
            ServerKind::MariaDb => match &mysql_capture {
                Ok(captured) if masked(captured) == masked(fresh) => {
                    std::fs::remove_file(&mariadb).or_else(|e| match e.kind() {
                        std::io::ErrorKind::NotFound => Ok(()),
                        _ => Err(e),
                    })
                }
                _ => std::fs::write(&mariadb, fresh),
            },
        }
        .expect("the captured file is writable");
        return;
    }
    let (path, captured) = match server_kind() {
        ServerKind::MariaDb if mariadb.exists() => {
            let captured = std::fs::read_to_string(&mariadb);
            (mariadb, captured)
        }
        _ => (mysql, mysql_capture),
    };
    let captured = captured.unwrap_or_else(|e| {
        panic!(
            "{}: {e}. Write it from a real run with `just bless`",
            path.display()
        )
    });
    let (expected, actual) = (masked(&captured), masked(text));
    if expected != actual {
        let first_difference = expected
            .lines()
            .zip(actual.lines())
            .position(|(e, a)| e != a)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "this run no longer matches {} (first difference at masked line {}).\n\
             If the change is intended, run `just bless` and review the diff.\n\
             --- captured (masked) ---\n{expected}\n--- this run (masked) ---\n{actual}",
            path.display(),
            first_difference + 1
        );
    }
}

/// Replaces the fresh test database's name with `sales`, as the book shows it.
pub fn as_in_the_book(text: &str) -> String {
    static FRESH: OnceLock<Regex> = OnceLock::new();
    FRESH
        .get_or_init(|| Regex::new(r"\bwbt_\w+").expect("valid pattern"))
        .replace_all(text, "sales")
        .into_owned()
}

/// Compares a lesson's stdout with its captured output, `output.txt` (MySQL) or
/// `output.mariadb.txt` (MariaDB, where it differs); see [`assert_matches_snapshot`].
pub fn assert_matches_capture(package: &str, stdout: &str, extra: &[(&str, &str)]) {
    let fresh = with_anchors(&as_in_the_book(stdout));
    assert_matches_snapshot(&lesson_dir(package), "output", stdout, &fresh, extra);
}

/// What every test returns. A `?` on any error first marks the test failed, so the fresh
/// databases it holds are kept for inspection (their names printed) instead of dropped.
pub type TestResult = Result<(), TestFailure>;

/// A test's error: any error, turned into this by `?`. See [`TestResult`].
pub struct TestFailure(anyhow::Error);

impl<E: Into<anyhow::Error>> From<E> for TestFailure {
    fn from(error: E) -> Self {
        workbook::keep_databases_of_this_test();
        TestFailure(error.into())
    }
}

impl std::fmt::Debug for TestFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The harness prints this after "Error: ": the whole chain, as anyhow shows it.
        write!(f, "{:?}", self.0)
    }
}

/// Writes a line straight to the terminal's stderr, past the test harness's capture: for
/// skips that must be seen.
pub fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Says that a test cannot run here, and why, past the harness's capture.
///
/// A skip must never look like a pass in CI: under `CI=true` this panics instead, so the
/// test fails and the missing piece is installed rather than forgotten.
pub fn skip(test: &str, why: &str) {
    if std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0") {
        panic!("{test} cannot run here ({why}), and CI=true forbids skipping it");
    }
    say(&format!("SKIPPED {test}: {why}"));
}
