//! The troubleshooting appendix: every error message it shows is captured here from a
//! real run, into `book/src/captured/NAME.txt`, and compared with a new run each time the
//! tests run.
//!
//! `WORKBOOK_BLESS=1 cargo test -p workbook-tests troubleshooting::` writes the files
//! anew. The comparison masks what varies (ports, versions, test database names), as for
//! lessons.

use std::path::PathBuf;
use std::time::Duration;

use sqlx::mysql::{MySqlDatabaseError, MySqlPoolOptions};
use workbook::{TestDatabase, fresh_database, server};
use workbook_tests::{
    LessonCommand, Run, ServerKind, TestResult, as_in_the_book, assert_matches_snapshot,
    server_kind, workspace_root,
};

fn captured_dir() -> PathBuf {
    workspace_root().join("book").join("src").join("captured")
}

/// Compares `text` with the captured file `book/src/captured/{name}.txt` (or MariaDB's
/// `.mariadb.txt`), or writes it there with `WORKBOOK_BLESS=1`.
fn assert_matches_captured(name: &str, text: &str) {
    let fresh = as_in_the_book(text.trim_end()) + "\n";
    // Whether the URL had a password depends on the server the tests use, and the host
    // the server saw us come from on how it runs (loopback, a Docker bridge).
    let extra = [
        (r"://(\w+):\*\*\*@", "://$1@"),
        (r"'(\w+)'@'[^']*'", "'$1'@'<host>'"),
    ];
    assert_matches_snapshot(&captured_dir(), name, &fresh, &fresh, &extra);
}

/// Runs lesson 1 with `url` as `DATABASE_URL`; it must fail with exit code 1, without a
/// panic.
fn lesson_1_with(url: &str) -> Run {
    let run = LessonCommand::new("lesson-1", Some(url))
        .time_limit(Duration::from_secs(30))
        .run();
    assert_eq!(run.code(), Some(1), "{run:?}");
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(!run.stderr.contains("s3cret-pw"), "{}", run.stderr);
    run
}

#[tokio::test]
async fn connection_refused_is_captured_from_lesson_1() {
    let run = lesson_1_with("mysql://root:s3cret-pw@127.0.0.1:1/sales");
    assert!(run.stderr.contains("connection refused"), "{}", run.stderr);
    assert_matches_captured("connection-refused", &run.stderr);
}

#[tokio::test]
async fn access_denied_is_captured_from_lesson_1() -> TestResult {
    let server = server().await?;
    let mut url = url::Url::parse(&server.database_url("sales"))?;
    url.set_username("root").ok();
    url.set_password(Some("s3cret-pw")).ok();
    let run = lesson_1_with(url.as_str());
    assert!(run.stderr.contains("access denied"), "{}", run.stderr);
    assert_matches_captured("access-denied", &run.stderr);
    Ok(())
}

#[tokio::test]
async fn an_unknown_database_is_captured_from_lesson_1() -> TestResult {
    let server = server().await?;
    let run = lesson_1_with(&server.database_url("no_such_database"));
    assert!(run.stderr.contains("does not exist"), "{}", run.stderr);
    assert_matches_captured("unknown-database", &run.stderr);
    Ok(())
}

#[test]
fn no_way_to_a_server_is_captured_with_exit_code_2() {
    let run = LessonCommand::new("lesson-1", None)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .env("WORKBOOK_MYSQLD", "/nonexistent/mysqld")
        .time_limit(Duration::from_secs(30))
        .run();
    assert_eq!(run.code(), Some(2), "{run:?}");
    assert_matches_captured("no-server", &run.stderr);
}

#[test]
fn docker_not_running_is_captured_when_docker_is_demanded() {
    let run = LessonCommand::new("lesson-1", None)
        .env("WORKBOOK_SERVER", "docker")
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .time_limit(Duration::from_secs(30))
        .run();
    assert_eq!(run.code(), Some(1), "{run:?}");
    assert!(
        run.stderr.contains("no Docker daemon answered"),
        "{}",
        run.stderr
    );
    assert_matches_captured("docker-not-running", &run.stderr);
}

/// The server's error number, when `err` came from the server.
fn mysql_number(err: &sqlx::Error) -> Option<u16> {
    err.as_database_error()?
        .try_downcast_ref::<MySqlDatabaseError>()
        .map(MySqlDatabaseError::number)
}

#[tokio::test]
async fn an_emoji_in_a_latin1_table_is_refused_and_captured() -> TestResult {
    let db = fresh_database("trouble_latin1").await?;
    let pool = workbook::connect(&db.url).await?;
    sqlx::query(
        "CREATE TABLE notes (id INT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(100) NOT NULL) \
         CHARACTER SET latin1",
    )
    .execute(&pool)
    .await?;
    let err = sqlx::query("INSERT INTO notes (body) VALUES (?)")
        .bind("Ship it \u{1F680}")
        .execute(&pool)
        .await
        .expect_err("a latin1 column cannot hold an emoji in strict mode");
    // NOTE: MySQL (9.7 in CI) refuses the parameter before it reaches the column (3988,
    // "Conversion from collation ... impossible"); MariaDB refuses the value (1366).
    let expected = match server_kind() {
        ServerKind::MySql => 3988,
        ServerKind::MariaDb => 1366,
    };
    assert_eq!(mysql_number(&err), Some(expected), "{err}");
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notes")
        .fetch_one(&pool)
        .await?;
    assert_eq!(rows, 0, "nothing was stored, not even a mangled '?'");
    assert_matches_captured("latin1", &err.to_string());
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn a_unique_violation_is_captured_with_its_kind() -> TestResult {
    let t = TestDatabase::migrated("trouble_unique").await?;
    let err = sqlx::query("INSERT INTO customers (name, job) VALUES (?, ?)")
        .bind("Lynn")
        .bind("Frontend Developer")
        .execute(&t.pool)
        .await
        .expect_err("the seed row already has the name Lynn");
    let db_err = err.as_database_error().expect("the server refused it");
    assert!(db_err.is_unique_violation());
    let lynns: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM customers WHERE name = 'Lynn'")
            .fetch_one(&t.pool)
            .await?;
    assert_eq!(lynns, 1);
    let shown = format!(
        "{err}\nkind: {:?}\nis_unique_violation: {}",
        db_err.kind(),
        db_err.is_unique_violation()
    );
    assert_matches_captured("unique-violation", &shown);
    t.pool.close().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deadlock_between_two_transactions_is_captured() -> TestResult {
    let db = fresh_database("trouble_deadlock").await?;
    let pool = workbook::connect(&db.url).await?;
    sqlx::query(
        "CREATE TABLE accounts (id INT PRIMARY KEY, balance INT NOT NULL) ENGINE=InnoDB",
    )
    .execute(&pool)
    .await?;
    sqlx::query("INSERT INTO accounts VALUES (1, 100), (2, 100)")
        .execute(&pool)
        .await?;

    // Two transactions take the two rows in opposite orders.
    let mut ta = pool.begin().await?;
    let mut tb = pool.begin().await?;
    let a_id: u64 = sqlx::query_scalar("SELECT CONNECTION_ID()")
        .fetch_one(&mut *ta)
        .await?;
    sqlx::query("UPDATE accounts SET balance = balance - 10 WHERE id = 1")
        .execute(&mut *ta)
        .await?;
    sqlx::query("UPDATE accounts SET balance = balance - 10 WHERE id = 2")
        .execute(&mut *tb)
        .await?;
    let waiter = tokio::spawn(async move {
        let result =
            sqlx::query("UPDATE accounts SET balance = balance + 10 WHERE id = 2")
                .execute(&mut *ta)
                .await;
        (ta, result)
    });
    // Wait until A really waits for B's lock (not a timing guess: the server says so).
    // NOTE: InnoDB refreshes innodb_trx only when its last read is over 0.1 s old, so
    // polling faster would keep reading the same stale rows.
    let mut waits = 0;
    for _ in 0..200 {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM information_schema.innodb_trx \
             WHERE trx_state = 'LOCK WAIT' AND trx_mysql_thread_id = ?",
        )
        .bind(a_id)
        .fetch_one(&pool)
        .await?;
        if n > 0 {
            waits = n;
            break;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert_eq!(waits, 1, "transaction A never waited for B's lock");
    let b_result = sqlx::query("UPDATE accounts SET balance = balance + 10 WHERE id = 1")
        .execute(&mut *tb)
        .await;
    let (ta, a_result) = waiter.await?;

    // The server rolls one back; the other goes on and commits.
    let err = match (a_result, b_result) {
        (Err(e), Ok(_)) => {
            tb.commit().await?;
            drop(ta);
            e
        }
        (Ok(_), Err(e)) => {
            ta.commit().await?;
            drop(tb);
            e
        }
        other => panic!("expected exactly one deadlock victim, got {other:?}"),
    };
    assert_eq!(mysql_number(&err), Some(1213), "{err}");
    let total: i64 =
        sqlx::query_scalar("SELECT CAST(SUM(balance) AS SIGNED) FROM accounts")
            .fetch_one(&pool)
            .await?;
    assert_eq!(
        total, 200,
        "the winner moved 10 both ways; the victim changed nothing"
    );
    let code = err.as_database_error().and_then(|e| e.code());
    let shown = format!("{err}\nsqlstate: {}", code.as_deref().unwrap_or("?"));
    assert_matches_captured("deadlock", &shown);
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn a_pool_with_no_free_connection_times_out_and_is_captured() -> TestResult {
    let db = fresh_database("trouble_pool").await?;
    let pool = MySqlPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(1))
        .connect(&db.url)
        .await?;
    let held = pool.acquire().await?;
    let err = pool
        .acquire()
        .await
        .expect_err("the only connection is held");
    assert!(matches!(err, sqlx::Error::PoolTimedOut), "{err:?}");
    drop(held);
    // Once the connection is back, the pool serves again.
    let one: i32 = sqlx::query_scalar("SELECT 1").fetch_one(&pool).await?;
    assert_eq!(one, 1);
    assert_matches_captured("pool-timed-out", &format!("{err}\n{err:?}"));
    pool.close().await;
    Ok(())
}

#[test]
fn the_troubleshooting_page_shows_every_capture() {
    let page =
        std::fs::read_to_string(workspace_root().join("book/src/troubleshooting.md"))
            .unwrap();
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(captured_dir()).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !page.contains(&format!("{{{{#include captured/{name}}}}}")) {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "captures the page never shows: {missing:?}"
    );
}

#[tokio::test]
async fn a_password_login_without_tls_is_refused_on_mysql_and_captured() -> TestResult {
    use sqlx::Connection;
    let db = fresh_database("trouble_rsa").await?;
    let server = server().await?;
    let mut admin = sqlx::MySqlConnection::connect(&server.url()).await?;
    let user = format!("wb_rsa_{}", std::process::id());
    let create = format!("CREATE USER '{user}'@'%' IDENTIFIED BY 's3cret-pw'");
    let grant = format!("GRANT ALL PRIVILEGES ON `{}`.* TO '{user}'@'%'", db.name);
    sqlx::raw_sql(sqlx::AssertSqlSafe(create))
        .execute(&mut admin)
        .await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(grant))
        .execute(&mut admin)
        .await?;

    let mut url = url::Url::parse(&db.url)?;
    url.set_username(&user).ok();
    url.set_password(Some("s3cret-pw")).ok();
    url.set_query(Some("ssl-mode=disabled"));
    let run = LessonCommand::new("lesson-1", Some(url.as_str()))
        .time_limit(Duration::from_secs(60))
        .run();
    let drop_user = format!("DROP USER '{user}'@'%'");
    sqlx::raw_sql(sqlx::AssertSqlSafe(drop_user))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    assert!(!run.stderr.contains("s3cret-pw"), "{}", run.stderr);
    // NOTE: only MySQL's caching_sha2_password needs TLS or RSA for a first login;
    // MariaDB's mysql_native_password logs in over plain TCP.
    match server_kind() {
        ServerKind::MySql => {
            assert_eq!(run.code(), Some(1), "{run:?}");
            assert!(
                run.stderr.contains("RSA auth backend disabled"),
                "{}",
                run.stderr
            );
            let masked = run.stderr.replace(&user, "reader");
            assert_matches_captured("no-tls", &masked);
        }
        ServerKind::MariaDb => {
            assert_eq!(run.code(), Some(0), "{run:?}");
        }
    }
    Ok(())
}
