//! The hand-off in process: giving enclaves behind the real HTTP API on Unix sockets, newcomers
//! dialling them through the proxy client's dialer, dev NSMs for both, and a registry stand-in
//! per side (`tests/e2e.rs` runs the hand-off between app processes against the contracts on
//! anvil).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use nitro_attestation::dev::{DevNsm, DevNsmConfig};
use nitro_attestation::{FixedClock, SystemClock};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::*;
use crate::attest::Attester;
use crate::http::{Limits, serve};
use crate::listen::{ListenAddr, Listener};
use crate::service::Shared;

const IMAGE: [u8; 3] = [0x11, 0x22, 0x33];
const OTHER_IMAGE: [u8; 3] = [0x11, 0x22, 0x44];
const CHAIN_ID: u64 = 31337;

fn registry() -> Address {
    Address::repeat_byte(0xe7)
}

fn pcrs(image: [u8; 3]) -> ImagePcrs {
    ImagePcrs {
        pcr0: [image[0]; 48].into(),
        pcr1: [image[1]; 48].into(),
        pcr2: [image[2]; 48].into(),
        pcr8: None,
    }
}

fn image_id(image: [u8; 3]) -> B256 {
    B256::from(pcrs(image).image_id())
}

fn dev_nsm(image: [u8; 3]) -> Arc<DevNsm> {
    Arc::new(
        DevNsm::new(DevNsmConfig::image(
            [image[0]; 48],
            [image[1]; 48],
            [image[2]; 48],
        ))
        .unwrap(),
    )
}

/// A dev NSM whose clock is `offset_ms` away from now (a stale or future document).
fn skewed_nsm(image: [u8; 3], offset_ms: i64) -> Arc<DevNsm> {
    let now = SystemClock.now_ms();
    let at = now.saturating_add_signed(offset_ms);
    Arc::new(
        DevNsm::new(
            DevNsmConfig::image([image[0]; 48], [image[1]; 48], [image[2]; 48])
                .with_clock(Arc::new(FixedClock(at))),
        )
        .unwrap(),
    )
}

fn scope(image: [u8; 3]) -> Scope {
    Scope {
        trust: Trust::DangerDevCa,
        pcrs: pcrs(image),
        chain_id: CHAIN_ID,
        registry: registry(),
        max_age_ms: 300_000,
        clock: Arc::new(SystemClock),
    }
}

/// One side's view of the registry.
#[derive(Default)]
struct FakeChain {
    images: Mutex<HashMap<B256, bool>>,
    keys: Mutex<HashMap<Address, KeyOnChain>>,
}

impl FakeChain {
    /// `image` live, and `key` live for it.
    fn with(image: B256, key: Option<Address>) -> Arc<Self> {
        let chain = Self::default();
        chain.images.lock().unwrap().insert(image, true);
        if let Some(key) = key {
            chain
                .keys
                .lock()
                .unwrap()
                .insert(key, KeyOnChain { live: true, image });
        }
        Arc::new(chain)
    }

    fn revoke(&self, image: B256) {
        self.images.lock().unwrap().insert(image, false);
    }
}

impl ChainView for FakeChain {
    fn image_live(&self, image: B256) -> ChainFuture<'_, bool> {
        let live = self
            .images
            .lock()
            .unwrap()
            .get(&image)
            .copied()
            .unwrap_or(false);
        Box::pin(async move { Ok(live) })
    }

    fn key(&self, key: Address) -> ChainFuture<'_, KeyOnChain> {
        let record = self
            .keys
            .lock()
            .unwrap()
            .get(&key)
            .copied()
            .unwrap_or(KeyOnChain {
                live: false,
                image: B256::ZERO,
            });
        Box::pin(async move { Ok(record) })
    }
}

fn address(identity: &Identity) -> Address {
    Address::from(identity.address().0)
}

/// A giving enclave of `image` holding `identity`, its registry view `chain`, serving the HTTP
/// API on a Unix socket in `dir`.
async fn giver(
    dir: &Path,
    name: &str,
    image: [u8; 3],
    identity: Identity,
    chain: Arc<dyn ChainView>,
) -> (host_proxy_client::ProxyAddr, Arc<Shared>) {
    let path = dir.join(format!("{name}.sock"));
    let listener = Listener::bind(&ListenAddr::Unix(path.clone()))
        .await
        .unwrap();
    let shared = Arc::new(Shared::without_chain(
        identity,
        Some(Giver::new(scope(image), chain)),
    ));
    let owner = shared.clone();
    let attester = Attester::start(move |n| owner.identity.attest(n), 1, 4).unwrap();
    tokio::spawn(serve(listener, shared.clone(), attester, Limits::default()));
    (host_proxy_client::ProxyAddr::Unix(path), shared)
}

/// A first replica of `image`: generated identity, registered live in `chain`.
async fn first_replica(
    dir: &Path,
    image: [u8; 3],
) -> (host_proxy_client::ProxyAddr, Arc<Shared>, Arc<FakeChain>) {
    let identity = Identity::generate(dev_nsm(image));
    let chain = FakeChain::with(image_id(image), Some(address(&identity)));
    let (addr, shared) = giver(dir, "first", image, identity, chain.clone()).await;
    (addr, shared, chain)
}

/// A newcomer's request: an attested ephemeral key (with `nonce`) from `nsm`.
fn request_from(nsm: &dyn Nsm, user_data: Vec<u8>, nonce: Option<Vec<u8>>) -> Vec<u8> {
    nsm.attestation(&AttestationRequest {
        public_key: None,
        user_data: Some(user_data),
        nonce,
    })
    .unwrap()
}

fn request(nsm: &dyn Nsm) -> Vec<u8> {
    let key = EncryptionKey::random(&mut OsRng);
    request_from(nsm, key.public_key().to_bytes().to_vec(), Some(vec![7; 32]))
}

/// The one failure of a one-peer [`receive`].
fn only_failure(result: Result<Identity, Vec<(String, HandoffError)>>) -> HandoffError {
    let Err(mut failures) = result else {
        panic!("the identity was handed over");
    };
    assert_eq!(failures.len(), 1);
    failures.remove(0).1
}

fn refused(e: &HandoffError) -> (u16, &str) {
    match e {
        HandoffError::Refused { status, name } => (*status, name.as_str()),
        other => panic!("expected a refusal, got {} ({other})", other.name()),
    }
}

#[tokio::test]
async fn a_newcomer_of_the_same_image_receives_the_identity() {
    let dir = tempfile::tempdir().unwrap();
    let (peer, first, chain) = first_replica(dir.path(), IMAGE).await;
    let dead = host_proxy_client::ProxyAddr::Unix(dir.path().join("nobody.sock"));
    let nsm = dev_nsm(IMAGE);
    let identity = receive(
        &scope(IMAGE),
        chain.as_ref(),
        nsm,
        &[dead.clone(), peer.clone()],
    )
    .await
    .expect("handed over by the second peer");
    assert_eq!(identity.address(), first.identity.address());
    assert_eq!(identity.public_key(), first.identity.public_key());
    assert_eq!(identity.user_data(), first.identity.user_data());
    assert_eq!(identity.origin(), &Origin::Peer(peer.to_string()));
    // The same secrets: what one signs, the other signs identically (RFC 6979).
    assert_eq!(
        identity.secrets().engine.as_ref(),
        first.identity.secrets().engine.as_ref()
    );

    // The newcomer hands it on in turn, and /status says where each got it.
    let (second, _) = giver(dir.path(), "second", IMAGE, identity, chain.clone()).await;
    let third = receive(
        &scope(IMAGE),
        chain.as_ref(),
        dev_nsm(IMAGE),
        std::slice::from_ref(&second),
    )
    .await
    .expect("handed over by the second replica");
    assert_eq!(third.address(), first.identity.address());
    let status = |addr: &host_proxy_client::ProxyAddr| {
        let host_proxy_client::ProxyAddr::Unix(path) = addr else {
            unreachable!()
        };
        let path = path.clone();
        async move { get_status(&path).await }
    };
    assert_eq!(
        status(&peer).await["identity"],
        serde_json::json!({"source": "generated"})
    );
    assert_eq!(
        status(&second).await["identity"],
        serde_json::json!({"source": "peer", "peer": peer.to_string()})
    );
}

async fn get_status(path: &Path) -> serde_json::Value {
    let (status, body) = raw_exchange(
        path,
        b"GET /status HTTP/1.1\r\nHost: e\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, 200);
    serde_json::from_slice(&body).unwrap()
}

#[tokio::test]
async fn a_newcomer_of_another_image_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (peer, _, _) = first_replica(dir.path(), IMAGE).await;
    // Even with a registry that calls the other image live and registered.
    let chain = FakeChain::with(image_id(OTHER_IMAGE), None);
    let e = only_failure(
        receive(
            &scope(OTHER_IMAGE),
            chain.as_ref(),
            dev_nsm(OTHER_IMAGE),
            &[peer],
        )
        .await,
    );
    assert_eq!(refused(&e), (403, "other_image"));
}

#[tokio::test]
async fn a_revoked_image_neither_gives_nor_receives() {
    let dir = tempfile::tempdir().unwrap();
    let (peer, first, chain) = first_replica(dir.path(), IMAGE).await;
    // The newcomer's registry view still calls the image live; the peer's says revoked.
    let newcomer_chain = FakeChain::with(image_id(IMAGE), Some(address(&first.identity)));
    chain.revoke(image_id(IMAGE));
    let e = only_failure(
        receive(
            &scope(IMAGE),
            newcomer_chain.as_ref(),
            dev_nsm(IMAGE),
            std::slice::from_ref(&peer),
        )
        .await,
    );
    assert_eq!(refused(&e), (403, "image_not_live"));

    // The peer's view calls it live; the newcomer's says revoked: it refuses what it got.
    let dir = tempfile::tempdir().unwrap();
    let (peer, first, _) = first_replica(dir.path(), IMAGE).await;
    let newcomer_chain = FakeChain::with(image_id(IMAGE), Some(address(&first.identity)));
    newcomer_chain.revoke(image_id(IMAGE));
    let e = only_failure(
        receive(
            &scope(IMAGE),
            newcomer_chain.as_ref(),
            dev_nsm(IMAGE),
            &[peer],
        )
        .await,
    );
    assert!(
        matches!(e, HandoffError::ImageNotLive(id) if id == image_id(IMAGE)),
        "{e}"
    );
}

#[tokio::test]
async fn a_peer_whose_key_is_not_live_is_refused_by_the_newcomer() {
    let dir = tempfile::tempdir().unwrap();
    // A fake peer of the right image with an unregistered key, whose registry view lies.
    let (peer, fake, _) = first_replica(dir.path(), IMAGE).await;
    let truthful = FakeChain::with(image_id(IMAGE), None);
    let e = only_failure(
        receive(
            &scope(IMAGE),
            truthful.as_ref(),
            dev_nsm(IMAGE),
            std::slice::from_ref(&peer),
        )
        .await,
    );
    assert!(
        matches!(e, HandoffError::KeyNotLive(k) if k == address(&fake.identity)),
        "{e}"
    );

    // Live, but attested by another image of the family.
    truthful.keys.lock().unwrap().insert(
        address(&fake.identity),
        KeyOnChain {
            live: true,
            image: image_id(OTHER_IMAGE),
        },
    );
    let e = only_failure(receive(&scope(IMAGE), truthful.as_ref(), dev_nsm(IMAGE), &[peer]).await);
    assert!(matches!(e, HandoffError::KeyOfOtherImage { .. }), "{e}");

    // A giver whose own key is not live on its view does not hand it over.
    let dir = tempfile::tempdir().unwrap();
    let lapsed = FakeChain::with(image_id(IMAGE), None);
    let (peer, _) = giver(
        dir.path(),
        "lapsed",
        IMAGE,
        Identity::generate(dev_nsm(IMAGE)),
        lapsed.clone(),
    )
    .await;
    let e = only_failure(receive(&scope(IMAGE), lapsed.as_ref(), dev_nsm(IMAGE), &[peer]).await);
    assert_eq!(refused(&e), (503, "identity_not_live"));
}

#[tokio::test]
async fn replayed_stale_and_future_requests_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (peer, _, _) = first_replica(dir.path(), IMAGE).await;
    let nsm = dev_nsm(IMAGE);
    let req = request(nsm.as_ref());
    let answer = post(&peer, req.clone()).await.expect("answered once");
    let (document, sealed) = decode_answer(&answer).unwrap();
    assert_eq!(sealed.len(), SEALED_IDENTITY_LEN);
    let claims = nitro_attestation::read_unverified(document).unwrap();
    assert_eq!(
        claims.nonce.as_deref(),
        Some(alloy::primitives::keccak256(&req).as_slice())
    );
    let e = post(&peer, req).await.unwrap_err();
    assert_eq!(refused(&e), (409, "replayed"));

    for offset_ms in [-301_000, -3_600_000, 60_000] {
        let req = request(skewed_nsm(IMAGE, offset_ms).as_ref());
        let e = post(&peer, req).await.unwrap_err();
        assert_eq!(
            refused(&e),
            (403, "stale_document"),
            "offset {offset_ms} ms"
        );
    }
    // Within the skew and the window: answered.
    let req = request(skewed_nsm(IMAGE, -60_000).as_ref());
    post(&peer, req).await.expect("a minute old is fresh");
}

/// Sends raw bytes to `path`: (status, body).
async fn raw_exchange(path: &Path, request: &[u8]) -> (u16, Vec<u8>) {
    let mut s = tokio::net::UnixStream::connect(path).await.unwrap();
    let _ = s.write_all(request).await;
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut raw)).await;
    testkit::http::parse_response(&raw).expect("an answer")
}

fn post_request(body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST /identity/handoff HTTP/1.1\r\nHost: e\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn error_name(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body).unwrap()["error"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn bad_bodies_get_named_client_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (peer, _, _) = first_replica(dir.path(), IMAGE).await;
    let host_proxy_client::ProxyAddr::Unix(path) = &peer else {
        unreachable!()
    };
    let nsm = dev_nsm(IMAGE);
    let key = EncryptionKey::random(&mut OsRng)
        .public_key()
        .to_bytes()
        .to_vec();
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("empty", Vec::new(), 400, "bad_document"),
        ("junk", vec![0xa5; 300], 400, "bad_document"),
        (
            "truncated",
            request(nsm.as_ref())[..200].to_vec(),
            400,
            "bad_document",
        ),
        (
            "no nonce",
            request_from(nsm.as_ref(), key.clone(), None),
            400,
            "bad_nonce",
        ),
        (
            "short nonce",
            request_from(nsm.as_ref(), key.clone(), Some(vec![1; 16])),
            400,
            "bad_nonce",
        ),
        (
            "user_data no key",
            request_from(nsm.as_ref(), vec![0x04; 33], Some(vec![2; 32])),
            400,
            "bad_user_data",
        ),
        (
            "user_data uncompressed",
            request_from(nsm.as_ref(), vec![0x02; 65], Some(vec![3; 32])),
            400,
            "bad_user_data",
        ),
    ];
    for (what, body, status, name) in cases {
        let (got, answer) = raw_exchange(path, &post_request(&body)).await;
        assert_eq!(
            (got, error_name(&answer).as_str()),
            (status, name),
            "{what}"
        );
    }
    // Larger than a document: refused unread.
    let (got, answer) = raw_exchange(
        path,
        b"POST /identity/handoff HTTP/1.1\r\nHost: e\r\nContent-Length: 16385\r\n\r\n",
    )
    .await;
    assert_eq!((got, error_name(&answer).as_str()), (413, "too_large"));
    let (got, answer) = raw_exchange(
        path,
        b"POST /identity/handoff HTTP/1.1\r\nHost: e\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    )
    .await;
    assert_eq!(
        (got, error_name(&answer).as_str()),
        (411, "length_required")
    );
    let (got, answer) = raw_exchange(
        path,
        b"GET /identity/handoff HTTP/1.1\r\nHost: e\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!((got, error_name(&answer).as_str()), (404, "not_found"));
    // Still serving.
    post(&peer, request(nsm.as_ref()))
        .await
        .expect("a good request");
}

#[tokio::test]
async fn production_trust_refuses_dev_documents() {
    let nsm = dev_nsm(IMAGE);
    let identity = Identity::generate(nsm.clone());
    let chain = FakeChain::with(image_id(IMAGE), Some(address(&identity)));
    let production = Giver::new(
        Scope {
            trust: Trust::Aws,
            ..scope(IMAGE)
        },
        chain,
    );
    let e = production
        .admit(&request(nsm.as_ref()), address(&identity))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, HandoffError::Untrusted(inner) if inner.code() == "chain.untrusted_root"),
        "{e}"
    );
    assert_eq!((e.status(), e.name()), (403, "untrusted_document"));
}

/// A peer that answers every request with `answer(request)`.
async fn scripted_peer(
    dir: &Path,
    answer: impl Fn(&[u8]) -> Vec<u8> + Send + Sync + 'static,
) -> host_proxy_client::ProxyAddr {
    let path: PathBuf = dir.join("scripted.sock");
    let listener = tokio::net::UnixListener::bind(&path).unwrap();
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let answer = answer.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let answer = answer.clone();
                        async move {
                            let body = req.into_body().collect().await.unwrap().to_bytes();
                            Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                                Bytes::from(answer(&body)),
                            )))
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    host_proxy_client::ProxyAddr::Unix(path)
}

#[tokio::test]
async fn answers_that_do_not_answer_this_request_or_bind_other_keys_are_refused() {
    let peer_nsm = dev_nsm(IMAGE);
    let identity = Arc::new(Identity::generate(peer_nsm.clone()));
    let chain = FakeChain::with(image_id(IMAGE), Some(address(&identity)));

    // Sealed for this request, but the document is for another nonce.
    let dir = tempfile::tempdir().unwrap();
    let id = identity.clone();
    let peer = scripted_peer(dir.path(), move |req| {
        let admitted = sealable(req);
        let document = id.attest(Some(vec![9; 32])).unwrap();
        Giver::new(scope(IMAGE), FakeChain::with(B256::ZERO, None))
            .answer(&admitted, &id, &document)
            .unwrap()
    })
    .await;
    let e = only_failure(receive(&scope(IMAGE), chain.as_ref(), dev_nsm(IMAGE), &[peer]).await);
    assert!(matches!(e, HandoffError::NonceMismatch), "{e}");

    // The document binds the peer's identity; the sealed secrets are another one's.
    let dir = tempfile::tempdir().unwrap();
    let id = identity.clone();
    let other = Arc::new(Identity::generate(peer_nsm.clone()));
    let peer = scripted_peer(dir.path(), move |req| {
        let admitted = sealable(req);
        let document = id.attest(Some(admitted.answer_nonce())).unwrap();
        Giver::new(scope(IMAGE), FakeChain::with(B256::ZERO, None))
            .answer(&admitted, &other, &document)
            .unwrap()
    })
    .await;
    let e = only_failure(receive(&scope(IMAGE), chain.as_ref(), dev_nsm(IMAGE), &[peer]).await);
    assert!(matches!(e, HandoffError::EngineKeyMismatch), "{e}");

    // Junk, and a document with no identity after it.
    for (junk, name) in [
        (vec![0u8; 10], "bad_answer"),
        (vec![0, 3, 1, 2, 3], "bad_answer"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let peer = scripted_peer(dir.path(), move |_| junk.clone()).await;
        let e = only_failure(receive(&scope(IMAGE), chain.as_ref(), dev_nsm(IMAGE), &[peer]).await);
        assert_eq!(e.name(), name, "{e}");
    }
}

/// What a giver would admit of `request`, without its checks (a scripted peer's view).
fn sealable(request: &[u8]) -> Admitted {
    let claims = nitro_attestation::read_unverified(request).unwrap();
    Admitted {
        binding: scope(IMAGE).binding(request),
        newcomer: EncryptionPublicKey::from_slice(claims.user_data.as_deref().unwrap()).unwrap(),
    }
}

#[test]
fn answers_encode_and_decode() {
    let encoded = encode_answer(&[1, 2, 3], &[9; SEALED_IDENTITY_LEN]).unwrap();
    assert_eq!(&encoded[..5], &[0, 3, 1, 2, 3]);
    let (doc, sealed) = decode_answer(&encoded).unwrap();
    assert_eq!((doc, sealed.len()), (&[1u8, 2, 3][..], SEALED_IDENTITY_LEN));
    for bad in [
        &encoded[..1],
        &encoded[..encoded.len() - 1],
        &[0xff, 0xff, 0][..],
    ] {
        assert!(matches!(
            decode_answer(bad),
            Err(HandoffError::BadAnswer(_))
        ));
    }
    assert!(encode_answer(&vec![0; MAX_DOCUMENT_LEN + 1], &[]).is_err());
}

#[test]
fn replays_are_remembered_up_to_capacity() {
    let mut seen = Seen::default();
    assert!(seen.insert([1; 32]));
    assert!(!seen.insert([1; 32]));
    for i in 0..REPLAY_CAPACITY {
        let mut h = [0; 32];
        h[..8].copy_from_slice(&(i as u64 + 2).to_be_bytes());
        assert!(seen.insert(h));
    }
    assert_eq!(seen.order.len(), REPLAY_CAPACITY);
    // The oldest was forgotten.
    assert!(seen.insert([1; 32]));
}
