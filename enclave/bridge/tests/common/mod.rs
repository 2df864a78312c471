//! Two-anvil harness: throwaway anvils, forge artifacts and scripts, dev-NSM enclave keys
//! registered through the real on-chain Nitro verifier (rooted in the dev CA).
#![allow(dead_code, unreachable_pub)]

pub mod tamper;

use std::path::Path;
use std::sync::Arc;

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, Bytes, keccak256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolValue;
use marketplace_bindings::{IEnclaveRegistry, IPcrRegistry};
use nitro_attestation::FixedClock;
use nitro_attestation::dev::{DevNsm, DevNsmConfig};
use nitro_attestation::nsm::{AttestationRequest, Nsm};
use pcr_registry::client::Registry;
use pcr_registry::deployment::Deployment;
use serde_json::Value;

/// anvil's funded dev accounts (its default mnemonic).
pub const DEPLOYER_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
pub const OPERATOR_KEY: &str = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";
pub const RESOLVER_KEY: &str = "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a";
pub const MARKET_KEY: &str = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba";
pub const RELAYER_KEY: &str = "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e";

/// The enclave family (a dev family: its verifier trusts the dev CA).
pub const FAMILY: &str = "matching-engine-dev";

pub fn key(hex: &str) -> PrivateKeySigner {
    hex.parse().unwrap()
}

pub fn addr(hex: &str) -> Address {
    key(hex).address()
}

/// A throwaway anvil (`testkit`) with Cancun rules and a block gas limit above a cold on-chain
/// attestation verification.
pub struct Anvil(testkit::Anvil);

impl std::ops::Deref for Anvil {
    type Target = testkit::Anvil;
    fn deref(&self) -> &testkit::Anvil {
        &self.0
    }
}

impl Anvil {
    pub fn start(chain_id: u64, timestamp: u64) -> Anvil {
        let timestamp = timestamp.to_string();
        Anvil(testkit::Anvil::start(
            chain_id,
            &[
                "--timestamp",
                &timestamp,
                "--hardfork",
                "cancun",
                "--gas-limit",
                "200000000",
            ],
        ))
    }

    pub fn provider(&self, key_hex: Option<&str>) -> DynProvider {
        let url = self.url.parse().unwrap();
        match key_hex {
            // Nonces read per transaction: several providers send from one account.
            Some(k) => ProviderBuilder::new()
                .disable_recommended_fillers()
                .with_gas_estimation()
                .with_simple_nonce_management()
                .fetch_chain_id()
                .wallet(EthereumWallet::from(key(k)))
                .connect_http(url)
                .erased(),
            None => ProviderBuilder::new().connect_http(url).erased(),
        }
    }
}

/// Sends a call and waits for its receipt (test set-up: any failure panics).
#[allow(async_fn_in_trait)]
pub trait Mined {
    async fn mined(self) -> alloy::rpc::types::TransactionReceipt;
}

impl<P: Provider, D: alloy::contract::CallDecoder> Mined for alloy::contract::CallBuilder<P, D> {
    async fn mined(self) -> alloy::rpc::types::TransactionReceipt {
        self.send().await.unwrap().get_receipt().await.unwrap()
    }
}

/// Sets the next block's time and mines `blocks` blocks.
pub async fn set_time(p: &DynProvider, t: u64, blocks: u64) {
    let _: Value = p
        .raw_request("evm_setNextBlockTimestamp".into(), (t,))
        .await
        .unwrap();
    for _ in 0..blocks {
        let _: Value = p.raw_request("evm_mine".into(), ()).await.unwrap();
    }
}

pub async fn latest_time(p: &DynProvider) -> u64 {
    p.get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await
        .unwrap()
        .unwrap()
        .header
        .inner
        .timestamp
}

/// Creation bytecode of `name` from forge's output.
pub fn artifact_bytecode(name: &str) -> Vec<u8> {
    testkit::artifact(name)
}

/// Creates contract `name` from forge's output with ABI-encoded constructor arguments.
pub async fn deploy(p: &DynProvider, name: &str, args: Vec<u8>) -> Address {
    testkit::contracts::create(p, name, &artifact_bytecode(name), &args).await
}

/// Runs a forge script broadcasting as `DEPLOYER_KEY`; returns the JSON it wrote under
/// `contracts/deployments/` (removed afterwards).
pub fn forge_script(script: &str, anvil: &Anvil, env: &[(&str, String)], scratch: &Path) -> Value {
    let name = format!("bridge-e2e-{}-{}.json", std::process::id(), anvil.chain_id);
    let broadcast = scratch.join("broadcast");
    testkit::forge::Script {
        script,
        rpc_url: &anvil.url,
        private_key: DEPLOYER_KEY,
        broadcast_dir: &broadcast,
        env: env.iter().map(|(k, v)| (*k, v.clone())).collect(),
        slow: true,
    }
    .deploy(&name, None)
    .unwrap_or_else(|e| panic!("{e}"))
}

pub fn json_addr(v: &Value, field: &str) -> Address {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {v}"))
        .parse()
        .unwrap()
}

/// A chain's enclave registry with the dev family (verified through the real Nitro verifier
/// rooted in the dev CA), one registered image and the bridge key registered.
pub struct Enclaves {
    pub address: Address,
    pub image: B256,
}

/// A `pcr-registry` client of `registry` acting as the deployer (registrar and revoker), over a
/// fresh provider (its nonce is read anew: the deployer also sends from other providers).
pub async fn registry_client(anvil: &Anvil, registry: Address) -> Registry {
    Registry::connect(
        anvil.provider(Some(DEPLOYER_KEY)),
        Deployment {
            chain_id: anvil.chain_id,
            start_block: 0,
            pcr_registry: registry,
            enclave_registry: registry,
            families: Vec::new(),
        },
        Some(addr(DEPLOYER_KEY)),
        &anvil.url,
    )
    .await
    .unwrap()
}

/// PCRs of the bridge's (dev) image.
pub const PCRS: ([u8; 48], [u8; 48], [u8; 48]) = ([0x11; 48], [0x22; 48], [0x33; 48]);

/// Deploys the verifier and the registry as `Deploy.s.sol` would for a devnet (family
/// `FAMILY` with the dev-rooted `NitroAttestationVerifier`), registers the image and the enclave
/// key bound to `public_key` by a dev-NSM attestation at the chain's time.
pub async fn enclaves(anvil: &Anvil, public_key: &[u8]) -> Enclaves {
    let p = anvil.provider(Some(DEPLOYER_KEY));
    let admin = addr(DEPLOYER_KEY);
    let now_ms = latest_time(&p).await * 1000;
    let nsm = DevNsm::new(
        DevNsmConfig::image(PCRS.0, PCRS.1, PCRS.2).with_clock(Arc::new(FixedClock(now_ms))),
    )
    .unwrap();
    let p384 = deploy(&p, "P384Verifier", Vec::new()).await;
    let verifier = deploy(
        &p,
        "NitroAttestationVerifier",
        (Bytes::from(nsm.trusted_root().der().to_vec()), admin, p384).abi_encode_params(),
    )
    .await;
    let registry = deploy(
        &p,
        "EnclaveRegistry",
        (admin, alloy::primitives::aliases::U48::ZERO).abi_encode_params(),
    )
    .await;
    let family = keccak256(FAMILY);
    let r = IEnclaveRegistry::new(registry, &p);
    r.configureFamily(family, verifier, 300, 365 * 86_400)
        .mined()
        .await;
    for role in ["REGISTRAR_ROLE", "REVOKER_ROLE"] {
        testkit::contracts::IAccessControl::new(registry, &p)
            .grantRole(keccak256(role), admin)
            .mined()
            .await;
    }
    let client = registry_client(anvil, registry).await;
    let (image, _) = client
        .register(
            family,
            &pcr_registry::pcrs::ImagePcrs {
                pcr0: PCRS.0.into(),
                pcr1: PCRS.1.into(),
                pcr2: PCRS.2.into(),
                pcr8: None,
            },
            IPcrRegistry::ImageMetadata {
                name: "engine".into(),
                version: "1".into(),
                sourceRevision: "dev".into(),
                eifSha256: B256::repeat_byte(7),
                provenanceUri: String::new(),
            },
        )
        .await
        .unwrap();
    let document = nsm
        .attestation(&AttestationRequest {
            public_key: Some(public_key.to_vec()),
            user_data: None,
            nonce: None,
        })
        .unwrap();
    let report = pcr_registry::enclave::register_enclave(&client, FAMILY, document)
        .await
        .unwrap();
    assert_eq!(report.json["registered"], true, "{}", report.json);
    Enclaves {
        address: registry,
        image,
    }
}

/// The 65-byte uncompressed public key of a secret.
pub fn public_key(secret: &[u8; 32]) -> Vec<u8> {
    let k = PrivateKeySigner::from_bytes(&(*secret).into()).unwrap();
    k.credential()
        .verifying_key()
        .to_encoded_point(false)
        .as_bytes()
        .to_vec()
}
