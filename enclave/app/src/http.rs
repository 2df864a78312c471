//! The HTTP API (HTTP/1.1), reached through the host's inbound proxy.
//!
//! | path | answer |
//! |---|---|
//! | `/status` | engine key, relayer, chain position, counters, the bridge's last round (JSON) |
//! | `/markets`, `/markets/{id}` | market summaries (JSON) |
//! | `/asks/{id}` | a live ask with its slots (JSON) |
//! | `/attestation/raw?nonce=HEX` | a fresh attestation document (COSE_Sign1 bytes) |
//! | `/attestation/hex?nonce=HEX` | the same, hex |
//! | `/inputs/0x{hash}` | a private ask's encrypted inputs (bytes), uploaded or inline |
//! | `PUT /inputs/0x{hash}` | uploads them: `201` queued for the engine, `200` already there, `400 hash_mismatch`, `413 too_large`, `503 store_full` |
//! | `POST /invalid-inputs` | `{"ask":N,"slot":N}` → the signed `InvalidInputs` statement, or `inputs_valid`, `not_private`, `not_assigned`, `no_input_check`, … |
//! | `POST /identity/handoff` | a newcomer replica's attestation document (raw COSE) → `len ‖ document ‖ sealed identity` (`handoff.rs`), or `bad_document`, `other_image`, `stale_document`, `replayed`, `image_not_live`, … |
//!
//! Requests are bounded (`limits.rs`): no body except on the three routes above (announced by
//! `Content-Length`, at most the input store's entry size or [`MAX_JSON_BODY`], read within
//! [`BODY_TIMEOUT`]), a URI of at most [`MAX_URI`] bytes, a head of
//! at most [`MAX_HEADER_BYTES`] within [`HEADER_TIMEOUT`] (also the keep-alive idle time), a
//! connection at most [`CONNECTION_TIMEOUT`]. At most [`MAX_CONNECTIONS`] connections are held
//! (`admission.rs`): when full, the oldest one not being answered of the peer that holds the
//! most makes room; when every one is being answered, a new connection waits in a short queue,
//! then gets `503` with `Retry-After`. Attestation documents come from a fixed pool of workers
//! (`attest.rs`). Errors are JSON `{"error": NAME, "message": …}` with a stable name.
//!
//! Connections are not logged one by one: a summary line of what was closed, refused or
//! failed is printed at most every [`SUMMARY_INTERVAL`].

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt as _;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER, TRANSFER_ENCODING};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use matching_engine::{
    AskPhase, Domain, Engine, InputsError, MarketSummary, MatchingMode, SlotState, StatementError,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::Semaphore;

use crate::admission::{Admission, Made, Slot};
use crate::attest::{Attester, QueueFull};
use crate::handoff;
use crate::identity::{AttestError, MAX_NONCE, Origin};
use crate::limits::{
    ACCEPT_QUEUE, ATTESTATION_TIMEOUT, BODY_TIMEOUT, CONNECTION_TIMEOUT, HEADER_TIMEOUT,
    MAX_CONNECTIONS, MAX_HEADER_BYTES, MAX_JSON_BODY, MAX_REFUSING, MAX_URI, QUEUE_WAIT,
    REFUSAL_TIMEOUT, RETRY_AFTER_S,
};
use crate::listen::{Listener, PeerAddr, Stream};
use crate::service::{Shared, engine_address};
use crate::uploads::Offered;

/// Most time between two summary lines.
pub(crate) const SUMMARY_INTERVAL: Duration = Duration::from_secs(60);
/// First pause after a failed accept (descriptor exhaustion, aborted connection); it doubles
/// up to [`ACCEPT_BACKOFF_MAX`] while accepts keep failing.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(10);
/// Longest pause after a failed accept.
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// The connection limits of one server (the `limits.rs` values, smaller in tests).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) max_connections: usize,
    pub(crate) accept_queue: usize,
    pub(crate) queue_wait: Duration,
    pub(crate) header_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: MAX_CONNECTIONS,
            accept_queue: ACCEPT_QUEUE,
            queue_wait: QUEUE_WAIT,
            header_timeout: HEADER_TIMEOUT,
        }
    }
}

/// What happened to connections since the last summary.
#[derive(Default)]
struct Tally {
    served: AtomicU64,
    header_timeouts: AtomicU64,
    connection_timeouts: AtomicU64,
    evicted: AtomicU64,
    queued: AtomicU64,
    refused: AtomicU64,
    dropped: AtomicU64,
    errors: AtomicU64,
    accept_errors: AtomicU64,
    handoffs_refused: AtomicU64,
}

impl Tally {
    fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one event; true for the first since the last summary (the one worth a line of
    /// its own: whoever sends a thousand bad requests gets one line and a count, not a
    /// thousand lines).
    fn first_of_interval(counter: &AtomicU64) -> bool {
        counter.fetch_add(1, Ordering::Relaxed) == 0
    }

    /// The summary line of the counts since the last one (`None`: nothing happened), and
    /// resets them.
    fn take_summary(&self) -> Option<String> {
        let take = |c: &AtomicU64| c.swap(0, Ordering::Relaxed);
        let counts = [
            ("served", take(&self.served)),
            ("head timed out", take(&self.header_timeouts)),
            ("connection timed out", take(&self.connection_timeouts)),
            ("closed for a new connection", take(&self.evicted)),
            ("queued", take(&self.queued)),
            ("refused 503", take(&self.refused)),
            ("dropped unanswered", take(&self.dropped)),
            ("failed", take(&self.errors)),
            ("accept errors", take(&self.accept_errors)),
            ("identity hand-offs refused", take(&self.handoffs_refused)),
        ];
        let parts: Vec<String> = counts
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(what, n)| format!("{n} {what}"))
            .collect();
        (!parts.is_empty()).then(|| format!("http: {}", parts.join(", ")))
    }
}

/// One server's state.
pub(crate) struct Server {
    shared: Arc<Shared>,
    attester: Attester,
    admission: Arc<Admission>,
    limits: Limits,
    tally: Tally,
    /// Places for `503` answers being written.
    refusing: Arc<Semaphore>,
}

pub(crate) type Reply = Response<Full<Bytes>>;

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

/// Serves `listener` for ever, with `attester` for `/attestation/*`.
pub(crate) async fn serve(
    listener: Listener,
    shared: Arc<Shared>,
    attester: Attester,
    limits: Limits,
) {
    let server = Server::new(shared, attester, limits);
    tokio::spawn(summarise(Arc::downgrade(&server)));
    let mut backoff = ACCEPT_BACKOFF_MIN;
    loop {
        let (stream, addr) = match listener.accept().await {
            Ok(accepted) => {
                backoff = ACCEPT_BACKOFF_MIN;
                accepted
            }
            Err(e) => {
                // Transient (descriptor exhaustion, aborted connection): pause and go on. The
                // first of a run is logged, the rest counted.
                if backoff == ACCEPT_BACKOFF_MIN {
                    tracing::warn!("http accept: {e}");
                }
                Tally::add(&server.tally.accept_errors);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                continue;
            }
        };
        tokio::spawn(connection(server.clone(), stream, addr));
    }
}

impl Server {
    /// A server of `shared`'s API with `attester` for `/attestation/*`, no connection yet.
    pub(crate) fn new(shared: Arc<Shared>, attester: Attester, limits: Limits) -> Arc<Self> {
        Arc::new(Server {
            shared,
            attester,
            admission: Admission::new(limits.max_connections, limits.accept_queue),
            limits,
            tally: Tally::default(),
            refusing: Arc::new(Semaphore::new(MAX_REFUSING)),
        })
    }

    /// The HTTP/1.1 connection settings of every connection this server serves.
    pub(crate) fn http1(&self) -> hyper::server::conn::http1::Builder {
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .max_buf_size(MAX_HEADER_BYTES)
            .timer(TokioTimer::new())
            .header_read_timeout(self.limits.header_timeout)
            .keep_alive(true);
        builder
    }
}

/// Prints the tally every [`SUMMARY_INTERVAL`] when something happened, while the server
/// lives.
async fn summarise(server: std::sync::Weak<Server>) {
    loop {
        tokio::time::sleep(SUMMARY_INTERVAL).await;
        let Some(server) = server.upgrade() else {
            return;
        };
        if let Some(line) = server.tally.take_summary() {
            tracing::info!("{line}");
        }
    }
}

/// Admits, serves and ends one connection.
async fn connection(server: Arc<Server>, stream: Box<dyn Stream>, addr: PeerAddr) {
    let slot = match server
        .admission
        .admit(addr.peer(), server.limits.queue_wait)
        .await
    {
        Ok((slot, made)) => {
            match made {
                Made::Free => {}
                Made::Queued => Tally::add(&server.tally.queued),
                Made::Evicted(_) => Tally::add(&server.tally.evicted),
            }
            slot
        }
        Err(_) => {
            match server.refusing.clone().try_acquire_owned() {
                Ok(place) => {
                    Tally::add(&server.tally.refused);
                    refuse(stream).await;
                    drop(place);
                }
                Err(_) => Tally::add(&server.tally.dropped),
            }
            return;
        }
    };
    serve_connection(&server, stream, &slot).await;
}

async fn serve_connection(server: &Arc<Server>, stream: Box<dyn Stream>, slot: &Slot) {
    let handle = slot.handle();
    let owner = server.clone();
    let service = hyper::service::service_fn(move |req| {
        // The head is complete: the connection is being answered and keeps its slot.
        let busy = handle.busy();
        let server = owner.clone();
        async move {
            let reply = handle_request(&server, req).await;
            drop(busy);
            Ok::<_, Infallible>(reply)
        }
    });
    let conn = server
        .http1()
        .serve_connection(TokioIo::new(stream), service);
    let tally = &server.tally;
    tokio::select! {
        done = tokio::time::timeout(CONNECTION_TIMEOUT, conn) => match done {
            Ok(Ok(())) => Tally::add(&tally.served),
            Ok(Err(e)) if e.is_timeout() => Tally::add(&tally.header_timeouts),
            Ok(Err(_)) => Tally::add(&tally.errors),
            Err(_) => Tally::add(&tally.connection_timeouts),
        },
        () = slot.evicted() => {}
    }
}

/// The answer to a connection that gets no slot.
fn busy_response() -> Vec<u8> {
    let body = format!(
        "{}\n",
        json!({"error": "busy", "message": "every connection slot is busy; retry later"})
    );
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         retry-after: {RETRY_AFTER_S}\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Answers `503` without reading the request, then waits (briefly) for the client to close, so
/// that its unread request does not turn the close into a reset that loses the answer.
async fn refuse(mut stream: Box<dyn Stream>) {
    let _ = tokio::time::timeout(REFUSAL_TIMEOUT, async {
        stream.write_all(&busy_response()).await?;
        stream.shutdown().await?;
        let mut sink = [0_u8; 1024];
        let mut drained = 0;
        while drained < MAX_HEADER_BYTES {
            match stream.read(&mut sink).await? {
                0 => break,
                n => drained += n,
            }
        }
        Ok::<_, std::io::Error>(())
    })
    .await;
}

/// The answer to one request whose head hyper parsed (its body, if any, still to be read).
pub(crate) async fn handle_request(server: &Server, req: Request<Incoming>) -> Reply {
    let shared = &server.shared;
    let uri_len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if uri_len > MAX_URI {
        return error(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("at most {MAX_URI} bytes"),
        );
    }
    let path = req.uri().path().to_owned();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (req.method(), segments.as_slice()) {
        (&Method::PUT, ["inputs", name]) => return put_inputs(shared, name, req).await,
        (&Method::POST, ["invalid-inputs"]) => return invalid_inputs(shared, req).await,
        (&Method::POST, ["identity", "handoff"]) => return identity_handoff(server, req).await,
        (&Method::GET, _) => {}
        _ => {
            return error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "GET, PUT /inputs/0x{hash}, POST /invalid-inputs or POST /identity/handoff",
            );
        }
    }
    let has_body = req.headers().contains_key(TRANSFER_ENCODING)
        || req
            .headers()
            .get(CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    if has_body {
        // The body is never read: the connection ends with this answer.
        let mut r = error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_not_allowed",
            "requests carry no body",
        );
        r.headers_mut()
            .insert(CONNECTION, hyper::header::HeaderValue::from_static("close"));
        return r;
    }
    let query = req.uri().query().unwrap_or("");
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
        ["attestation", form @ ("raw" | "hex")] => attestation(server, form, query).await,
        ["inputs", name] => get_inputs(shared, name),
        _ => error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no route {path}"),
        ),
    }
}

/// A reply that also ends the connection (its request body is left unread).
fn closing(mut r: Reply) -> Reply {
    r.headers_mut()
        .insert(CONNECTION, hyper::header::HeaderValue::from_static("close"));
    r
}

/// Reads a request body of at most `max` bytes, announced by `Content-Length`.
async fn read_body(req: Request<Incoming>, max: usize) -> Result<Bytes, Reply> {
    if req.headers().contains_key(TRANSFER_ENCODING) {
        return Err(closing(error(
            StatusCode::LENGTH_REQUIRED,
            "length_required",
            "send the body with a Content-Length",
        )));
    }
    let Some(len) = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
    else {
        return Err(closing(error(
            StatusCode::LENGTH_REQUIRED,
            "length_required",
            "send the body with a Content-Length",
        )));
    };
    if len > max {
        return Err(closing(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("at most {max} bytes"),
        )));
    }
    let body = http_body_util::Limited::new(req.into_body(), max);
    match tokio::time::timeout(BODY_TIMEOUT, body.collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) => Err(closing(error(StatusCode::BAD_REQUEST, "bad_body", e))),
        Err(_) => Err(closing(error(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!("the body did not arrive within {}s", BODY_TIMEOUT.as_secs()),
        ))),
    }
}

/// `0x` and 64 hex digits.
fn parse_hash(s: &str) -> Result<[u8; 32], Refusal> {
    s.strip_prefix("0x")
        .and_then(|h| hex::decode(h).ok())
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| Refusal::bad_request("bad_hash", "inputs are named 0x and 64 hex digits"))
}

/// `PUT /inputs/0x{hash}`: a private ask's encrypted inputs, for the engine to check and serve.
async fn put_inputs(shared: &Shared, name: &str, req: Request<Incoming>) -> Reply {
    let hash = match parse_hash(name) {
        Ok(h) => h,
        Err(r) => return closing(r.reply()),
    };
    let body = match read_body(req, shared.uploads.limits().max_entry_bytes).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let snap = shared.snapshot();
    let present = snap.engine.inputs(&hash).is_some();
    match shared
        .uploads
        .offer(hash, body, snap.engine.stored_inputs(), present)
    {
        Ok(Offered::Queued) => json_reply(StatusCode::CREATED, &json!({"stored": true})),
        Ok(Offered::AlreadyPresent) => json_reply(StatusCode::OK, &json!({"stored": false})),
        Err(e @ InputsError::TooLarge { .. }) => {
            error(StatusCode::PAYLOAD_TOO_LARGE, "too_large", e)
        }
        Err(e @ InputsError::HashMismatch) => error(StatusCode::BAD_REQUEST, "hash_mismatch", e),
        Err(e) => {
            let mut r = error(StatusCode::SERVICE_UNAVAILABLE, "store_full", e);
            r.headers_mut()
                .insert(RETRY_AFTER, hyper::header::HeaderValue::from(RETRY_AFTER_S));
            r
        }
    }
}

/// `GET /inputs/0x{hash}`: the encrypted inputs, uploaded or inline in a live ask.
fn get_inputs(shared: &Shared, name: &str) -> Reply {
    let hash = match parse_hash(name) {
        Ok(h) => h,
        Err(r) => return r.reply(),
    };
    let snap = shared.snapshot();
    let found = snap
        .engine
        .inputs(&hash)
        .map(Bytes::copy_from_slice)
        .or_else(|| shared.uploads.get(&hash));
    match found {
        Some(bytes) => reply(StatusCode::OK, "application/octet-stream", bytes),
        None => error(
            StatusCode::NOT_FOUND,
            "unknown_inputs",
            format!("no inputs 0x{}", hex::encode(hash)),
        ),
    }
}

/// The body of `POST /invalid-inputs`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct InvalidInputsRequest {
    ask: u64,
    slot: u8,
}

/// `POST /invalid-inputs`: the engine's signed statement that an assigned private slot's inputs
/// fail the market's input check, for `settleInvalidInputs`.
async fn invalid_inputs(shared: &Shared, req: Request<Incoming>) -> Reply {
    let body = match read_body(req, MAX_JSON_BODY).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Ok(request) = serde_json::from_slice::<InvalidInputsRequest>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            r#"expected {"ask": N, "slot": N}"#,
        );
    };
    let Some(facts) = &shared.facts else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_engine",
            "no engine runs",
        );
    };
    let domain = Domain {
        chain_id: facts.chain_id,
        verifying_contract: matching_engine::Address(facts.marketplace.into_array()),
    };
    let snap = shared.snapshot();
    match snap.engine.invalid_inputs_statement(
        request.ask,
        request.slot,
        shared.identity.signer(),
        &domain,
    ) {
        Ok(signed) => json_reply(
            StatusCode::OK,
            &json!({
                "ask": signed.statement.ask,
                "slot": signed.statement.slot,
                "generator": signed.statement.generator.to_string(),
                "payment": signed.statement.payment.to_string(),
                "signature": format!("0x{}", hex::encode(signed.signature.0)),
            }),
        ),
        Err(e) => {
            let (status, name) = match &e {
                StatementError::UnknownAsk(_) => (StatusCode::NOT_FOUND, "unknown_ask"),
                StatementError::NotPrivate(_) => (StatusCode::BAD_REQUEST, "not_private"),
                StatementError::NotAssigned { .. } => (StatusCode::CONFLICT, "not_assigned"),
                StatementError::InputsUnavailable(_) => {
                    (StatusCode::CONFLICT, "inputs_unavailable")
                }
                StatementError::NoInputCheck(_) => {
                    (StatusCode::UNPROCESSABLE_ENTITY, "no_input_check")
                }
                StatementError::InputsValid(_) => {
                    (StatusCode::UNPROCESSABLE_ENTITY, "inputs_valid")
                }
                _ => (StatusCode::INTERNAL_SERVER_ERROR, "signing_failed"),
            };
            error(status, name, e)
        }
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
        "batches_sent": snap.relay.batches_sent(),
        "assignments_sent": snap.relay.assignments_sent,
        // Replicas sharing the engine key: who sent what, and what the copies cost.
        "batches": {
            "sent_as_owner": snap.relay.sent_as_owner,
            "sent_as_takeover": snap.relay.sent_as_takeover,
            "landed": snap.relay.landed,
            "duplicates": snap.relay.duplicates,
            "duplicate_gas": snap.relay.duplicate_gas,
            "reverted": snap.relay.reverted,
            "unconfirmed": snap.relay.unconfirmed,
            "dropped": snap.relay.dropped,
        },
        "reorgs": snap.stats.reorgs,
        "rebuilds": snap.stats.rebuilds,
        "decode_errors": snap.stats.decode_errors,
        "last_decode_error": snap.stats.last_decode_error,
        "rejected_events": snap.stats.rejected_events,
        "private_asks": snap.engine.private_asks(),
        "stored_inputs": snap.engine.stored_inputs().0,
        "stored_input_bytes": snap.engine.stored_inputs().1,
        "queued_inputs": shared.uploads.len(),
        "key_live": snap.key_live,
        "last_error": snap.last_error,
        // What the chain decided, as of a block: equal to a fresh replay's at that block.
        "state": {
            "block": snap.engine.block(),
            "digest": format!("0x{}", hex::encode(snap.engine.state_digest())),
        },
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
            "replica": {
                "index": f.turn.index,
                "count": f.turn.count,
                "grace_blocks": f.turn.grace_blocks,
            },
        })
    });
    json!({
        "app": "enclave-app",
        "version": env!("CARGO_PKG_VERSION"),
        "engine_key": engine_address(&shared.identity).to_string(),
        "identity": match shared.identity.origin() {
            Origin::Generated => json!({"source": "generated"}),
            Origin::Peer(peer) => json!({"source": "peer", "peer": peer}),
        },
        "engine_public_key": format!("0x{}", hex::encode(shared.identity.public_key())),
        "bid_public_key": format!("0x{}", hex::encode(shared.identity.user_data())),
        // The same key decrypts private asks' input keys (docs/private-inputs.md).
        "encryption_public_key": format!("0x{}", hex::encode(shared.identity.user_data())),
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
            SlotState::InputsInvalid { generator } => {
                json!({"state": "inputs_invalid", "generator": generator.to_string()})
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

/// `503` with `Retry-After`.
fn unavailable(name: &str, message: impl std::fmt::Display) -> Reply {
    let mut r = error(StatusCode::SERVICE_UNAVAILABLE, name, message);
    r.headers_mut().insert(RETRY_AFTER, RETRY_AFTER_S.into());
    r
}

/// A document for `nonce` from the attestation workers, or the reply saying why not.
async fn document(server: &Server, nonce: Option<Vec<u8>>) -> Result<Arc<Vec<u8>>, Reply> {
    // Dropped with this request when the client goes away: a call not yet started is not made.
    let ticket = match server.attester.submit(nonce) {
        Ok(ticket) => ticket,
        Err(e @ QueueFull) => return Err(unavailable("attestation_busy", e)),
    };
    match tokio::time::timeout(ATTESTATION_TIMEOUT, ticket.outcome()).await {
        Ok(Ok(doc)) => Ok(doc),
        Ok(Err(e @ AttestError::NonceTooLong(_))) => {
            Err(error(StatusCode::BAD_REQUEST, "nonce_too_long", e))
        }
        Ok(Err(e)) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, "nsm_error", e)),
        Err(_) => Err(unavailable(
            "attestation_busy",
            format!(
                "no document within {} s; the NSM is busy",
                ATTESTATION_TIMEOUT.as_secs()
            ),
        )),
    }
}

async fn attestation(server: &Server, form: &str, query: &str) -> Reply {
    let nonce = match nonce(query) {
        Ok(n) => n,
        Err(r) => return r.reply(),
    };
    match document(server, nonce).await {
        Ok(doc) if form == "raw" => reply(
            StatusCode::OK,
            "application/octet-stream",
            doc.as_ref().clone(),
        ),
        Ok(doc) => reply(StatusCode::OK, "text/plain", hex::encode(doc.as_ref())),
        Err(r) => r,
    }
}

/// `POST /identity/handoff`: a newcomer of this image asks for the engine identity
/// (`handoff.rs`). Refusals are logged by name only, the first of each summary interval; the
/// rest are counted in the summary line.
async fn identity_handoff(server: &Server, req: Request<Incoming>) -> Reply {
    let shared = &server.shared;
    let Some(giver) = &shared.giver else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_engine",
            "no engine runs",
        );
    };
    let body = match read_body(req, handoff::MAX_REQUEST_BYTES).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let own_key = alloy::primitives::Address::from(shared.identity.address().0);
    let admitted = match giver.admit(&body, own_key).await {
        Ok(a) => a,
        Err(e) => {
            if Tally::first_of_interval(&server.tally.handoffs_refused) {
                tracing::warn!(
                    "identity hand-off refused: {} ({e}); more in this interval are counted",
                    e.name()
                );
            }
            let status =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return error(status, e.name(), e);
        }
    };
    let doc = match document(server, Some(admitted.answer_nonce())).await {
        Ok(doc) => doc,
        Err(r) => return r,
    };
    match giver.answer(&admitted, &shared.identity, &doc) {
        Ok(answer) => {
            tracing::info!("identity handed off to a newcomer of this image");
            reply(StatusCode::OK, "application/octet-stream", answer)
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.name(), e),
    }
}

#[cfg(test)]
mod tests {
    use nitro_attestation::dev::{DevNsm, DevNsmConfig};
    use nitro_attestation::nsm::Nsm;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;
    use crate::identity::Identity;
    use crate::listen::ListenAddr;
    use crate::test_nsm::{ScriptedNsm, until};

    #[test]
    fn a_run_of_handoff_refusals_logs_its_first_and_counts_all_in_the_summary() {
        let tally = Tally::default();
        assert!(Tally::first_of_interval(&tally.handoffs_refused));
        for _ in 0..999 {
            assert!(!Tally::first_of_interval(&tally.handoffs_refused));
        }
        Tally::add(&tally.served);
        assert_eq!(
            tally.take_summary().as_deref(),
            Some("http: 1 served, 1000 identity hand-offs refused")
        );
        assert_eq!(tally.take_summary(), None, "the counts were reset");
        // A new interval: its first refusal gets its line again.
        assert!(Tally::first_of_interval(&tally.handoffs_refused));
    }

    /// A dev NSM of an image with PCR0/1/2 of 0x11, 0x22, 0x33.
    fn dev_nsm() -> DevNsm {
        DevNsm::new(DevNsmConfig::image([0x11; 48], [0x22; 48], [0x33; 48])).unwrap()
    }

    /// A server with `nsm` and no chain, on a Unix socket in `dir`.
    async fn server(dir: &std::path::Path, nsm: Arc<dyn Nsm>) -> (std::path::PathBuf, Arc<Shared>) {
        server_with(dir, nsm, Limits::default(), 2, 16).await
    }

    /// A server with `nsm`, these limits, and `workers` attestation workers with a queue of
    /// `queue`.
    async fn server_with(
        dir: &std::path::Path,
        nsm: Arc<dyn Nsm>,
        limits: Limits,
        workers: usize,
        queue: usize,
    ) -> (std::path::PathBuf, Arc<Shared>) {
        let path = dir.join("api.sock");
        let listener = Listener::bind(&ListenAddr::Unix(path.clone()))
            .await
            .unwrap();
        let shared = Arc::new(Shared::without_chain(Identity::generate(nsm), None));
        let owner = shared.clone();
        let attester = Attester::start(move |n| owner.identity.attest(n), workers, queue).unwrap();
        tokio::spawn(serve(listener, shared.clone(), attester, limits));
        (path, shared)
    }

    /// Sends `request` and returns the whole answer (until the server closes, at most 10 s).
    async fn raw_answer(path: &std::path::Path, request: &[u8]) -> Vec<u8> {
        let mut s = tokio::net::UnixStream::connect(path).await.unwrap();
        let _ = s.write_all(request).await;
        let mut raw = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut raw)).await;
        raw
    }

    /// A GET that returns at once: the status line and headers of the answer, lowercased.
    async fn head_of(path: &std::path::Path, target: &str) -> String {
        let request = format!("GET {target} HTTP/1.1\r\nHost: e\r\nConnection: close\r\n\r\n");
        let raw = raw_answer(path, request.as_bytes()).await;
        let end = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or(raw.len());
        String::from_utf8_lossy(&raw[..end]).to_lowercase()
    }

    /// Sends a GET of `target` and leaves the connection open; the answer is read later.
    async fn start_get(path: &std::path::Path, target: &str) -> tokio::net::UnixStream {
        let mut s = tokio::net::UnixStream::connect(path).await.unwrap();
        let request = format!("GET {target} HTTP/1.1\r\nHost: e\r\nConnection: close\r\n\r\n");
        s.write_all(request.as_bytes()).await.unwrap();
        s
    }

    /// The status code of the answer on `s`.
    async fn finish_get(mut s: tokio::net::UnixStream) -> u16 {
        let mut raw = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut raw))
            .await
            .expect("an answer within 10 s")
            .unwrap();
        String::from_utf8_lossy(&raw)
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0)
    }

    /// The nonces the NSM was asked for, in order.
    fn nonces(nsm: &ScriptedNsm) -> Vec<Option<Vec<u8>>> {
        nsm.requests().into_iter().map(|r| r.nonce).collect()
    }

    /// Sends raw bytes, returns (status, body bytes) or `None` when the server closed without
    /// an answer.
    async fn exchange_raw(path: &std::path::Path, request: &[u8]) -> Option<(u16, Vec<u8>)> {
        // The server may close before reading everything (an oversized head).
        let raw = raw_answer(path, request).await;
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
        let request = format!("GET {target} HTTP/1.1\r\nHost: e\r\nConnection: close\r\n\r\n");
        exchange(path, request.as_bytes()).await.unwrap()
    }

    /// A request with a body.
    fn with_body(method: &str, target: &str, body: &[u8]) -> Vec<u8> {
        let mut r = format!(
            "{method} {target} HTTP/1.1\r\nHost: e\r\nConnection: close\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(body);
        r
    }

    #[tokio::test]
    async fn inputs_are_uploaded_checked_and_served() {
        let dir = tempfile::tempdir().unwrap();
        let (api, shared) = server(dir.path(), Arc::new(dev_nsm())).await;
        let inputs = b"nonce and ciphertext".to_vec();
        let name = format!(
            "/inputs/0x{}",
            hex::encode(matching_engine::keccak256(&inputs))
        );
        let error = |r: Option<(u16, Value)>| {
            let (code, v) = r.unwrap();
            (code, v["error"].as_str().unwrap_or_default().to_owned())
        };

        assert_eq!(
            error(Some(get(&api, &name).await)),
            (404, "unknown_inputs".into())
        );
        let put = |target: &str, body: &[u8]| with_body("PUT", target, body);
        assert_eq!(
            exchange(&api, &put(&name, &inputs)).await,
            Some((201, json!({"stored": true})))
        );
        assert_eq!(
            exchange(&api, &put(&name, &inputs)).await,
            Some((200, json!({"stored": false})))
        );
        assert_eq!(
            exchange_raw(
                &api,
                format!("GET {name} HTTP/1.1\r\nHost: e\r\nConnection: close\r\n\r\n").as_bytes()
            )
            .await,
            Some((200, inputs.clone()))
        );
        assert_eq!(shared.uploads.len(), 1);
        assert_eq!(
            error(exchange(&api, &put(&name, b"other bytes")).await),
            (400, "hash_mismatch".into())
        );
        assert_eq!(
            error(exchange(&api, &put("/inputs/0x1234", &inputs)).await),
            (400, "bad_hash".into())
        );
        let max = shared.uploads.limits().max_entry_bytes;
        let head = format!(
            "PUT {name} HTTP/1.1\r\nHost: e\r\nContent-Length: {}\r\n\r\n",
            max + 1
        );
        assert_eq!(
            error(exchange(&api, head.as_bytes()).await),
            (413, "too_large".into())
        );
        let chunked = format!(
            "PUT {name} HTTP/1.1\r\nHost: e\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        );
        assert_eq!(
            error(exchange(&api, chunked.as_bytes()).await),
            (411, "length_required".into())
        );
        // Statements need a running engine; a malformed request is refused before that.
        let post = |body: &[u8]| with_body("POST", "/invalid-inputs", body);
        assert_eq!(
            error(exchange(&api, &post(br#"{"ask": 1}"#)).await),
            (400, "bad_request".into())
        );
        assert_eq!(
            error(exchange(&api, &post(br#"{"ask": 1, "slot": 0}"#)).await),
            (503, "no_engine".into())
        );
        assert_eq!(
            error(exchange(&api, &with_body("DELETE", &name, b"")).await),
            (405, "method_not_allowed".into())
        );
        let (_, status) = get(&api, "/status").await;
        assert_eq!(status["encryption_public_key"], status["bid_public_key"]);
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
        // An engine before any block: the digest of the empty state.
        let empty = matching_engine::Engine::new(matching_engine::Config::default(), None);
        assert_eq!(
            status["engine"]["state"],
            json!({"block": null, "digest": format!("0x{}", hex::encode(empty.state_digest()))})
        );
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
        let post =
            b"POST /status HTTP/1.1\r\nHost: e\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
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
        let request =
            b"GET /attestation/raw?nonce=c0ffee HTTP/1.1\r\nHost: e\r\nConnection: close\r\n\r\n";
        let (code, raw) = exchange_raw(&api, request).await.unwrap();
        assert_eq!(code, 200);
        let request =
            b"GET /attestation/hex?nonce=0xc0ffee HTTP/1.1\r\nHost: e\r\nConnection: close\r\n\r\n";
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

    /// A server with these limits and attestation workers whose NSM is held: one request
    /// (nonce 01) is in its NSM call, its answer to be read from the returned stream.
    async fn attesting(
        limits: Limits,
        workers: usize,
        queue: usize,
    ) -> (
        tempfile::TempDir,
        std::path::PathBuf,
        Arc<ScriptedNsm>,
        tokio::net::UnixStream,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let nsm = Arc::new(ScriptedNsm::new(vec![0xd2], [0; 3]));
        let (api, _) = server_with(dir.path(), nsm.clone(), limits, workers, queue).await;
        nsm.gate.shut();
        let running = start_get(&api, "/attestation/raw?nonce=01").await;
        until("the NSM call", || nsm.requests().len() == 1).await;
        (dir, api, nsm, running)
    }

    /// Tiny limits: `max` connections, no accept queue.
    fn tiny(max: usize) -> Limits {
        Limits {
            max_connections: max,
            accept_queue: 0,
            queue_wait: Duration::ZERO,
            header_timeout: Duration::from_secs(3),
        }
    }

    #[tokio::test]
    async fn idle_and_unfinished_connections_give_way_to_a_new_request() {
        let dir = tempfile::tempdir().unwrap();
        let (api, _) = server_with(dir.path(), Arc::new(dev_nsm()), tiny(2), 1, 1).await;
        // One sends half a head, one a whole request then idles on keep-alive.
        let mut half = tokio::net::UnixStream::connect(&api).await.unwrap();
        half.write_all(b"GET /sta").await.unwrap();
        let mut kept = tokio::net::UnixStream::connect(&api).await.unwrap();
        kept.write_all(b"GET /status HTTP/1.1\r\nHost: e\r\n\r\n")
            .await
            .unwrap();
        let mut first = [0_u8; 12];
        kept.read_exact(&mut first).await.unwrap();
        assert_eq!(&first, b"HTTP/1.1 200");
        // Both slots are held (for up to the 3 s head timeout); a new request still gets an
        // answer at once, in the slot of the oldest connection not being answered: the half
        // head first, then (a newer half head arriving) the idle keep-alive connection.
        let closed_soon = |mut s: tokio::net::UnixStream| async move {
            let mut rest = Vec::new();
            tokio::time::timeout(Duration::from_secs(2), s.read_to_end(&mut rest))
                .await
                .expect("closed within 2 s")
                .unwrap();
        };
        let started = std::time::Instant::now();
        assert_eq!(get(&api, "/status").await.0, 200);
        closed_soon(half).await;
        let mut newer = tokio::net::UnixStream::connect(&api).await.unwrap();
        newer.write_all(b"GET /sta").await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(get(&api, "/status").await.0, 200);
        closed_soon(kept).await;
        assert!(started.elapsed() < Duration::from_secs(2));
        // The newer half head still holds its slot.
        let mut nothing = [0_u8; 1];
        let still_open =
            tokio::time::timeout(Duration::from_millis(200), newer.read(&mut nothing)).await;
        assert!(still_open.is_err(), "the newest connection was kept");
    }

    #[tokio::test]
    async fn when_every_connection_is_being_answered_a_new_one_gets_503_with_retry_after() {
        let (_dir, api, nsm, waiting) = attesting(tiny(1), 1, 1).await;
        let head = head_of(&api, "/status").await;
        assert!(head.starts_with("http/1.1 503"), "{head}");
        assert!(
            head.contains(&format!("retry-after: {RETRY_AFTER_S}")),
            "{head}"
        );
        nsm.gate.open();
        assert_eq!(finish_get(waiting).await, 200);
        assert_eq!(get(&api, "/status").await.0, 200);
    }

    #[tokio::test]
    async fn a_full_attestation_queue_answers_503_and_equal_nonces_share_a_call() {
        let (_dir, api, nsm, running) = attesting(Limits::default(), 1, 1).await;
        let queued = start_get(&api, "/attestation/raw?nonce=02").await;
        let mut same = Vec::new();
        for _ in 0..3 {
            same.push(start_get(&api, "/attestation/hex?nonce=02").await);
            same.push(start_get(&api, "/attestation/raw?nonce=01").await);
        }
        // Give the server time to queue them all (the answers are held by the NSM).
        tokio::time::sleep(Duration::from_millis(200)).await;
        let head = head_of(&api, "/attestation/raw?nonce=03").await;
        assert!(head.starts_with("http/1.1 503"), "{head}");
        assert!(head.contains("retry-after: 1"), "{head}");
        nsm.gate.open();
        assert_eq!(finish_get(running).await, 200);
        assert_eq!(finish_get(queued).await, 200);
        for s in same {
            assert_eq!(finish_get(s).await, 200);
        }
        assert_eq!(nonces(&nsm), [Some(vec![1]), Some(vec![2])]);
    }

    #[tokio::test]
    async fn a_client_that_leaves_before_its_nsm_call_starts_costs_no_call() {
        let (_dir, api, nsm, running) = attesting(Limits::default(), 1, 4).await;
        for nonce in ["02", "03"] {
            let gone = start_get(&api, &format!("/attestation/raw?nonce={nonce}")).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
            drop(gone);
        }
        // Time for the server to see both clients go.
        tokio::time::sleep(Duration::from_millis(300)).await;
        nsm.gate.open();
        assert_eq!(finish_get(running).await, 200);
        // Served after anything still queued: the queue is first in, first out.
        assert_eq!(get(&api, "/attestation/raw?nonce=04").await.0, 200);
        assert_eq!(nonces(&nsm), [Some(vec![1]), Some(vec![4])]);
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
