//! The HTTP API (HTTP/1.1, GET only), reached through the host's inbound proxy.
//!
//! | path | answer |
//! |---|---|
//! | `/status` | engine key, relayer, chain position, counters, the bridge's last round (JSON) |
//! | `/markets`, `/markets/{id}` | market summaries (JSON) |
//! | `/asks/{id}` | a live ask with its slots (JSON) |
//! | `/attestation/raw?nonce=HEX` | a fresh attestation document (COSE_Sign1 bytes) |
//! | `/attestation/hex?nonce=HEX` | the same, hex |
//!
//! Requests are bounded: no body, a URI of at most [`MAX_URI`] bytes, headers of at most
//! [`MAX_HEADER_BYTES`] within [`HEADER_TIMEOUT`], at most [`MAX_CONNECTIONS`] at once, each
//! closed after one answer. Errors are JSON `{"error": NAME, "message": …}` with a stable name.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use matching_engine::{AskPhase, Engine, MarketSummary, MatchingMode, SlotState};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::identity::{AttestError, MAX_NONCE};
use crate::listen::Listener;
use crate::service::{Shared, engine_address};

/// Longest request URI.
pub(crate) const MAX_URI: usize = 1024;
/// Largest request head (hyper's smallest buffer).
pub(crate) const MAX_HEADER_BYTES: usize = 8192;
/// Time allowed for the request head.
pub(crate) const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// Time allowed for a whole connection.
pub(crate) const CONNECTION_TIMEOUT: Duration = Duration::from_secs(20);
/// Connections served at once; more are closed unanswered.
pub(crate) const MAX_CONNECTIONS: usize = 64;

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Reply {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    r
}

fn json_reply(status: StatusCode, value: &Value) -> Reply {
    reply(status, "application/json", format!("{value}\n"))
}

fn error(status: StatusCode, name: &str, message: impl std::fmt::Display) -> Reply {
    json_reply(
        status,
        &json!({"error": name, "message": message.to_string()}),
    )
}

/// A refused request: what [`error`] turns into a reply.
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    name: &'static str,
    message: String,
}

impl Refusal {
    fn bad_request(name: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            name,
            message: message.into(),
        }
    }

    fn reply(self) -> Reply {
        error(self.status, self.name, self.message)
    }
}

/// Serves `listener` for ever.
pub(crate) async fn serve(listener: Listener, shared: Arc<Shared>) {
    let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                eprintln!("enclave-app: http accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = limit.clone().try_acquire_owned() else {
            eprintln!("enclave-app: http: {peer} refused (too many connections)");
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(handle(&shared, &req).await) }
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .max_buf_size(MAX_HEADER_BYTES)
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .keep_alive(false);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            match tokio::time::timeout(CONNECTION_TIMEOUT, conn).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => eprintln!("enclave-app: http {peer}: {e}"),
                Err(_) => eprintln!("enclave-app: http {peer}: connection timed out"),
            }
            drop(permit);
        });
    }
}

async fn handle(shared: &Arc<Shared>, req: &Request<Incoming>) -> Reply {
    if req.method() != Method::GET {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "only GET",
        );
    }
    let uri_len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if uri_len > MAX_URI {
        return error(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("at most {MAX_URI} bytes"),
        );
    }
    let has_body = req.headers().contains_key(TRANSFER_ENCODING)
        || req
            .headers()
            .get(CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    if has_body {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_not_allowed",
            "requests carry no body",
        );
    }
    let path = req.uri().path();
    let query = req.uri().query().unwrap_or("");
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["status"] => json_reply(StatusCode::OK, &status(shared)),
        ["markets"] => {
            let snap = shared.snapshot();
            let markets: Vec<Value> = snap.engine.markets().map(|m| market_json(&m)).collect();
            json_reply(StatusCode::OK, &json!({"markets": markets}))
        }
        ["markets", id] => match parse_id(id) {
            Err(r) => r.reply(),
            Ok(id) => {
                let snap = shared.snapshot();
                match snap.engine.markets().find(|m| m.market.id == id) {
                    Some(m) => json_reply(StatusCode::OK, &market_json(&m)),
                    None => error(
                        StatusCode::NOT_FOUND,
                        "unknown_market",
                        format!("no market {id}"),
                    ),
                }
            }
        },
        ["asks", id] => match parse_id(id) {
            Err(r) => r.reply(),
            Ok(id) => ask(&shared.snapshot().engine, id),
        },
        ["attestation", form @ ("raw" | "hex")] => attestation(shared, form, query).await,
        _ => error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no route {path}"),
        ),
    }
}

fn parse_id(s: &str) -> Result<u64, Refusal> {
    s.parse::<u64>()
        .map_err(|_| Refusal::bad_request("bad_id", "ids are decimal numbers up to 2^64 - 1"))
}

fn status(shared: &Shared) -> Value {
    let snap = shared.snapshot();
    let engine = json!({
        "synced_block": snap.synced_block,
        "head_block": snap.stats.head,
        "block_time": snap.engine.now(),
        "caught_up": snap.caught_up,
        "markets": snap.engine.markets().count(),
        "live_asks": snap.engine.live_asks(),
        "retired_asks": snap.engine.retired_asks(),
        "pending_assignments": snap.pending,
        "batches_sent": snap.batches_sent,
        "assignments_sent": snap.assignments_sent,
        "reorgs": snap.stats.reorgs,
        "rebuilds": snap.stats.rebuilds,
        "decode_errors": snap.stats.decode_errors,
        "last_decode_error": snap.stats.last_decode_error,
        "rejected_events": snap.stats.rejected_events,
        "key_live": snap.key_live,
        "last_error": snap.last_error,
    });
    let facts = shared.facts.as_ref().map(|f| {
        json!({
            "chain_id": f.chain_id,
            "marketplace": f.marketplace.to_string(),
            "staking": f.staking.to_string(),
            "registry": f.registry.to_string(),
            "family": f.family.to_string(),
            "relayer": f.relayer.to_string(),
            "start_block": f.start_block,
            "confirmations": f.confirmations,
        })
    });
    json!({
        "app": "enclave-app",
        "version": env!("CARGO_PKG_VERSION"),
        "engine_key": engine_address(&shared.identity).to_string(),
        "engine_public_key": format!("0x{}", hex::encode(shared.identity.public_key())),
        "bid_public_key": format!("0x{}", hex::encode(shared.identity.user_data())),
        // Always present: the application does not start without an NSM.
        "nsm": "present",
        "chain": facts,
        "engine": engine,
        "bridge": shared.bridge().map(|b| b.to_json()),
    })
}

fn market_json(m: &MarketSummary<'_>) -> Value {
    let (mode, bid_window) = match m.market.mode {
        MatchingMode::OrderBook => ("order_book", None),
        MatchingMode::SealedBid { bid_window } => ("sealed_bid", Some(bid_window)),
    };
    json!({
        "id": m.market.id,
        "mode": mode,
        "bid_window": bid_window,
        "slashing_penalty": m.market.slashing_penalty.to_string(),
        "prover_family": m.market.prover_family.map(|f| format!("0x{}", hex::encode(f))),
        "activation": m.market.activation,
        "active": m.active,
        "available_generators": m.available_generators,
        "waiting_asks": m.waiting_asks,
    })
}

fn ask(engine: &Engine, id: u64) -> Reply {
    let Some(s) = engine.ask_status(id) else {
        return error(
            StatusCode::NOT_FOUND,
            "unknown_ask",
            format!("no live ask {id}: unknown, or finished (the chain holds its record)"),
        );
    };
    let phase = match s.phase {
        AskPhase::Bidding { closes } => json!({"phase": "bidding", "closes": closes}),
        AskPhase::Matching => json!({"phase": "matching"}),
        AskPhase::Closed => json!({"phase": "closed"}),
        AskPhase::Cancelled => json!({"phase": "cancelled"}),
    };
    let slots: Vec<Value> = s
        .slots
        .iter()
        .map(|slot| match *slot {
            SlotState::Open => json!({"state": "open"}),
            SlotState::Proposed { generator, price } => json!({"state": "proposed",
                "generator": generator.to_string(), "price": price.to_string()}),
            SlotState::Confirmed {
                generator,
                price,
                deadline,
            } => json!({"state": "assigned", "generator": generator.to_string(),
                "price": price.to_string(), "deadline": deadline}),
            SlotState::Completed { generator } => {
                json!({"state": "completed", "generator": generator.to_string()})
            }
            SlotState::Slashed { generator } => {
                json!({"state": "slashed", "generator": generator.to_string()})
            }
        })
        .collect();
    json_reply(
        StatusCode::OK,
        &json!({
            "id": s.ask.id,
            "market": s.ask.market,
            "reward": s.ask.reward.to_string(),
            "expiry": s.ask.expiry,
            "proving_time": s.ask.proving_time,
            "redundancy": s.ask.redundancy,
            "phase": phase,
            "slots": slots,
        }),
    )
}

/// The `nonce` query parameter as bytes (hex, optional `0x`), if present.
fn nonce(query: &str) -> Result<Option<Vec<u8>>, Refusal> {
    let mut found = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key != "nonce" {
            return Err(Refusal::bad_request(
                "unknown_parameter",
                format!("unknown query parameter `{key}` (only `nonce`)"),
            ));
        }
        if found.is_some() {
            return Err(Refusal::bad_request("bad_nonce", "nonce given twice"));
        }
        let value = value.strip_prefix("0x").unwrap_or(value);
        if value.len() > 2 * MAX_NONCE {
            return Err(Refusal::bad_request(
                "nonce_too_long",
                format!("at most {MAX_NONCE} bytes"),
            ));
        }
        let bytes = hex::decode(value)
            .map_err(|e| Refusal::bad_request("bad_nonce", format!("nonce is not hex: {e}")))?;
        found = Some(bytes);
    }
    Ok(found)
}

async fn attestation(shared: &Arc<Shared>, form: &str, query: &str) -> Reply {
    let nonce = match nonce(query) {
        Ok(n) => n,
        Err(r) => return r.reply(),
    };
    let owner = shared.clone();
    let document = tokio::task::spawn_blocking(move || owner.identity.attest(nonce)).await;
    match document {
        Ok(Ok(doc)) if form == "raw" => reply(StatusCode::OK, "application/octet-stream", doc),
        Ok(Ok(doc)) => reply(StatusCode::OK, "text/plain", hex::encode(doc)),
        Ok(Err(e @ AttestError::NonceTooLong(_))) => {
            error(StatusCode::BAD_REQUEST, "nonce_too_long", e)
        }
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, "nsm_error", e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "nsm_error", e),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::RwLock;

    use nitro_attestation::dev::{DevNsm, DevNsmConfig};
    use nitro_attestation::nsm::Nsm;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;
    use crate::identity::Identity;
    use crate::listen::ListenAddr;
    use crate::service::initial;
    use crate::test_nsm::ScriptedNsm;

    /// A dev NSM of an image with PCR0/1/2 of 0x11, 0x22, 0x33.
    fn dev_nsm() -> DevNsm {
        DevNsm::new(DevNsmConfig::image([0x11; 48], [0x22; 48], [0x33; 48])).unwrap()
    }

    /// A server with `nsm` and no chain, on a Unix socket in `dir`.
    async fn server(dir: &std::path::Path, nsm: Arc<dyn Nsm>) -> (std::path::PathBuf, Arc<Shared>) {
        let path = dir.join("api.sock");
        let listener = Listener::bind(&ListenAddr::Unix(path.clone()))
            .await
            .unwrap();
        let shared = Arc::new(Shared {
            identity: Identity::generate(nsm),
            facts: None,
            snapshot: RwLock::new(Arc::new(initial(Engine::new(
                matching_engine::Config::default(),
                None,
            )))),
            bridge: RwLock::new(None),
            l2_send: tokio::sync::Mutex::new(()),
        });
        tokio::spawn(serve(listener, shared.clone()));
        (path, shared)
    }

    /// Sends raw bytes, returns (status, body bytes) or `None` when the server closed without
    /// an answer.
    async fn exchange_raw(path: &std::path::Path, request: &[u8]) -> Option<(u16, Vec<u8>)> {
        let mut s = tokio::net::UnixStream::connect(path).await.unwrap();
        // The server may close before reading everything (an oversized head).
        let _ = s.write_all(request).await;
        let mut raw = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut raw)).await;
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let status = head.split_whitespace().nth(1)?.parse().ok()?;
        Some((status, raw[split + 4..].to_vec()))
    }

    /// Sends raw bytes, returns (status, JSON body) or `None` when the server closed without one.
    async fn exchange(path: &std::path::Path, request: &[u8]) -> Option<(u16, Value)> {
        let (status, body) = exchange_raw(path, request).await?;
        Some((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
    }

    async fn get(path: &std::path::Path, target: &str) -> (u16, Value) {
        let request = format!("GET {target} HTTP/1.1\r\nHost: e\r\n\r\n");
        exchange(path, request.as_bytes()).await.unwrap()
    }

    #[tokio::test]
    async fn routes_answer_and_bad_requests_get_named_errors() {
        let dir = tempfile::tempdir().unwrap();
        let (api, _) = server(dir.path(), Arc::new(dev_nsm())).await;

        let (code, status) = get(&api, "/status").await;
        assert_eq!(code, 200);
        assert!(status["engine_key"].as_str().unwrap().starts_with("0x"));
        assert_eq!(status["nsm"], "present");
        assert_eq!(status["chain"], Value::Null);
        assert_eq!(get(&api, "/markets").await, (200, json!({"markets": []})));

        let name = |r: (u16, Value)| (r.0, r.1["error"].as_str().unwrap_or_default().to_owned());
        assert_eq!(name(get(&api, "/nope").await), (404, "not_found".into()));
        assert_eq!(
            name(get(&api, "/asks/7").await),
            (404, "unknown_ask".into())
        );
        assert_eq!(
            name(get(&api, "/markets/7").await),
            (404, "unknown_market".into())
        );
        assert_eq!(
            name(get(&api, "/asks/18446744073709551616").await),
            (400, "bad_id".into())
        );
        assert_eq!(
            name(get(&api, "/attestation/hex?nonce=0").await),
            (400, "bad_nonce".into())
        );
        let post = b"POST /status HTTP/1.1\r\nHost: e\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(
            name(exchange(&api, post).await.unwrap()),
            (405, "method_not_allowed".into())
        );
        let body = b"GET /status HTTP/1.1\r\nHost: e\r\nContent-Length: 3\r\n\r\nabc";
        assert_eq!(
            name(exchange(&api, body).await.unwrap()),
            (413, "body_not_allowed".into())
        );
        let long = format!("/status?{}", "a".repeat(MAX_URI));
        assert_eq!(name(get(&api, &long).await), (414, "uri_too_long".into()));
    }

    #[tokio::test]
    async fn an_oversized_request_head_is_refused_and_the_server_keeps_serving() {
        let dir = tempfile::tempdir().unwrap();
        let (api, _) = server(dir.path(), Arc::new(dev_nsm())).await;
        let mut request = b"GET /status HTTP/1.1\r\nHost: e\r\n".to_vec();
        for i in 0..200 {
            request.extend(format!("X-Filler-{i}: {}\r\n", "f".repeat(100)).as_bytes());
        }
        request.extend(b"\r\n");
        // hyper answers 431 or closes; never a 200.
        if let Some((code, _)) = exchange(&api, &request).await {
            assert_eq!(code, 431);
        }
        assert_eq!(get(&api, "/status").await.0, 200);
    }

    #[tokio::test]
    async fn attestation_documents_carry_the_nonce_the_engine_key_and_the_bid_key() {
        let dir = tempfile::tempdir().unwrap();
        let nsm = dev_nsm();
        let verifier = nitro_attestation::Verifier::new(
            nsm.trusted_root(),
            nitro_attestation::Policy::default(),
        );
        let (api, shared) = server(dir.path(), Arc::new(nsm)).await;
        let request = b"GET /attestation/raw?nonce=c0ffee HTTP/1.1\r\nHost: e\r\n\r\n";
        let (code, raw) = exchange_raw(&api, request).await.unwrap();
        assert_eq!(code, 200);
        let request = b"GET /attestation/hex?nonce=0xc0ffee HTTP/1.1\r\nHost: e\r\n\r\n";
        let (code, hex_doc) = exchange_raw(&api, request).await.unwrap();
        assert_eq!(code, 200);
        let from_hex = hex::decode(String::from_utf8(hex_doc).unwrap().trim()).unwrap();
        for document in [raw, from_hex] {
            let verified = verifier.verify(&document).unwrap();
            let d = verified.document();
            assert_eq!(d.nonce.as_deref(), Some(&[0xc0, 0xff, 0xee][..]));
            assert_eq!(
                d.public_key.as_deref(),
                Some(&shared.identity.public_key()[..])
            );
            assert_eq!(
                d.user_data.as_deref(),
                Some(&shared.identity.user_data()[..])
            );
        }
        // /status shows the same keys.
        let (_, status) = get(&api, "/status").await;
        assert_eq!(
            status["engine_public_key"],
            format!("0x{}", hex::encode(shared.identity.public_key()))
        );
        assert_eq!(
            status["bid_public_key"],
            format!("0x{}", hex::encode(shared.identity.user_data()))
        );
    }

    #[tokio::test]
    async fn an_nsm_that_refuses_is_a_named_error() {
        let dir = tempfile::tempdir().unwrap();
        let (api, _) = server(dir.path(), Arc::new(ScriptedNsm::refusing())).await;
        let (code, body) = get(&api, "/attestation/raw?nonce=00").await;
        assert_eq!((code, body["error"].as_str()), (500, Some("nsm_error")));
        assert_eq!(body["message"], "NSM: NSM returned error InternalError");
        assert_eq!(get(&api, "/status").await.0, 200);
    }

    #[test]
    fn nonce_parsing_is_bounded_and_named() {
        assert_eq!(nonce("").unwrap(), None);
        assert_eq!(nonce("nonce=0a0b").unwrap(), Some(vec![10, 11]));
        assert_eq!(nonce("nonce=0x0a").unwrap(), Some(vec![10]));
        let name = |q: &str| nonce(q).unwrap_err().name;
        assert_eq!(name("nonce=zz"), "bad_nonce");
        assert_eq!(name("nonce=01&nonce=02"), "bad_nonce");
        assert_eq!(name("other=1"), "unknown_parameter");
        assert_eq!(
            name(&format!("nonce={}", "00".repeat(MAX_NONCE + 1))),
            "nonce_too_long"
        );
        assert_eq!(
            nonce(&format!("nonce={}", "ab".repeat(MAX_NONCE)))
                .unwrap()
                .map(|n| n.len()),
            Some(MAX_NONCE)
        );
    }
}
