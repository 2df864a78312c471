//! `symbiotic-bridge --config FILE [--once]`: runs the bridge job against HTTP JSON-RPC endpoints,
//! printing one JSON report per round on stdout. Keys come from environment variables named in
//! the configuration (never from the file, never printed).

use std::sync::Arc;
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::primitives::Address;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, Result, bail};
use matching_engine::LocalSigner;
use serde::Deserialize;
use symbiotic_bridge::{Bridge, Chain, Settings};

/// One chain's endpoints.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChainConfig {
    chain_id: u64,
    /// Read endpoints; every one must agree on the blocks the job uses.
    rpc_urls: Vec<String>,
    /// Environment variable holding the hex private key that pays for transactions.
    tx_key_env: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    l1: ChainConfig,
    l2: ChainConfig,
    middleware: Address,
    staking_module: Address,
    /// Environment variable holding the enclave key (hex secp256k1 secret). Outside an enclave
    /// this is a development key: only keys registered through an attestation are live.
    enclave_key_env: String,
    #[serde(default)]
    settings: Settings,
    #[serde(default = "default_interval")]
    interval_secs: u64,
    #[serde(default = "default_timeout")]
    rpc_timeout_secs: u64,
    #[serde(default = "default_skew")]
    max_future_skew_secs: u64,
}

fn default_interval() -> u64 {
    12
}
fn default_timeout() -> u64 {
    30
}
fn default_skew() -> u64 {
    15
}

fn env_secret(name: &str) -> Result<[u8; 32]> {
    let text =
        std::env::var(name).with_context(|| format!("environment variable {name} is not set"))?;
    let bytes = alloy::primitives::hex::decode(text.trim())
        .ok()
        .filter(|b| b.len() == 32)
        .with_context(|| format!("{name} is not a 32-byte hex key"))?;
    let mut out = [0u8; 32];
    out.copy_from_slice(&bytes);
    Ok(out)
}

fn http(url: &str, wallet: Option<EthereumWallet>) -> Result<DynProvider> {
    let url = url.parse().with_context(|| format!("bad RPC URL {url}"))?;
    Ok(match wallet {
        // The nonce is read for every transaction: another relayer, or this job before a restart,
        // may have sent from the same account (a cached nonce would stay wrong forever).
        Some(w) => ProviderBuilder::new()
            .disable_recommended_fillers()
            .with_gas_estimation()
            .with_simple_nonce_management()
            .fetch_chain_id()
            .wallet(w)
            .connect_http(url)
            .erased(),
        None => ProviderBuilder::new().connect_http(url).erased(),
    })
}

async fn chain(name: &'static str, c: &ChainConfig, config: &Config) -> Result<Chain> {
    let key = PrivateKeySigner::from_bytes(&env_secret(&c.tx_key_env)?.into())
        .with_context(|| format!("{} is not a valid key", c.tx_key_env))?;
    let from = key.address();
    let first = c.rpc_urls.first().context("rpc_urls is empty")?;
    let readers = c
        .rpc_urls
        .iter()
        .map(|u| http(u, None))
        .collect::<Result<Vec<_>>>()?;
    let sender = http(first, Some(EthereumWallet::from(key)))?;
    Ok(Chain::connect(
        name,
        c.chain_id,
        readers,
        sender,
        from,
        Duration::from_secs(config.rpc_timeout_secs),
        config.max_future_skew_secs,
    )
    .await?)
}

#[allow(clippy::print_stdout)]
async fn run(path: &str, once: bool) -> Result<()> {
    let text = std::fs::read(path).with_context(|| format!("cannot read {path}"))?;
    let config: Config =
        serde_json::from_slice(&text).with_context(|| format!("bad config {path}"))?;
    let signer = LocalSigner::from_bytes(&env_secret(&config.enclave_key_env)?)
        .map_err(|e| anyhow::anyhow!("enclave key: {e}"))?;
    let l1 = chain("L1", &config.l1, &config).await?;
    let l2 = chain("L2", &config.l2, &config).await?;
    let mut bridge = Bridge::new(
        l1,
        l2,
        config.middleware,
        config.staking_module,
        Arc::new(signer),
        config.settings.clone(),
    )
    .await?;
    loop {
        let report = bridge.tick().await;
        println!("{}", serde_json::to_string(&report)?);
        if once {
            if report.errors.is_empty() {
                return Ok(());
            }
            bail!("{}", report.errors.join("; "));
        }
        tokio::time::sleep(Duration::from_secs(config.interval_secs)).await;
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (config, once) = match args.as_slice() {
        [flag, path] if flag == "--config" => (path.clone(), false),
        [flag, path, once] if flag == "--config" && once == "--once" => (path.clone(), true),
        _ => {
            eprintln!("usage: symbiotic-bridge --config FILE [--once]");
            return std::process::ExitCode::from(2);
        }
    };
    match run(&config, once).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
