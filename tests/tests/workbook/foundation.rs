//! The foundation: the three ways to a server, fresh databases, and the errors a reader
//! meets before any lesson code runs.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use sqlx::Connection;
use workbook::{LocalServer, fresh_database, server};
use workbook_tests::{LessonCommand, Run, TestResult, say};

/// Why an ignored test that needs a server binary failed when it was run.
const NO_SERVER_BINARY: &str =
    "this test needs mariadbd or mysqld (on PATH, or in WORKBOOK_MYSQLD)";

/// Why an ignored test that needs Docker failed when it was run.
const NO_DOCKER: &str = "this test needs a Docker daemon that answers";

/// Tests that need more than the one server are `#[ignore]`d with the reason; CI must run
/// them all, so under `CI=true` the harness must have been told `--include-ignored`.
#[test]
fn under_ci_the_ignored_tests_run_too() {
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    let included = std::env::args().any(|a| a == "--include-ignored" || a == "--ignored");
    assert!(
        !ci || included,
        "CI=true, but the ignored tests are left out: run `cargo test -- --include-ignored`"
    );
}

fn database_exists_query() -> &'static str {
    "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?"
}

async fn database_exists(name: &str) -> anyhow::Result<bool> {
    let server = server().await?;
    let mut conn = sqlx::MySqlConnection::connect(&server.url()).await?;
    let n: i64 = sqlx::query_scalar(database_exists_query())
        .bind(name)
        .fetch_one(&mut conn)
        .await?;
    Ok(n == 1)
}

fn process_alive(pid: u32) -> bool {
    // A zombie has exited; only a process that still runs counts.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| !stat.contains(") Z "))
}

#[tokio::test]
async fn the_database_url_path_uses_the_server_it_names() -> TestResult {
    // Whatever server the tests use, hand it to a lesson as DATABASE_URL: the lesson must
    // use it as given and say so on stderr, without the password.
    let db = fresh_database("foundation_url").await?;
    let run = LessonCommand::new("lesson-1", Some(&db.url)).run();
    run.assert_success();
    assert!(
        run.stderr
            .contains("workbook: using the server in DATABASE_URL"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(&db.name), "{}", run.stderr);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs mariadbd or mysqld installed; run with `-- --include-ignored`"]
async fn a_local_server_starts_serves_and_leaves_no_process_or_directory_behind()
-> TestResult {
    let binary = workbook::find_server_binary().context(NO_SERVER_BINARY)?;
    let local =
        tokio::task::spawn_blocking(move || LocalServer::start(&binary)).await??;
    let pid = local.pid().expect("the server runs");
    let dir = local.dir().to_path_buf();
    assert!(process_alive(pid));
    assert!(dir.join("data").is_dir());

    let mut conn = sqlx::MySqlConnection::connect(&local.url()).await?;
    let one: i32 = sqlx::query_scalar("SELECT 1").fetch_one(&mut conn).await?;
    assert_eq!(one, 1);
    conn.close().await?;

    tokio::task::spawn_blocking(move || local.stop()).await?;
    assert!(!process_alive(pid), "the server process {pid} still runs");
    assert!(!dir.exists(), "{} is still there", dir.display());
    Ok(())
}

/// Waits up to `limit` for `condition`.
pub(crate) async fn eventually(limit: Duration, condition: impl Fn() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    condition()
}

/// The names in `dir`.
pub(crate) fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The live processes whose command line names `dir`: servers working in it.
pub(crate) fn servers_using(dir: &Path) -> Vec<u32> {
    let needle = dir.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| e.file_name().to_string_lossy().parse::<u32>().ok())
                .filter(|pid| {
                    std::fs::read(format!("/proc/{pid}/cmdline"))
                        .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&needle))
                })
                .filter(|pid| process_alive(*pid))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs mariadbd or mysqld installed; run with `-- --include-ignored`"]
async fn a_lesson_that_starts_its_own_server_cleans_up_after_it_ends_and_after_kill_9()
-> TestResult {
    workbook::find_server_binary().context(NO_SERVER_BINARY)?;
    // A private TMPDIR shows exactly what the lesson's server left behind.
    let tmp = tempfile::tempdir()?;

    let run = LessonCommand::new("lesson-1", None)
        .env("WORKBOOK_SERVER", "local")
        .env("TMPDIR", tmp.path())
        .run();
    run.assert_success();
    assert!(
        run.stderr.contains("workbook: using a local"),
        "{}",
        run.stderr
    );
    let cleaned =
        eventually(Duration::from_secs(30), || entries(tmp.path()).is_empty()).await;
    assert!(cleaned, "left behind: {:?}", entries(tmp.path()));

    // Now the hard way: SIGKILL the lesson while its server runs. No destructor runs; the
    // watchdog must still stop the server and delete its directory.
    let mut child = LessonCommand::new("lesson-1", None)
        .env("WORKBOOK_SERVER", "local")
        .env("TMPDIR", tmp.path())
        .spawn();
    let started = eventually(Duration::from_secs(60), || {
        !servers_using(tmp.path()).is_empty()
    })
    .await;
    let _ = child.kill();
    let _ = child.wait();
    assert!(started, "the lesson's server never appeared");
    let stopped = eventually(Duration::from_secs(40), || {
        servers_using(tmp.path()).is_empty() && entries(tmp.path()).is_empty()
    })
    .await;
    assert!(
        stopped,
        "after kill -9: servers {:?}, files {:?}",
        servers_using(tmp.path()),
        entries(tmp.path())
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker daemon and a MySQL image; run with `-- --include-ignored`"]
async fn the_docker_path_starts_mysql_8_4_or_later_where_a_daemon_answers() -> TestResult
{
    let started = std::time::Instant::now();
    let probe = workbook::docker_available();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the Docker check must answer in about a second"
    );
    let endpoint = probe.map_err(anyhow::Error::msg).context(NO_DOCKER)?;
    let docker = tokio::task::spawn_blocking(workbook::DockerServer::start).await??;
    let mut conn = sqlx::MySqlConnection::connect(docker.url()).await?;
    let version: String = sqlx::query_scalar("SELECT VERSION()")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    say(&format!(
        "docker at {endpoint}: {} answered VERSION() = {version}",
        docker.image()
    ));
    assert!(
        is_mysql_8_4_or_later(&version),
        "{} runs {version}: the workbook needs MySQL 8.4 or later",
        docker.image()
    );
    // A test that fails while it holds the container: the guard is dropped during a
    // panic, inside a runtime. That must remove the container, and fail only that thread,
    // never abort the process (as a runtime started inside a runtime would).
    let id = docker.id().to_owned();
    let failed = std::thread::Builder::new()
        .name("a-failing-test".to_owned())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let _held = docker;
                panic!("deliberately, while holding the container");
            })
        })?
        .join();
    assert!(failed.is_err(), "the thread panicked, and only it");
    let gone = std::process::Command::new("docker")
        .args(["inspect", &id])
        .output()
        .is_ok_and(|out| !out.status.success());
    assert!(gone, "the container {id} is still there after the drop");
    Ok(())
}

fn is_mysql_8_4_or_later(version: &str) -> bool {
    let mut parts = version.split(|c: char| !c.is_ascii_digit());
    let major: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    !version.contains("MariaDB") && (major, minor) >= (8, 4)
}

#[test]
fn mysql_8_4_and_9_7_count_as_8_4_or_later_but_8_0_and_mariadb_do_not() {
    assert!(is_mysql_8_4_or_later("8.4.3"));
    assert!(is_mysql_8_4_or_later("9.7.4-2"));
    assert!(!is_mysql_8_4_or_later("8.0.40"));
    assert!(!is_mysql_8_4_or_later("11.4.2-MariaDB"));
}

#[tokio::test]
async fn fresh_databases_stay_unique_under_parallel_use_and_are_dropped_on_success()
-> TestResult {
    let guards =
        futures::future::try_join_all((0..8).map(|_| fresh_database("parallel"))).await?;
    let mut names: Vec<String> = guards.iter().map(|g| g.name.clone()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 8, "names collided: {names:?}");
    for name in &names {
        assert!(database_exists(name).await?, "{name} was not created");
        assert!(name.starts_with("wbt_"));
    }
    drop(guards);
    for name in &names {
        assert!(!database_exists(name).await?, "{name} was not dropped");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_test_keeps_its_database_and_a_later_run_sweeps_it() -> TestResult {
    let guard = fresh_database("kept").await?;
    let name = guard.name.clone();
    // A panic while the guard lives is what a failing test looks like.
    let handle = std::thread::spawn(move || {
        let _guard = guard;
        panic!("this test fails on purpose");
    });
    assert!(handle.join().is_err());
    assert!(
        database_exists(&name).await?,
        "a failed test's database must stay"
    );
    // A test that fails through `?`: its error type marks it failed before the guard
    // drops.
    let guard = fresh_database("kept_err").await?;
    let err_name = guard.name.clone();
    let failed = std::thread::spawn(move || -> TestResult {
        let _guard = guard;
        let n: i32 = "not a number".parse()?;
        assert_eq!(n, 0, "never reached");
        Ok(())
    })
    .join()
    .expect("the test fails without a panic");
    assert!(failed.is_err());
    assert!(
        database_exists(&err_name).await?,
        "a database of a test that failed through ? must stay"
    );

    // A leftover from a process that is gone, as the next run would find it.
    let server = server().await?;
    let mut conn = sqlx::MySqlConnection::connect(&server.url()).await?;
    let dead = "wbt_4000000_0_leftover";
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE IF NOT EXISTS {dead}"
    )))
    .execute(&mut conn)
    .await?;
    workbook::sweep_leftovers(&server.url()).await?;
    assert!(
        !database_exists(dead).await?,
        "the dead process's database was not swept"
    );
    assert!(
        database_exists(&name).await?,
        "a live process's database was swept"
    );
    for kept in [name, err_name] {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {kept}")))
            .execute(&mut conn)
            .await?;
    }
    conn.close().await?;
    Ok(())
}

/// Runs lesson 1 with a bad `DATABASE_URL` and checks the common promises: exit code 1
/// within 10 s, no panic, no backtrace, and never the password.
fn run_with_bad_url(url: &str) -> Run {
    let run = LessonCommand::new("lesson-1", Some(url))
        .time_limit(Duration::from_secs(20))
        .run();
    assert!(
        run.elapsed < Duration::from_secs(10),
        "took {:?}",
        run.elapsed
    );
    assert_eq!(run.code(), Some(1), "{run:?}");
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(!run.stderr.contains("backtrace"), "{}", run.stderr);
    assert!(!run.stderr.contains("s3cret-pw"), "{}", run.stderr);
    assert!(!run.stdout.contains("s3cret-pw"), "{}", run.stdout);
    assert!(run.stdout.is_empty(), "no step may run: {}", run.stdout);
    run
}

#[tokio::test]
async fn a_url_where_nothing_listens_fails_fast_saying_connection_refused() {
    let run = run_with_bad_url("mysql://root:s3cret-pw@127.0.0.1:1/sales");
    assert!(
        run.stderr
            .contains("connection refused. Is a server running at 127.0.0.1:1?"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("mysql://root:***@127.0.0.1:1/sales"));
}

#[tokio::test]
async fn a_wrong_password_fails_saying_access_denied_without_showing_it() -> TestResult {
    let server = server().await?;
    let mut url = url::Url::parse(&server.database_url("sales"))?;
    url.set_password(Some("s3cret-pw")).ok();
    let run = run_with_bad_url(url.as_str());
    assert!(
        run.stderr.contains("access denied for user 'root'"),
        "{}",
        run.stderr
    );
    Ok(())
}

#[tokio::test]
async fn an_unknown_database_fails_saying_how_to_create_it() -> TestResult {
    let server = server().await?;
    let url = server.database_url("no_such_database_here");
    let run = run_with_bad_url(&url);
    assert!(
        run.stderr
            .contains("the database 'no_such_database_here' does not exist"),
        "{}",
        run.stderr
    );
    Ok(())
}

#[tokio::test]
async fn a_url_that_is_not_a_url_fails_without_echoing_it() {
    let run = run_with_bad_url("root:s3cret-pw@localhost/sales");
    assert!(
        run.stderr.contains("DATABASE_URL is not a URL"),
        "{}",
        run.stderr
    );
    let run = run_with_bad_url("postgres://root:s3cret-pw@localhost/sales");
    assert!(
        run.stderr.contains("DATABASE_URL must start with mysql://"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn with_no_way_to_a_server_a_lesson_names_all_three_and_exits_2() {
    let run = LessonCommand::new("lesson-1", None)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .env("WORKBOOK_MYSQLD", "/nonexistent/mysqld")
        .time_limit(Duration::from_secs(20))
        .run();
    assert_eq!(run.code(), Some(2), "{run:?}");
    assert!(run.elapsed < Duration::from_secs(10));
    for way in ["1. DATABASE_URL", "2. Docker", "3. a local server binary"] {
        assert!(
            run.stderr.contains(way),
            "{way} missing from: {}",
            run.stderr
        );
    }
}

#[tokio::test]
async fn a_user_with_a_password_logs_in_over_tcp_and_mysql_needs_tls_or_rsa_for_it()
-> TestResult {
    let server = server().await?;
    let mut admin = sqlx::MySqlConnection::connect(&server.url()).await?;
    let user = format!("wb_pw_{}", std::process::id());
    // NOTE: MySQL's default plugin is caching_sha2_password, whose first login sends the
    // password over TLS or RSA-encrypted; MariaDB's is mysql_native_password, which needs
    // neither.
    let kind = workbook_tests::server_kind();
    let (plugin, with) = match kind {
        workbook_tests::ServerKind::MySql => {
            ("caching_sha2_password", "WITH caching_sha2_password ")
        }
        workbook_tests::ServerKind::MariaDb => ("mysql_native_password", ""),
    };
    let create = format!("CREATE USER '{user}'@'%' IDENTIFIED {with}BY 'wb-s3cret'");
    sqlx::raw_sql(sqlx::AssertSqlSafe(create))
        .execute(&mut admin)
        .await?;

    let mut url = url::Url::parse(&server.url())?;
    url.set_username(&user).ok();
    url.set_password(Some("wb-s3cret")).ok();
    // The first login, with an empty cache on the server: without TLS, then with it.
    let mut plain_url = url.clone();
    plain_url.set_query(Some("ssl-mode=disabled"));
    let plain = sqlx::MySqlConnection::connect(plain_url.as_str()).await;
    let over_tls = sqlx::MySqlConnection::connect(url.as_str()).await;
    // diesel-async's driver, mysql_async, logs in too.
    let diesel = {
        use diesel_async::AsyncConnection;
        diesel_async::AsyncMysqlConnection::establish(url.as_str()).await
    };
    // Once a login has put the password's hash in the server's cache, the fast path needs
    // neither TLS nor RSA: the same URL that failed above works now, until the cache is
    // emptied (a restart, FLUSH PRIVILEGES).
    let plain_again = sqlx::MySqlConnection::connect(plain_url.as_str()).await;

    let drop_user = format!("DROP USER '{user}'@'%'");
    sqlx::raw_sql(sqlx::AssertSqlSafe(drop_user))
        .execute(&mut admin)
        .await?;
    admin.close().await?;

    let mut conn = over_tls.map_err(|e| anyhow::anyhow!("{plugin} over TCP: {e}"))?;
    let who: String = sqlx::query_scalar("SELECT CURRENT_USER()")
        .fetch_one(&mut conn)
        .await?;
    assert!(who.starts_with(&user), "{who}");
    if let Err(e) = diesel {
        panic!("diesel-async could not log in as a {plugin} user: {e}");
    }
    match kind {
        workbook_tests::ServerKind::MySql => {
            let err = plain
                .expect_err("without TLS or sqlx's mysql-rsa, the first login fails");
            assert!(
                err.to_string().contains("RSA auth backend disabled"),
                "{err}"
            );
        }
        workbook_tests::ServerKind::MariaDb => {
            plain?.close().await?;
        }
    }
    plain_again?.close().await?;
    Ok(())
}

#[tokio::test]
async fn a_fresh_database_gets_the_servers_utf8mb4_collation_and_its_padding_rules()
-> TestResult {
    let db = fresh_database("foundation_collation").await?;
    let pool = workbook::connect(&db.url).await?;
    let collation: String = sqlx::query_scalar(
        "SELECT CAST(default_collation_name AS CHAR) FROM information_schema.schemata \
         WHERE schema_name = ?",
    )
    .bind(&db.name)
    .fetch_one(&pool)
    .await?;
    // NOTE: MySQL 8+'s utf8mb4 default is utf8mb4_0900_ai_ci, which does not pad: 'Ada '
    // and 'Ada' differ. MariaDB's utf8mb4_general_ci pads them equal.
    let pads: i64 = sqlx::query_scalar("SELECT 'Ada ' = 'Ada'")
        .fetch_one(&pool)
        .await?;
    match workbook_tests::server_kind() {
        workbook_tests::ServerKind::MySql => {
            assert_eq!(collation, "utf8mb4_0900_ai_ci");
            assert_eq!(pads, 0, "utf8mb4_0900_ai_ci is NO PAD");
        }
        workbook_tests::ServerKind::MariaDb => {
            assert!(collation.starts_with("utf8mb4_"), "{collation}");
            assert_eq!(pads, 1, "{collation} is PAD SPACE");
        }
    }
    pool.close().await;
    Ok(())
}

#[test]
#[ignore = "needs a Docker daemon; run with `-- --include-ignored`"]
fn an_image_docker_cannot_get_falls_back_to_a_local_server_or_fails_clearly() -> TestResult
{
    workbook::docker_available()
        .map_err(anyhow::Error::msg)
        .context(NO_DOCKER)?;
    let missing = "workbook/no-such-image:0";
    if workbook::find_server_binary().is_some() {
        let run = LessonCommand::new("lesson-1", None)
            .env("WORKBOOK_MYSQL_IMAGE", missing)
            .time_limit(Duration::from_secs(120))
            .run();
        run.assert_success();
        let fell_back = run
            .stderr
            .lines()
            .find(|l| l.contains(missing))
            .unwrap_or_default();
        assert!(
            fell_back.contains("WORKBOOK_MYSQL_IMAGE")
                && fell_back.contains("trying a local server instead"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("workbook: using a local"),
            "{}",
            run.stderr
        );
    }
    // With no local server either: one clear error, within 15 s, naming the ways out.
    let run = LessonCommand::new("lesson-1", None)
        .env("WORKBOOK_MYSQL_IMAGE", missing)
        .env("WORKBOOK_MYSQLD", "/nonexistent/mysqld")
        .time_limit(Duration::from_secs(15))
        .run();
    assert_eq!(run.code(), Some(2), "{run:?}");
    assert!(
        run.stderr.contains("WORKBOOK_MYSQL_IMAGE")
            && run.stderr.contains("WORKBOOK_MYSQLD"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    Ok(())
}
