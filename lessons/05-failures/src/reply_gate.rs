//! A loopback TCP proxy between the lesson and the server whose replies can be held back.
//!
//! It makes "cancelled after the server got the statement, before its reply came back"
//! happen on every run, instead of by luck of timing: hold the replies, send the
//! statement, let the caller's timeout fire, then release them.

use std::net::SocketAddr;

use anyhow::{Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The proxy: connections to [`ReplyGate::addr`] go on to the server.
pub struct ReplyGate {
    addr: SocketAddr,
    held: watch::Sender<bool>,
    accept: JoinHandle<()>,
}

impl ReplyGate {
    /// Listens on a free loopback port and forwards every connection to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Result<ReplyGate> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("the reply gate cannot listen on loopback")?;
        let addr = listener.local_addr()?;
        let (held, _) = watch::channel(false);
        let gate = held.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    continue;
                };
                tokio::spawn(forward(client, server, gate.subscribe()));
            }
        });
        Ok(ReplyGate { addr, held, accept })
    }

    /// Where to connect instead of the server.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// From now on, the server's replies wait in the proxy.
    pub fn hold(&self) {
        self.held.send_replace(true);
    }

    /// Sends on every reply held so far, and every later one at once.
    pub fn release(&self) {
        self.held.send_replace(false);
    }
}

impl Drop for ReplyGate {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn forward(client: TcpStream, server: TcpStream, mut held: watch::Receiver<bool>) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let requests = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
        let _ = server_write.shutdown().await;
    });
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let n = match server_read.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        while *held.borrow_and_update() {
            if held.changed().await.is_err() {
                return;
            }
        }
        if client_write.write_all(&buffer[..n]).await.is_err() {
            break;
        }
    }
    let _ = client_write.shutdown().await;
    requests.abort();
}
