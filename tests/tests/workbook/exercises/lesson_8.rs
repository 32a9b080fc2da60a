//! Lesson 8's exercises: these fail until the exercises are solved.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use lesson_8::exercises::{customer_by_name, rename, shed_load};
use lesson_8::{AppState, Customer, ErrorBody, Http, Reply, service_pool};
use tokio::sync::Semaphore;
use workbook::TestDatabase;
use workbook_tests::TestResult;

/// Serves `app` on a free loopback port until the returned sender is dropped.
async fn serve(app: Router) -> anyhow::Result<(Http, tokio::sync::oneshot::Sender<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let stopped = async {
            stopped.await.ok();
        };
        axum::serve(listener, app)
            .with_graceful_shutdown(stopped)
            .await
            .ok();
    });
    Ok((Http::new(&base, 8), stop))
}

async fn state(prefix: &str) -> anyhow::Result<(TestDatabase, AppState)> {
    let t = TestDatabase::migrated(prefix).await?;
    let pool = service_pool(t.url(), 2, Duration::from_secs(1))?;
    let state = AppState {
        pool,
        request_timeout: lesson_8::REQUEST_TIMEOUT,
    };
    Ok((t, state))
}

fn error_of(reply: &Reply) -> String {
    reply
        .json::<ErrorBody>()
        .map(|b| b.error)
        .unwrap_or_default()
}

#[tokio::test]
async fn exercise_8_1_finds_a_customer_by_exact_name() -> TestResult {
    let (_t, state) = state("exercise_8_1").await?;
    let app = Router::new()
        .route("/customers/by-name/{name}", get(customer_by_name))
        .with_state(state);
    let (http, _stop) = serve(app).await?;
    let lynn: Customer = http.get("/customers/by-name/Lynn").await?.json()?;
    assert_eq!(
        (lynn.name.as_str(), lynn.job.as_deref()),
        ("Lynn", Some("Backend Developer"))
    );
    let missing = http.get("/customers/by-name/Lyn").await?;
    assert_eq!(
        (missing.status, error_of(&missing).as_str()),
        (404, "not_found")
    );
    Ok(())
}

#[tokio::test]
async fn exercise_8_2_renames_with_every_status_a_client_can_act_on() -> TestResult {
    let (t, state) = state("exercise_8_2").await?;
    sqlx::query("INSERT INTO customers (name) VALUES ('Ada')")
        .execute(&t.pool)
        .await?;
    let ada: i16 = sqlx::query_scalar("SELECT id FROM customers WHERE name = 'Ada'")
        .fetch_one(&t.pool)
        .await?;
    let app = Router::new()
        .route("/customers/{id}/rename", post(rename))
        .with_state(state);
    let (http, _stop) = serve(app).await?;
    let path = format!("/customers/{ada}/rename");
    let to = |name: &str| serde_json::json!({ "name": name });
    let renamed: Customer = http.post(&path, &to("Ada Lovelace")).await?.json()?;
    assert_eq!((renamed.id, renamed.name.as_str()), (ada, "Ada Lovelace"));
    for (reply, status, error) in [
        (http.post(&path, &to("Lynn")).await?, 409, "conflict"),
        (
            http.post("/customers/32000/rename", &to("X")).await?,
            404,
            "not_found",
        ),
        (http.post(&path, &to("")).await?, 422, "bad_input"),
        (http.post_raw(&path, "{}").await?, 422, "bad_input"),
    ] {
        assert_eq!(
            (reply.status, error_of(&reply).as_str()),
            (status, error),
            "{}",
            reply.line()
        );
    }
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM customers ORDER BY id")
        .fetch_all(&t.pool)
        .await?;
    assert_eq!(names, ["Lynn", "Ada Lovelace"]);
    Ok(())
}

#[tokio::test]
async fn exercise_8_3_sheds_load_beyond_its_permits_with_retry_after() -> TestResult {
    let limit = Arc::new(Semaphore::new(2));
    let slow = || async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        "done"
    };
    let app = Router::new()
        .route("/slow", get(slow))
        .layer(from_fn_with_state(limit.clone(), shed_load));
    let (http, _stop) = serve(app).await?;
    let calls: Vec<_> = (0..2)
        .map(|_| {
            let http = http.clone();
            tokio::spawn(async move { http.get("/slow").await })
        })
        .collect();
    for _ in 0..100 {
        if limit.available_permits() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let shed = http.get("/slow").await?;
    assert_eq!(
        (shed.status, shed.retry_after.as_deref()),
        (503, Some("1")),
        "{}",
        shed.line()
    );
    for call in calls {
        assert_eq!(call.await??.status, 200);
    }
    assert_eq!(limit.available_permits(), 2, "every permit came back");
    assert_eq!(http.get("/slow").await?.status, 200);
    Ok(())
}
