//! The engine API's limits (and the `STATUS` listener's), in one place: the HTTP server (`http.rs`), its admission of
//! connections (`admission.rs`) and its attestation workers (`attest.rs`) read them, and so
//! does the test that keeps the host proxy's example configuration within them
//! (`tests/limits.rs`, which includes this file).
//!
//! A **peer** is who a connection comes from as the listener sees it: the vsock CID (inside
//! the enclave every connection comes from the parent, CID 3, that is from the host proxy,
//! which alone sees the real clients and limits each of them), the source IP address on TCP
//! (local simulation), and one peer for a Unix socket.

use std::time::Duration;

/// Connections held at once: reading a request head, idle between keep-alive requests, or
/// being answered. A host proxy route to the engine API must pass at most this many.
///
/// When every slot is taken, a new connection takes the slot of a connection that is not
/// being answered (still sending its head, or idle after an answer): the oldest one of the
/// peer that holds the most connections. So slow or idle clients cannot shut others out, and
/// no peer keeps slots another peer is waiting for.
pub(crate) const MAX_CONNECTIONS: usize = 512;

/// New connections that wait for a slot when every held connection is being answered; one
/// more is answered `503` at once.
pub(crate) const ACCEPT_QUEUE: usize = 64;

/// How long a queued connection waits for a slot before it is answered `503`.
pub(crate) const QUEUE_WAIT: Duration = Duration::from_secs(2);

/// `503` answers being written at once; beyond that a refused connection is closed unanswered
/// (a flood that outruns even the refusals).
pub(crate) const MAX_REFUSING: usize = 64;

/// Time allowed to write a `503` answer and see the client close.
pub(crate) const REFUSAL_TIMEOUT: Duration = Duration::from_secs(1);

/// The `Retry-After` of every `503` (seconds).
pub(crate) const RETRY_AFTER_S: u64 = 1;

/// Time allowed for a whole request head, from its first byte or, on a kept-alive
/// connection, from the end of the previous answer (so it is also the keep-alive idle time).
pub(crate) const HEADER_TIMEOUT: Duration = Duration::from_secs(3);

/// Time allowed for a whole connection, whatever it does.
pub(crate) const CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest request head (hyper's smallest buffer). Requests carry no body: one that announces
/// a body is answered `413` unread and its connection closed.
pub(crate) const MAX_HEADER_BYTES: usize = 8192;

/// Longest request URI.
pub(crate) const MAX_URI: usize = 1024;

/// Threads that call the NSM for `/attestation/*` (the NSM serialises its requests anyway).
pub(crate) const ATTESTATION_WORKERS: usize = 2;

/// Distinct attestation requests waiting for a worker; one more is answered `503`.
/// Requests with the nonce of a waiting or running one share its NSM call.
pub(crate) const ATTESTATION_QUEUE: usize = 16;

/// How long a request waits for its document (queue and NSM call) before it is answered
/// `503`.
pub(crate) const ATTESTATION_TIMEOUT: Duration = Duration::from_secs(10);

/// `STATUS` clients held at once (each at most 5 s); when full, a new client takes the place
/// of the oldest.
pub(crate) const MAX_STATUS_CONNECTIONS: usize = 64;

/// Longest wait for a request body (uploads, statements) once its head is in.
pub(crate) const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest JSON request body (`POST /invalid-inputs`).
pub(crate) const MAX_JSON_BODY: usize = 1024;
