//! The Symbiotic bridge job in the engine image (the `symbiotic-bridge` library): stake
//! snapshots from Ethereum (L1) to the marketplace chain (L2), slash results back.
//!
//! It signs with the engine key, the key the attestation document vouches for (registered in the
//! L1 registry's family as well as the L2 one), pays gas with the relayer account and reaches
//! both chains through the same routes as the engine (the host proxy; a direct URL only in local
//! simulation builds). A failed round is reported in `/status` and retried on the next; it never
//! stops the engine.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::Address;
use alloy::providers::DynProvider;
use serde_json::{Value, json};
use symbiotic_bridge::{Bridge, Chain, TickReport};

use crate::config::BridgeConfig;
use crate::service::Shared;

/// What `/status` shows of the bridge.
#[derive(Clone, Debug)]
pub(crate) struct BridgeState {
    pub(crate) l1_chain_id: u64,
    pub(crate) middleware: Address,
    pub(crate) staking_module: Address,
    /// Rounds run (`tick`s; a failed connection is not a round).
    pub(crate) rounds: u64,
    /// Unix time of the last round or connection attempt.
    pub(crate) last_attempt: Option<u64>,
    /// The last round's report.
    pub(crate) last_report: Option<Value>,
    /// The last attempt's failure (connection, or the round's failed steps), `None` once a
    /// round has no failed step.
    pub(crate) last_error: Option<String>,
}

impl BridgeState {
    pub(crate) fn new(config: &BridgeConfig) -> Self {
        Self {
            l1_chain_id: config.l1.chain_id,
            middleware: config.middleware,
            staking_module: config.staking_module,
            rounds: 0,
            last_attempt: None,
            last_report: None,
            last_error: None,
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "l1_chain_id": self.l1_chain_id,
            "middleware": self.middleware.to_string(),
            "staking_module": self.staking_module.to_string(),
            "rounds": self.rounds,
            "last_attempt": self.last_attempt,
            "last_report": self.last_report,
            "last_error": self.last_error,
        })
    }

    pub(crate) fn record(&mut self, report: &TickReport) {
        self.rounds += 1;
        self.last_attempt = Some(symbiotic_bridge::job::unix_now());
        self.last_report = Some(
            serde_json::to_value(report)
                .unwrap_or_else(|e| json!({"unserialisable_report": e.to_string()})),
        );
        self.last_error = (!report.errors.is_empty()).then(|| report.errors.join("; "));
    }

    pub(crate) fn fail(&mut self, error: String) {
        self.last_attempt = Some(symbiotic_bridge::job::unix_now());
        self.last_error = Some(error);
    }
}

/// One chain's providers: the readers (every one must agree) and the relayer's sender.
pub(crate) struct Endpoints {
    pub(crate) chain_id: u64,
    pub(crate) readers: Vec<DynProvider>,
    pub(crate) sender: DynProvider,
}

/// The job's parts; [`Job::run`] loops for ever.
pub(crate) struct Job {
    pub(crate) config: BridgeConfig,
    pub(crate) l1: Endpoints,
    pub(crate) l2: Endpoints,
    /// The relayer account (pays gas on both chains).
    pub(crate) relayer: Address,
    pub(crate) shared: Arc<Shared>,
}

impl Job {
    async fn connect(&self) -> Result<Bridge, symbiotic_bridge::Error> {
        let timeout = Duration::from_secs(self.config.rpc_timeout_s);
        let skew = self.config.max_future_skew_s;
        let chain = |name, e: &Endpoints| {
            Chain::connect(
                name,
                e.chain_id,
                e.readers.clone(),
                e.sender.clone(),
                self.relayer,
                timeout,
                skew,
            )
        };
        let l1 = chain("L1", &self.l1).await?;
        let l2 = chain("L2", &self.l2).await?;
        Bridge::new(
            l1,
            l2,
            self.config.middleware,
            self.config.staking_module,
            self.shared.identity.shared_signer(),
            self.config.settings.clone(),
        )
        .await
    }

    /// Connects (again, after a failure) and runs a round every `interval_s`.
    pub(crate) async fn run(self) {
        let interval = Duration::from_secs(self.config.interval_s);
        let mut bridge = None;
        let mut last_logged = String::new();
        loop {
            if bridge.is_none() {
                match self.connect().await {
                    Ok(b) => {
                        tracing::info!("bridge: connected to L1 and L2");
                        bridge = Some(b);
                    }
                    Err(e) => {
                        tracing::warn!("bridge: cannot start: {e}");
                        self.shared.fail_bridge(format!("start: {e}"));
                    }
                }
            }
            if let Some(b) = bridge.as_mut() {
                // The relayer account sends on L2 for the engine too: one sender at a time, so
                // the nonce each transaction reads is not taken by the other meanwhile.
                let report = {
                    let _sending = self.shared.l2_send.lock().await;
                    b.tick().await
                };
                // One console line per change: a new snapshot outcome, a slash or veto
                // request handled, or a failed step (a quiet round repeats the last outcome).
                let snapshot = serde_json::to_string(&report.snapshot).unwrap_or_default();
                if !report.errors.is_empty() {
                    tracing::warn!("bridge: {}", report.errors.join("; "));
                } else if snapshot != last_logged
                    || !report.slashes.is_empty()
                    || !report.executions.is_empty()
                {
                    tracing::info!(
                        "bridge: round: {}",
                        serde_json::to_string(&report).unwrap_or_default()
                    );
                }
                last_logged = snapshot;
                self.shared.record_bridge(&report);
            }
            tokio::time::sleep(interval).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> BridgeConfig {
        BridgeConfig {
            l1: crate::config::L1Config {
                chain_id: 17000,
                rpc: vec![],
            },
            middleware: Address::repeat_byte(1),
            staking_module: Address::repeat_byte(2),
            settings: symbiotic_bridge::Settings::default(),
            interval_s: 12,
            rpc_timeout_s: 30,
            max_future_skew_s: 15,
        }
    }

    #[test]
    fn status_keeps_the_last_round_and_its_errors() {
        let mut state = BridgeState::new(&config());
        let fresh = state.to_json();
        assert_eq!(fresh["rounds"], 0);
        assert!(fresh["last_report"].is_null() && fresh["last_error"].is_null());

        state.fail("start: L1: connection refused".into());
        assert_eq!(state.rounds, 0, "a failed start is not a round");
        assert_eq!(
            state.to_json()["last_error"],
            "start: L1: connection refused"
        );

        let failed = TickReport {
            errors: vec!["snapshot: a".into(), "slashes: b".into()],
            ..TickReport::default()
        };
        state.record(&failed);
        let json = state.to_json();
        assert_eq!(json["rounds"], 1);
        assert_eq!(json["last_error"], "snapshot: a; slashes: b");
        assert_eq!(json["last_report"]["errors"][1], "slashes: b");
        assert_eq!(json["l1_chain_id"], 17000);
        assert_eq!(json["middleware"], Address::repeat_byte(1).to_string());

        state.record(&TickReport::default());
        let json = state.to_json();
        assert_eq!(json["rounds"], 2);
        assert!(
            json["last_error"].is_null(),
            "a clean round clears the error"
        );
        assert!(json["last_attempt"].as_u64().unwrap() > 1_700_000_000);
    }
}
