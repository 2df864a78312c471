//! The node's Prometheus metrics and the endpoint that serves them (text format 0.0.4).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use crate::error::{Error, Result};

/// Upper bounds (seconds) of the prover-time histogram's buckets.
const BUCKETS: [f64; 10] = [0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0];

/// The counters, gauges and histogram of one node.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Assignments taken.
    pub assignments: AtomicU64,
    /// Proofs accepted on chain.
    pub proofs_submitted: AtomicU64,
    /// Assignments given back.
    pub discards: AtomicU64,
    /// Assignments settled as invalid inputs.
    pub invalid_inputs: AtomicU64,
    /// The latest block seen.
    pub head_block: AtomicU64,
    prover_buckets: [AtomicU64; BUCKETS.len()],
    prover_count: AtomicU64,
    /// Sum of prover seconds, in microseconds.
    prover_sum_us: AtomicU64,
}

impl Metrics {
    /// Records one prover run of `seconds`.
    pub fn observe_prover(&self, seconds: f64) {
        for (bound, bucket) in BUCKETS.iter().zip(&self.prover_buckets) {
            if seconds <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.prover_count.fetch_add(1, Ordering::Relaxed);
        // Saturating float-to-int conversion; microsecond resolution.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let us = (seconds * 1e6) as u64;
        self.prover_sum_us.fetch_add(us, Ordering::Relaxed);
    }

    /// The exposition text.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        for (name, help, kind, value) in [
            (
                "generator_assignments_total",
                "Assignments taken.",
                "counter",
                get(&self.assignments),
            ),
            (
                "generator_proofs_submitted_total",
                "Proofs accepted on chain.",
                "counter",
                get(&self.proofs_submitted),
            ),
            (
                "generator_discards_total",
                "Assignments given back with discard.",
                "counter",
                get(&self.discards),
            ),
            (
                "generator_invalid_inputs_total",
                "Assignments settled as invalid inputs.",
                "counter",
                get(&self.invalid_inputs),
            ),
            (
                "generator_head_block",
                "The latest block seen.",
                "gauge",
                get(&self.head_block),
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP generator_prover_seconds Time the prover took per job.\n# TYPE generator_prover_seconds histogram"
        );
        for (bound, bucket) in BUCKETS.iter().zip(&self.prover_buckets) {
            let _ = writeln!(
                out,
                "generator_prover_seconds_bucket{{le=\"{bound}\"}} {}",
                get(bucket)
            );
        }
        let count = get(&self.prover_count);
        // Microseconds to seconds for display.
        #[allow(clippy::cast_precision_loss)]
        let sum = get(&self.prover_sum_us) as f64 / 1e6;
        let _ = writeln!(
            out,
            "generator_prover_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(out, "generator_prover_seconds_sum {sum}");
        let _ = writeln!(out, "generator_prover_seconds_count {count}");
        out
    }
}

/// Binds `addr` and serves the metrics to every request on it, until the task is dropped.
///
/// # Errors
/// [`Error::Io`] when the address cannot be bound.
pub async fn serve(addr: SocketAddr, metrics: Arc<Metrics>) -> Result<tokio::task::JoinHandle<()>> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| Error::io(format!("metrics address {addr}"), e))?;
    Ok(tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            let metrics = metrics.clone();
            tokio::spawn(async move {
                let mut request = [0u8; 1024];
                let read = tokio::time::timeout(
                    std::time::Duration::from_secs(5),
                    stream.read(&mut request),
                )
                .await;
                if !matches!(read, Ok(Ok(n)) if n > 0) {
                    return;
                }
                let body = metrics.render();
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_a_cumulative_histogram() {
        let m = Metrics::default();
        m.assignments.fetch_add(2, Ordering::Relaxed);
        m.observe_prover(0.7);
        m.observe_prover(40.0);
        let text = m.render();
        assert!(text.contains("generator_assignments_total 2\n"));
        assert!(text.contains("generator_prover_seconds_bucket{le=\"0.5\"} 0\n"));
        assert!(text.contains("generator_prover_seconds_bucket{le=\"1\"} 1\n"));
        assert!(text.contains("generator_prover_seconds_bucket{le=\"60\"} 2\n"));
        assert!(text.contains("generator_prover_seconds_count 2\n"));
        assert!(text.contains("# TYPE generator_head_block gauge\n"));
    }
}
