//! Lesson 8: the service, driven over real HTTP on a fresh database: every route, every
//! error mapping, readiness, the shutdown drain, cancellation and the time limit, the
//! trace, and the binary's output. No assertion on how fast anything was.

use std::sync::Arc;
use std::time::Duration;

use axum::http::Method;
use lesson_8::bench::{BenchResults, parse_wrk};
use lesson_8::running::{trace_buffer, trace_lines};
use lesson_8::s6_cancellation::{seen_from_outside, until_no_transaction};
use lesson_8::s8_load::percentile;
use lesson_8::s9_beside_fastapi::knee;
use lesson_8::{
    AppState, Args, Ctx, Customer, CustomerPage, ErrorBody, Reply, Running, service_pool,
};
use regex::Regex;
use workbook::{Server, TestDatabase};
use workbook_tests::{LessonCommand, TestResult, assert_matches_capture, lesson_dir};

/// What varies from run to run in the binary's output; the chapter lists them.
const MASKS: &[(&str, &str)] = &[
    (r#""id":\d+"#, r#""id":N"#),
    (r#""next":\d+"#, r#""next":N"#),
    (r"/customers/\d+", "/customers/N"),
    (r"after=\d+", "after=N"),
    (r"elapsed_secs=[\d.e-]+", "elapsed_secs=S"),
    (r"(?m)^(pool of \d+)\s+\d+\s+\d+\s+.*$", "$1 ..."),
    (r"beyond a pool of \d+", "beyond a pool of N"),
    (
        r"answered: \d+ of \d+; 200: \d+, 503: \d+ \(\d+ with",
        "answered: N of N; 200: N, 503: N (N with",
    ),
];

/// A service over a fresh, migrated database, with a pool of `size`.
async fn service(
    prefix: &str,
    size: u32,
    acquire_ms: u64,
) -> anyhow::Result<(TestDatabase, Running)> {
    let t = TestDatabase::migrated(prefix).await?;
    let pool = service_pool(t.url(), size, Duration::from_millis(acquire_ms))?;
    let state = AppState {
        pool,
        request_timeout: lesson_8::REQUEST_TIMEOUT,
    };
    let running = Running::start(state, t.url()).await?;
    Ok((t, running))
}

/// A request that must fail: method, path, body, status, and the body's `error`.
type ErrorCase<'a> = (Method, &'a str, Option<&'a str>, u16, &'a str);

/// The errors both services must answer alike.
const ERRORS_OF_BOTH: &[ErrorCase] = &[
    (
        Method::POST,
        "/customers",
        Some(r#"{"name": "Lynn"}"#),
        409,
        "conflict",
    ),
    (Method::GET, "/customers/32000", None, 404, "not_found"),
    (
        Method::POST,
        "/customers",
        Some(r#"{"name": " "}"#),
        422,
        "bad_input",
    ),
    (Method::GET, "/customers/abc", None, 422, "bad_input"),
    (Method::GET, "/customers?limit=0", None, 422, "bad_input"),
];

/// Sends each case, and checks its status and its error body (with a message, and no
/// `Retry-After`).
async fn assert_errors(
    http: &lesson_8::Http,
    cases: &[ErrorCase<'_>],
) -> anyhow::Result<()> {
    for (method, path, body, status, error) in cases {
        let reply = http
            .send(method.clone(), path, body.map(str::to_owned))
            .await?;
        let what = format!("{method} {path}: {}", reply.line());
        assert_eq!(
            (reply.status, error_of(&reply).as_str()),
            (*status, *error),
            "{what}"
        );
        assert!(reply.json::<ErrorBody>()?.message.len() > 3, "{what}");
        assert_eq!(reply.retry_after, None, "{what}");
    }
    Ok(())
}

fn error_of(reply: &Reply) -> String {
    reply
        .json::<ErrorBody>()
        .map(|body| body.error)
        .unwrap_or_else(|e| format!("not an error body: {e}"))
}

#[tokio::test]
async fn binary_prints_what_the_book_shows() -> TestResult {
    let run = LessonCommand::new("lesson-8", None)
        .server_of_this_run()
        .time_limit(Duration::from_secs(180))
        .run();
    run.assert_success();
    let out = &run.stdout;
    assert!(
        out.contains("holding the connection: 2 answered 200, 8 answered 503"),
        "{out}"
    );
    assert!(
        out.contains("releasing it first: 10 answered 200, 0 answered 503"),
        "{out}"
    );
    assert!(
        out.contains("once the SLEEP ended: open transactions 0"),
        "{out}"
    );
    assert!(out.contains("new connections refused: true"), "{out}");
    assert!(out.contains("the request in flight -> 200"), "{out}");
    let saturated =
        Regex::new(r"answered: (\d+) of (\d+); 200: \d+, 503: (\d+) \((\d+) with")?;
    let caps = saturated
        .captures(out)
        .expect("step 8 reports the saturated load");
    assert_eq!(caps[1], caps[2], "every request was answered");
    assert_eq!(caps[3], caps[4], "every 503 carried Retry-After");
    assert_ne!(&caps[3], "0", "the saturated pool answered some 503s");
    assert_matches_capture("lesson-8", out, MASKS);
    Ok(())
}

#[tokio::test]
async fn every_route_answers_over_http() -> TestResult {
    let (t, s) = service("lesson_8_routes", 4, 1000).await?;
    let http = &s.http;
    let mut ids = Vec::new();
    for name in ["l8-a", "l8-b", "l8-c"] {
        let reply = http
            .post("/customers", &serde_json::json!({ "name": name }))
            .await?;
        assert_eq!(reply.status, 201, "{}", reply.line());
        let created: Customer = reply.json()?;
        assert_eq!(reply.location, Some(format!("/customers/{}", created.id)));
        assert_eq!((created.name.as_str(), created.job), (name, None));
        ids.push(created.id);
    }
    // Keyset pages: Lynn, then two at a time.
    let first: CustomerPage = http.get("/customers?limit=2").await?.json()?;
    let names: Vec<&str> = first.customers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Lynn", "l8-a"]);
    let next = first.next.expect("a second page");
    let second: CustomerPage = http
        .get(&format!("/customers?after={next}&limit=2"))
        .await?
        .json()?;
    let names: Vec<&str> = second.customers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!((names, second.next), (vec!["l8-b", "l8-c"], None));
    let one: Customer = http.get(&format!("/customers/{}", ids[1])).await?.json()?;
    assert_eq!(one.name, "l8-b");
    let body = serde_json::json!({ "name": "l8-B", "job": "Boss" });
    let updated: Customer = http
        .put(&format!("/customers/{}", ids[1]), &body)
        .await?
        .json()?;
    assert_eq!(
        (updated.name.as_str(), updated.job.as_deref()),
        ("l8-B", Some("Boss"))
    );
    let stored: (String, Option<String>) =
        sqlx::query_as("SELECT name, job FROM customers WHERE id = ?")
            .bind(ids[1])
            .fetch_one(&t.pool)
            .await?;
    assert_eq!(stored, ("l8-B".to_owned(), Some("Boss".to_owned())));
    assert_eq!(
        http.delete(&format!("/customers/{}", ids[2])).await?.status,
        204
    );
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers WHERE id = ?")
        .bind(ids[2])
        .fetch_one(&t.pool)
        .await?;
    assert_eq!(left, 0);
    // Search: the prefix is literal, the filters combine.
    let found: Vec<Customer> = http
        .get("/customers/search?name_prefix=l8-")
        .await?
        .json()?;
    let names: Vec<&str> = found.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["l8-a", "l8-B"]);
    let found: Vec<Customer> = http
        .get("/customers/search?name_prefix=l8-&job=Boss")
        .await?
        .json()?;
    assert_eq!(found.len(), 1);
    let found: Vec<Customer> = http
        .get("/customers/search?name_prefix=l8%25")
        .await?
        .json()?;
    assert!(found.is_empty(), "% is not a wildcard: {found:?}");
    let ready = http.get("/ready").await?;
    assert_eq!(
        (ready.status, ready.body.as_str()),
        (200, r#"{"status":"ready"}"#)
    );
    s.stop().await?;
    Ok(())
}

#[tokio::test]
async fn every_error_has_its_status_and_its_body() -> TestResult {
    let (t, s) = service("lesson_8_errors", 2, 1000).await?;
    let http = &s.http;
    let lynn: i16 = sqlx::query_scalar("SELECT id FROM customers WHERE name = 'Lynn'")
        .fetch_one(&t.pool)
        .await?;
    sqlx::query(
        "INSERT INTO orders (customer_id, item, amount_cents) VALUES (?, 'x', 1)",
    )
    .bind(lynn)
    .execute(&t.pool)
    .await?;
    assert_errors(http, ERRORS_OF_BOTH).await?;
    let deletes_lynn = format!("/customers/{lynn}");
    let more: &[ErrorCase] = &[
        (Method::DELETE, &deletes_lynn, None, 409, "conflict"),
        (
            Method::PUT,
            "/customers/32000",
            Some(r#"{"name": "x"}"#),
            404,
            "not_found",
        ),
        (Method::DELETE, "/customers/32000", None, 404, "not_found"),
        (
            Method::POST,
            "/customers",
            Some(&format!(r#"{{"name": "{}"}}"#, "x".repeat(51))),
            422,
            "bad_input",
        ),
        (
            Method::POST,
            "/customers",
            Some("{not json"),
            422,
            "bad_input",
        ),
        (Method::GET, "/customers?limit=101", None, 422, "bad_input"),
        (
            Method::GET,
            "/customers/search?limit=x",
            None,
            422,
            "bad_input",
        ),
    ];
    assert_errors(http, more).await?;
    // A rename onto a taken name is refused too, and changes nothing.
    let ada = http
        .post("/customers", &serde_json::json!({ "name": "l8-Ada" }))
        .await?;
    let ada: Customer = ada.json()?;
    let (path, lynn) = (
        format!("/customers/{}", ada.id),
        serde_json::json!({ "name": "Lynn" }),
    );
    assert_eq!(http.put(&path, &lynn).await?.status, 409);
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM customers ORDER BY id")
        .fetch_all(&t.pool)
        .await?;
    assert_eq!(names, ["Lynn", "l8-Ada"]);
    s.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_saturated_pool_answers_503_with_retry_after_instead_of_queueing() -> TestResult
{
    let (_t, s) = service("lesson_8_saturated", 1, 100).await?;
    let holder = s.http.clone();
    let holding = tokio::spawn(async move { holder.get("/demo/hold?ms=1500").await });
    s.wait_until_in_use(1).await?;
    let reply = s.http.get("/customers?limit=1").await?;
    assert_eq!(reply.status, 503, "{}", reply.line());
    assert_eq!(reply.retry_after.as_deref(), Some("1"));
    assert_eq!(error_of(&reply), "busy");
    assert_eq!(holding.await??.status, 200);
    assert_eq!(s.http.get("/customers?limit=1").await?.status, 200);
    s.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_database_on_a_closed_port_answers_503_and_is_not_ready() -> TestResult {
    let s = Running::on_a_closed_port().await?;
    let reply = s.http.get("/customers/1").await?;
    assert_eq!(
        (reply.status, reply.retry_after.as_deref()),
        (503, Some("1"))
    );
    let ready = s.http.get("/ready").await?;
    assert_eq!(
        (ready.status, error_of(&ready).as_str()),
        (503, "unavailable")
    );
    s.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_killed_server_gives_503_and_the_service_recovers_after_its_restart()
-> TestResult {
    let server = Arc::new(tokio::task::spawn_blocking(Server::start_private).await??);
    workbook::create_database(&server.url(), "lesson8").await?;
    let url = server.database_url("lesson8");
    let pool = workbook::connect(&url).await?;
    workbook::migrate(&pool).await?;
    pool.close().await;
    let state = AppState {
        pool: service_pool(&url, 2, Duration::from_millis(300))?,
        request_timeout: lesson_8::REQUEST_TIMEOUT,
    };
    let s = Running::start(state, &url).await?;
    assert_eq!(s.http.get("/customers?limit=1").await?.status, 200);
    let to_kill = server.clone();
    tokio::task::spawn_blocking(move || to_kill.kill()).await??;
    let down = s.http.get("/customers?limit=1").await?;
    assert_eq!(
        (down.status, down.retry_after.as_deref()),
        (503, Some("1")),
        "{}",
        down.line()
    );
    assert_eq!(s.http.get("/ready").await?.status, 503);
    let to_restart = server.clone();
    tokio::task::spawn_blocking(move || to_restart.restart()).await??;
    let mut status = 0;
    for _ in 0..50 {
        status = s.http.get("/customers?limit=1").await?.status;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        status, 200,
        "the service answers again once the server is back"
    );
    s.stop().await?;
    Ok(())
}

#[tokio::test]
async fn graceful_shutdown_answers_the_request_in_flight_then_closes_the_pool()
-> TestResult {
    let (_t, mut s) = service("lesson_8_shutdown", 2, 1000).await?;
    let slow = s.http.clone();
    let in_flight = tokio::spawn(async move { slow.get("/demo/hold?ms=700").await });
    s.wait_until_in_use(1).await?;
    s.signal_shutdown();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        tokio::net::TcpStream::connect(s.addr).await.is_err(),
        "no new connection"
    );
    let pool = s.state.pool.clone();
    assert!(
        !pool.is_closed(),
        "the pool stays open while a request is in flight"
    );
    let answered = in_flight.await??;
    assert_eq!((answered.status, answered.body.as_str()), (200, "done"));
    s.stop().await?;
    assert!(pool.is_closed());
    Ok(())
}

#[tokio::test]
async fn a_client_that_hangs_up_leaves_no_open_transaction_and_no_row() -> TestResult {
    let (t, s) = service("lesson_8_hang_up", 2, 1000).await?;
    let call = s.http.get("/demo/slow-write?ms=1500");
    assert!(
        tokio::time::timeout(Duration::from_millis(300), call)
            .await
            .is_err()
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (_, sleeping, rows) = seen_from_outside(&t.pool).await?;
    assert_eq!(
        (sleeping, rows),
        (1, 0),
        "the query in flight runs on; nothing is committed"
    );
    assert_eq!(until_no_transaction(&t.pool).await?, 0);
    let (open, sleeping, rows) = seen_from_outside(&t.pool).await?;
    assert_eq!((open, sleeping, rows), (0, 0, 0));
    // The connection went back to the pool in a clean state: the next write commits.
    let reply = s
        .http
        .post("/customers", &serde_json::json!({ "name": "l8-after" }))
        .await?;
    assert_eq!(reply.status, 201);
    s.stop().await?;
    Ok(())
}

#[tokio::test]
async fn the_time_limit_answers_504_and_rolls_the_write_back() -> TestResult {
    let t = TestDatabase::migrated("lesson_8_time_limit").await?;
    let ctx = Ctx {
        url: t.url().to_owned(),
        pool: t.pool.clone(),
        load: Duration::from_millis(100),
    };
    let s = ctx
        .service_with(2, Duration::from_secs(1), Duration::from_millis(200))
        .await?;
    let reply = s.http.get("/demo/slow-write?ms=1500").await?;
    assert_eq!((reply.status, error_of(&reply).as_str()), (504, "timeout"));
    assert_eq!(until_no_transaction(&t.pool).await?, 0);
    assert_eq!(seen_from_outside(&t.pool).await?.2, 0, "no row written");
    s.stop().await?;
    Ok(())
}

#[tokio::test]
async fn the_trace_shows_each_request_with_its_sql() -> TestResult {
    let t = TestDatabase::migrated("lesson_8_trace").await?;
    let ctx = Ctx {
        url: t.url().to_owned(),
        pool: t.pool.clone(),
        load: Duration::from_millis(100),
    };
    let (buffer, dispatch) = trace_buffer(lesson_8::s7_operations::TRACE_SQL)?;
    let s = Running::start_traced(&ctx, dispatch).await?;
    assert_eq!(s.http.get("/customers/1").await?.status, 200);
    s.stop().await?;
    let lines = trace_lines(&buffer);
    let statement = lines.iter().find(|l| l.contains("WHERE id = ?"));
    let statement = statement.expect("sqlx's statement is in the trace");
    assert!(
        statement.contains("request{method=GET path=/customers/1}"),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("answered status=200")),
        "{lines:#?}"
    );
    Ok(())
}

#[test]
fn the_recorded_runs_json_and_text_agree_and_name_their_knees() {
    let dir = lesson_dir("lesson-8").join("results");
    for server in ["mariadb", "mysql"] {
        let json = std::fs::read_to_string(dir.join(format!("{server}.json"))).unwrap();
        let text = std::fs::read_to_string(dir.join(format!("{server}.txt"))).unwrap();
        let results: BenchResults = serde_json::from_str(&json).unwrap();
        assert_eq!(results.machine.build, "release", "{server}");
        assert!(text.contains(&format!("load: {} before", results.machine.load_before)));
        for stack in [lesson_8::bench::AXUM, lesson_8::bench::FASTAPI] {
            let points: Vec<_> =
                results.points.iter().filter(|p| p.stack == stack).collect();
            assert_eq!(points.len(), 10, "{server}: {stack} at 5 pools and 2 loads");
            for p in &points {
                let row = format!(
                    "{:<22} {:>5} {:>7} {:>10.0} {:>9.2} {:>9.2}",
                    p.stack,
                    p.pool,
                    p.concurrency,
                    p.measured.throughput,
                    p.measured.p50_ms,
                    p.measured.p99_ms
                );
                assert!(text.contains(&row), "{server}: {row}");
            }
            for clients in [16, 64] {
                let curve: Vec<(u32, f64)> = points
                    .iter()
                    .filter(|p| p.concurrency == clients)
                    .map(|p| (p.pool, p.measured.throughput))
                    .collect();
                let named = results
                    .knees
                    .iter()
                    .find(|k| k.stack == stack && k.concurrency == clients)
                    .map(|k| k.pool);
                assert_eq!(named, knee(&curve), "{server}: {stack} at {clients}");
            }
        }
        assert_eq!(results.saturation.len(), 2);
        for s in &results.saturation {
            assert!(s.non_2xx > 0 && s.non_2xx < s.requests, "{server}: {s:?}");
        }
    }
}

#[test]
fn wrk_reports_are_read_with_their_units() {
    let report = "Running 5s test @ http://127.0.0.1:1/customers?limit=20
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms  500.00us  12.30ms   90.00%
    Req/Sec     7.60k   200.00     8.00k    70.00%
  Latency Distribution
     50%  1.95ms
     75%    2.20ms
     90%    2.60ms
     99%  850.00us
  37800 requests in 5.00s, 40.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 12
Requests/sec:   7560.00
Transfer/sec:      8.00MB
";
    let m = parse_wrk(report).expect("a wrk report");
    assert_eq!((m.requests, m.non_2xx), (37_800, 15));
    assert_eq!((m.p50_ms, m.p99_ms, m.max_ms), (1.95, 0.85, 12.3));
    assert_eq!(m.throughput, 7560.0);
    assert!(parse_wrk("unable to connect").is_err());
}

#[test]
fn the_knee_is_the_smallest_pool_within_5_percent_of_the_best() {
    let points = [
        (1, 1000.0),
        (2, 1900.0),
        (4, 2900.0),
        (8, 3000.0),
        (16, 2950.0),
    ];
    assert_eq!(knee(&points), Some(4));
    assert_eq!(knee(&[(8, 10.0), (1, 100.0)]), Some(1));
    assert_eq!(knee(&[]), None);
    let ms = Duration::from_millis;
    let sorted: Vec<Duration> = (1..=100).map(ms).collect();
    assert_eq!(
        (percentile(&sorted, 50.0), percentile(&sorted, 99.0)),
        (ms(50), ms(99))
    );
    assert_eq!(percentile(&sorted[..1], 99.0), ms(1));
    assert_eq!(percentile(&[], 50.0), Duration::ZERO);
}

#[test]
fn the_flags_refuse_nonsense() {
    let args = Args::from_args(["lesson-8"]).expect("no flags is the default");
    assert!(!args.serve && !args.bench);
    assert!(args.check().is_ok());
    let bench = Args::from_args([
        "lesson-8",
        "--bench",
        "--pools",
        "1,4",
        "--concurrency",
        "8",
    ]);
    let bench = bench.expect("the chapter's flags parse");
    assert_eq!((bench.pools, bench.concurrency), (vec![1, 4], vec![8]));
    for bad in [
        ["--pool", "0"],
        ["--seconds", "0"],
        ["--acquire-timeout-ms", "x"],
    ] {
        assert!(
            Args::from_args(["lesson-8", bad[0], bad[1]]).is_err(),
            "{bad:?}"
        );
    }
    let zero =
        Args::from_args(["lesson-8", "--pools", "0,4"]).expect("clap lets it through");
    assert!(zero.check().is_err());
}

/// uvicorn serving the FastAPI app over `url`, killed when dropped.
struct Uvicorn(std::process::Child, lesson_8::Http);

impl Drop for Uvicorn {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn uvicorn(url: &str, pool: u32, acquire_ms: u64) -> anyhow::Result<Uvicorn> {
    let python = tokio::task::spawn_blocking(workbook::python).await??;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child =
        lesson_8::bench::uvicorn_command(&python, url, pool, acquire_ms, port, None)
            .stdout(std::process::Stdio::null())
            .spawn()?;
    let http = lesson_8::Http::new(&format!("http://127.0.0.1:{port}"), 8);
    let mut service = Uvicorn(child, http);
    for _ in 0..300 {
        if let Ok(reply) = service.1.get("/ready").await
            && reply.status == 200
        {
            return Ok(service);
        }
        if let Some(status) = service.0.try_wait()? {
            anyhow::bail!("uvicorn exited: {status}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("uvicorn never became ready")
}

#[tokio::test]
async fn the_fastapi_service_answers_as_the_axum_one_does() -> TestResult {
    let t = TestDatabase::migrated("lesson_8_fastapi").await?;
    let service = uvicorn(t.url(), 1, 100).await?;
    let http = &service.1;
    let reply = http
        .post("/customers", &serde_json::json!({ "name": "l8-a" }))
        .await?;
    assert_eq!(reply.status, 201, "{}", reply.line());
    let a: Customer = reply.json()?;
    assert_eq!(reply.location, Some(format!("/customers/{}", a.id)));
    let page: CustomerPage = http.get("/customers?limit=1").await?.json()?;
    assert_eq!(
        (page.customers[0].name.as_str(), page.next.is_some()),
        ("Lynn", true)
    );
    let rest: CustomerPage = http
        .get(&format!(
            "/customers?after={}",
            page.next.unwrap_or_default()
        ))
        .await?
        .json()?;
    assert_eq!((rest.customers, rest.next), (vec![a.clone()], None));
    let path = format!("/customers/{}", a.id);
    assert_eq!(http.get(&path).await?.json::<Customer>()?, a);
    let body = serde_json::json!({ "name": "l8-A", "job": "Boss" });
    let updated: Customer = http.put(&path, &body).await?.json()?;
    assert_eq!(updated.job.as_deref(), Some("Boss"));
    let found: Vec<Customer> = http
        .get("/customers/search?name_prefix=l8-&job=Boss")
        .await?
        .json()?;
    assert_eq!(found, [updated]);
    assert_errors(http, ERRORS_OF_BOTH).await?;
    assert_eq!(http.delete(&path).await?.status, 204);
    assert_eq!(http.delete(&path).await?.status, 404);
    // Its pool of one busy for 1.5 s: the next request waits 100 ms, then 503.
    let holder = http.clone();
    let holding = tokio::spawn(async move { holder.get("/demo/hold?ms=1500").await });
    for _ in 0..100 {
        if seen_from_outside(&t.pool).await?.1 == 1 {
            break; // the SLEEP is running: the pool's one connection is taken
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let busy = http.get("/customers/1").await?;
    assert_eq!(
        (busy.status, busy.retry_after.as_deref()),
        (503, Some("1")),
        "{}",
        busy.line()
    );
    assert_eq!(error_of(&busy), "busy");
    assert_eq!(holding.await??.status, 200);
    drop(service);
    Ok(())
}
