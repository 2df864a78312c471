//! The engine service: follows the chain, relays batches once caught up, and publishes a
//! snapshot of its state for the HTTP API.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use alloy::primitives::{Address as ChainAddress, B256};
use alloy::providers::DynProvider;
use matching_engine::{Engine, Signer as _};

use crate::bridge::BridgeState;
use crate::chain::abi::IEnclaveRegistry;
use crate::chain::ingest::{Ingest, IngestStats};
use crate::chain::relay::Relay;
use crate::identity::Identity;

/// Fixed facts about this engine, for the status endpoint.
#[derive(Clone, Debug)]
pub(crate) struct Facts {
    pub(crate) chain_id: u64,
    pub(crate) marketplace: ChainAddress,
    pub(crate) staking: ChainAddress,
    pub(crate) registry: ChainAddress,
    pub(crate) family: B256,
    pub(crate) relayer: ChainAddress,
    pub(crate) start_block: u64,
    pub(crate) confirmations: u64,
}

/// What the API shows, replaced after every poll that changed something.
#[derive(Clone, Debug)]
pub(crate) struct Snapshot {
    /// Shared between snapshots until a block changes it (copying the state costs time in
    /// proportion to the markets, generators and live asks).
    pub(crate) engine: Arc<Engine>,
    pub(crate) synced_block: Option<u64>,
    pub(crate) caught_up: bool,
    pub(crate) stats: IngestStats,
    pub(crate) key_live: Option<bool>,
    pub(crate) batches_sent: u64,
    pub(crate) assignments_sent: u64,
    pub(crate) pending: usize,
    pub(crate) last_error: Option<String>,
}

/// State shared by the service loop and the HTTP API.
pub(crate) struct Shared {
    pub(crate) identity: Identity,
    pub(crate) facts: Option<Facts>,
    pub(crate) snapshot: RwLock<Arc<Snapshot>>,
    /// The bridge job's last round (`None`: no bridge configured).
    pub(crate) bridge: RwLock<Option<BridgeState>>,
    /// Held while the relayer account sends on L2 (the engine's batches, the bridge's rounds).
    pub(crate) l2_send: tokio::sync::Mutex<()>,
}

impl Shared {
    /// The bridge's state as `/status` shows it (`None`: no bridge configured).
    pub(crate) fn bridge(&self) -> Option<BridgeState> {
        self.bridge
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn update_bridge(&self, f: impl FnOnce(&mut BridgeState)) {
        if let Some(state) = self
            .bridge
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_mut()
        {
            f(state);
        }
    }

    /// Records a bridge failure outside a round (start-up, connection).
    pub(crate) fn fail_bridge(&self, error: String) {
        self.update_bridge(|s| s.fail(error));
    }

    /// Records a bridge round.
    pub(crate) fn record_bridge(&self, report: &symbiotic_bridge::TickReport) {
        self.update_bridge(|s| s.record(report));
    }

    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        // A writer never panics while holding the lock; a poisoned value is still whole.
        self.snapshot
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn publish(&self, s: Snapshot) {
        *self
            .snapshot
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(s);
    }
}

/// The loop's parts.
pub(crate) struct Service {
    pub(crate) shared: Arc<Shared>,
    pub(crate) reader: DynProvider,
    pub(crate) relayer: DynProvider,
    pub(crate) ingest: Ingest,
    pub(crate) relay: Relay,
    pub(crate) poll_interval: Duration,
}

impl Service {
    /// Runs for ever: poll, relay when caught up, publish, sleep.
    pub(crate) async fn run(mut self) {
        let Some(facts) = self.shared.facts.clone() else {
            return;
        };
        let registry = IEnclaveRegistry::new(facts.registry, self.reader.clone());
        let key = ChainAddress::from(self.shared.identity.address().0);
        let mut last_error = None;
        let mut key_live = None;
        let mut rollbacks = 0;
        let mut published = self.shared.snapshot().engine.clone();
        loop {
            let polled = self.ingest.poll(&self.reader).await;
            let stats = self.ingest.stats();
            if stats.reorgs + stats.rebuilds != rollbacks {
                rollbacks = stats.reorgs + stats.rebuilds;
                eprintln!("enclave-app: chain reorganised: sending every pending assignment again");
                self.relay.forget_in_flight();
            }
            let caught_up = match &polled {
                Ok(p) => p.caught_up,
                Err(e) => {
                    eprintln!("enclave-app: ingest: {e}");
                    last_error = Some(e.to_string());
                    false
                }
            };
            if matches!(&polled, Ok(p) if p.blocks > 0)
                || published.block() != self.ingest.replica().head().block()
            {
                published = Arc::new(self.ingest.replica().head().clone());
            }
            let head = self.ingest.replica().head();
            let pending = head.pending_assignments();
            if caught_up {
                key_live = match registry.isLiveKey(key, facts.family).call().await {
                    Ok(live) => Some(live),
                    Err(e) => {
                        last_error = Some(format!("isLiveKey: {e}"));
                        None
                    }
                };
                if key_live == Some(true) && !pending.is_empty() {
                    let _sending = self.shared.l2_send.lock().await;
                    match self
                        .relay
                        .submit(
                            &self.relayer,
                            self.shared.identity.signer(),
                            &pending,
                            head.now(),
                        )
                        .await
                    {
                        Ok(0) => {}
                        Ok(n) => eprintln!("enclave-app: relayed {n} assignments"),
                        Err(e) => {
                            eprintln!("enclave-app: relay: {e}");
                            last_error = Some(e.to_string());
                        }
                    }
                }
            }
            self.shared.publish(Snapshot {
                engine: published.clone(),
                synced_block: self.ingest.replica().tip().map(|(n, _)| n),
                caught_up,
                stats: self.ingest.stats().clone(),
                key_live,
                batches_sent: self.relay.batches_sent,
                assignments_sent: self.relay.assignments_sent,
                pending: pending.len(),
                last_error: last_error.clone(),
            });
            if caught_up || polled.is_err() {
                tokio::time::sleep(self.poll_interval).await;
            }
        }
    }
}

/// The snapshot before the first poll.
pub(crate) fn initial(engine: Engine) -> Snapshot {
    Snapshot {
        engine: Arc::new(engine),
        synced_block: None,
        caught_up: false,
        stats: IngestStats::default(),
        key_live: None,
        batches_sent: 0,
        assignments_sent: 0,
        pending: 0,
        last_error: None,
    }
}

/// The signer's address as the chain spells it.
pub(crate) fn engine_address(identity: &Identity) -> ChainAddress {
    ChainAddress::from(identity.signer().address().0)
}
