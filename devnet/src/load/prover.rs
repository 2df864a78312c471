//! The generators' prover during a load run: a pool of Schnorr/BN254 statements whose witnesses
//! this program knows (the asks are public, so the prover must know the witness itself), each
//! proof computed once with `market_client::schnorr`, served over HTTP in the shape the
//! generator node's `prover.url` expects (`POST {statement, …}` → `{"proof": "0x…"}`).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use alloy::primitives::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::{Request, Response, StatusCode};
use serde_json::json;

use crate::error::{Error, Result};

/// Statements and their proofs.
#[derive(Debug)]
pub(crate) struct Pool {
    statements: Vec<Bytes>,
    proofs: HashMap<Bytes, Bytes>,
}

impl Pool {
    /// `n` fresh statements P = x·G, each with its proof.
    pub(crate) fn generate(n: usize) -> Result<Pool> {
        let mut statements = Vec::with_capacity(n);
        let mut proofs = HashMap::with_capacity(n);
        for _ in 0..n.max(1) {
            let mut x = [0u8; 32];
            rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut x[1..]);
            let statement = market_client::schnorr::statement(&x)
                .map_err(|e| Error::Check(format!("a load statement: {e}")))?;
            let proof = market_client::schnorr::prove(&statement, &x)
                .map_err(|e| Error::Check(format!("a load proof: {e}")))?;
            let statement = Bytes::copy_from_slice(&statement);
            proofs.insert(statement.clone(), Bytes::copy_from_slice(&proof));
            statements.push(statement);
        }
        Ok(Pool { statements, proofs })
    }

    /// The `i`-th statement (cycling).
    pub(crate) fn statement(&self, i: u64) -> &Bytes {
        &self.statements[(i % self.statements.len() as u64) as usize]
    }

    fn proof(&self, statement: &[u8]) -> Option<&Bytes> {
        self.proofs.get(statement)
    }
}

/// The HTTP prover, stopped when dropped.
#[derive(Debug)]
pub(crate) struct Prover {
    /// `http://127.0.0.1:PORT/prove`.
    pub(crate) url: String,
    /// Proofs served.
    pub(crate) served: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Prover {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Prover {
    /// Listens on a free loopback port.
    pub(crate) async fn start(pool: Arc<Pool>) -> Result<Prover> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|source| Error::Process {
                what: "binding the load prover".into(),
                source,
            })?;
        let port = listener
            .local_addr()
            .map_err(|source| Error::Process {
                what: "the load prover's address".into(),
                source,
            })?
            .port();
        let served = Arc::new(AtomicU64::new(0));
        let counter = served.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let pool = pool.clone();
                let counter = counter.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        answer(pool.clone(), counter.clone(), req)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Prover {
            url: format!("http://127.0.0.1:{port}/prove"),
            served,
            task,
        })
    }
}

fn reply(status: StatusCode, body: &serde_json::Value) -> Response<Full<bytes::Bytes>> {
    let mut response = Response::new(Full::new(bytes::Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
}

/// One request: the proof of a pool statement, `404` for any other statement, `400` for a
/// body that is not the generator's JSON.
async fn answer(
    pool: Arc<Pool>,
    served: Arc<AtomicU64>,
    req: Request<hyper::body::Incoming>,
) -> std::result::Result<Response<Full<bytes::Bytes>>, Infallible> {
    let Ok(body) = req.into_body().collect().await else {
        return Ok(reply(StatusCode::BAD_REQUEST, &json!({"error": "body"})));
    };
    let statement = serde_json::from_slice::<serde_json::Value>(&body.to_bytes())
        .ok()
        .and_then(|v| v["statement"].as_str().map(str::to_owned))
        .and_then(|s| s.parse::<Bytes>().ok());
    let Some(statement) = statement else {
        return Ok(reply(
            StatusCode::BAD_REQUEST,
            &json!({"error": "statement"}),
        ));
    };
    Ok(match pool.proof(&statement) {
        Some(proof) => {
            served.fetch_add(1, Ordering::Relaxed);
            reply(StatusCode::OK, &json!({"proof": proof}))
        }
        None => reply(
            StatusCode::NOT_FOUND,
            &json!({"error": "unknown statement"}),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serves_the_proof_of_each_pool_statement_and_nothing_else() {
        let pool = Arc::new(Pool::generate(3).unwrap());
        let prover = Prover::start(pool.clone()).await.unwrap();
        let statement = pool.statement(4).clone(); // cycles: the second
        assert_eq!(&statement, pool.statement(1));
        let config = market_client::generator::config::ProverConfig {
            command: None,
            url: Some(prover.url.clone()),
            timeout_secs: 5,
        };
        let dir = std::env::temp_dir();
        let job = market_client::generator::prover::Job {
            ask: alloy::primitives::U256::from(1),
            slot: 0,
            statement: &statement,
            secret: &[],
        };
        let verdict = market_client::generator::prover::run(
            &config,
            &dir,
            &job,
            std::time::Duration::from_secs(5),
        )
        .await
        .unwrap();
        let market_client::generator::prover::Verdict::Proof(proof) = verdict else {
            panic!("no proof: {verdict:?}");
        };
        assert_eq!(&proof, pool.proof(&statement).unwrap());
        assert_eq!(proof.len(), 96);
        let other = Job2::unknown();
        let refused = market_client::generator::prover::run(
            &config,
            &dir,
            &other.job(),
            std::time::Duration::from_secs(5),
        )
        .await;
        assert!(refused.is_err(), "{refused:?}");
        assert_eq!(prover.served.load(Ordering::Relaxed), 1);
    }

    struct Job2 {
        statement: Vec<u8>,
    }

    impl Job2 {
        fn unknown() -> Self {
            Job2 {
                statement: vec![7; 64],
            }
        }

        fn job(&self) -> market_client::generator::prover::Job<'_> {
            market_client::generator::prover::Job {
                ask: alloy::primitives::U256::from(2),
                slot: 0,
                statement: &self.statement,
                secret: &[],
            }
        }
    }
}
