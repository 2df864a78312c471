//! The Symbiotic leg: an L1 chain with its own `EnclaveRegistry` and the image, the real
//! Symbiotic core 1.0.3 and the network's middleware (`script/SymbioticDevnetL1.s.sol`), the L2
//! staking module (`script/SymbioticDevnetL2.s.sol`), and the bridge job inside the enclave app:
//! the app restarted with a bridge section, its new key registered on both chains, epoch 0's
//! snapshot landed on L2 and the operator's L1 stake usable there.

use std::path::Path;

use alloy::primitives::aliases::U48;
use alloy::primitives::{Address, B256, U256};
use pcr_registry::pcrs::MeasuredEif;
use serde_json::{Value, json};
use testkit::contracts::{NetworkMiddleware, SymbioticStakingModule};

use crate::chain::{self, FAMILY, RegistryChain, keys, str_of};
use crate::enclave::{self, Ports};
use crate::error::{Error, Result, ensure};
use crate::out::Out;
use crate::procs::{Procs, wait_for};

/// L1's chain id (Holesky's, so it differs from the marketplace chain's).
pub(crate) const L1_CHAIN_ID: u64 = 17_000;
/// Epoch 0's snapshot is used this many seconds after the epoch's start.
const ACTIVATION_OFFSET: u64 = 60;
/// Stake is captured on L1 this many seconds after the epoch's start.
const CAPTURE_DELAY: u64 = 5;

/// Everything the leg needs from the steps before it.
pub(crate) struct Leg<'a> {
    pub(crate) out: &'a Out,
    pub(crate) procs: &'a mut Procs,
    pub(crate) run: &'a Path,
    pub(crate) l2: &'a RegistryChain,
    pub(crate) eif: &'a MeasuredEif,
    pub(crate) revision: &'a str,
    pub(crate) ports: Ports,
    pub(crate) app_bin: &'a Path,
    /// The first app's configuration; the bridge section is added to it.
    pub(crate) app_config: &'a Value,
}

fn field(json: &Value, name: &str) -> String {
    str_of(&json[name])
}

fn number(json: &Value, name: &str, path: &Path) -> Result<u64> {
    json[name]
        .as_u64()
        .ok_or_else(|| Error::Check(format!("{}: no number in `{name}`", path.display())))
}

/// Runs the leg.
pub(crate) async fn run(leg: Leg<'_>) -> Result<()> {
    let Leg {
        out,
        procs,
        run,
        l2,
        eif,
        revision,
        ports,
        app_bin,
        app_config,
    } = leg;
    let generator = chain::address(keys::GENERATOR)?;
    // On the port the proxy's l1-rpc route was configured with (the host-proxy step).
    let node = procs.anvil(
        "anvil-l1",
        L1_CHAIN_ID,
        Some(ports.l1),
        &chain::ANVIL_ARGS,
        run,
    )?;
    out.info(&format!("anvil L1 on {} ready", node.url));
    let l1 = chain::deploy_registry(&node, run)?;
    out.show("L1 EnclaveRegistry", &l1.registry.to_string());
    chain::register_image(out, &l1, eif, revision).await?;

    // Real Symbiotic core 1.0.3: factories, registries, opt-in services, a VetoSlasher vault and
    // an instant-Slasher vault with NetworkRestake delegators, and the network's middleware; the
    // generator is the operator. Both chains' contracts get the same restaking timing.
    let broadcast = run.join("broadcast");
    let l1_path = run.join("deployments/symbiotic-l1.json");
    let l1_file = format!("devnet-l1-{}.json", std::process::id());
    let d1 = testkit::forge::Script {
        script: "script/SymbioticDevnetL1.s.sol",
        rpc_url: &node.url,
        private_key: keys::DEPLOYER,
        broadcast_dir: &broadcast,
        env: vec![
            ("ENCLAVE_REGISTRY", l1.registry.to_string()),
            ("FAMILY", FAMILY.into()),
            ("OPERATOR_KEYS", keys::GENERATOR.into()),
            ("RESOLVER", chain::address(keys::RESOLVER)?.to_string()),
            ("DEPOSIT", crate::marketplace::whole(1000).to_string()),
            ("ACTIVATION_OFFSET", ACTIVATION_OFFSET.to_string()),
        ],
        slow: false,
    }
    .deploy(&l1_file, Some(&l1_path))?;
    let collateral = chain::json_address(&d1, "collateral", &l1_path)?;
    let middleware = chain::json_address(&d1, "middleware", &l1_path)?;
    let l1p = chain::provider(&node.url)?;
    let l2p = chain::provider(&l2.node.url)?;
    let mw = NetworkMiddleware::new(middleware, &l1p);
    let subnetwork = mw
        .SUBNETWORK()
        .call()
        .await
        .map_err(|e| Error::rpc("SUBNETWORK", e))?;
    out.show(
        "Symbiotic core",
        &format!(
            "VaultFactory {}, NetworkRegistry {}",
            field(&d1, "vaultFactory"),
            field(&d1, "networkRegistry")
        ),
    );
    out.show(
        "middleware",
        &format!("{middleware} (the Symbiotic network; subnetwork {subnetwork})"),
    );
    out.show(
        "veto vault",
        &format!(
            "{} (VetoSlasher {})",
            field(&d1, "vetoVault"),
            field(&d1, "vetoSlasher")
        ),
    );
    out.show(
        "instant vault",
        &format!(
            "{} (Slasher {})",
            field(&d1, "instantVault"),
            field(&d1, "instantSlasher")
        ),
    );

    let l2_path = run.join("deployments/symbiotic-l2.json");
    let l2_file = format!("devnet-l2-{}.json", std::process::id());
    let d2 = testkit::forge::Script {
        script: "script/SymbioticDevnetL2.s.sol",
        rpc_url: &l2.node.url,
        private_key: keys::DEPLOYER,
        broadcast_dir: &broadcast,
        env: vec![
            ("ENCLAVE_REGISTRY", l2.registry.to_string()),
            ("FAMILY", FAMILY.into()),
            ("COLLATERALS", collateral.to_string()),
            ("WEIGHTS", crate::marketplace::whole(1).to_string()),
            ("ACTIVATION_OFFSET", ACTIVATION_OFFSET.to_string()),
        ],
        slow: false,
    }
    .deploy(&l2_file, Some(&l2_path))?;
    let module = chain::json_address(&d2, "stakingModule", &l2_path)?;
    out.show(
        "L2 staking module",
        &format!("{module} (collateral {collateral} weight 1.0)"),
    );
    tokio::time::sleep(std::time::Duration::from_secs(2)).await; // the capture must be past
    let (_, l1_now) = chain::head(&l1p).await?;
    let capture = l1_now.saturating_sub(1);
    let stake = stake_at(&mw, generator, capture).await?;
    out.show(
        "operator stake on L1",
        &format!("{generator}: {stake:?} per vault at {capture} (NetworkRestakeDelegator.stakeAt)"),
    );
    out.show(
        "L2 epochs",
        &format!(
            "genesis {}, {} s each, snapshot used {ACTIVATION_OFFSET} s after an epoch's start",
            d2["genesis"], d2["epochDuration"]
        ),
    );

    // The bridge job runs inside the enclave app and signs with its attested engine key. Keys
    // are generated at start: the app is restarted with a bridge section, and its new key
    // registered on both chains from a fresh attestation (the L1 middleware checks the L1
    // registry, the L2 module the L2 one). L1 is reached through the proxy's l1-rpc route.
    let mut config = app_config.clone();
    config["bridge"] = json!({
        "l1": { "chain_id": L1_CHAIN_ID, "rpc": [ { "url": format!("http://127.0.0.1:{}", ports.l1_rpc) } ] },
        "middleware": middleware.to_string(),
        "staking_module": module.to_string(),
        "interval_s": 2,
        "settings": {
            "l1_confirmations": 2,
            "l2_confirmations": 0,
            "capture_delay": CAPTURE_DELAY,
            "l1_start_block": number(&d1, "startBlock", &l1_path)?,
            "l2_start_block": number(&d2, "startBlock", &l2_path)?,
        },
    });
    if let Some(pid) = procs.stop("enclave-app") {
        out.info(&format!(
            "stopped enclave-app (pid {pid}) to restart it with the bridge section"
        ));
    }
    let status = enclave::start_app(
        procs,
        app_bin,
        "enclave-app-bridge",
        &config,
        run,
        ports.api,
    )
    .await?;
    let bridge = &status["bridge"];
    out.show(
        "bridge job",
        &format!(
            "L1 chain {}, middleware {}, module {}",
            bridge["l1_chain_id"],
            str_of(&bridge["middleware"]),
            str_of(&bridge["staking_module"])
        ),
    );
    out.show(
        "engine key",
        &format!(
            "{} (new at this start; signs batches and the bridge's messages)",
            str_of(&status["engine_key"])
        ),
    );
    out.info(&format!("registering it on L2 ({FAMILY}):"));
    enclave::register_key(out, l2, &eif.pcrs, ports.api, run).await?;
    out.info(&format!(
        "registering it on L1 ({FAMILY}), the same document flow:"
    ));
    enclave::register_key(out, &l1, &eif.pcrs, ports.api, run).await?;

    // The epoch-0 snapshot: signed in the enclave, submitted in chunks, finalised by the module.
    let sm = SymbioticStakingModule::new(module, &l2p);
    let finalised = wait_for(
        120,
        "epoch 0's snapshot finalised on L2",
        " (the bridge job's last round is in GET /status)",
        || async {
            let snap = sm.snapshotOf(0).call().await.ok()?;
            (snap.snapshotKey != B256::ZERO).then_some(snap)
        },
    )
    .await;
    let snap = match finalised {
        Ok(snap) => snap,
        Err(e) => {
            if let Ok(s) = enclave::status(ports.api) {
                out.info(&format!("bridge: {}", s["bridge"]));
            }
            return Err(e);
        }
    };
    out.show(
        "snapshot epoch 0",
        &format!(
            "key {}, capture time {} (read on L1 by the enclave)",
            snap.snapshotKey, snap.captureTimestamp
        ),
    );
    let stored = sm
        .vaultStakesOf(0, generator)
        .call()
        .await
        .map_err(|e| Error::rpc("vaultStakesOf", e))?;
    let stored: Vec<String> = stored
        .iter()
        .map(|s| format!("({}, {}, {})", s.vault, s.collateral, s.amount))
        .collect();
    out.show("operator's vaults", &format!("[{}]", stored.join(", ")));
    let status = enclave::status(ports.api)?;
    let b = &status["bridge"];
    out.show(
        "bridge in /status",
        &json!({"rounds": b["rounds"], "snapshot": b["last_report"]["snapshot"], "last_error": b["last_error"]})
            .to_string(),
    );

    // Usable once the epoch's activation (start + offset) has passed on L2.
    let usable = wait_for(
        ACTIVATION_OFFSET + 60,
        "the snapshot's activation on L2",
        "",
        || async {
            let v = sm.restakedStakeOf(generator).call().await.ok()?;
            (!v.is_zero()).then_some(v)
        },
    )
    .await?;
    let capture0 = snap.captureTimestamp.to::<u64>();
    let expected: U256 = stake_at(&mw, generator, capture0).await?.into_iter().sum();
    out.show(
        "usable stake on L2",
        &format!(
            "{generator}: {usable} (restakedStakeOf; its L1 stake at the capture, weight 1.0: {expected})"
        ),
    );
    ensure(usable == expected, || {
        format!("usable stake {usable} on L2 differs from the operator's L1 stake {expected}")
    })?;
    let e = &status["engine"];
    out.show(
        "engine after restart",
        &format!(
            "caught up {} at block {}, key live {}",
            e["caught_up"], e["synced_block"], e["key_live"]
        ),
    );
    out.info("not shown here: a slash carried back to L1 (ci/bridge-e2e shows it with the real ProofMarketplace)");
    Ok(())
}

/// The operator's stake per vault at `capture` (`NetworkMiddleware.stakeAt`).
async fn stake_at(
    mw: &NetworkMiddleware::NetworkMiddlewareInstance<&alloy::providers::DynProvider>,
    operator: Address,
    capture: u64,
) -> Result<Vec<U256>> {
    let capture = U48::try_from(capture)
        .map_err(|_| Error::Check(format!("capture time {capture} exceeds 48 bits")))?;
    let answer = mw
        .stakeAt(operator, capture)
        .call()
        .await
        .map_err(|e| Error::rpc("stakeAt", e))?;
    Ok(answer.amounts)
}
