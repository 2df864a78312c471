//! The application's wiring: the configuration, the NSM and its start-up facts, the `STATUS`
//! server and, with an `engine` section, the engine (its keys, its RPC providers, the bridge job,
//! the HTTP API). `lib.rs` only parses the command line and reports how this ended.

use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use alloy::primitives::{Address as ChainAddress, B256};
use alloy::providers::Provider as _;
use alloy::signers::local::PrivateKeySigner;
use anyhow::Context as _;
use matching_engine::{Address, BidContext, Engine};
use nitro_attestation::ImagePcrs;
use nitro_attestation::nsm::Nsm;

use crate::bridge::BridgeState;
use crate::chain::decode::Sources;
use crate::chain::ingest::{Ingest, IngestConfig};
use crate::chain::relay::{Relay, RelayConfig};
use crate::config::{BridgeConfig, Build, Config, EngineConfig, IdentityConfig};
use crate::identity::{Identity, Origin};
use crate::listen::{ListenAddr, Listener};
use crate::rpc::{self, Providers};
use crate::service::{self, Facts, Service, Shared};
use crate::status::{self, Status};
use crate::{admission, attest, bridge, handoff, http, limits, nsm, protocol};

/// A `STATUS` client that does not send its request within this time is dropped.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

/// Loads the configuration and checks it as this build would run it.
fn load(path: &Path) -> anyhow::Result<Config> {
    Config::load(path)
        .and_then(|config| config.check_build(Build::CURRENT).map(|()| config))
        .with_context(|| format!("configuration {}", path.display()))
}

/// `--check-config`: loads the configuration and says what it runs; starts nothing.
pub(crate) fn check_config(path: &Path) -> anyhow::Result<()> {
    let config = load(path)?;
    tracing::info!(
        "configuration {} is usable by this build ({:?}): {}",
        path.display(),
        Build::CURRENT,
        config.summary()
    );
    Ok(())
}

/// Runs the application with the configuration at `path`; returns only on a failed start, or
/// when a STATUS-only application's server ends.
pub(crate) async fn run(path: &Path) -> anyhow::Result<()> {
    let config = load(path)?;
    tracing::info!(
        "version {} starting (config {}): {}",
        env!("CARGO_PKG_VERSION"),
        path.display(),
        config.summary()
    );
    let ca_roots = status::count_certificates(&config.ca_roots)
        .with_context(|| format!("reading CA roots {}", config.ca_roots.display()))?;
    // Without a working NSM the application does not start (the image runs only in Nitro).
    let nsm = nsm::open(&config)?;
    let status = Status::collect(nsm.as_ref(), ca_roots)?;
    // CI compares this line with the booted EIF's PCRs.
    tracing::info!("{}", status.pcr_line());
    tracing::info!("{}", status.summary());
    let status_addr = config.status_listen()?;
    let status_listener = Listener::bind(&status_addr)
        .await
        .with_context(|| format!("listening on {status_addr}"))?;
    tracing::info!(
        "listening on {} (STATUS)",
        status_listener.local_addr(&status_addr)
    );
    // The boot test waits for this line.
    if let ListenAddr::Vsock { port, .. } = status_addr {
        tracing::info!("listening on vsock port {port}");
    }
    let status_task = tokio::spawn(serve_status(status_listener, status.to_json_line()));

    let Some(engine) = config.engine.clone() else {
        status_task.await.context("STATUS server")?;
        return Ok(());
    };
    let pcrs = own_pcrs(&status)?;
    let service = start_engine(&config, &engine, nsm, pcrs).await?;
    let http_addr: ListenAddr = engine.http_listen.parse()?;
    let http_listener = Listener::bind(&http_addr)
        .await
        .with_context(|| format!("listening on {http_addr}"))?;
    tracing::info!(
        "listening on {} (HTTP API)",
        http_listener.local_addr(&http_addr)
    );
    let owner = service.shared.clone();
    let attester = attest::Attester::start(
        move |nonce| owner.identity.attest(nonce),
        limits::ATTESTATION_WORKERS,
        limits::ATTESTATION_QUEUE,
    )
    .context("starting the attestation workers")?;
    tokio::spawn(http::serve(
        http_listener,
        service.shared.clone(),
        attester,
        http::Limits::default(),
    ));
    service.run().await;
    Ok(())
}

/// Serves `STATUS`, holding at most [`limits::MAX_STATUS_CONNECTIONS`] clients: when full, a
/// new one takes the place of the oldest.
async fn serve_status(listener: Listener, answer: String) {
    let admission = admission::Admission::new(limits::MAX_STATUS_CONNECTIONS, 0);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                // Transient (descriptor exhaustion, aborted connection): log and keep serving.
                tracing::warn!("accept failed: {err}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let answer = answer.clone();
        let admission = admission.clone();
        tokio::spawn(async move {
            // No client is ever marked as being answered, so a place is always made.
            let Ok((slot, _)) = admission.admit(peer.peer(), Duration::ZERO).await else {
                return;
            };
            tokio::select! {
                served = protocol::serve_async(stream, &answer, CLIENT_TIMEOUT) => match served {
                    Ok(request) => tracing::info!("answered {request:?} from {peer}"),
                    Err(err) => tracing::warn!("client {peer}: {err}"),
                },
                () = slot.evicted() => {
                    tracing::info!("client {peer}: closed for a newer client");
                }
            }
        });
    }
}

/// The bridge job over the engine's L2 providers and the configured L1 routes, with the same
/// relayer account.
fn bridge_job(
    config: &Config,
    bridge: &BridgeConfig,
    l2_chain_id: u64,
    l2: &Providers,
    relayer: &PrivateKeySigner,
    shared: Arc<Shared>,
) -> anyhow::Result<bridge::Job> {
    let mut readers = Vec::with_capacity(bridge.l1.rpc.len());
    let mut sender = None;
    for (i, rpc) in bridge.l1.rpc.iter().enumerate() {
        let route = Providers::connect(
            &config.ca_roots,
            rpc,
            &format!("bridge.l1.rpc[{i}]"),
            bridge.l1.chain_id,
            relayer.clone(),
        )?;
        readers.push(route.reader);
        sender.get_or_insert(route.relayer);
    }
    let sender = sender.context("bridge.l1.rpc lists no endpoint")?;
    Ok(bridge::Job {
        config: bridge.clone(),
        l1: bridge::Endpoints {
            chain_id: bridge.l1.chain_id,
            readers,
            sender,
        },
        l2: bridge::Endpoints {
            chain_id: l2_chain_id,
            readers: vec![l2.reader.clone()],
            sender: l2.relayer.clone(),
        },
        relayer: relayer.address(),
        shared,
    })
}

/// This enclave's attested PCR0/1/2, as the NSM reported them at start.
fn own_pcrs(status: &Status) -> anyhow::Result<ImagePcrs> {
    let pcr = |index: u16| {
        status
            .pcrs
            .iter()
            .find(|p| p.index == index)
            .map(|p| p.value)
            .with_context(|| format!("the NSM reported no PCR{index}"))
    };
    Ok(ImagePcrs {
        pcr0: pcr(0)?,
        pcr1: pcr(1)?,
        pcr2: pcr(2)?,
        pcr8: None,
    })
}

/// No peer handed over an identity that verified (`identity.source = "peer"`): the enclave
/// does not start, and never generates an identity instead.
#[derive(Debug, thiserror::Error)]
#[error("no peer handed over the engine identity: {}", describe(.0))]
pub(crate) struct NoIdentity(Vec<(String, handoff::HandoffError)>);

fn describe(failures: &[(String, handoff::HandoffError)]) -> String {
    failures
        .iter()
        .map(|(peer, e)| format!("{peer}: {} ({e})", e.name()))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The engine identity as configured: generated here, or received from a peer of this image.
async fn identity(
    config: &Config,
    scope: &handoff::Scope,
    chain: &dyn handoff::ChainView,
    nsm: Arc<dyn Nsm>,
) -> anyhow::Result<Identity> {
    match &config.identity {
        // Keys only for the engine: a STATUS-only image draws nothing from the kernel's generator.
        IdentityConfig::Generate { .. } => Ok(Identity::generate(nsm)),
        IdentityConfig::Peer { .. } => {
            let peers = config.identity.peers().context("identity.peers")?;
            handoff::receive(scope, chain, nsm, &peers)
                .await
                .map_err(|failures| NoIdentity(failures).into())
        }
        IdentityConfig::Auto { .. } => {
            let peers = config.identity.peers().context("identity.peers")?;
            match handoff::receive(scope, chain, Arc::clone(&nsm), &peers).await {
                Ok(identity) => Ok(identity),
                Err(failures) if nobody_answered(&failures) => {
                    tracing::warn!(
                        peers = %describe(&failures),
                        "no peer reachable: generating the engine identity (the first replica; it must be registered)"
                    );
                    Ok(Identity::generate(nsm))
                }
                Err(failures) => Err(NoIdentity(failures).into()),
            }
        }
    }
}

/// Whether every peer failed before answering (`auto` then generates): a peer that answered,
/// even with a refusal or a forgery, means the identity exists and is not to be replaced.
fn nobody_answered(failures: &[(String, handoff::HandoffError)]) -> bool {
    failures
        .iter()
        .all(|(_, e)| matches!(e, handoff::HandoffError::Unreachable(_)))
}

/// Reads the staking module and the engine family from the marketplace (retrying until the RPC
/// answers), obtains the identity, and assembles the service.
async fn start_engine(
    config: &Config,
    engine: &EngineConfig,
    nsm: Arc<dyn Nsm>,
    pcrs: ImagePcrs,
) -> anyhow::Result<Service> {
    let relayer = rpc::relayer_key()?;
    let relayer_address = relayer.address();
    tracing::info!("relayer {relayer_address} (pays gas)");
    let l2 = Providers::connect(
        &config.ca_roots,
        &engine.rpc,
        "engine.rpc",
        engine.chain_id,
        relayer.clone(),
    )?;
    let reader = l2.reader.clone();
    let marketplace =
        marketplace_bindings::ProofMarketplace::new(engine.marketplace, reader.clone());
    let (staking, family) = loop {
        let answer: Result<(ChainAddress, B256), String> = async {
            let chain = reader.get_chain_id().await.map_err(|e| e.to_string())?;
            if chain != engine.chain_id {
                return Err(format!(
                    "the RPC serves chain {chain}, the configuration says {}",
                    engine.chain_id
                ));
            }
            let staking = marketplace
                .STAKING()
                .call()
                .await
                .map_err(|e| e.to_string())?;
            let family = marketplace
                .MATCHING_ENGINE_FAMILY()
                .call()
                .await
                .map_err(|e| e.to_string())?;
            Ok((staking, family))
        }
        .await;
        match answer {
            Ok(found) => break found,
            Err(e) => {
                tracing::warn!("waiting for the marketplace: {e}");
                tokio::time::sleep(Duration::from_millis(engine.poll_interval_ms)).await;
            }
        }
    };
    let chain = Arc::new(handoff::Registry {
        reader: reader.clone(),
        registry: engine.registry,
        family,
    });
    let scope = || handoff::Scope {
        trust: handoff::Trust::for_config(config),
        pcrs,
        chain_id: engine.chain_id,
        registry: engine.registry,
        max_age_ms: config.identity.max_age_s() * 1000,
        clock: Arc::new(nitro_attestation::SystemClock),
    };
    let identity = identity(config, &scope(), chain.as_ref(), nsm).await?;
    tracing::info!(
        "engine key {} ({})",
        service::engine_address(&identity),
        match identity.origin() {
            Origin::Generated => "generated".to_owned(),
            Origin::Peer(peer) => format!("handed over by {peer}"),
        }
    );
    let sources = Sources {
        marketplace: engine.marketplace,
        staking,
    };
    let opener = identity.bid_opener(BidContext {
        chain_id: engine.chain_id,
        marketplace: Address(engine.marketplace.into_array()),
    });
    // One budget for the engine's input store and the HTTP upload queue feeding it.
    let store_limits = matching_engine::StoreLimits::default();
    let empty = Engine::new(
        matching_engine::Config {
            expiry_margin: engine.expiry_margin_s,
            input_checks: engine.input_checks()?,
            inputs: store_limits,
        },
        Some(opener),
    );
    let ingest = Ingest::new(
        sources,
        IngestConfig {
            start_block: engine.start_block,
            confirmations: engine.confirmations,
            max_range: engine.max_block_range,
            reorg_window: engine.reorg_window,
        },
        empty.clone(),
    );
    let turn = engine
        .replica
        .turn(vsock::get_local_cid)
        .context("engine.replica")?;
    let relay = Relay::new(
        engine.chain_id,
        engine.marketplace,
        RelayConfig {
            batch_size: engine.batch_size,
            validity: engine.batch_validity_s,
            turn,
        },
    );
    let shared = Arc::new(Shared {
        identity,
        giver: Some(handoff::Giver::new(scope(), chain)),
        facts: Some(Facts {
            chain_id: engine.chain_id,
            marketplace: engine.marketplace,
            staking,
            registry: engine.registry,
            family,
            relayer: relayer_address,
            start_block: engine.start_block,
            confirmations: engine.confirmations,
            turn,
        }),
        snapshot: RwLock::new(Arc::new(service::initial(empty))),
        bridge: RwLock::new(config.bridge.as_ref().map(BridgeState::new)),
        l2_send: tokio::sync::Mutex::new(()),
        uploads: crate::uploads::Uploads::new(store_limits),
    });
    if let Some(b) = &config.bridge {
        // The bridge never stops the engine: a route it cannot build is its reported error.
        match bridge_job(config, b, engine.chain_id, &l2, &relayer, shared.clone()) {
            Ok(job) => {
                tracing::info!(
                    "bridge job: L1 chain {}, middleware {}, staking module {}, every {} s",
                    b.l1.chain_id,
                    b.middleware,
                    b.staking_module,
                    b.interval_s
                );
                tokio::spawn(job.run());
            }
            Err(e) => {
                tracing::error!("bridge job not started: {e:#}");
                shared.fail_bridge(format!("not started: {e:#}"));
            }
        }
    }
    Ok(Service {
        shared,
        reader: l2.reader,
        relayer: l2.relayer,
        ingest,
        relay,
        poll_interval: Duration::from_millis(engine.poll_interval_ms),
        head_check: Duration::from_millis(engine.head_check_ms),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_generates_only_when_no_peer_answered_at_all() {
        let unreachable = |peer: &str| {
            (
                peer.to_owned(),
                handoff::HandoffError::Unreachable("connection refused".into()),
            )
        };
        assert!(nobody_answered(&[
            unreachable("vsock:3:7001"),
            unreachable("vsock:3:7002")
        ]));
        // One peer answered that the image is revoked: the identity exists; never replace it.
        let answered = (
            "vsock:3:7002".to_owned(),
            handoff::HandoffError::ImageNotLive(B256::ZERO),
        );
        assert!(!nobody_answered(&[unreachable("vsock:3:7001"), answered]));
    }

    #[tokio::test]
    async fn status_clients_that_say_nothing_give_way_to_a_new_one() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("status.sock");
        let listener = Listener::bind(&ListenAddr::Unix(path.clone()))
            .await
            .unwrap();
        tokio::spawn(serve_status(listener, r#"{"ok":true}"#.to_owned()));
        let mut silent = Vec::new();
        for _ in 0..limits::MAX_STATUS_CONNECTIONS {
            silent.push(tokio::net::UnixStream::connect(&path).await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        // Well within the silent clients' 5 s.
        let mut client = tokio::net::UnixStream::connect(&path).await.unwrap();
        client.write_all(b"STATUS\n").await.unwrap();
        let mut answer = String::new();
        tokio::time::timeout(Duration::from_secs(2), client.read_to_string(&mut answer))
            .await
            .expect("an answer within 2 s")
            .unwrap();
        assert!(answer.contains(r#"{"ok":true}"#), "{answer}");
        let mut nothing = [0_u8; 1];
        let oldest = tokio::time::timeout(Duration::from_secs(2), silent[0].read(&mut nothing));
        assert_eq!(oldest.await.expect("the oldest is closed").unwrap(), 0);
    }
}
