//! The chains: anvil's development accounts, a provider that signs as any of them, transactions
//! that must succeed, the `EnclaveRegistry` deployed by `script/Deploy.s.sol`, and the image's
//! PCRs registered through `pcr-registry`'s library.

use std::path::{Path, PathBuf};

use alloy::contract::{CallBuilder, CallDecoder};
use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionReceipt;
use alloy::signers::local::PrivateKeySigner;
use pcr_registry::client::Registry;
use pcr_registry::commands::{self, RegisterConfig};
use pcr_registry::deployment::{Deployment, family_id};
use pcr_registry::pcrs::MeasuredEif;

use crate::error::{Error, Result, ensure};
use crate::out::Out;
use crate::procs::ChainNode;

/// anvil's funded development keys (its default mnemonic); never used anywhere else.
pub(crate) mod keys {
    /// Admin, registrar and revoker; deploys everything.
    pub(crate) const DEPLOYER: &str =
        "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
    /// Pays the engine's gas (it cannot change a signed batch).
    pub(crate) const RELAYER: &str =
        "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
    /// The demo generator (and the Symbiotic operator).
    pub(crate) const GENERATOR: &str =
        "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
    /// The demo requester.
    pub(crate) const REQUESTER: &str =
        "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";
    /// The Symbiotic veto resolver.
    pub(crate) const RESOLVER: &str =
        "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a";
    /// Someone who copies another requester's sealed inputs into an ask of their own.
    pub(crate) const COPIER: &str =
        "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97";
}

/// anvil for both chains: one-second blocks so the engine's confirmations advance; a block gas
/// limit that holds a cold on-chain verification of a Nitro document (~41 M gas in one
/// transaction, which Osaka's per-transaction cap would refuse: the contracts target Cancun).
pub(crate) const ANVIL_ARGS: [&str; 6] = [
    "--block-time",
    "1",
    "--gas-limit",
    "200000000",
    "--hardfork",
    "cancun",
];

/// The enclave family of the devnet: a `-dev` family, whose verifier may be test-only.
pub(crate) const FAMILY: &str = "matching-engine-dev";

/// A development key.
pub(crate) fn signer(key: &str) -> Result<PrivateKeySigner> {
    key.parse()
        .map_err(|e| Error::Check(format!("bad development key: {e}")))
}

/// The address of a development key.
pub(crate) fn address(key: &str) -> Result<Address> {
    Ok(signer(key)?.address())
}

/// A provider that signs as any development key (`.from(address)` picks one; the deployer by
/// default). Nonces are read per transaction: other providers (the registry client, the
/// enclave's relayer) send from the same accounts.
pub(crate) fn provider(url: &str) -> Result<DynProvider> {
    let mut wallet = EthereumWallet::from(signer(keys::DEPLOYER)?);
    for key in [
        keys::RELAYER,
        keys::GENERATOR,
        keys::REQUESTER,
        keys::COPIER,
    ] {
        wallet.register_signer(signer(key)?);
    }
    let url = url
        .parse()
        .map_err(|e| Error::rpc(format!("URL {url}"), e))?;
    Ok(ProviderBuilder::new()
        .disable_recommended_fillers()
        .with_gas_estimation()
        .with_simple_nonce_management()
        .fetch_chain_id()
        .wallet(wallet)
        .connect_http(url)
        .erased())
}

/// A provider signing only as `key` (the registry client's sender).
pub(crate) fn provider_as(url: &str, key: &str) -> Result<DynProvider> {
    pcr_registry::client::http_provider(url, Some(signer(key)?)).map_err(Error::from)
}

/// Sends a contract call and waits for its receipt; fails unless it succeeded.
pub(crate) async fn send<P: Provider, D: CallDecoder>(
    what: &str,
    call: CallBuilder<P, D>,
) -> Result<TransactionReceipt> {
    let receipt = call
        .send()
        .await
        .map_err(|e| Error::rpc(what, e))?
        .get_receipt()
        .await
        .map_err(|e| Error::rpc(what, e))?;
    if !receipt.status() {
        return Err(Error::Reverted(what.into()));
    }
    Ok(receipt)
}

/// Creates contract `name` from forge's output as the deployer.
pub(crate) async fn create(provider: &DynProvider, name: &str, args: &[u8]) -> Result<Address> {
    let code = testkit::forge::bytecode(&testkit::forge::out_dir(), name)?;
    Ok(testkit::contracts::try_create(provider, name, &code, args).await?)
}

/// The latest block's number and timestamp.
pub(crate) async fn head(provider: &DynProvider) -> Result<(u64, u64)> {
    let block = provider
        .get_block(alloy::eips::BlockId::latest())
        .await
        .map_err(|e| Error::rpc("eth_getBlockByNumber", e))?
        .ok_or_else(|| Error::rpc("eth_getBlockByNumber", "no latest block"))?;
    Ok((block.header.number, block.header.timestamp))
}

/// A transaction's sender and calldata.
pub(crate) async fn transaction(
    provider: &DynProvider,
    hash: B256,
) -> Result<(Address, alloy::primitives::Bytes)> {
    use alloy::consensus::Transaction as _;
    let tx = provider
        .get_transaction_by_hash(hash)
        .await
        .map_err(|e| Error::rpc("eth_getTransactionByHash", e))?
        .ok_or_else(|| Error::rpc("eth_getTransactionByHash", format!("{hash} unknown")))?;
    Ok((tx.inner.signer(), tx.input().clone()))
}

/// A chain with the project's `EnclaveRegistry` and its deployment file.
#[derive(Clone, Debug)]
pub(crate) struct RegistryChain {
    /// The node.
    pub(crate) node: ChainNode,
    /// The registry.
    pub(crate) registry: Address,
    /// `deployments/<chain id>.json` as `Deploy.s.sol` wrote it, moved into the run directory.
    pub(crate) deployment: PathBuf,
}

/// `script/Deploy.s.sol` with the dev family, the deployer as registrar and revoker.
pub(crate) fn deploy_registry(node: &ChainNode, run: &Path) -> Result<RegistryChain> {
    let deployer = address(keys::DEPLOYER)?.to_string();
    let dir = run.join("deployments");
    std::fs::create_dir_all(&dir).map_err(|e| Error::file(&dir, e))?;
    let file = format!("{}.json", node.chain_id);
    let deployment = dir.join(&file);
    let broadcast = run.join("broadcast");
    let json = testkit::forge::Script {
        script: "script/Deploy.s.sol:Deploy",
        rpc_url: &node.url,
        private_key: keys::DEPLOYER,
        broadcast_dir: &broadcast,
        env: vec![
            ("FAMILIES", FAMILY.into()),
            ("REGISTRAR", deployer.clone()),
            ("REVOKER", deployer),
        ],
        slow: false,
    }
    .deploy(&file, Some(&deployment))?;
    let registry = json_address(&json, "enclaveRegistry", &deployment)?;
    Ok(RegistryChain {
        node: node.clone(),
        registry,
        deployment,
    })
}

/// An address field of a deployment file.
pub(crate) fn json_address(json: &serde_json::Value, field: &str, path: &Path) -> Result<Address> {
    json[field]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::Check(format!("{}: no address in `{field}`", path.display())))
}

/// A `pcr-registry` client of `chain`'s registry sending as `key`.
pub(crate) async fn registry_client(chain: &RegistryChain, key: &str) -> Result<Registry> {
    let deployment = Deployment::read(&chain.deployment).map_err(pcr_registry::Error::from)?;
    Ok(Registry::connect(
        provider_as(&chain.node.url, key)?,
        deployment,
        Some(address(key)?),
        &chain.node.url,
    )
    .await?)
}

/// Registers the EIF's PCRs in the dev family (`register`), then checks the image is live
/// (`verify-eif`'s lookup).
pub(crate) async fn register_image(
    out: &Out,
    chain: &RegistryChain,
    eif: &MeasuredEif,
    revision: &str,
) -> Result<()> {
    let client = registry_client(chain, keys::DEPLOYER).await?;
    let short = revision.get(..12).unwrap_or(revision);
    let report = commands::register(
        &client,
        RegisterConfig {
            pcrs: eif.pcrs,
            family: FAMILY.into(),
            name: FAMILY.into(),
            version: short.into(),
            source_revision: revision.into(),
            eif_sha256: eif.sha256,
            provenance_uri: String::new(),
        },
    )
    .await?;
    let id = pcr_registry::pcrs::image_id(&eif.pcrs);
    ensure(report.json["image_id"] == id.to_string(), || {
        format!(
            "the registry's image id {} differs from the EIF's {id}",
            report.json["image_id"]
        )
    })?;
    out.show(
        "registered",
        &format!("{id} (tx {})", str_of(&report.json["tx"])),
    );
    let found = commands::lookup(&client, &eif.pcrs).await?;
    ensure(found.is_live_match(), || {
        format!(
            "verify-eif does not find the image live: {}",
            found.sentence()
        )
    })?;
    let family = found
        .family_name
        .clone()
        .unwrap_or_else(|| family_id(FAMILY).to_string());
    out.show("verify-eif", &format!("registered in family {family}"));
    Ok(())
}

/// A JSON string's text (or the JSON itself).
pub(crate) fn str_of(v: &serde_json::Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}
