//! A small HTTP/1 client for the lesson's steps, its load driver and its tests:
//! hyper-util's pooled client, with bodies read whole. Plumbing the book never shows.

use anyhow::{Context, Result};
use axum::body::Bytes;
use axum::http::{Method, Request, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// A client for one service, at `base` (such as `http://127.0.0.1:3000`). Clones share
/// its keep-alive connections.
#[derive(Clone, Debug)]
pub struct Http {
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// What the service answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<String>,
    /// The `Location` header, if any.
    pub location: Option<String>,
    /// The body, as text.
    pub body: String,
}

impl Reply {
    /// The body read as JSON into `T`.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_str(&self.body)
            .with_context(|| format!("the body is not what was expected: {}", self.body))
    }

    /// One line: the status, `Retry-After` when there is one, and the body.
    pub fn line(&self) -> String {
        let mut line = self.status.to_string();
        if let Some(after) = &self.retry_after {
            line.push_str(&format!(" (Retry-After: {after})"));
        }
        if !self.body.is_empty() {
            line.push(' ');
            line.push_str(&self.body);
        }
        line
    }
}

impl Http {
    /// A client for the service at `base`, keeping up to `idle` connections open.
    pub fn new(base: &str, idle: usize) -> Http {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(idle)
            .build(connector);
        Http {
            base: base.trim_end_matches('/').to_owned(),
            client,
        }
    }

    /// The service's address, such as `http://127.0.0.1:3000`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends one request and reads the whole answer.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<Reply> {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let request = request.body(Full::new(Bytes::from(body.unwrap_or_default())))?;
        let response = self
            .client
            .request(request)
            .await
            .with_context(|| format!("no answer from {}{path}", self.base))?;
        let text = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (retry_after, location) = (text(header::RETRY_AFTER), text(header::LOCATION));
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        Ok(Reply {
            status,
            retry_after,
            location,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Result<Reply> {
        self.send(Method::GET, path, None).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: &serde_json::Value) -> Result<Reply> {
        self.send(Method::POST, path, Some(body.to_string())).await
    }

    /// `POST path` with `body` sent as it is, marked as JSON.
    pub async fn post_raw(&self, path: &str, body: &str) -> Result<Reply> {
        self.send(Method::POST, path, Some(body.to_owned())).await
    }

    /// `PUT path` with a JSON body.
    pub async fn put(&self, path: &str, body: &serde_json::Value) -> Result<Reply> {
        self.send(Method::PUT, path, Some(body.to_string())).await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> Result<Reply> {
        self.send(Method::DELETE, path, None).await
    }
}
