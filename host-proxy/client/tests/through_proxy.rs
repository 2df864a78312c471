//! End to end: alloy client → this transport → host-proxy (library core, enclave side
//! on a Unix socket) → HTTPS JSON-RPC server on 127.0.0.1 with a test CA.
#![allow(missing_docs)]

use std::convert::Infallible;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use alloy_json_rpc::RpcError;
use alloy_provider::{Provider, ProviderBuilder};
use alloy_rpc_client::{ClientBuilder, RpcClient};
use alloy_transport::{TransportError, TransportErrorKind};
use bytes::Bytes;
use host_proxy::{Config, Proxy};
use host_proxy_client::{Dialer, Error, HttpError, ProxyAddr, ProxyTransport, TlsError, Upstream};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;

/// Every network wait in these tests is bounded by this.
const BOUND: Duration = Duration::from_secs(20);
const NAME: &str = "rpc.test";

struct Ca(CertifiedIssuer<'static, KeyPair>);

impl Ca {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let key = KeyPair::generate().expect("CA key");
        Ca(CertifiedIssuer::self_signed(params, key).expect("CA self-signed"))
    }

    fn pem(&self) -> Vec<u8> {
        self.0.pem().into_bytes()
    }

    /// A server configuration with a leaf for `name` signed by this CA.
    fn server(&self, name: &str) -> Arc<rustls::ServerConfig> {
        let key = KeyPair::generate().expect("leaf key");
        let leaf = CertificateParams::new(vec![name.to_owned()])
            .expect("leaf params")
            .signed_by(&key, &self.0)
            .expect("leaf signed");
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone(), self.0.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .expect("server cert");
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }
}

type Body = BoxBody<Bytes, std::io::Error>;

/// Answers `eth_chainId` (31337) and `eth_blockNumber` (42, then closes the connection);
/// `test_truncate` gets a
/// response cut off mid-body (the connection is then closed).
async fn rpc(req: hyper::Request<Incoming>) -> Result<hyper::Response<Body>, Infallible> {
    assert_eq!(req.uri().path(), "/rpc", "request target from the URL");
    assert_eq!(
        req.headers()[hyper::header::HOST],
        NAME,
        "Host from the URL"
    );
    let body = req
        .into_body()
        .collect()
        .await
        .expect("request body")
        .to_bytes();
    let v: serde_json::Value = serde_json::from_slice(&body).expect("JSON request");
    let (id, method) = (v["id"].clone(), v["method"].as_str().unwrap_or_default());
    let huge;
    let result = match method {
        "eth_chainId" => "0x7a69",
        "eth_blockNumber" => "0x2a",
        "test_truncate" => {
            let chunks: Vec<Result<Frame<Bytes>, std::io::Error>> = vec![
                Ok(Frame::data(Bytes::from_static(
                    b"{\"jsonrpc\":\"2.0\",\"id\"",
                ))),
                Err(std::io::Error::other("upstream gone")),
            ];
            let body = StreamBody::new(futures_util::stream::iter(chunks));
            return Ok(hyper::Response::builder()
                .header(hyper::header::CONTENT_LENGTH, "1000")
                .body(BodyExt::boxed(body))
                .expect("response"));
        }
        "test_hang" => return Ok(std::future::pending().await),
        "test_huge" => {
            huge = "f".repeat(4096);
            &huge
        }
        other => panic!("unexpected method {other}"),
    };
    let out = serde_json::json!({"jsonrpc": "2.0", "id": id, "result": result});
    let connection = if method == "eth_blockNumber" {
        "close"
    } else {
        "keep-alive"
    };
    Ok(hyper::Response::builder()
        .header(hyper::header::CONNECTION, connection)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(
            Full::new(Bytes::from(out.to_string()))
                .map_err(|never| match never {})
                .boxed(),
        )
        .expect("response"))
}

/// Starts the HTTPS server; returns its port and a count of accepted connections.
async fn upstream(config: Arc<rustls::ServerConfig>) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    let acceptor = TlsAcceptor::from(config);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A refused handshake is the point of some tests.
                if let Ok(tls) = acceptor.accept(tcp).await {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service_fn(rpc))
                        .await;
                }
            });
        }
    });
    (port, accepted)
}

struct Setup {
    _dir: tempfile::TempDir,
    dialer: Dialer,
    accepted: Arc<AtomicUsize>,
    _stop: oneshot::Sender<()>,
}

/// Upstream server with `server` config, and the proxy route `l2` to it on a Unix socket.
async fn setup(server: Arc<rustls::ServerConfig>) -> Setup {
    let (port, accepted) = upstream(server).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = dir.path().join("l2.sock");
    let toml = format!(
        "[[route]]\nname = \"l2\"\nlisten = \"unix:{}\"\nconnect = \"tcp:127.0.0.1:{port}\"\nallow = [\"127.0.0.1/32\"]\n",
        sock.display()
    );
    let proxy = Proxy::bind(Config::parse(&toml).expect("config"))
        .await
        .expect("proxy bind");
    let (stop, rx) = oneshot::channel::<()>();
    tokio::spawn(proxy.serve(async move {
        let _ = rx.await;
    }));
    let dialer = Dialer::new(format!("unix:{}", sock.display()).parse().expect("addr"));
    assert!(matches!(dialer.addr(), ProxyAddr::Unix(p) if p == Path::new(&sock)));
    Setup {
        _dir: dir,
        dialer,
        accepted,
        _stop: stop,
    }
}

fn client(dialer: Dialer, roots_pem: &[u8]) -> RpcClient {
    client_with(dialer, roots_pem, BOUND, 1024)
}

fn client_with(dialer: Dialer, roots_pem: &[u8], timeout: Duration, max: usize) -> RpcClient {
    let upstream = Upstream::new(&format!("https://{NAME}/rpc"), roots_pem).expect("upstream");
    let transport = ProxyTransport::with_limits(dialer, upstream, timeout, max);
    ClientBuilder::default().transport(transport, false)
}

/// The named error inside an alloy transport error.
fn cause(e: &TransportError) -> &Error {
    match e {
        RpcError::Transport(TransportErrorKind::Custom(b)) => b
            .downcast_ref::<Error>()
            .expect("a host-proxy-client error"),
        other => panic!("expected a transport error, got {other:?}"),
    }
}

#[tokio::test]
async fn provider_round_trips_through_the_proxy_on_one_connection() {
    let ca = Ca::new("pinned root");
    let s = setup(ca.server(NAME)).await;
    let provider = ProviderBuilder::new().connect_client(client(s.dialer.clone(), &ca.pem()));
    let chain = tokio::time::timeout(BOUND, provider.get_chain_id())
        .await
        .expect("in time")
        .expect("eth_chainId");
    assert_eq!(chain, 31337);
    let block = tokio::time::timeout(BOUND, provider.get_block_number())
        .await
        .expect("in time")
        .expect("eth_blockNumber");
    assert_eq!(block, 42);
    assert_eq!(
        s.accepted.load(Ordering::SeqCst),
        1,
        "keep-alive reused the connection"
    );
}

#[tokio::test]
async fn a_root_that_is_not_pinned_is_refused() {
    let ca = Ca::new("pinned root");
    let s = setup(ca.server(NAME)).await;
    let other = Ca::new("some other root");
    let c = client(s.dialer.clone(), &other.pem());
    let err = tokio::time::timeout(BOUND, c.request_noparams::<String>("eth_chainId"))
        .await
        .expect("in time")
        .expect_err("unknown issuer must be refused");
    match cause(&err) {
        Error::Tls(TlsError::Handshake {
            server_name,
            source: rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        }) => assert_eq!(server_name, NAME),
        other => panic!("wrong error: {other:?}"),
    }
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused() {
    let ca = Ca::new("pinned root");
    let s = setup(ca.server("evil.test")).await;
    let c = client(s.dialer.clone(), &ca.pem());
    let err = tokio::time::timeout(BOUND, c.request_noparams::<String>("eth_chainId"))
        .await
        .expect("in time")
        .expect_err("wrong name must be refused");
    match cause(&err) {
        Error::Tls(TlsError::Handshake {
            source:
                rustls::Error::InvalidCertificate(
                    rustls::CertificateError::NotValidForName
                    | rustls::CertificateError::NotValidForNameContext { .. },
                ),
            ..
        }) => {}
        other => panic!("wrong error: {other:?}"),
    }
}

#[tokio::test]
async fn a_response_cut_off_mid_body_is_named_and_the_next_request_works() {
    let ca = Ca::new("pinned root");
    let s = setup(ca.server(NAME)).await;
    let c = client(s.dialer.clone(), &ca.pem());
    let err = tokio::time::timeout(BOUND, c.request_noparams::<String>("test_truncate"))
        .await
        .expect("in time")
        .expect_err("truncated response");
    assert!(
        matches!(cause(&err), Error::Http(HttpError::Closed(_))),
        "wrong error: {err:?}"
    );
    let chain = tokio::time::timeout(BOUND, c.request_noparams::<String>("eth_chainId"))
        .await
        .expect("in time")
        .expect("the next request opens a new connection");
    assert_eq!(chain, "0x7a69");
    assert_eq!(s.accepted.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_route_without_a_listener_is_a_dial_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dialer: Dialer = format!("unix:{}", dir.path().join("none.sock").display())
        .parse()
        .expect("addr");
    let c = client(dialer, &Ca::new("pinned root").pem());
    let err = tokio::time::timeout(BOUND, c.request_noparams::<String>("eth_chainId"))
        .await
        .expect("in time")
        .expect_err("nothing listens");
    assert!(matches!(cause(&err), Error::Dial { .. }), "{err:?}");
}

#[tokio::test]
async fn an_upstream_that_never_answers_times_out_and_the_next_request_works() {
    let ca = Ca::new("pinned root");
    let s = setup(ca.server(NAME)).await;
    let limit = Duration::from_millis(300);
    let c = client_with(s.dialer.clone(), &ca.pem(), limit, 1024);
    let err = tokio::time::timeout(BOUND, c.request_noparams::<String>("test_hang"))
        .await
        .expect("in time")
        .expect_err("no answer");
    assert!(
        matches!(cause(&err), Error::Timeout(d) if *d == limit),
        "{err:?}"
    );
    let chain = tokio::time::timeout(BOUND, c.request_noparams::<String>("eth_chainId"))
        .await
        .expect("in time")
        .expect("a new connection");
    assert_eq!(chain, "0x7a69");
}

#[tokio::test]
async fn a_response_larger_than_the_limit_is_refused() {
    let ca = Ca::new("pinned root");
    let s = setup(ca.server(NAME)).await;
    let c = client_with(s.dialer.clone(), &ca.pem(), BOUND, 1024);
    let err = tokio::time::timeout(BOUND, c.request_noparams::<String>("test_huge"))
        .await
        .expect("in time")
        .expect_err("4 KiB body over a 1 KiB limit");
    assert!(
        matches!(cause(&err), Error::Http(HttpError::TooLarge(1024))),
        "{err:?}"
    );
    let c = client_with(s.dialer.clone(), &ca.pem(), BOUND, 8192);
    let big = tokio::time::timeout(BOUND, c.request_noparams::<String>("test_huge"))
        .await
        .expect("in time")
        .expect("under the limit");
    assert_eq!(big.len(), 4096);
}

#[tokio::test]
async fn a_connection_the_upstream_closed_is_not_reused() {
    let ca = Ca::new("pinned root");
    let s = setup(ca.server(NAME)).await;
    let c = client(s.dialer.clone(), &ca.pem());
    for (method, want) in [
        ("eth_blockNumber", "0x2a"),
        ("eth_chainId", "0x7a69"),
        ("eth_chainId", "0x7a69"),
    ] {
        let got = tokio::time::timeout(BOUND, c.request_noparams::<String>(method))
            .await
            .expect("in time")
            .expect(method);
        assert_eq!(got, want);
    }
    // `Connection: close` after the first answer: a second connection, then reused.
    assert_eq!(s.accepted.load(Ordering::SeqCst), 2);
}
