//! JSON-RPC access: one client per configured route, and the two providers over it.

use std::path::Path;
use std::str::FromStr as _;

use alloy::network::EthereumWallet;
use alloy::providers::{DynProvider, Provider as _, ProviderBuilder};
use alloy::rpc::client::RpcClient;
use alloy::signers::local::PrivateKeySigner;
use anyhow::Context as _;

use crate::config::RpcConfig;

/// Environment variable holding the relayer's private key (hex). Without it a relayer key is
/// generated at start and its address shown by `/status`, to be funded.
const RELAYER_KEY_ENV: &str = "ENCLAVE_APP_RELAYER_KEY";

/// The relayer's key: [`RELAYER_KEY_ENV`], else a new one. The key is never logged.
pub(crate) fn relayer_key() -> anyhow::Result<PrivateKeySigner> {
    match std::env::var(RELAYER_KEY_ENV) {
        Ok(hex_key) => hex_key
            .trim()
            .parse::<PrivateKeySigner>()
            .map_err(|_| anyhow::anyhow!("{RELAYER_KEY_ENV} is not a private key")),
        Err(_) => Ok(PrivateKeySigner::random()),
    }
}

/// A route's reader and relayer providers, sharing one client.
pub(crate) struct Providers {
    /// Reads (no signer).
    pub(crate) reader: DynProvider,
    /// Sends with the relayer's key.
    pub(crate) relayer: DynProvider,
}

impl Providers {
    /// The providers over one configured RPC route (`field`: the route's place in the
    /// configuration, for errors). The relayer asks the node for its nonce before every
    /// transaction, or (the engine's batches, `chain::relay`) before every round of them (no
    /// cached nonce): a reorg that drops a relayed batch must not leave the relayer sending
    /// with a nonce the chain never reaches.
    pub(crate) fn connect(
        ca_roots: &Path,
        rpc: &RpcConfig,
        field: &str,
        chain_id: u64,
        relayer: PrivateKeySigner,
    ) -> anyhow::Result<Self> {
        let client = client(ca_roots, rpc, field)?;
        let reader = ProviderBuilder::new()
            .connect_client(client.clone())
            .erased();
        let relayer = ProviderBuilder::new()
            .disable_recommended_fillers()
            .with_gas_estimation()
            .with_simple_nonce_management()
            .with_chain_id(chain_id)
            .wallet(EthereumWallet::from(relayer))
            .connect_client(client)
            .erased();
        Ok(Providers { reader, relayer })
    }
}

/// The JSON-RPC client of a route: through the host proxy with TLS ending here, or (local
/// simulation builds only) plain HTTP.
fn client(ca_roots: &Path, rpc: &RpcConfig, field: &str) -> anyhow::Result<RpcClient> {
    match &rpc.proxy {
        Some(proxy) => {
            let roots = std::fs::read(ca_roots)
                .with_context(|| format!("reading {}", ca_roots.display()))?;
            let upstream = host_proxy_client::Upstream::new(&rpc.url, &roots)
                .with_context(|| format!("{field}.url"))?;
            let dialer = host_proxy_client::Dialer::new(
                host_proxy_client::ProxyAddr::from_str(proxy)
                    .with_context(|| format!("{field}.proxy"))?,
            );
            let transport = host_proxy_client::ProxyTransport::new(dialer, upstream);
            Ok(RpcClient::new(transport, false))
        }
        #[cfg(feature = "danger-dev-nsm")]
        None => {
            let url: alloy::transports::http::reqwest::Url =
                rpc.url.parse().with_context(|| format!("{field}.url"))?;
            Ok(alloy::rpc::client::ClientBuilder::default().http(url))
        }
        #[cfg(not(feature = "danger-dev-nsm"))]
        None => anyhow::bail!(
            "{field}.proxy is required: this build reaches JSON-RPC only through the host proxy"
        ),
    }
}
