//! `/metrics` and `/healthz` over a deliberately tiny HTTP/1.1 responder: one
//! request per connection, bounded header size and time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::metrics::Metrics;
use crate::proxy::RateLimited;
use crate::timers::Timers;
use crate::transport::{Listener, Stream};

const MAX_REQUEST: usize = 8 << 10;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves until `stop`, at most `max_connections` at once: one more is closed at once (a
/// scraper retries), so silent connections cannot pile up.
pub(crate) async fn serve(
    listener: Listener,
    max_connections: usize,
    metrics: Arc<Metrics>,
    draining: Arc<AtomicBool>,
    stop: CancellationToken,
    timers: Timers,
) {
    let limit = Arc::new(Semaphore::new(max_connections));
    let refusals = RateLimited::new(Duration::from_secs(10));
    loop {
        let accepted = tokio::select! {
            () = stop.cancelled() => break,
            r = listener.accept() => r,
        };
        match accepted {
            Ok((s, peer)) => {
                let Ok(permit) = Arc::clone(&limit).try_acquire_owned() else {
                    if let Some(held_back) = refusals.check() {
                        warn!(%peer, max_connections, held_back, "admin connection refused: limit reached");
                    }
                    drop(s);
                    continue;
                };
                let (m, d) = (Arc::clone(&metrics), Arc::clone(&draining));
                let timers = timers.clone();
                tokio::spawn(async move {
                    if let Err(e) = timers.timeout(REQUEST_TIMEOUT, respond(s, &m, &d)).await {
                        debug!(error = %e, "admin request timed out");
                    }
                    drop(permit);
                });
            }
            Err(e) => {
                warn!(error = %e, "admin accept failed");
                timers.sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn respond(mut s: Stream, metrics: &Metrics, draining: &AtomicBool) {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.len() > MAX_REQUEST {
            let _ = s
                .write_all(&response(
                    "431 Request Header Fields Too Large",
                    "text/plain",
                    "too large\n",
                ))
                .await;
            return;
        }
    }
    let line = buf.split(|&b| b == b'\r').next().unwrap_or_default();
    let mut parts = line.split(|&b| b == b' ');
    let (method, path) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let reply = match (method, path) {
        (b"GET", b"/metrics") => response(
            "200 OK",
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            &metrics.encode(),
        ),
        (b"GET", b"/healthz") if draining.load(Ordering::SeqCst) => {
            response("503 Service Unavailable", "text/plain", "draining\n")
        }
        (b"GET", b"/healthz") => response("200 OK", "text/plain", "ok\n"),
        (b"GET", _) => response("404 Not Found", "text/plain", "not found\n"),
        _ => response(
            "405 Method Not Allowed",
            "text/plain",
            "method not allowed\n",
        ),
    };
    let _ = s.write_all(&reply).await;
    let _ = s.shutdown().await;
}

fn response(status: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
