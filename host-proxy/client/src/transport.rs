//! The alloy transport: JSON-RPC over HTTP/1.1 over TLS over a proxy connection.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use alloy_json_rpc::{RequestPacket, ResponsePacket};
use alloy_transport::{TransportError, TransportErrorKind};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header;
use hyper_util::rt::TokioIo;

use crate::dial::Dialer;
use crate::error::{Error, HttpError};
use crate::tls::Upstream;

/// Time one request may take, connection set-up included, unless set otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest response body accepted unless set otherwise (large `eth_getLogs` answers fit;
/// a host or upstream streaming without end does not exhaust the enclave's memory).
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 << 20;

/// A `Clone` alloy transport (`tower::Service<RequestPacket>`) reaching one upstream
/// through one proxy route. Clones share one idle keep-alive connection; a request
/// that finds none (or finds it closed) opens a new one.
///
/// Plug it in with `alloy_rpc_client::ClientBuilder::default().transport(t, false)`.
#[derive(Clone, Debug)]
pub struct ProxyTransport {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    dialer: Dialer,
    upstream: Upstream,
    timeout: Duration,
    max_response_bytes: usize,
    idle: Mutex<Option<SendRequest<Full<Bytes>>>>,
}

impl ProxyTransport {
    /// A transport to `upstream` through the proxy route `dialer` reaches.
    pub fn new(dialer: Dialer, upstream: Upstream) -> Self {
        Self::with_limits(
            dialer,
            upstream,
            DEFAULT_TIMEOUT,
            DEFAULT_MAX_RESPONSE_BYTES,
        )
    }

    /// Like [`ProxyTransport::new`] with a per-request time limit (connection set-up
    /// included) and a largest accepted response body.
    pub fn with_limits(
        dialer: Dialer,
        upstream: Upstream,
        timeout: Duration,
        max_response_bytes: usize,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                dialer,
                upstream,
                timeout,
                max_response_bytes,
                idle: Mutex::new(None),
            }),
        }
    }

    /// Sends one JSON-RPC packet and returns the response packet.
    pub async fn send(&self, req: RequestPacket) -> Result<ResponsePacket, TransportError> {
        let headers = req.headers();
        let body = req.serialize().map_err(TransportError::ser_err)?;
        let body = Bytes::copy_from_slice(body.get().as_bytes());
        let timeout = self.inner.timeout;
        let (status, body) = tokio::time::timeout(timeout, self.exchange(&headers, body))
            .await
            .unwrap_or(Err(Error::Timeout(timeout)))
            .map_err(TransportErrorKind::custom)?;
        if !status.is_success() {
            return Err(TransportErrorKind::http_error(
                status.as_u16(),
                String::from_utf8_lossy(&body).into_owned(),
            ));
        }
        serde_json::from_slice(&body)
            .map_err(|e| TransportError::deser_err(e, String::from_utf8_lossy(&body)))
    }

    async fn exchange(
        &self,
        headers: &hyper::HeaderMap,
        body: Bytes,
    ) -> Result<(hyper::StatusCode, Bytes), Error> {
        let up = &self.inner.upstream;
        let mut builder = hyper::Request::post(up.path())
            .header(header::HOST, up.authority())
            .header(header::CONTENT_TYPE, "application/json");
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        let request = builder.body(Full::new(body)).map_err(HttpError::Request)?;

        let (sender, response) = match self.take_idle().await {
            Some(mut idle) => match idle.try_send_request(request).await {
                Ok(response) => (idle, response),
                // The idle connection closed before the request was written: nothing
                // reached the upstream, so sending it on a new connection is safe.
                Err(mut e) => match e.take_message() {
                    Some(request) => self.open_and_send(request).await?,
                    None => return Err(HttpError::exchange(e.into_error()).into()),
                },
            },
            None => self.open_and_send(request).await?,
        };
        let status = response.status();
        let limit = self.inner.max_response_bytes;
        let body = Limited::new(response.into_body(), limit)
            .collect()
            .await
            .map_err(|e| match e.downcast::<hyper::Error>() {
                Ok(e) => HttpError::exchange(*e),
                Err(e) if e.is::<LengthLimitError>() => HttpError::TooLarge(limit),
                Err(e) => HttpError::Body(e),
            })?
            .to_bytes();
        // The whole response was read: the connection can carry the next request.
        self.put_idle(sender);
        Ok((status, body))
    }

    /// Opens a new connection and sends `request` on it.
    async fn open_and_send(
        &self,
        request: hyper::Request<Full<Bytes>>,
    ) -> Result<(SendRequest<Full<Bytes>>, hyper::Response<Incoming>), Error> {
        let mut sender = self.open().await?;
        let response = sender
            .send_request(request)
            .await
            .map_err(HttpError::exchange)?;
        Ok((sender, response))
    }

    /// The idle connection, if it is still open.
    async fn take_idle(&self) -> Option<SendRequest<Full<Bytes>>> {
        let mut sender = self
            .inner
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()?;
        sender.ready().await.ok().map(|()| sender)
    }

    fn put_idle(&self, sender: SendRequest<Full<Bytes>>) {
        let mut idle = self
            .inner
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if idle.is_none() {
            *idle = Some(sender);
        }
    }

    /// Dials the proxy, runs TLS with the upstream and the HTTP/1.1 handshake.
    async fn open(&self) -> Result<SendRequest<Full<Bytes>>, Error> {
        let io = self.inner.dialer.connect().await?;
        let tls = self.inner.upstream.handshake(io).await?;
        let (sender, conn) = http1::handshake(TokioIo::new(tls))
            .await
            .map_err(HttpError::Handshake)?;
        // Drives the connection; ends when it closes or every sender is dropped. Its
        // error (if any) also reaches the request in flight, which reports it.
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }
}

impl tower::Service<RequestPacket> for ProxyTransport {
    type Response = ResponsePacket;
    type Error = TransportError;
    type Future = Pin<Box<dyn Future<Output = Result<ResponsePacket, TransportError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: RequestPacket) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { this.send(req).await })
    }
}
