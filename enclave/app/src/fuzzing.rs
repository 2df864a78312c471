//! The fuzz targets' entry points (`fuzz/`), with the properties they check. Compiled only with
//! the cargo feature `fuzzing`, which no build of the application enables; not an API. Each
//! function takes the fuzzer's bytes and panics when a property fails.
//!
//! - [`chain_decode`]: any log (emitter, up to 4 topics, data) through `chain/decode.rs`.
//! - [`http_request`]: any bytes sent on one connection to the HTTP API of an application with
//!   no chain (`http.rs`, with the production connection settings and router).

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};

use alloy::primitives::{Address as ChainAddress, B256, Bytes as LogBytes, Log, LogData, U256};
use alloy::rpc::types::Log as RpcLog;
use alloy::sol_types::SolEvent;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use hyper::{HeaderMap, Method, Request, Uri, Version};
use hyper_util::rt::TokioIo;
use marketplace_bindings::{IStakingModule as S, ProofMarketplace as M};
use nitro_attestation::NsmError;
use nitro_attestation::nsm::{AttestationRequest, Nsm, PcrDescription};
use serde_json::Value;
use tokio::io::{AsyncRead, ReadBuf};

use crate::attest::Attester;
use crate::chain::decode::{DecodeError, Sources, decode_log};
use crate::http::{self, Limits, Server};
use crate::identity::Identity;
use crate::limits::{CONNECTION_TIMEOUT, MAX_HEADER_BYTES};
use crate::service::Shared;

// ---- chain_decode ------------------------------------------------------------------------------

const MARKETPLACE: ChainAddress = ChainAddress::repeat_byte(0xaa);
const STAKING: ChainAddress = ChainAddress::repeat_byte(0xbb);
const OTHER: ChainAddress = ChainAddress::repeat_byte(0xcc);
const SOURCES: Sources = Sources {
    marketplace: MARKETPLACE,
    staking: STAKING,
};

/// Calls `$f::<E>()` for each event the decoder knows, in one list shared by the topic choice
/// and the canonical re-encoding.
macro_rules! known_events {
    ($apply:ident) => {
        [
            $apply::<S::StakeChanged>(),
            $apply::<M::MarketCreated>(),
            $apply::<M::GeneratorRegistered>(),
            $apply::<M::CapacityChanged>(),
            $apply::<M::GeneratorDeregistered>(),
            $apply::<M::GeneratorJoined>(),
            $apply::<M::GeneratorUpdated>(),
            $apply::<M::GeneratorLeft>(),
            $apply::<M::AskCreated>(),
            $apply::<M::AskCancelled>(),
            $apply::<M::BidSubmitted>(),
            $apply::<M::AssignmentAccepted>(),
            $apply::<M::AssignmentSkipped>(),
            $apply::<M::ProofSubmitted>(),
            $apply::<M::PrivateInputsCommitted>(),
            $apply::<M::EncryptionKeySet>(),
            $apply::<M::AssignmentDiscarded>(),
            $apply::<M::InputsInvalid>(),
            $apply::<M::Slashed>(),
            // Emitted by the marketplace, not needed by the engine.
            $apply::<M::AskRefunded>(),
        ]
    };
}

/// An event's topic and how to re-encode a log of it canonically (`None`: its ABI decoding
/// fails).
type Canonical = (B256, fn(&LogData) -> Option<LogData>);

fn canonical<E: SolEvent>() -> Canonical {
    (E::SIGNATURE_HASH, |data| {
        E::decode_log_data(data).ok().map(|e| e.encode_log_data())
    })
}

fn rpc_log(address: ChainAddress, data: LogData) -> RpcLog {
    RpcLog {
        inner: Log { address, data },
        ..RpcLog::default()
    }
}

/// The largest value of the engine type an [`DecodeError::OutOfRange`] names.
fn type_max(ty: &str) -> U256 {
    match ty {
        "u8" => U256::from(u8::MAX),
        "u64" => U256::from(u64::MAX),
        other => panic!("OutOfRange names an unknown type {other}"),
    }
}

/// Any log through the chain decoder. The input: one byte choosing the emitter (marketplace,
/// staking module, another contract), one byte with the topic count (low 3 bits, mod 5) and
/// whether the first topic is a known event's (high bit; then the next byte picks which), the
/// topics' remaining 32-byte words, then the data. Checks:
/// - it never panics; a log of another contract, with no topic, or of an event the engine does
///   not need is `Ok(None)`;
/// - an error is named: `OutOfRange` only for a value above its type's maximum, `Malformed`
///   with the ABI decoder's reason;
/// - the result depends only on the ABI values: the canonical re-encoding of what the ABI
///   decoder read (the contract's own encoding of those values) decodes to the same result.
pub fn chain_decode(data: &[u8]) {
    let events = known_events!(canonical);
    let [emitter, shape, rest @ ..] = data else {
        return;
    };
    let address = match emitter % 3 {
        0 => MARKETPLACE,
        1 => STAKING,
        _ => OTHER,
    };
    let count = usize::from(shape & 7) % 5;
    let (mut topics, mut rest) = (Vec::with_capacity(count), rest);
    if count > 0 && shape & 0x80 != 0 {
        let Some((pick, after)) = rest.split_first() else {
            return;
        };
        topics.push(events[usize::from(*pick) % events.len()].0);
        rest = after;
    }
    while topics.len() < count {
        let Some((word, after)) = rest.split_first_chunk::<32>() else {
            return;
        };
        topics.push(B256::from(*word));
        rest = after;
    }
    let log_data = LogData::new_unchecked(topics, LogBytes::copy_from_slice(rest));
    let decoded = decode_log(&SOURCES, &rpc_log(address, log_data.clone()));
    let topic0 = log_data.topics().first().copied();
    let known = topic0.and_then(|t| events.iter().find(|(hash, _)| *hash == t));
    if address == OTHER || known.is_none() {
        assert_eq!(decoded, Ok(None), "{log_data:?} from {address}");
    }
    match &decoded {
        Err(e @ DecodeError::OutOfRange { value, ty, .. }) => {
            assert!(*value > type_max(ty), "{e}");
        }
        Err(DecodeError::Malformed { detail, .. }) => assert!(!detail.is_empty()),
        Err(DecodeError::UnknownMode) | Ok(_) => {}
    }
    if let Some((_, reencode)) = known
        && !matches!(decoded, Err(DecodeError::UnknownMode))
        && let Some(canonical) = reencode(&log_data)
    {
        let again = decode_log(&SOURCES, &rpc_log(address, canonical.clone()));
        assert_eq!(again, decoded, "{log_data:?} re-encoded as {canonical:?}");
    }
}

// ---- http_request ------------------------------------------------------------------------------

/// An NSM that refuses every call: the fuzzed application attests nothing (its attestation
/// queue is empty and full, so `/attestation/*` answers `503 attestation_busy` after the nonce
/// is checked).
struct NoNsm;

impl Nsm for NoNsm {
    fn attestation(&self, _: &AttestationRequest) -> Result<Vec<u8>, NsmError> {
        Err(NsmError::Device("fuzzing".into()))
    }
    fn describe_pcr(&self, _: u16) -> Result<PcrDescription, NsmError> {
        Err(NsmError::Device("fuzzing".into()))
    }
    fn extend_pcr(&self, _: u16, _: &[u8]) -> Result<Vec<u8>, NsmError> {
        Err(NsmError::Device("fuzzing".into()))
    }
    fn lock_pcr(&self, _: u16) -> Result<(), NsmError> {
        Err(NsmError::Device("fuzzing".into()))
    }
    fn get_random(&self) -> Result<Vec<u8>, NsmError> {
        Err(NsmError::Device("fuzzing".into()))
    }
}

/// The error names of the API and the status each always comes with (`http.rs`).
const ERRORS: &[(&str, u16)] = &[
    ("bad_body", 400),
    ("bad_hash", 400),
    ("bad_id", 400),
    ("bad_nonce", 400),
    ("bad_request", 400),
    ("hash_mismatch", 400),
    ("not_private", 400),
    ("unknown_parameter", 400),
    ("nonce_too_long", 400),
    ("not_found", 404),
    ("unknown_ask", 404),
    ("unknown_inputs", 404),
    ("unknown_market", 404),
    ("method_not_allowed", 405),
    ("body_timeout", 408),
    ("inputs_unavailable", 409),
    ("not_assigned", 409),
    ("length_required", 411),
    ("body_not_allowed", 413),
    ("too_large", 413),
    ("uri_too_long", 414),
    ("inputs_valid", 422),
    ("no_input_check", 422),
    ("nsm_error", 500),
    ("signing_failed", 500),
    ("attestation_busy", 503),
    ("no_engine", 503),
    ("store_full", 503),
];

/// A client that sends its bytes, then waits for the answers without closing: the connection
/// ends when the server closes it (an answer with `Connection: close`, a bad head) or on the
/// server's timers (the head and body timeouts, the connection bound). (A client that closes
/// its side early gets no answer: hyper's `half_close(false)`.)
struct Client<'a>(&'a [u8]);

impl AsyncRead for Client<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.0.is_empty() {
            // Never woken: only the server's timers end the wait.
            return Poll::Pending;
        }
        let n = self.0.len().min(buf.remaining());
        buf.put_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Poll::Ready(Ok(()))
    }
}

/// One application with no chain, and the runtime its connections run on: its clock is paused
/// and jumps to the next timer whenever nothing else can run, so a connection waiting on a
/// timeout costs no real time.
struct Fixture {
    runtime: tokio::runtime::Runtime,
    server: Arc<Server>,
    shared: Arc<Shared>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("a current-thread runtime");
        let shared = Arc::new(Shared::without_chain(
            Identity::generate(Arc::new(NoNsm)),
            None,
        ));
        let owner = shared.clone();
        let attester =
            Attester::start(move |n| owner.identity.attest(n), 0, 0).expect("no workers");
        let server = Server::new(shared.clone(), attester, Limits::default());
        Fixture {
            runtime,
            server,
            shared,
        }
    })
}

/// A request head as the router received it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Head {
    method: Method,
    uri: Uri,
    version: Version,
    headers: HeaderMap,
}

impl Head {
    /// The head as HTTP/1 bytes (header names lowercased, each value as received).
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("{} {} {:?}\r\n", self.method, self.uri, self.version).into_bytes();
        for (name, value) in &self.headers {
            out.extend_from_slice(name.as_str().as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out
    }

    fn has_body(&self) -> bool {
        self.headers.contains_key(CONTENT_LENGTH) || self.headers.contains_key(TRANSFER_ENCODING)
    }
}

/// One response read back from the connection's output.
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    /// `HTTP/1.1`, or `HTTP/1.0` (hyper answers an HTTP/1.0 request in kind).
    version: Version,
    status: u16,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

impl Answer {
    /// The `error` name of a JSON error body.
    fn error_name(&self) -> Option<String> {
        let v: Value = serde_json::from_slice(&self.body).ok()?;
        v["error"].as_str().map(str::to_owned)
    }
}

/// Serves `input` as the bytes of one connection (then a client waiting for answers) with the
/// production connection settings, connection bound and router; returns the heads the router
/// saw and the bytes written.
fn serve(input: &[u8]) -> (Vec<Head>, Vec<u8>) {
    let f = fixture();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let server = f.server.clone();
    let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
        record.lock().expect("not poisoned").push(Head {
            method: req.method().clone(),
            uri: req.uri().clone(),
            version: req.version(),
            headers: req.headers().clone(),
        });
        let server = server.clone();
        async move { Ok::<_, std::convert::Infallible>(http::handle_request(&server, req).await) }
    });
    let mut io = tokio::io::join(Client(input), Vec::new());
    f.runtime.block_on(async {
        // Errors (a malformed head, a timeout) are hyper's to answer or not; what was written
        // is checked below. The bound is `serve_connection`'s in `http.rs`.
        let conn = f
            .server
            .http1()
            .serve_connection(TokioIo::new(&mut io), service);
        let _ = tokio::time::timeout(CONNECTION_TIMEOUT, conn).await;
    });
    // Inputs uploaded by this connection must not change the next one's answers.
    let _ = f.shared.uploads.drain();
    let (_, written) = io.into_inner();
    let seen = std::mem::take(&mut *seen.lock().expect("not poisoned"));
    (seen, written)
}

/// Splits a server's output into responses, each well-formed HTTP/1 with a `Content-Length`
/// body (none on the wire for an answer to `HEAD`); interim `100 Continue` answers are
/// dropped. Panics on anything else.
fn answers(mut out: &[u8], heads: &[Head]) -> Vec<Answer> {
    let mut answers = Vec::new();
    while !out.is_empty() {
        let end = out
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("a response head without its end: {out:?}"));
        let head = std::str::from_utf8(&out[..end]).expect("a response head is text");
        let mut lines = head.split("\r\n");
        let status_line = lines.next().expect("a status line");
        let (version, code) = match status_line.split_at_checked(9) {
            Some(("HTTP/1.1 ", code)) => (Version::HTTP_11, code),
            Some(("HTTP/1.0 ", code)) => (Version::HTTP_10, code),
            _ => panic!("not an HTTP/1 status line: {status_line:?}"),
        };
        let status: u16 = code
            .get(..3)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status code: {status_line:?}"));
        let mut headers = BTreeMap::new();
        for line in lines {
            let (name, value) = line
                .split_once(": ")
                .unwrap_or_else(|| panic!("not a header line: {line:?}"));
            assert!(
                headers
                    .insert(name.to_ascii_lowercase(), value.to_owned())
                    .is_none(),
                "{name} twice in {head:?}"
            );
        }
        out = &out[end + 4..];
        if status == 100 {
            continue;
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no Content-Length: {head:?}"));
        let on_wire = match heads.get(answers.len()) {
            Some(h) if h.method == Method::HEAD => 0,
            _ => len,
        };
        assert!(out.len() >= on_wire, "a body cut short: {head:?}");
        answers.push(Answer {
            version,
            status,
            headers,
            body: out[..on_wire].to_vec(),
        });
        out = &out[on_wire..];
    }
    answers
}

/// Checks one answer of the router: a documented status, and for an error a JSON body naming
/// one of the API's errors, with that error's status.
fn check_routed(head: &Head, answer: &Answer) {
    assert_eq!(answer.version, head.version, "{head:?}");
    if head.method == Method::HEAD {
        // No body on the wire: only the status can be checked.
        assert_eq!(answer.status, 405, "{head:?}");
        return;
    }
    match answer.status {
        200 | 201 => {}
        status => {
            assert_eq!(
                answer
                    .headers
                    .get(CONTENT_TYPE.as_str())
                    .map(String::as_str),
                Some("application/json"),
                "{head:?}"
            );
            let body: Value = serde_json::from_slice(&answer.body)
                .unwrap_or_else(|e| panic!("{head:?}: the error body is not JSON: {e}"));
            let name = body["error"].as_str().expect("an error name");
            assert!(body["message"].is_string(), "{head:?}: {body}");
            let documented = ERRORS.iter().find(|(n, _)| *n == name).map(|(_, s)| *s);
            assert_eq!(documented, Some(status), "{head:?}: {name} with {status}");
        }
    }
}

/// Any bytes as one connection to the HTTP API of an application with no chain. Checks:
/// - nothing panics, and the connection ends (closed by the server, or on its timers);
/// - the output is a sequence of well-formed HTTP/1 responses (of the request's version), one
///   for each request the router received, in order, plus at most one of hyper's own (a bad
///   head: no body);
/// - the router's answers have documented statuses, and its errors a JSON body naming one of
///   the API's errors with that error's status;
/// - each head the router received, written out again, reaches the router as the same head
///   (method, target, version, headers) and, for a request without a body, gets the same
///   status and error name: parsing and routing depend on the request, not on its spelling.
///   (Written out again, a head may grow past the head limit: then it gets hyper's 431 and
///   is not routed, as any head of that length.)
pub fn http_request(input: &[u8]) {
    let (heads, written) = serve(input);
    let got = answers(&written, &heads);
    assert!(
        got.len() == heads.len() || got.len() == heads.len() + 1,
        "{} requests routed, {} answers",
        heads.len(),
        got.len()
    );
    for (head, answer) in heads.iter().zip(&got) {
        check_routed(head, answer);
    }
    if let Some(own) = got.get(heads.len()) {
        assert!(
            own.status >= 400 && own.body.is_empty(),
            "hyper's answer: {own:?}"
        );
    }
    for (head, answer) in heads.iter().zip(&got) {
        let bytes = head.to_bytes();
        let (again, out) = serve(&bytes);
        if bytes.len() > MAX_HEADER_BYTES {
            // Written out again (CRLF line ends, ": " after each name) a head can be longer
            // than it came (bare LF, no space): past the head limit it is refused unrouted,
            // with hyper's 431, as any head of that length is.
            assert!(
                again.is_empty(),
                "{head:?} re-sent over the limit was routed"
            );
            let refused = answers(&out, &again);
            assert_eq!(
                refused.iter().map(|a| a.status).collect::<Vec<_>>(),
                [431],
                "{head:?} re-sent over the limit"
            );
            continue;
        }
        assert_eq!(again.first(), Some(head), "{head:?} re-sent");
        if !head.has_body() {
            let replayed = answers(&out, &again);
            let first = replayed.first().expect("an answer to the re-sent head");
            assert_eq!(
                (first.status, first.error_name()),
                (answer.status, answer.error_name()),
                "{head:?} re-sent"
            );
        }
    }
}
