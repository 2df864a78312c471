//! L1 and L2 as two anvils of different chain ids, the real Symbiotic core 1.0.3 and the project's
//! contracts deployed by the devnet forge scripts, enclave keys registered from dev-NSM
//! attestations through the on-chain Nitro verifier, and the bridge job between them.
//! Ignored by default (needs anvil, forge and the contracts' build): `ci/bridge-e2e`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, B256, U256};
use alloy::providers::DynProvider;
use alloy::sol_types::SolEvent;
use common::*;
use marketplace_bindings::SymbioticStakingModule;
use marketplace_bindings::external::{IVault, IVetoSlasher};
use matching_engine::LocalSigner;
use symbiotic_bridge::{
    Bridge, Chain, DataError, Error, ExecuteOutcome, RpcError, Settings, SlashOutcome,
    SnapshotOutcome,
};
use testkit::contracts::{Assignment, AssignmentBatch, IERC20, ProofMarketplace, TestToken};

/// The market every test assignment uses: order book, penalty 100 (stake units), one hour to prove.
const PENALTY: u64 = 100;
const PROVING_TIME: u64 = 3600;
/// How long a restaked lock may outlive its snapshot's handover; given to both chains' contracts
/// (the other timing parameters keep the devnet scripts' defaults: 1 d epochs, 1 h offset, 1 d to
/// bridge), so the L1 slashing window is 1 d + 1 h + 3 d + 1 d, inside the vaults' 7 d − 1 d veto.
const LOCK_ALLOWANCE: u64 = 3 * DAY;

const DAY: u64 = 86_400;
const E18: u64 = 1_000_000_000_000_000_000;

fn units(n: u64) -> U256 {
    U256::from(n) * U256::from(E18)
}

const L1_ID: u64 = 17_000;
const L2_ID: u64 = 31_337;

struct World {
    l1: Anvil,
    l2: Anvil,
    l1_dev: DynProvider,
    l2_dev: DynProvider,
    l1_enclaves: Enclaves,
    l2_enclaves: Enclaves,
    middleware: Address,
    module: Address,
    collateral: Address,
    veto_vault: Address,
    instant_vault: Address,
    veto_slasher: Address,
    marketplace: Address,
    payment: Address,
    secret: [u8; 32],
    _scratch: tempfile::TempDir,
}

async fn world() -> World {
    // Both chains start 30 days in the past, so that days of warping keep them behind the clock
    // the bridge checks block times against.
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 30 * DAY;
    let l1 = Anvil::start(L1_ID, start);
    let l2 = Anvil::start(L2_ID, start);
    let mut secret = [0u8; 32];
    secret[0] = 0x42;
    secret[31] = 0x07;
    let public = public_key(&secret);
    let l1_enclaves = enclaves(&l1, &public).await;
    let l2_enclaves = enclaves(&l2, &public).await;
    let scratch = tempfile::tempdir().unwrap();
    let d1 = forge_script(
        "script/SymbioticDevnetL1.s.sol",
        &l1,
        &[
            ("ENCLAVE_REGISTRY", l1_enclaves.address.to_string()),
            ("FAMILY", FAMILY.into()),
            ("OPERATOR_KEYS", OPERATOR_KEY.into()),
            ("RESOLVER", addr(RESOLVER_KEY).to_string()),
            ("LOCK_ALLOWANCE", LOCK_ALLOWANCE.to_string()),
        ],
        scratch.path(),
    );
    let collateral = json_addr(&d1, "collateral");
    let d2 = forge_script(
        "script/SymbioticDevnetL2.s.sol",
        &l2,
        &[
            ("ENCLAVE_REGISTRY", l2_enclaves.address.to_string()),
            ("FAMILY", FAMILY.into()),
            ("COLLATERALS", collateral.to_string()),
            ("WEIGHTS", E18.to_string()),
            ("LOCK_ALLOWANCE", LOCK_ALLOWANCE.to_string()),
        ],
        scratch.path(),
    );
    assert_eq!(d1["chainId"], L1_ID);
    assert_eq!(d2["chainId"], L2_ID);
    World {
        l1_dev: l1.provider(Some(DEPLOYER_KEY)),
        l2_dev: l2.provider(Some(DEPLOYER_KEY)),
        l1,
        l2,
        l1_enclaves,
        l2_enclaves,
        middleware: json_addr(&d1, "middleware"),
        module: json_addr(&d2, "stakingModule"),
        collateral,
        veto_vault: json_addr(&d1, "vetoVault"),
        instant_vault: json_addr(&d1, "instantVault"),
        veto_slasher: json_addr(&d1, "vetoSlasher"),
        marketplace: json_addr(&d2, "marketplace"),
        payment: json_addr(&d2, "paymentToken"),
        secret,
        _scratch: scratch,
    }
}

impl World {
    async fn chain(&self, anvil: &Anvil, name: &'static str) -> Chain {
        // Two read endpoints (here the same node): the job demands they agree.
        self.chain_over(anvil, name, &[&anvil.url, &anvil.url])
            .await
    }

    /// A chain whose reads go to `readers` (transactions still to `anvil`).
    async fn chain_over(&self, anvil: &Anvil, name: &'static str, readers: &[&str]) -> Chain {
        Chain::connect(
            name,
            anvil.chain_id,
            readers.iter().map(|u| reader(u)).collect(),
            anvil.provider(Some(RELAYER_KEY)),
            addr(RELAYER_KEY),
            Duration::from_secs(30),
            15,
        )
        .await
        .unwrap()
    }

    async fn bridge_with(&self, secret: [u8; 32]) -> Bridge {
        self.bridge_from(
            self.chain(&self.l1, "L1").await,
            self.chain(&self.l2, "L2").await,
            secret,
        )
        .await
    }

    async fn bridge_from(&self, l1: Chain, l2: Chain, secret: [u8; 32]) -> Bridge {
        let settings = Settings {
            l1_confirmations: 2,
            l2_confirmations: 0,
            capture_delay: 60,
            stakes_per_chunk: 1,
            max_operators: 100,
            l1_start_block: 0,
            l2_start_block: 0,
            log_range: 1000,
        };
        Bridge::new(
            l1,
            l2,
            self.middleware,
            self.module,
            Arc::new(LocalSigner::from_bytes(&secret).unwrap()),
            settings,
        )
        .await
        .unwrap()
    }

    async fn bridge(&self) -> Bridge {
        self.bridge_with(self.secret).await
    }

    /// Moves both chains to time `t` and mines a few blocks on each (L1 confirmations).
    async fn at(&self, t: u64) {
        set_time(&self.l1_dev, t, 4).await;
        set_time(&self.l2_dev, t, 1).await;
    }

    /// `symbiotic-bridge --config … --once` with the test's settings: its one JSON report.
    fn run_binary(&self) -> serde_json::Value {
        let dir = tempfile::tempdir().unwrap();
        let config = serde_json::json!({
            "l1": {"chain_id": L1_ID, "rpc_urls": [self.l1.url, self.l1.url], "tx_key_env": "TEST_L1_TX"},
            "l2": {"chain_id": L2_ID, "rpc_urls": [self.l2.url], "tx_key_env": "TEST_L2_TX"},
            "middleware": self.middleware.to_string(),
            "staking_module": self.module.to_string(),
            "enclave_key_env": "TEST_ENCLAVE_KEY",
            "settings": {"l1_confirmations": 2, "l2_confirmations": 0, "capture_delay": 60,
                         "stakes_per_chunk": 1, "max_operators": 100, "l1_start_block": 0,
                         "l2_start_block": 0, "log_range": 1000},
        });
        let path = dir.path().join("bridge.json");
        std::fs::write(&path, config.to_string()).unwrap();
        let run = |envs: &[(&str, &str)]| {
            std::process::Command::new(env!("CARGO_BIN_EXE_symbiotic-bridge"))
                .args(["--config", path.to_str().unwrap(), "--once"])
                .env_remove("TEST_L1_TX")
                .envs(envs.iter().copied())
                .output()
                .unwrap()
        };
        let enclave_key = alloy::primitives::hex::encode(self.secret);
        // Without the L1 transaction key: one error line naming the variable, nothing printed.
        let out = run(&[
            ("TEST_L2_TX", RELAYER_KEY),
            ("TEST_ENCLAVE_KEY", &enclave_key),
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(out.stdout.is_empty());
        assert!(
            stderr.starts_with("error: ") && stderr.contains("TEST_L1_TX"),
            "{stderr}"
        );
        assert!(!stderr.contains(&enclave_key[2..]), "a key was printed");
        let out = run(&[
            ("TEST_L1_TX", RELAYER_KEY),
            ("TEST_L2_TX", RELAYER_KEY),
            ("TEST_ENCLAVE_KEY", &enclave_key),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(stdout.lines().count(), 1, "{stdout}");
        serde_json::from_str(stdout.trim()).unwrap()
    }

    async fn restaked(&self, who: Address) -> U256 {
        SymbioticStakingModule::new(self.module, &self.l2_dev)
            .restakedStakeOf(who)
            .call()
            .await
            .unwrap()
    }

    async fn burnt(&self) -> U256 {
        IERC20::new(self.collateral, &self.l1_dev)
            .balanceOf(Address::left_padding_from(&[0xde, 0xad]))
            .call()
            .await
            .unwrap()
    }

    /// Market 1 (a real proof system), the operator registered as a generator and joined, the
    /// requester (deployer) funded.
    async fn open_market(&self) {
        let verifier = deploy(&self.l2_dev, "SchnorrBn254Verifier", Vec::new()).await;
        let m = ProofMarketplace::new(self.marketplace, &self.l2_dev);
        m.createMarket(ProofMarketplace::MarketParams {
            verifier,
            mode: ProofMarketplace::MatchingMode::OrderBook,
            bidWindow: 0,
            slashingPenalty: alloy::primitives::Uint::from(PENALTY)
                * alloy::primitives::Uint::from(E18),
            proverFamily: B256::ZERO,
            activationDelay: 0,
        })
        .mined()
        .await;
        let op = ProofMarketplace::new(self.marketplace, self.l2.provider(Some(OPERATOR_KEY)));
        op.registerGenerator(4).mined().await;
        op.joinMarket(
            U256::from(1),
            alloy::primitives::Uint::ZERO,
            600,
            alloy::primitives::Bytes::new(),
        )
        .mined()
        .await;
        let pay = TestToken::new(self.payment, &self.l2_dev);
        pay.mint(addr(DEPLOYER_KEY), units(1000)).mined().await;
        IERC20::new(self.payment, &self.l2_dev)
            .approve(self.marketplace, units(1000))
            .mined()
            .await;
    }

    /// An ask assigned to `who` by a batch the enclave key signs, its proving time left to pass,
    /// and the marketplace's `slash`: the staking module's slash id.
    async fn missed_deadline(&self, who: Address) -> B256 {
        let (ask, accepted) = self.assign(who).await;
        assert!(accepted, "assignment accepted (stake locked)");
        // The generator does not prove in time.
        self.at(latest_time(&self.l2_dev).await + PROVING_TIME + 60)
            .await;
        let relayer = ProofMarketplace::new(self.marketplace, self.l2.provider(Some(RELAYER_KEY)));
        let receipt = relayer.slash(ask, U256::ZERO).mined().await;
        receipt
            .inner
            .logs()
            .iter()
            .find_map(|l| {
                l.log_decode::<SymbioticStakingModule::SlashRequested>()
                    .ok()
                    .map(|e| e.inner.data.slashId)
            })
            .expect("the module recorded the slash")
    }

    /// A new ask assigned to `who` by a batch the enclave key signs: the ask and whether the
    /// assignment was accepted (the staking module locked the penalty).
    async fn assign(&self, who: Address) -> (U256, bool) {
        let now = latest_time(&self.l2_dev).await;
        let m = ProofMarketplace::new(self.marketplace, &self.l2_dev);
        m.createAsk(ProofMarketplace::AskParams {
            marketId: U256::from(1),
            reward: units(1),
            expiry: now + DAY,
            provingTime: PROVING_TIME as u32,
            redundancy: 1,
            refundAddress: addr(DEPLOYER_KEY),
            // The statement P = 1·G (the generator (1, 2) is on the curve).
            proverData: alloy::sol_types::SolValue::abi_encode_params(&(
                U256::from(1),
                U256::from(2),
            ))
            .into(),
        })
        .mined()
        .await;
        let ask = m.askCount().call().await.unwrap();
        let assignments = vec![Assignment {
            askId: ask,
            slot: U256::ZERO,
            generator: who,
            price: units(1),
        }];
        let batch = AssignmentBatch {
            assignments: assignments.clone(),
            validUntil: U256::from(now + 600),
        };
        let domain = alloy::sol_types::Eip712Domain::new(
            Some("ProofMarketplace".into()),
            Some("1".into()),
            Some(U256::from(L2_ID)),
            Some(self.marketplace),
            None,
        );
        let engine = LocalSigner::from_bytes(&self.secret).unwrap();
        let (_, signature) = symbiotic_bridge::typed::sign(&engine, &batch, &domain).unwrap();
        let relayer = ProofMarketplace::new(self.marketplace, self.l2.provider(Some(RELAYER_KEY)));
        let receipt = relayer
            .assignBatch(assignments, batch.validUntil, signature)
            .mined()
            .await;
        let accepted = receipt.inner.logs().iter().any(|l| {
            l.log_decode::<ProofMarketplace::AssignmentAccepted>()
                .is_ok()
        });
        (ask, accepted)
    }
}

fn reader(url: &str) -> DynProvider {
    use alloy::providers::{Provider, ProviderBuilder};
    ProviderBuilder::new()
        .connect_http(url.parse().unwrap())
        .erased()
}

/// (instant slashes of 50 in `instant`, veto requests in `veto`) among `outcomes`; nothing else.
fn outcomes(outcomes: &[SlashOutcome], instant: Address, veto: Address) -> (usize, usize) {
    let slashed = outcomes
        .iter()
        .filter(|o| matches!(o, SlashOutcome::Slashed { record, slashed, .. } if record.vault == instant && *slashed == units(50)))
        .count();
    let requested = outcomes
        .iter()
        .filter(|o| matches!(o, SlashOutcome::Requested { record, .. } if record.vault == veto))
        .count();
    assert_eq!(slashed + requested, outcomes.len(), "{outcomes:?}");
    (slashed, requested)
}

fn is_revert(e: &Error, name: &str) -> bool {
    e.revert().is_some_and(|r| r.name() == name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs anvil, forge and the contracts' build: run ci/bridge-e2e"]
async fn stake_reaches_l2_and_slashes_reach_l1() {
    let w = world().await;
    let operator = addr(OPERATOR_KEY);
    let mut bridge = w.bridge().await;
    let clock = bridge.clock();
    let genesis = clock.genesis;
    assert_eq!((clock.duration, clock.offset), (DAY, 3600));

    // Epoch 0: nothing staked yet. The binary's round lands the snapshot (one empty chunk).
    w.at(genesis + 120).await;
    let report = w.run_binary();
    assert_eq!(report["snapshot"]["snapshot"], "submitted", "{report}");
    assert_eq!(report["snapshot"]["epoch"], 0, "{report}");
    assert_eq!(report["snapshot"]["entries"], 0, "{report}");
    assert_eq!(report["errors"], serde_json::json!([]), "{report}");

    // A deposit on L1 after epoch 0's capture: 1000 in each vault.
    let token = TestToken::new(w.collateral, &w.l1_dev);
    let me = addr(DEPLOYER_KEY);
    for vault in [w.veto_vault, w.instant_vault] {
        token.mint(me, units(1000)).mined().await;
        IERC20::new(w.collateral, &w.l1_dev)
            .approve(vault, units(1000))
            .mined()
            .await;
        IVault::new(vault, &w.l1_dev)
            .deposit(me, units(1000))
            .mined()
            .await;
    }
    let r = bridge.tick().await;
    assert!(
        matches!(
            r.snapshot,
            Some(SnapshotOutcome::AlreadyFinalised { epoch: 0, .. })
        ),
        "{r:?}"
    );
    assert_eq!(
        w.restaked(operator).await,
        U256::ZERO,
        "not before the next epoch"
    );

    // Epoch 1: the snapshot carries both vaults (two chunks of one entry), but it becomes the
    // marketplace's stake only at the activation offset.
    w.at(genesis + DAY + 120).await;
    let r = bridge.tick().await;
    assert!(r.errors.is_empty(), "{r:?}");
    assert!(
        matches!(
            r.snapshot,
            Some(SnapshotOutcome::Submitted {
                epoch: 1,
                entries: 2,
                total: 2,
                sent: 2,
                ..
            })
        ),
        "{r:?}"
    );
    assert_eq!(
        w.restaked(operator).await,
        U256::ZERO,
        "before the activation offset"
    );
    w.at(genesis + DAY + 3600 + 10).await;
    assert_eq!(
        w.restaked(operator).await,
        units(2000),
        "usable stake on L2"
    );
    let stored = SymbioticStakingModule::new(w.module, &w.l2_dev)
        .vaultStakesOf(1, operator)
        .call()
        .await
        .unwrap();
    let mut vaults: Vec<Address> = stored.iter().map(|s| s.vault).collect();
    vaults.sort();
    let mut expected = vec![w.veto_vault, w.instant_vault];
    expected.sort();
    assert_eq!(vaults, expected);
    assert!(
        stored
            .iter()
            .all(|s| s.amount == units(1000) && s.collateral == w.collateral)
    );

    // A restarted job repeats nothing.
    let mut again = w.bridge().await;
    let r = again.tick().await;
    assert!(
        matches!(
            r.snapshot,
            Some(SnapshotOutcome::AlreadyFinalised { epoch: 1, .. })
        ),
        "{r:?}"
    );
    assert!(
        r.slashes.is_empty() && r.executions.is_empty() && r.errors.is_empty(),
        "{r:?}"
    );

    // Two missed deadlines in the marketplace: 100 each, split 50/50 over the two vaults.
    w.open_market().await;
    let (instant_vault, veto_vault) = (w.instant_vault, w.veto_vault);
    let first = w.missed_deadline(operator).await;
    let second = w.missed_deadline(operator).await;
    assert_eq!(w.restaked(operator).await, units(1800));
    let slashes = bridge.carry_slashes().await.unwrap();
    assert_eq!(slashes.len(), 4, "{slashes:?}");
    assert_eq!(
        outcomes(&slashes, instant_vault, veto_vault),
        (2, 2),
        "{slashes:?}"
    );
    // The instant vault is slashed at once (to its burner); the veto vault has two requests.
    assert_eq!(w.burnt().await, units(100));
    let pending = bridge.execute_requests().await.unwrap();
    assert_eq!(pending.len(), 2, "{pending:?}");
    let index_of = |id: B256| {
        pending
            .iter()
            .find_map(|o| match o {
                ExecuteOutcome::VetoPending { request, .. } if request.slash_id == id => {
                    Some(request.index)
                }
                _ => None,
            })
            .unwrap()
    };
    let (keep, veto) = (index_of(first), index_of(second));
    // A restarted job finds both slashes processed on L1.
    let mut again = w.bridge().await;
    let redo = again.carry_slashes().await.unwrap();
    assert_eq!(redo.len(), 4);
    assert!(
        redo.iter()
            .all(|s| matches!(s, SlashOutcome::AlreadyProcessed { .. })),
        "{redo:?}"
    );

    // The resolver vetoes the second request during the veto period.
    IVetoSlasher::new(w.veto_slasher, w.l1.provider(Some(RESOLVER_KEY)))
        .vetoSlash(veto, alloy::primitives::Bytes::new())
        .mined()
        .await;
    // After the veto period: the first executes, the vetoed one does not.
    w.at(latest_time(&w.l2_dev).await + DAY + 100).await;
    let done = bridge.execute_requests().await.unwrap();
    assert_eq!(done.len(), 2, "{done:?}");
    assert!(
        done.iter().any(
            |o| matches!(o, ExecuteOutcome::Executed { request, .. } if request.index == keep)
        ),
        "{done:?}"
    );
    assert!(
        done.iter()
            .any(|o| matches!(o, ExecuteOutcome::Vetoed { request } if request.index == veto)),
        "{done:?}"
    );
    assert_eq!(
        w.burnt().await,
        units(150),
        "100 instant + 50 executed; the vetoed 50 stays"
    );
    assert!(
        bridge.execute_requests().await.unwrap().is_empty(),
        "nothing left open"
    );

    // No newer snapshot from here on. Epoch 1's snapshot backs locks only while their deadline is
    // within its lock end (capture + epoch + offset + lock allowance); the last one it backs is
    // slashed and carried at its capture, and L1 takes it: instant part slashed, veto request
    // made, but nobody executes it before the vault's epoch since the capture is over.
    let capture1 = clock.capture(1, 60).unwrap();
    let module = SymbioticStakingModule::new(w.module, &w.l2_dev);
    let lock_end: u64 = module.snapshotLockEnd(1).call().await.unwrap().to();
    assert_eq!(
        lock_end,
        capture1 + DAY + 3600 + LOCK_ALLOWANCE,
        "1 d epoch + 1 h offset + lock allowance"
    );
    w.at(lock_end - PROVING_TIME - 30).await;
    let third = w.missed_deadline(operator).await;
    let r = bridge.carry_slashes().await.unwrap();
    assert_eq!(r.len(), 2, "{r:?}");
    assert_eq!(outcomes(&r, instant_vault, veto_vault), (1, 1), "{r:?}");
    assert_eq!(w.burnt().await, units(200));

    // After that (the missed deadline took the chains past it) the stale snapshot grants nothing:
    // no lock, so no slash L1 would refuse later.
    assert!(latest_time(&w.l2_dev).await > lock_end);
    assert_eq!(w.restaked(operator).await, U256::ZERO, "expired snapshot");
    let (_, accepted) = w.assign(operator).await;
    assert!(!accepted, "no restaked lock from an expired snapshot");
    w.at(capture1 + 7 * DAY + 100).await;
    // The third slash's veto request can no longer be executed.
    let closed = bridge.execute_requests().await.unwrap();
    assert!(
        matches!(closed.as_slice(), [ExecuteOutcome::WindowClosed { request }] if request.slash_id == third),
        "{closed:?}"
    );
    assert_eq!(w.burnt().await, units(200));

    // A snapshot signed by a key no registered image attested is refused (epoch 8 has none yet).
    let mut rogue_secret = w.secret;
    rogue_secret[5] ^= 0xff;
    let rogue = w.bridge_with(rogue_secret).await;
    let e = rogue.sync_snapshot().await.unwrap_err();
    assert!(is_revert(&e, "EnclaveAuthKeyNotLive"), "{e}");

    // A run that stopped after the first of epoch 8's two chunks: the job resumes at the second.
    let epoch = clock.epoch_of(latest_time(&w.l2_dev).await).unwrap();
    assert_eq!(epoch, 8);
    let capture = clock.capture(epoch, 60).unwrap();
    let (_, chunks) = bridge
        .snapshot_chunks(epoch, capture, symbiotic_bridge::job::unix_now())
        .await
        .unwrap()
        .expect("a final L1 block after the capture");
    assert_eq!(chunks.len(), 2);
    let first_chunk = &chunks[0];
    let engine = LocalSigner::from_bytes(&w.secret).unwrap();
    let (_, signature) = symbiotic_bridge::typed::sign(
        &engine,
        first_chunk,
        &symbiotic_bridge::typed::module_domain(L2_ID, w.module),
    )
    .unwrap();
    SymbioticStakingModule::new(w.module, w.l2.provider(Some(RELAYER_KEY)))
        .submitSnapshotChunk(
            epoch,
            first_chunk.captureTimestamp,
            0,
            2,
            first_chunk.snapshotRoot,
            first_chunk.stakes.clone(),
            signature,
        )
        .mined()
        .await;
    let r = bridge.sync_snapshot().await.unwrap();
    assert!(
        matches!(
            r,
            SnapshotOutcome::Submitted {
                epoch: 8,
                total: 2,
                sent: 1,
                ..
            }
        ),
        "{r:?}"
    );
    // Epoch 1's snapshot has expired and epoch 8's is not active before its offset: no stake.
    assert_eq!(w.restaked(operator).await, U256::ZERO);
    // Epoch 8 reads what L1 kept: 1000 - 150 (instant) and 1000 - 50 (veto, one executed), less the
    // third slash's records (50 per vault), made within a slashing window before its capture: they
    // might settle on L1 after it, so the module does not count them (here one already has).
    w.at(clock.start(8).unwrap() + clock.offset + 10).await;
    assert_eq!(w.restaked(operator).await, units(1700));

    // Revoking the image on L1 stops slash results signed by its keys; the record stays pending.
    registry_client(&w.l1, w.l1_enclaves.address)
        .await
        .revoke(w.l1_enclaves.image, "test")
        .await
        .unwrap();
    let _after = w.missed_deadline(operator).await;
    let held = bridge.carry_slashes().await.unwrap();
    assert_eq!(held.len(), 2, "{held:?}");
    assert!(
        held.iter().all(|s| matches!(s, SlashOutcome::Retry { reason, .. } if reason.contains("EnclaveAuthKeyNotLive"))),
        "{held:?}"
    );
    assert_eq!(w.burnt().await, units(200));

    // Revoking the image on L2 stops the bridge's own snapshots.
    registry_client(&w.l2, w.l2_enclaves.address)
        .await
        .revoke(w.l2_enclaves.image, "test")
        .await
        .unwrap();
    w.at(clock.start(9).unwrap() + 120).await;
    let e = bridge.sync_snapshot().await.unwrap_err();
    assert!(is_revert(&e, "EnclaveAuthKeyNotLive"), "{e}");
    let snap = SymbioticStakingModule::new(w.module, &w.l2_dev)
        .snapshotOf(9)
        .call()
        .await
        .unwrap();
    assert_eq!(snap.snapshotKey, B256::ZERO, "no snapshot landed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs anvil, forge and the contracts' build: run ci/bridge-e2e"]
async fn lying_endpoints_give_named_errors_and_nothing_is_sent() {
    use alloy::providers::Provider;
    use serde_json::{Value, json};
    let w = world().await;
    let genesis = w.bridge().await.clock().genesis;
    w.at(genesis + 120).await;

    // A header whose fields were changed no longer hashes to its hash.
    let forged_header = common::tamper::tamper(
        &w.l1.url,
        Arc::new(|method: &str, _: &Value, result: &mut Value| {
            if method == "eth_getBlockByNumber" && result.is_object() {
                result["timestamp"] = json!("0x1");
            }
        }),
    )
    .await;
    let bridge = w
        .bridge_from(
            w.chain_over(&w.l1, "L1", &[&forged_header.url]).await,
            w.chain(&w.l2, "L2").await,
            w.secret,
        )
        .await;
    let e = bridge.sync_snapshot().await.unwrap_err();
    assert!(
        matches!(e, Error::Data(DataError::BadHeader { chain: "L1", .. })),
        "{e}"
    );

    // Two endpoints serving different chains with the same id disagree on the block.
    let other = Anvil::start(L1_ID, latest_time(&w.l1_dev).await);
    let height = w.l1_dev.get_block_number().await.unwrap();
    let _: Value = other
        .provider(None)
        .raw_request("anvil_mine".into(), (format!("{:#x}", height + 1),))
        .await
        .unwrap();
    let bridge = w
        .bridge_from(
            w.chain_over(&w.l1, "L1", &[&w.l1.url, &other.url]).await,
            w.chain(&w.l2, "L2").await,
            w.secret,
        )
        .await;
    let e = bridge.sync_snapshot().await.unwrap_err();
    assert!(
        matches!(e, Error::Rpc(RpcError::Disagreement { chain: "L1", .. })),
        "{e}"
    );
    let snap = SymbioticStakingModule::new(w.module, &w.l2_dev)
        .snapshotOf(0)
        .call()
        .await
        .unwrap();
    assert_eq!(snap.snapshotKey, B256::ZERO, "nothing was submitted");

    // An endpoint inventing a slash record in a real block: not in that block's receipts.
    let block = w
        .l2_dev
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await
        .unwrap()
        .unwrap();
    let (number, hash) = (block.header.inner.number, block.header.hash);
    let module = w.module;
    let operator = addr(OPERATOR_KEY);
    let vault = w.instant_vault;
    let fake = json!({
        "address": module.to_string(),
        "topics": [
            SymbioticStakingModule::SlashRequested::SIGNATURE_HASH.to_string(),
            B256::repeat_byte(0x5a).to_string(),
            B256::left_padding_from(operator.as_slice()).to_string(),
            B256::left_padding_from(vault.as_slice()).to_string(),
        ],
        "data": alloy::primitives::hex::encode_prefixed(
            alloy::sol_types::SolValue::abi_encode_params(&(units(500), U256::from(genesis + 60)))
        ),
        "blockNumber": format!("{number:#x}"),
        "blockHash": hash.to_string(),
        "transactionHash": B256::repeat_byte(0x77).to_string(),
        "transactionIndex": "0x0",
        "logIndex": "0x0",
        "removed": false,
    });
    let forged_log = common::tamper::tamper(
        &w.l2.url,
        Arc::new(move |method: &str, _: &Value, result: &mut Value| {
            if method == "eth_getLogs"
                && let Some(logs) = result.as_array_mut()
            {
                logs.push(fake.clone());
            }
        }),
    )
    .await;
    let mut bridge = w
        .bridge_from(
            w.chain(&w.l1, "L1").await,
            w.chain_over(&w.l2, "L2", &[&forged_log.url]).await,
            w.secret,
        )
        .await;
    let e = bridge.carry_slashes().await.unwrap_err();
    assert!(
        matches!(&e, Error::Data(DataError::BadLog { chain: "L2", reason, .. }) if reason.contains("receipts")),
        "{e}"
    );
    assert_eq!(w.burnt().await, U256::ZERO, "nothing was slashed");
}
