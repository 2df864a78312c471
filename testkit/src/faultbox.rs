//! A fault box: a JSON-RPC pass-through on 127.0.0.1 in front of a node, whose behaviour is
//! switched at run time by its owner (in-process) to test what a client does with an RPC that
//! stalls, fails or lies.
//!
//! It serves HTTP/1.1 (keep-alive), forwards each request to the node over a connection of its
//! own per client connection, and passes the answer back, unless a [`Fault`] is injected:
//!
//! - [`Fault::Stall`]: each answer is held back for a while;
//! - [`Fault::HttpStatus`], [`Fault::RpcError`]: the node is not asked; the client gets an HTTP
//!   error status, or a JSON-RPC error object for every call;
//! - [`Fault::AlterLog`], [`Fault::WrongBlockHash`], [`Fault::WrongParentHash`]: lies in the
//!   node's answers to `eth_getLogs` and `eth_getBlockReceipts` (one log's data or topics) and
//!   `eth_getBlockByNumber` (the newest block's hash or parent hash), single calls and batches.
//!
//! Every fault is injected for a bounded time ([`FaultBox::inject`]) and ends on its own; a
//! held answer is released when its fault ends. Counters say what the box did.

use std::convert::Infallible;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use alloy::primitives::{B256, U256};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, TRANSFER_ENCODING};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

/// Largest request body forwarded.
const MAX_REQUEST: usize = 16 << 20;
/// Largest answer read from the node.
const MAX_ANSWER: usize = 256 << 20;
/// JSON-RPC error code of an injected error (`-32603`, internal error).
pub const INJECTED_ERROR_CODE: i64 = -32603;

/// How one log is altered by [`Fault::AlterLog`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogChange {
    /// The 32-byte word `n` of the data becomes zero (one if it was zero).
    ZeroDataWord(usize),
    /// Topic `n` (as a number) is increased by one.
    BumpTopic(usize),
}

/// A misbehaviour of the RPC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Every answer is held this long (never past the fault's end).
    Stall(Duration),
    /// Every request is answered with this HTTP status, without asking the node.
    HttpStatus(u16),
    /// Every call is answered with a JSON-RPC error object, without asking the node.
    RpcError,
    /// In each answer to `eth_getLogs` or `eth_getBlockReceipts`, the first log whose first
    /// topic is `event` (any log when `None`) is altered.
    AlterLog {
        /// The event's signature hash.
        event: Option<B256>,
        /// The alteration.
        change: LogChange,
    },
    /// In each answer with blocks of `eth_getBlockByNumber`, the newest block reports another
    /// hash.
    WrongBlockHash,
    /// The same, for its parent hash.
    WrongParentHash,
}

/// What the box did since it started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// HTTP requests received.
    pub requests: u64,
    /// Requests answered by a fault (held, refused or altered).
    pub faulted: u64,
    /// Logs altered.
    pub altered_logs: u64,
    /// Blocks whose hash or parent hash was altered.
    pub altered_blocks: u64,
    /// Requests the node did not answer (connection failed).
    pub upstream_errors: u64,
}

#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    faulted: AtomicU64,
    altered_logs: AtomicU64,
    altered_blocks: AtomicU64,
    upstream_errors: AtomicU64,
}

struct Shared {
    upstream: SocketAddr,
    fault: Mutex<Option<(Fault, Instant)>>,
    tally: Tally,
}

impl Shared {
    /// The fault in force now and when it ends.
    fn current(&self) -> Option<(Fault, Instant)> {
        let mut guard = self.fault.lock().unwrap_or_else(PoisonError::into_inner);
        match *guard {
            Some((_, until)) if Instant::now() >= until => {
                *guard = None;
                None
            }
            current => current,
        }
    }
}

/// A running fault box; stopped when dropped.
pub struct FaultBox {
    port: u16,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for FaultBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultBox")
            .field("port", &self.port)
            .field("upstream", &self.shared.upstream)
            .finish_non_exhaustive()
    }
}

impl FaultBox {
    /// Starts a box on a free loopback port in front of `upstream`, passing everything through.
    /// It runs on a thread of its own, so it keeps answering while its owner blocks.
    ///
    /// # Errors
    /// When no loopback port can be bound, or the thread or its runtime cannot start.
    pub fn start(upstream: SocketAddr) -> std::io::Result<FaultBox> {
        Self::start_on(0, upstream)
    }

    /// As [`FaultBox::start`], on `port` (0: a free one).
    ///
    /// # Errors
    /// When the port cannot be bound, or the thread or its runtime cannot start.
    pub fn start_on(port: u16, upstream: SocketAddr) -> std::io::Result<FaultBox> {
        let listener = StdListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            upstream,
            fault: Mutex::new(None),
            tally: Tally::default(),
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let serving = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("fault-box-{port}"))
            .spawn(move || runtime.block_on(serve(listener, serving, stopped)))?;
        Ok(FaultBox {
            port,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The loopback port it listens on.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Injects `fault` for `duration` (replacing any fault in force); it ends on its own.
    pub fn inject(&self, fault: Fault, duration: Duration) {
        *self
            .shared
            .fault
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some((fault, Instant::now() + duration));
    }

    /// Ends the fault in force, if any: everything passes through again.
    pub fn clear(&self) {
        *self
            .shared
            .fault
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// The fault in force, if any.
    #[must_use]
    pub fn current(&self) -> Option<Fault> {
        self.shared.current().map(|(f, _)| f)
    }

    /// What the box did so far.
    #[must_use]
    pub fn counters(&self) -> Counters {
        let t = &self.shared.tally;
        Counters {
            requests: t.requests.load(Ordering::Relaxed),
            faulted: t.faulted.load(Ordering::Relaxed),
            altered_logs: t.altered_logs.load(Ordering::Relaxed),
            altered_blocks: t.altered_blocks.load(Ordering::Relaxed),
            upstream_errors: t.upstream_errors.load(Ordering::Relaxed),
        }
    }
}

impl Drop for FaultBox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    listener: StdListener,
    shared: Arc<Shared>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                tokio::spawn(connection(stream, shared.clone()));
            }
        }
    }
}

/// One client connection, with a node connection of its own opened on first use.
async fn connection(stream: tokio::net::TcpStream, shared: Arc<Shared>) {
    let node: Arc<tokio::sync::Mutex<Option<SendRequest<Full<Bytes>>>>> = Arc::default();
    let service = hyper::service::service_fn(move |req| {
        let (shared, node) = (shared.clone(), node.clone());
        async move { Ok::<_, Infallible>(answer(&shared, &node, req).await) }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

fn plain(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r
}

fn json_response(status: StatusCode, value: &Value) -> Response<Full<Bytes>> {
    let mut r = plain(status, value.to_string());
    r.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

async fn answer(
    shared: &Shared,
    node: &tokio::sync::Mutex<Option<SendRequest<Full<Bytes>>>>,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    shared.tally.requests.fetch_add(1, Ordering::Relaxed);
    let (parts, body) = req.into_parts();
    let Ok(body) = Limited::new(body, MAX_REQUEST).collect().await else {
        return plain(StatusCode::PAYLOAD_TOO_LARGE, "request too large".into());
    };
    let body = body.to_bytes();
    let fault = shared.current();
    let faulted = || shared.tally.faulted.fetch_add(1, Ordering::Relaxed);
    match fault {
        Some((Fault::HttpStatus(code), _)) => {
            faulted();
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            return plain(status, format!("fault box: injected HTTP {code}"));
        }
        Some((Fault::RpcError, _)) => {
            if let Ok(request) = serde_json::from_slice::<Value>(&body) {
                faulted();
                return json_response(StatusCode::OK, &rpc_errors(&request));
            }
        }
        _ => {}
    }
    let mut forward = Request::builder()
        .method(parts.method)
        .uri(parts.uri)
        .header(HOST, shared.upstream.to_string());
    for (name, value) in &parts.headers {
        if name != HOST && name != CONTENT_LENGTH && name != TRANSFER_ENCODING {
            forward = forward.header(name, value);
        }
    }
    let Ok(forward) = forward.body(Full::new(body.clone())) else {
        return plain(StatusCode::BAD_REQUEST, "unforwardable request".into());
    };
    let Some((status, headers, answer)) = ask_node(shared, node, forward).await else {
        shared.tally.upstream_errors.fetch_add(1, Ordering::Relaxed);
        return plain(
            StatusCode::BAD_GATEWAY,
            "fault box: the node did not answer".into(),
        );
    };
    let answer = match fault {
        Some((Fault::Stall(hold), until)) => {
            faulted();
            tokio::time::sleep_until((Instant::now() + hold).min(until).into()).await;
            answer
        }
        Some((lie, _)) => match lie_in(&lie, &body, &answer) {
            Some((altered, count)) => {
                faulted();
                let counter = if matches!(lie, Fault::AlterLog { .. }) {
                    &shared.tally.altered_logs
                } else {
                    &shared.tally.altered_blocks
                };
                counter.fetch_add(count, Ordering::Relaxed);
                altered
            }
            None => answer,
        },
        None => answer,
    };
    let mut reply = Response::new(Full::new(answer));
    *reply.status_mut() = status;
    for (name, value) in &headers {
        if name != CONTENT_LENGTH && name != TRANSFER_ENCODING {
            reply.headers_mut().insert(name, value.clone());
        }
    }
    reply
}

/// Sends `req` on this connection's node connection (opened, or reopened once after a failure);
/// the whole answer.
async fn ask_node(
    shared: &Shared,
    node: &tokio::sync::Mutex<Option<SendRequest<Full<Bytes>>>>,
    req: Request<Full<Bytes>>,
) -> Option<(StatusCode, hyper::HeaderMap, Bytes)> {
    let mut node = node.lock().await;
    for _ in 0..2 {
        if node.as_ref().is_none_or(SendRequest::is_closed) {
            let stream = tokio::net::TcpStream::connect(shared.upstream).await.ok()?;
            let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .ok()?;
            tokio::spawn(conn);
            *node = Some(sender);
        }
        let sender = node.as_mut()?;
        if sender.ready().await.is_err() {
            *node = None;
            continue;
        }
        match sender.send_request(req.clone()).await {
            Ok(response) => {
                let (parts, body) = response.into_parts();
                let body = Limited::new(body, MAX_ANSWER).collect().await.ok()?;
                return Some((parts.status, parts.headers, body.to_bytes()));
            }
            Err(_) => *node = None,
        }
    }
    None
}

/// A JSON-RPC error object for every call of `request` (one call or a batch).
#[must_use]
pub fn rpc_errors(request: &Value) -> Value {
    let error = |call: &Value| {
        json!({
            "jsonrpc": "2.0",
            "id": call.get("id").cloned().unwrap_or(Value::Null),
            "error": {"code": INJECTED_ERROR_CODE, "message": "fault box: injected error"},
        })
    };
    match request {
        Value::Array(calls) => Value::Array(calls.iter().map(error).collect()),
        call => error(call),
    }
}

/// The node's `answer` to `request` with `lie` told in it, and how many logs or blocks were
/// altered; `None` when the answer has nothing the lie applies to (it passes unchanged).
#[must_use]
pub fn lie_in(lie: &Fault, request: &[u8], answer: &[u8]) -> Option<(Bytes, u64)> {
    let request: Value = serde_json::from_slice(request).ok()?;
    let mut answer: Value = serde_json::from_slice(answer).ok()?;
    let methods = methods_by_id(&request);
    let mut items: Vec<&mut Value> = match &mut answer {
        Value::Array(items) => items.iter_mut().collect(),
        item => vec![item],
    };
    let method_of = |item: &Value| {
        let id = item.get("id").map(Value::to_string).unwrap_or_default();
        methods
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    };
    let altered = match *lie {
        Fault::AlterLog { event, change } => {
            let mut count = 0;
            for item in items {
                let method = method_of(item);
                let Some(result) = item.get_mut("result") else {
                    continue;
                };
                let logs: Vec<&mut Value> = match method.as_str() {
                    "eth_getLogs" => result
                        .as_array_mut()
                        .map(|l| l.iter_mut().collect())
                        .unwrap_or_default(),
                    "eth_getBlockReceipts" => result
                        .as_array_mut()
                        .map(|receipts| {
                            receipts
                                .iter_mut()
                                .filter_map(|r| r.get_mut("logs").and_then(Value::as_array_mut))
                                .flat_map(|l| l.iter_mut())
                                .collect()
                        })
                        .unwrap_or_default(),
                    _ => continue,
                };
                if let Some(log) = logs.into_iter().find(|l| is_event(l, event))
                    && alter_log(log, change)
                {
                    count += 1;
                }
            }
            count
        }
        Fault::WrongBlockHash | Fault::WrongParentHash => {
            let field = if *lie == Fault::WrongBlockHash {
                "hash"
            } else {
                "parentHash"
            };
            items.retain(|item| method_of(item) == "eth_getBlockByNumber");
            let newest = items
                .into_iter()
                .filter_map(|item| item.get_mut("result").filter(|r| r.is_object()))
                .max_by_key(|block| quantity(block.get("number")));
            newest
                .and_then(|block| block.get_mut(field))
                .map_or(0, |hash| u64::from(flip_last_byte(hash)))
        }
        Fault::Stall(_) | Fault::HttpStatus(_) | Fault::RpcError => 0,
    };
    (altered > 0).then(|| (Bytes::from(answer.to_string()), altered))
}

/// `(id as JSON text, method)` of each call of a request.
fn methods_by_id(request: &Value) -> Vec<(String, String)> {
    let calls: Vec<&Value> = match request {
        Value::Array(calls) => calls.iter().collect(),
        call => vec![call],
    };
    calls
        .into_iter()
        .filter_map(|c| {
            Some((
                c.get("id")?.to_string(),
                c.get("method")?.as_str()?.to_owned(),
            ))
        })
        .collect()
}

fn is_event(log: &Value, event: Option<B256>) -> bool {
    let topic0 = log
        .get("topics")
        .and_then(|t| t.get(0))
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<B256>().ok());
    match event {
        None => true,
        Some(e) => topic0 == Some(e),
    }
}

fn alter_log(log: &mut Value, change: LogChange) -> bool {
    match change {
        LogChange::ZeroDataWord(n) => {
            let Some(data) = log
                .get("data")
                .and_then(Value::as_str)
                .and_then(|d| hex::decode(d.trim_start_matches("0x")).ok())
            else {
                return false;
            };
            let mut data = data;
            let Some(word) = data.get_mut(32 * n..32 * (n + 1)) else {
                return false;
            };
            if word.iter().all(|b| *b == 0) {
                word[31] = 1;
            } else {
                word.fill(0);
            }
            log["data"] = Value::from(format!("0x{}", hex::encode(data)));
            true
        }
        LogChange::BumpTopic(n) => {
            let Some(topic) = log
                .get("topics")
                .and_then(|t| t.get(n))
                .and_then(Value::as_str)
                .and_then(|t| t.parse::<B256>().ok())
            else {
                return false;
            };
            let bumped = U256::from_be_bytes(topic.0).wrapping_add(U256::from(1));
            log["topics"][n] = Value::from(B256::from(bumped).to_string());
            true
        }
    }
}

/// A hex quantity (`"0x1a"`) as a number (0 when absent or malformed).
fn quantity(v: Option<&Value>) -> u64 {
    v.and_then(Value::as_str)
        .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
        .unwrap_or(0)
}

fn flip_last_byte(hash: &mut Value) -> bool {
    let Some(parsed) = hash.as_str().and_then(|h| h.parse::<B256>().ok()) else {
        return false;
    };
    let mut bytes = parsed.0;
    bytes[31] ^= 0xff;
    *hash = Value::from(B256::from(bytes).to_string());
    true
}

#[cfg(test)]
mod tests;
