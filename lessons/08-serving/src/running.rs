//! A service running on a free loopback port, for the steps and the tests: started with
//! the lesson's demonstration routes beside the API, and stopped gracefully. Plumbing.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use axum::routing::get;
use axum::{Extension, Router};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::client::Http;
use crate::s1_state::{AppState, app, routes, service_pool};
use crate::s5_mistakes::released_before_await;
use crate::s5_mistakes::{DatabaseUrl, held_across_await, pool_per_request};
use crate::s6_cancellation::{hold, slow_write};
use crate::s7_operations::serve;

/// The API's routes and the lesson's demonstration routes, which only the lesson mounts:
/// a slow write and a slow query (step 6), and step 5's mistakes and their fix.
pub fn lesson_routes() -> Router<AppState> {
    routes()
        .route("/demo/slow-write", get(slow_write))
        .route("/demo/hold", get(hold))
        .route("/demo/held/{id}", get(held_across_await))
        .route("/demo/released/{id}", get(released_before_await))
        .route("/demo/pool-per-request/{id}", get(pool_per_request))
}

/// The whole app the lesson serves, over `state`, with the database URL that the pool
/// per request (step 5's mistake) needs.
pub fn lesson_app(state: AppState, url: &str) -> Router {
    app(lesson_routes(), state).layer(Extension(DatabaseUrl(url.to_owned())))
}

/// A service being served.
#[derive(Debug)]
pub struct Running {
    /// Where it listens, such as `http://127.0.0.1:40123`.
    pub base: String,
    /// Its address.
    pub addr: SocketAddr,
    /// A client for it.
    pub http: Http,
    /// Its state: the pool is `state.pool`.
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    done: oneshot::Receiver<std::io::Result<()>>,
}

impl Running {
    /// Serves the lesson's app over `state` on a free loopback port, on this runtime.
    pub async fn start(state: AppState, url: &str) -> Result<Running> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot listen on a loopback port")?;
        let addr = listener.local_addr()?;
        let (shutdown, signal) = oneshot::channel();
        let (finished, done) = oneshot::channel();
        let (app, pool) = (lesson_app(state.clone(), url), state.pool.clone());
        tokio::spawn(async move {
            let stopped = async {
                signal.await.ok();
            };
            finished
                .send(serve(listener, app, pool, stopped).await)
                .ok();
        });
        Ok(Running::at(addr, state, shutdown, done))
    }

    fn at(
        addr: SocketAddr,
        state: AppState,
        shutdown: oneshot::Sender<()>,
        done: oneshot::Receiver<std::io::Result<()>>,
    ) -> Running {
        let base = format!("http://{addr}");
        Running {
            http: Http::new(&base, 64),
            base,
            addr,
            state,
            shutdown: Some(shutdown),
            done,
        }
    }

    /// Serves the lesson's app on a thread of its own whose every event goes to
    /// `dispatch`: a subscriber for this service alone (step 7's trace).
    pub async fn start_traced(
        ctx: &crate::Ctx,
        dispatch: tracing::Dispatch,
    ) -> Result<Running> {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")
            .context("cannot listen on a loopback port")?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let (shutdown, signal) = oneshot::channel();
        let (finished, done) = oneshot::channel();
        let (ready_tx, ready_rx) = oneshot::channel();
        let url = ctx.url.clone();
        std::thread::spawn(move || {
            let _default = tracing::dispatcher::set_default(&dispatch);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            let Ok(runtime) = runtime else { return };
            runtime.block_on(async move {
                let made =
                    service_pool(&url, 2, crate::ACQUIRE_TIMEOUT).map(|pool| AppState {
                        pool,
                        request_timeout: crate::REQUEST_TIMEOUT,
                    });
                let (state, listener) = match (made, TcpListener::from_std(std_listener))
                {
                    (Ok(state), Ok(listener)) => (state, listener),
                    _ => return,
                };
                ready_tx.send(state.clone()).ok();
                let (app, pool) = (lesson_app(state.clone(), &url), state.pool.clone());
                let stopped = async {
                    signal.await.ok();
                };
                finished
                    .send(serve(listener, app, pool, stopped).await)
                    .ok();
            });
        });
        let state = ready_rx.await.context("the traced service did not start")?;
        Ok(Running::at(addr, state, shutdown, done))
    }

    /// A service whose pool points at a port where nothing listens: the database down.
    pub async fn on_a_closed_port() -> Result<Running> {
        let closed = TcpListener::bind("127.0.0.1:0").await?.local_addr()?;
        let url = format!("mysql://root@{closed}/sales");
        let pool = service_pool(&url, 2, Duration::from_millis(200))?;
        let state = AppState {
            pool,
            request_timeout: crate::REQUEST_TIMEOUT,
        };
        Running::start(state, &url).await
    }

    /// Waits (up to 5 s) until `n` of the pool's connections are in use.
    pub async fn wait_until_in_use(&self, n: u32) -> Result<()> {
        let pool = &self.state.pool;
        for _ in 0..500 {
            let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
            if pool.size().saturating_sub(idle) >= n {
                // The connection just taken is about to send its query.
                tokio::time::sleep(Duration::from_millis(20)).await;
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        bail!("{n} of the service's connections never were in use at once")
    }

    /// Tells the service to shut down gracefully, without waiting for it.
    pub fn signal_shutdown(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            shutdown.send(()).ok();
        }
    }

    /// Shuts the service down gracefully and waits until it has (its pool closed).
    pub async fn stop(mut self) -> Result<()> {
        self.signal_shutdown();
        let served = tokio::time::timeout(Duration::from_secs(30), self.done)
            .await
            .context("the service did not stop within 30 s")?;
        served
            .context("the service's task ended without a word")?
            .context("the service failed")
    }
}

/// Events written into memory, for step 7's trace.
#[derive(Clone, Default, Debug)]
pub struct TraceBuffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for TraceBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut buffer = self.0.lock().unwrap_or_else(|p| p.into_inner());
        buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A subscriber that writes what `filter` lets through into a buffer, plain text, with
/// no timestamps.
pub fn trace_buffer(filter: &str) -> Result<(TraceBuffer, tracing::Dispatch)> {
    let buffer = TraceBuffer::default();
    let writer = buffer.clone();
    let filter = tracing_subscriber::EnvFilter::try_new(filter)?;
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .without_time()
        .finish();
    Ok((buffer, tracing::Dispatch::new(subscriber)))
}

/// The buffer's lines.
pub fn trace_lines(buffer: &TraceBuffer) -> Vec<String> {
    let bytes = buffer.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
    String::from_utf8_lossy(&bytes)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// `--serve`: the API and the lesson's routes on 127.0.0.1, with `RUST_LOG` filtering
/// what is logged to stderr, until Ctrl-C or SIGTERM. Prints `listening on URL` first.
pub async fn serve_until_signal(args: &crate::Args, url: &str) -> Result<()> {
    use std::io::Write;

    let filter = tracing_subscriber::EnvFilter::builder()
        .with_default_directive(tracing_subscriber::filter::LevelFilter::WARN.into())
        .from_env()
        .map_err(|e| anyhow::anyhow!("RUST_LOG is not a valid log filter ({e})"))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot set up logging: {e}"))?;
    let listener = TcpListener::bind(("127.0.0.1", args.port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{}", args.port))?;
    let pool = service_pool(url, args.pool, args.acquire_timeout())?;
    let state = AppState {
        pool: pool.clone(),
        request_timeout: args.request_timeout(),
    };
    println!("listening on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    let shutdown = crate::s7_operations::shutdown_signal();
    serve(listener, lesson_app(state, url), pool, shutdown).await?;
    Ok(())
}
