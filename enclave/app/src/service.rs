//! The engine service: follows the chain, relays batches once caught up, and publishes a
//! snapshot of its state for the HTTP API.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use alloy::primitives::{Address as ChainAddress, B256};
use alloy::providers::{DynProvider, Provider as _};
use matching_engine::{Engine, Signer as _};

use crate::bridge::BridgeState;
use crate::chain::ingest::{Ingest, IngestStats};
use crate::chain::relay::{Relay, RelayStats, Turn};
use crate::identity::Identity;
use crate::uploads::Uploads;
use marketplace_bindings::IEnclaveRegistry;

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
    /// This replica's place in the turn order.
    pub(crate) turn: Turn,
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
    pub(crate) relay: RelayStats,
    pub(crate) pending: usize,
    pub(crate) last_error: Option<String>,
}

/// State shared by the service loop and the HTTP API.
pub(crate) struct Shared {
    pub(crate) identity: Identity,
    /// Hands the identity to newcomers of this image (`None`: no engine).
    pub(crate) giver: Option<crate::handoff::Giver>,
    pub(crate) facts: Option<Facts>,
    pub(crate) snapshot: RwLock<Arc<Snapshot>>,
    /// The bridge job's last round (`None`: no bridge configured).
    pub(crate) bridge: RwLock<Option<BridgeState>>,
    /// Held while the relayer account sends on L2 (the engine's batches, the bridge's rounds).
    pub(crate) l2_send: tokio::sync::Mutex<()>,
    /// Private inputs uploaded through the HTTP API, not yet in the engine.
    pub(crate) uploads: Uploads,
}

impl Shared {
    /// State with no chain behind it: an empty engine, no facts, no bridge (unit tests and the
    /// fuzz target of the HTTP API).
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn without_chain(identity: Identity, giver: Option<crate::handoff::Giver>) -> Self {
        Self {
            identity,
            giver,
            facts: None,
            snapshot: RwLock::new(Arc::new(initial(Engine::new(
                matching_engine::Config::default(),
                None,
            )))),
            bridge: RwLock::new(None),
            l2_send: tokio::sync::Mutex::new(()),
            uploads: Uploads::new(matching_engine::StoreLimits::default()),
        }
    }

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
    /// How often the head is read during the pause (zero: not at all).
    pub(crate) head_check: Duration,
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
                tracing::warn!("chain reorganised: sending every pending assignment again");
                self.relay.forget_in_flight();
            }
            let caught_up = match &polled {
                Ok(p) => p.caught_up,
                Err(e) => {
                    tracing::warn!("ingest: {e}");
                    last_error = Some(e.to_string());
                    false
                }
            };
            let uploaded = self.take_uploads();
            if uploaded
                || matches!(&polled, Ok(p) if p.blocks > 0)
                || published.block() != self.ingest.replica().head().block()
            {
                published = Arc::new(self.ingest.replica().head().clone());
            }
            let head = self.ingest.replica().head();
            let pending = head.pending_assignments();
            if caught_up {
                // Relay first, with the key's liveness of the previous poll (a revoked key's
                // batch is refused at estimation): the receipts and the registry can wait,
                // the block's assignments should make the next block.
                if key_live == Some(true) && !pending.is_empty() {
                    let _sending = self.shared.l2_send.lock().await;
                    match self
                        .relay
                        .submit(
                            &self.relayer,
                            facts.relayer,
                            self.shared.identity.signer(),
                            head,
                        )
                        .await
                    {
                        Ok(0) => {}
                        Ok(n) => tracing::info!("relayed {n} assignments"),
                        Err(e) => {
                            tracing::warn!("relay: {e}");
                            last_error = Some(e.to_string());
                        }
                    }
                }
                self.relay.read_receipts(&self.reader, head.now()).await;
                key_live = match registry.isLiveKey(key, facts.family).call().await {
                    Ok(live) => Some(live),
                    Err(e) => {
                        last_error = Some(format!("isLiveKey: {e}"));
                        None
                    }
                };
            }
            self.shared.publish(Snapshot {
                engine: published.clone(),
                synced_block: self.ingest.replica().tip().map(|(n, _)| n),
                caught_up,
                stats: self.ingest.stats().clone(),
                key_live,
                relay: self.relay.stats,
                pending: pending.len(),
                last_error: last_error.clone(),
            });
            if caught_up {
                let reader = &self.reader;
                pause(
                    self.poll_interval,
                    self.head_check,
                    self.ingest.stats().head,
                    || async move { reader.get_block_number().await.ok() },
                )
                .await;
            } else if polled.is_err() {
                tokio::time::sleep(self.poll_interval).await;
            }
        }
    }
}

impl Service {
    /// Moves the queued uploads into the engine (both of its replica's engines); whether any
    /// was stored. A refusal here (the store filled meanwhile) is logged: the requester sees the
    /// inputs missing and uploads again.
    fn take_uploads(&mut self) -> bool {
        let mut stored = false;
        for (hash, inputs) in self.shared.uploads.drain() {
            match self.ingest.replica_mut().upload_inputs(hash, &inputs) {
                Ok(_) => stored = true,
                Err(e) => tracing::warn!("inputs 0x{}: {e}", hex::encode(hash)),
            }
        }
        stored
    }
}

/// The pause after a caught-up poll: `interval`, ended early when a read of the head every
/// `check` (none when zero, or when no head was seen yet) finds it past `seen`. Blocks come at
/// the chain's pace, not the engine's: without the reads a block waits up to a whole interval
/// before the engine ingests it and relays its assignments.
pub(crate) async fn pause<F, Fut>(
    interval: Duration,
    check: Duration,
    seen: Option<u64>,
    mut head: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<u64>>,
{
    let Some(seen) = seen.filter(|_| !check.is_zero()) else {
        tokio::time::sleep(interval).await;
        return;
    };
    let deadline = tokio::time::Instant::now() + interval;
    loop {
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return;
        }
        tokio::time::sleep(check.min(deadline - now)).await;
        if head().await.is_some_and(|n| n > seen) {
            return;
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
        relay: RelayStats::default(),
        pending: 0,
        last_error: None,
    }
}

/// The signer's address as the chain spells it.
pub(crate) fn engine_address(identity: &Identity) -> ChainAddress {
    ChainAddress::from(identity.signer().address().0)
}

#[cfg(test)]
mod pause_tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{Duration, Instant};

    use super::pause;

    /// A head that moves past 10 at the third read.
    fn moving(reads: Arc<AtomicU64>) -> impl FnMut() -> std::future::Ready<Option<u64>> {
        move || {
            let n = reads.fetch_add(1, Ordering::SeqCst) + 1;
            std::future::ready(Some(if n >= 3 { 11 } else { 10 }))
        }
    }

    #[tokio::test]
    async fn a_new_head_ends_the_pause() {
        let reads = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        pause(
            Duration::from_secs(5),
            Duration::from_millis(20),
            Some(10),
            moving(reads.clone()),
        )
        .await;
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(reads.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn without_reads_or_a_new_head_the_pause_is_whole() {
        for (check, seen) in [
            (Duration::ZERO, Some(10)),
            (Duration::from_millis(20), None),
        ] {
            let reads = Arc::new(AtomicU64::new(0));
            let started = Instant::now();
            pause(
                Duration::from_millis(150),
                check,
                seen,
                moving(reads.clone()),
            )
            .await;
            assert!(started.elapsed() >= Duration::from_millis(150));
            assert_eq!(reads.load(Ordering::SeqCst), 0);
        }
        // The head does not move: reads until the interval is over.
        let started = Instant::now();
        let mut reads = 0;
        pause(
            Duration::from_millis(150),
            Duration::from_millis(20),
            Some(10),
            || {
                reads += 1;
                std::future::ready(Some(10))
            },
        )
        .await;
        assert!(started.elapsed() >= Duration::from_millis(150));
        assert!(reads >= 5, "{reads}");
    }
}
