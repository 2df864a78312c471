//! Shared test harness: the built binary in a temporary directory (fd's `TestEnv`), and a real
//! anvil with the registry deployed from forge's build artifacts.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// The built binary plus a temporary directory for inputs.
pub(crate) struct TestEnv {
    pub(crate) dir: tempfile::TempDir,
    envs: Vec<(String, String)>,
}

impl TestEnv {
    pub(crate) fn new() -> Self {
        TestEnv {
            dir: tempfile::tempdir().unwrap(),
            envs: Vec::new(),
        }
    }

    /// Sets an environment variable for every run.
    pub(crate) fn env(&mut self, key: &str, value: &str) {
        self.envs.push((key.into(), value.into()));
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_pcr-registry"))
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("PCR_REGISTRY_RPC_URL")
            .env_remove("PCR_REGISTRY_DEPLOYMENT")
            .envs(self.envs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// Runs with `--json` and returns (exit code, parsed stdout).
    pub(crate) fn json(&self, args: &[&str]) -> (i32, Value) {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.run(&all);
        let stdout = String::from_utf8(out.stdout).unwrap();
        let value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON object ({e}): {stdout}\nstderr: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap(), value)
    }

    /// Runs, expects exit 2 with one `error: …` line on stderr and nothing on stdout; returns it.
    pub(crate) fn error(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
        assert_eq!(
            stderr.lines().count(),
            1,
            "{args:?}: not one line: {stderr}"
        );
        assert!(stderr.starts_with("error: "), "{stderr}");
        stderr
    }
}

pub(crate) fn real_document(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../attestation/tests/data")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

pub(crate) use testkit::Anvil;

/// Writes a small EIF (random kernel and ramdisks, so each call gives a new image).
pub(crate) fn small_eif(dir: &Path, name: &str, seed: u8) -> PathBuf {
    let kernel = dir.join(format!("{name}.kernel"));
    let r0 = dir.join(format!("{name}.r0"));
    let r1 = dir.join(format!("{name}.r1"));
    std::fs::write(&kernel, vec![seed; 4096]).unwrap();
    std::fs::write(&r0, vec![seed.wrapping_add(1); 1000]).unwrap();
    std::fs::write(&r1, vec![seed.wrapping_add(2); 3000]).unwrap();
    let out = dir.join(name);
    eif_builder::build(
        &eif_builder::BuildSpec {
            kernel,
            cmdline: "console=ttyS0".into(),
            ramdisks: vec![r0, r1],
            signer: None,
            identity: eif_builder::ImageIdentity::default(),
            provenance: eif_builder::Provenance::default(),
            flags: 0,
        },
        &out,
        None,
    )
    .unwrap();
    out
}

/// anvil's funded dev accounts (its default mnemonic): deployer/admin, registrar, revoker.
pub(crate) const DEPLOYER_KEY: &str =
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
pub(crate) const REGISTRAR_KEY: &str =
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
pub(crate) const REVOKER_KEY: &str =
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

/// The registry deployed on an anvil, and a deployment file describing it.
pub(crate) struct Deployed {
    pub(crate) anvil: Anvil,
    pub(crate) registry: alloy::primitives::Address,
    pub(crate) deployment: PathBuf,
}

/// Creation bytecode of contract `name` from forge's output (`contracts/out`, see
/// `testkit::forge`).
fn artifact_bytecode(name: &str) -> Vec<u8> {
    testkit::artifact(name)
}

/// Creates contract `name` from forge's output with ABI-encoded constructor arguments.
pub(crate) async fn deploy_contract(
    provider: &impl alloy::providers::Provider,
    name: &str,
    args: Vec<u8>,
) -> alloy::primitives::Address {
    testkit::contracts::create(provider, name, &artifact_bytecode(name), &args).await
}

/// Deploys `EnclaveRegistry` from forge's artifact the way `script/Deploy.s.sol` does (families
/// configured without a verifier, registrar and revoker roles granted) and writes the same
/// deployment JSON into `dir`.
pub(crate) async fn deploy(dir: &Path, chain_id: u64, families: &[&str]) -> Deployed {
    deploy_on(Anvil::start(chain_id, &[]), dir, families, None).await
}

/// As [`deploy`], on a given anvil; with `optimistic = Some((family, bond))` also deploys a
/// `NitroOptimisticVerifier` (both bonds `bond` wei; its full verifier is never called here) and
/// configures `family` with it (attestations up to one day old, so documents of a chain whose
/// clock was set to their time stay usable after the challenge window).
pub(crate) async fn deploy_on(
    anvil: Anvil,
    dir: &Path,
    families: &[&str],
    optimistic: Option<(&str, u128)>,
) -> Deployed {
    let chain_id = anvil.chain_id;
    use alloy::network::EthereumWallet;
    use alloy::primitives::{Address, keccak256};
    use alloy::providers::{Provider, ProviderBuilder};
    use alloy::signers::local::PrivateKeySigner;
    use alloy::sol_types::SolValue;
    use marketplace_bindings::IEnclaveRegistry;

    let deployer: PrivateKeySigner = DEPLOYER_KEY.parse().unwrap();
    let registrar = REGISTRAR_KEY.parse::<PrivateKeySigner>().unwrap().address();
    let revoker = REVOKER_KEY.parse::<PrivateKeySigner>().unwrap().address();
    let admin = deployer.address();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(deployer))
        .connect_http(anvil.url.parse().unwrap());
    let start_block = provider.get_block_number().await.unwrap();
    let registry = deploy_contract(
        &provider,
        "EnclaveRegistry",
        (admin, alloy::primitives::aliases::U48::ZERO).abi_encode_params(),
    )
    .await;
    let enclave = IEnclaveRegistry::new(registry, &provider);
    let roles = testkit::contracts::IAccessControl::new(registry, &provider);
    for family in families {
        enclave
            .configureFamily(keccak256(family.as_bytes()), Address::ZERO, 300, 7 * 86_400)
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
    }
    for (role, who) in [("REGISTRAR_ROLE", registrar), ("REVOKER_ROLE", revoker)] {
        roles
            .grantRole(keccak256(role), who)
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
    }
    let mut entries: Vec<Value> = families
        .iter()
        .map(|f| {
            serde_json::json!({"name": f, "id": keccak256(f.as_bytes()).to_string(),
                               "verifier": Address::ZERO.to_string()})
        })
        .collect();
    if let Some((family, bond)) = optimistic {
        let bond = alloy::primitives::U256::from(bond);
        let verifier = deploy_contract(
            &provider,
            "NitroOptimisticVerifier",
            // Defence gas price 1 wei: the challenger bond must cover DEFENCE_GAS wei.
            (admin, bond, bond, alloy::primitives::U256::from(1u8)).abi_encode_params(),
        )
        .await;
        enclave
            .configureFamily(keccak256(family.as_bytes()), verifier, 86_400, 7 * 86_400)
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        entries.push(serde_json::json!({"name": family,
            "id": keccak256(family.as_bytes()).to_string(), "verifier": verifier.to_string()}));
    }
    let json = serde_json::json!({
        "chainId": chain_id, "startBlock": start_block,
        "enclaveRegistry": registry.to_string(), "pcrRegistry": registry.to_string(),
        "admin": admin.to_string(), "families": entries,
    });
    let deployment = dir.join(format!("{chain_id}.json"));
    std::fs::write(&deployment, serde_json::to_vec_pretty(&json).unwrap()).unwrap();
    Deployed {
        anvil,
        registry,
        deployment,
    }
}

/// The number of transactions an account has sent.
pub(crate) async fn nonce(url: &str, key: &str) -> u64 {
    use alloy::providers::{Provider, ProviderBuilder};
    let address = key
        .parse::<alloy::signers::local::PrivateKeySigner>()
        .unwrap()
        .address();
    ProviderBuilder::new()
        .connect_http(url.parse().unwrap())
        .get_transaction_count(address)
        .await
        .unwrap()
}
