//! The numbered steps of `ci/devnet` after the enclave image, in order, each printing what it
//! read from the chain or the processes; and the two small commands other scripts use.

use std::path::{Path, PathBuf};

use alloy::primitives::{U256, keccak256};
use pcr_registry::pcrs::MeasuredEif;

use crate::chain::{self, FAMILY, keys};
use crate::enclave::{self, AppSpec, Ports};
use crate::error::{Error, Result, ensure};
use crate::marketplace::{self, MarketSpec, whole};
use crate::out::{Out, now_s, units};
use crate::procs::{Procs, wait_for};
use crate::{private, symbiotic};

/// The marketplace chain's id (anvil's default).
const L2_CHAIN_ID: u64 = 31_337;
/// `devnet run`.
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// The run directory (emptied first): logs, configurations, deployment files.
    #[arg(long)]
    run_dir: PathBuf,
    /// The enclave image (its PCRs are measured here).
    #[arg(long)]
    eif: PathBuf,
    /// The source revision it was built from.
    #[arg(long)]
    revision: String,
    /// The host-proxy binary.
    #[arg(long)]
    host_proxy: PathBuf,
    /// The enclave-app binary, built with the dev NSM.
    #[arg(long)]
    enclave_app: PathBuf,
    /// The directory holding the clients' binaries: `requester`, `generator`, `schnorr-prove`.
    #[arg(long)]
    client_bins: PathBuf,
    /// The step in progress when this program starts (its lines continue it).
    #[arg(long)]
    step: usize,
    /// How many steps the run has.
    #[arg(long)]
    steps: usize,
    /// Seconds since the epoch when the run began.
    #[arg(long)]
    started: Option<u64>,
    /// Leave everything running until Ctrl-C.
    #[arg(long)]
    keep: bool,
}

/// `devnet run`: 0 when every step ran, 1 when one failed.
pub(crate) async fn run(args: RunArgs) -> u8 {
    let mut out = Out::new(args.step, args.steps, args.started.unwrap_or_else(now_s));
    out.resume("enclave image");
    let mut procs = Procs::default();
    let code = match steps(&mut out, &mut procs, &args).await {
        Ok(kept) => {
            eprintln!(
                "\n\x1b[1;32mdevnet: every step ran in {} s\x1b[0m",
                out.elapsed()
            );
            if let Some(kept) = kept {
                eprintln!("\nkept running (Ctrl-C stops everything):\n{kept}");
                std::future::pending::<()>().await;
            }
            0
        }
        Err(e) => {
            out.failed(&e);
            1
        }
    };
    drop(procs); // stops everything, printing each
    code
}

/// The steps; `Some(summary)` when `--keep` asks to keep everything running.
async fn steps(out: &mut Out, procs: &mut Procs, args: &RunArgs) -> Result<Option<String>> {
    let run = args.run_dir.as_path();
    let eif = measure(out, &args.eif)?;

    out.step(&format!(
        "marketplace chain (anvil, chain id {L2_CHAIN_ID})"
    ));
    let node = procs.anvil("anvil-l2", L2_CHAIN_ID, None, &chain::ANVIL_ARGS, run)?;
    out.info(&format!("anvil on {} ready", node.url));

    out.step(&format!(
        "EnclaveRegistry (contracts/script/Deploy.s.sol, family {FAMILY})"
    ));
    let l2 = chain::deploy_registry(&node, run)?;
    out.show("EnclaveRegistry", &l2.registry.to_string());
    out.show("family", &format!("{FAMILY} = {}", keccak256(FAMILY)));

    out.step("register the image's PCRs (pcr-registry register, dev family)");
    chain::register_image(out, &l2, &eif, &args.revision).await?;

    out.step("marketplace contracts and a market");
    let p = chain::provider(&node.url)?;
    let penalty = whole(100);
    let market = marketplace::deploy(
        &p,
        l2.registry,
        &MarketSpec {
            token_name: "Devnet USD",
            token_symbol: "dUSD",
            family: FAMILY,
            penalty,
        },
    )
    .await?;
    out.show(
        "payment token",
        &format!("{} (dUSD, open mint: devnet only)", market.token),
    );
    out.show("NativeStaking", &market.staking.to_string());
    out.show(
        "ProofMarketplace",
        &format!("{} (engine family {FAMILY})", market.marketplace),
    );
    out.show(
        &format!("market {}", market.id),
        &format!(
            "order book, Schnorr/BN254 verifier {}, penalty {} dUSD",
            market.verifier,
            units(penalty)
        ),
    );

    out.step("host proxy (JSON-RPC out of the enclave, HTTP API into it)");
    let ports = Ports::pick()?;
    let api_socket = run.join("engine-api.sock");
    let proxy_toml = run.join("host-proxy.toml");
    std::fs::write(
        &proxy_toml,
        enclave::proxy_config(&ports, node.port, &api_socket),
    )
    .map_err(|e| Error::file(&proxy_toml, e))?;
    enclave::start_proxy(procs, &args.host_proxy, &proxy_toml, run, ports.admin).await?;
    out.show(
        "l2-rpc route",
        &format!("tcp:127.0.0.1:{} -> anvil :{}", ports.l2_rpc, node.port),
    );
    out.show(
        "l1-rpc route",
        &format!(
            "tcp:127.0.0.1:{} -> anvil :{} (the L1 chain of the Symbiotic step)",
            ports.l1_rpc, ports.l1
        ),
    );
    out.show(
        "engine-api route",
        &format!(
            "tcp:127.0.0.1:{} -> unix:{}",
            ports.api,
            api_socket.display()
        ),
    );

    out.step("enclave app in local simulation (dev NSM reporting the image's PCRs)");
    let app_config = enclave::app_config(&AppSpec {
        pcrs: &eif.pcrs,
        chain_id: L2_CHAIN_ID,
        marketplace: market.marketplace,
        registry: l2.registry,
        start_block: market.marketplace_block,
        verifier: market.verifier,
        ports,
        run,
    });
    let status = enclave::start_app(
        procs,
        &args.enclave_app,
        "enclave-app",
        &app_config,
        run,
        ports.api,
    )
    .await?;
    out.show(
        "engine key",
        &format!(
            "{} (generated inside; not registered yet)",
            chain::str_of(&status["engine_key"])
        ),
    );
    let e = &status["engine"];
    out.show(
        "engine status",
        &format!(
            "caught up {} at block {}, {} market(s), relayer {}, key live {}",
            e["caught_up"],
            e["synced_block"],
            e["markets"],
            chain::str_of(&status["chain"]["relayer"]),
            e["key_live"]
        ),
    );

    out.step(
        "enclave key: attestation -> on-chain Nitro verifier (dev CA root) -> EnclaveRegistry",
    );
    let enclave_key = enclave::register_key(out, &l2, &eif.pcrs, ports.api, run).await?;

    out.step("generator: mint stake, deposit, register, join the market");
    let generator = marketplace::join_generator(&p, &market, whole(1000), whole(20)).await?;
    out.show(
        "generator",
        &format!(
            "{generator}: 1000 dUSD staked in market {}, capacity 4, cost 20 dUSD, proposed time 60 s",
            market.id
        ),
    );

    out.step("ask: a Schnorr/BN254 statement, reward 50 dUSD, proving time 600 s");
    let mut seed = [0u8; 8];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut seed);
    let reward = whole(50);
    let ask = marketplace::ask(&p, &market, reward, u64::from_be_bytes(seed)).await?;
    let requester = chain::address(keys::REQUESTER)?;
    let statement = ask.statement.to_string();
    out.show(
        &format!("ask {}", ask.id),
        &format!(
            "requester {requester}, reward {} dUSD escrowed, statement P = {}… (tx {})",
            units(reward),
            statement.get(..18).unwrap_or(&statement),
            ask.tx
        ),
    );

    out.step(
        "assignment: matched in the enclave, EIP-712-signed by the enclave key, accepted on chain",
    );
    let (tx, event) = wait_for(
        90,
        &format!("AssignmentAccepted for ask {}", ask.id),
        ": the engine did not match, sign or relay (see enclave-app.log)",
        || async {
            marketplace::find_accepted(&p, &market, ask.id)
                .await
                .ok()
                .flatten()
        },
    )
    .await?;
    let accepted = marketplace::check_batch(&p, &market, tx, &event).await?;
    ensure(accepted.generator == generator, || {
        format!(
            "ask {} was assigned to {}, not the demo generator",
            ask.id, accepted.generator
        )
    })?;
    out.show(
        "assignBatch tx",
        &format!(
            "{} (relayed by {}, which only pays gas)",
            accepted.tx, accepted.relayer
        ),
    );
    out.show(
        "assignment",
        &format!(
            "ask {} slot {} -> {} at {} dUSD, deadline {}",
            ask.id,
            accepted.slot,
            accepted.generator,
            units(accepted.price),
            accepted.deadline
        ),
    );
    ensure(accepted.signer == enclave_key, || {
        format!(
            "the batch was signed by {}, not the enclave key {enclave_key}",
            accepted.signer
        )
    })?;
    out.show(
        "batch digest",
        &format!(
            "{} (EIP-712 AssignmentBatch, ProofMarketplace domain; engine crate = batchDigest)",
            accepted.digest
        ),
    );
    out.show(
        "signed by",
        &format!(
            "{} = the enclave key registered from the attestation (live in {FAMILY})",
            accepted.signer
        ),
    );

    out.step("proof: the generator proves the statement, the market's verifier checks it");
    let proof_tx = marketplace::prove(&p, &market, &ask, accepted.slot).await?;
    let proof = ask.proof.to_string();
    out.show(
        "proof",
        &format!(
            "{}… (R, s) accepted by SchnorrBn254Verifier (tx {proof_tx})",
            proof.get(..18).unwrap_or(&proof)
        ),
    );

    out.step("payout: the generator withdraws its price, the requester its change");
    let (received, balance) = marketplace::withdraw(&p, &market).await?;
    ensure(received == accepted.price, || {
        format!(
            "the generator received {received}, not its price {}",
            accepted.price
        )
    })?;
    out.show(
        "generator paid",
        &format!("{} dUSD (balance {} dUSD)", units(received), units(balance)),
    );
    let change = marketplace::withdrawable(&p, &market, requester).await?;
    out.show(
        "requester change",
        &format!("{} dUSD withdrawable", units(change)),
    );

    out.step("private asks through the users' binaries: generator nodes and requester (clients/)");
    private::run(private::Setting {
        out,
        procs,
        p: &p,
        rpc: &node.url,
        chain_id: L2_CHAIN_ID,
        market: &market,
        engine_api: ports.api,
        run,
        bins: &private::ClientBins {
            requester: args.client_bins.join("requester"),
            generator: args.client_bins.join("generator"),
            schnorr_prove: args.client_bins.join("schnorr-prove"),
        },
    })
    .await?;

    out.step("Symbiotic: L1 chain, core contracts and vaults, L2 staking module, the bridge job");
    symbiotic::run(symbiotic::Leg {
        out,
        procs,
        run,
        l2: &l2,
        eif: &eif,
        revision: &args.revision,
        ports,
        app_bin: &args.enclave_app,
        app_config: &app_config,
    })
    .await?;

    let (done, total) = out.progress();
    ensure(done == total, || {
        format!("ran {done} steps of the {total} announced")
    })?;
    Ok(args.keep.then(|| {
        format!(
            "  L2 JSON-RPC   {}\n  registry      {}\n  marketplace   {}\n  engine API    http://127.0.0.1:{}/status (through host-proxy)\n  logs          {}",
            node.url,
            l2.registry,
            market.marketplace,
            ports.api,
            run.display()
        )
    }))
}

/// Measures the EIF and prints what identifies it (the lines of the enclave-image step).
fn measure(out: &Out, eif: &Path) -> Result<MeasuredEif> {
    let measured = pcr_registry::pcrs::measure_eif(eif).map_err(pcr_registry::Error::from)?;
    let p = &measured.pcrs;
    out.show("EIF sha256", &hex::encode(measured.sha256));
    out.show("PCR0", &hex::encode(p.pcr0));
    out.show("PCR1", &hex::encode(p.pcr1));
    out.show("PCR2", &hex::encode(p.pcr2));
    out.show(
        "image id",
        &format!(
            "{}  (keccak256(PCR0‖PCR1‖PCR2))",
            pcr_registry::pcrs::image_id(p)
        ),
    );
    Ok(measured)
}

/// `devnet same-pcrs`: 0 when the EIF measures to the pcr.json's PCR0/1/2, else 1.
pub(crate) fn same_pcrs(eif: &Path, pcr_json: &Path) -> u8 {
    let measured = pcr_registry::pcrs::measure_eif(eif);
    let recorded = pcr_registry::pcrs::read_pcr_json(pcr_json);
    match (measured, recorded) {
        (Ok(m), Ok(r)) if (m.pcrs.pcr0, m.pcrs.pcr1, m.pcrs.pcr2) == (r.pcr0, r.pcr1, r.pcr2) => 0,
        (Ok(_), Ok(_)) => {
            eprintln!(
                "devnet: {} does not measure to {}",
                eif.display(),
                pcr_json.display()
            );
            1
        }
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("devnet: {e}");
            1
        }
    }
}

/// `devnet marketplace`.
#[derive(Debug, clap::Args)]
pub(crate) struct MarketplaceArgs {
    /// The chain's JSON-RPC URL.
    #[arg(long)]
    rpc: String,
    /// The engine family the marketplace accepts keys of.
    #[arg(long, default_value = "matching-engine")]
    family: String,
    /// The market's slashing penalty, in the token's smallest unit.
    #[arg(long, default_value_t = 100)]
    penalty: u64,
}

/// `devnet marketplace`: deploys and prints `{registry, token, staking, marketplace,
/// start_block, verifier, market, market_block}` as JSON on standard output.
pub(crate) async fn marketplace(args: MarketplaceArgs) -> u8 {
    match deploy_marketplace(&args).await {
        Ok(json) => {
            #[allow(clippy::print_stdout)] // the command's answer
            {
                println!("{json}");
            }
            0
        }
        Err(e) => {
            eprintln!("devnet marketplace: {e}");
            1
        }
    }
}

async fn deploy_marketplace(args: &MarketplaceArgs) -> Result<serde_json::Value> {
    let p = chain::provider(&args.rpc)?;
    let admin = chain::address(keys::DEPLOYER)?;
    let registry = chain::create(
        &p,
        "EnclaveRegistry",
        &alloy::sol_types::SolValue::abi_encode_params(&(
            admin,
            alloy::primitives::aliases::U48::ZERO,
        )),
    )
    .await?;
    let m = marketplace::deploy(
        &p,
        registry,
        &MarketSpec {
            token_name: "Test USD",
            token_symbol: "tUSD",
            family: &args.family,
            penalty: U256::from(args.penalty),
        },
    )
    .await?;
    Ok(serde_json::json!({
        "registry": registry.to_string(),
        "token": m.token.to_string(),
        "staking": m.staking.to_string(),
        "marketplace": m.marketplace.to_string(),
        "start_block": m.marketplace_block,
        "verifier": m.verifier.to_string(),
        "market": m.id.to_string(),
        "market_block": m.market_block,
    }))
}
