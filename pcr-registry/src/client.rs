//! Chain access: a provider checked against the deployment file, and the registry's calls with
//! typed reverts. Every state-changing call is simulated first (`eth_call`), so a revert is
//! reported, decoded, before anything is sent.

use std::time::Duration;

use alloy::contract::{CallBuilder, CallDecoder};
use alloy::network::{Ethereum, EthereumWallet};
use alloy::primitives::{Address, B256, Bytes};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;

use marketplace_bindings::external::IAccessControl;
use marketplace_bindings::{
    IEnclaveRegistry, INitroAttestationVerifier, INitroOptimisticVerifier, IPcrRegistry,
};

use crate::deployment::Deployment;
use crate::error::{Error, Revert, RpcError};
use crate::pcrs::ImagePcrs;

/// How long one RPC round trip may take before the endpoint counts as unreachable.
pub const RPC_TIMEOUT: Duration = Duration::from_secs(30);

/// A provider (with a wallet when a key was given) over an HTTP RPC URL.
pub fn http_provider(url: &str, signer: Option<PrivateKeySigner>) -> Result<DynProvider, Error> {
    let parsed: alloy::transports::http::reqwest::Url =
        url.parse().map_err(|_| RpcError::BadUrl(url.to_owned()))?;
    Ok(match signer {
        Some(s) => ProviderBuilder::new()
            .wallet(EthereumWallet::from(s))
            .connect_http(parsed)
            .erased(),
        None => ProviderBuilder::new().connect_http(parsed).erased(),
    })
}

/// The registry of one deployment, reached through a provider whose chain id was checked.
#[derive(Clone, Debug)]
pub struct Registry {
    provider: DynProvider,
    deployment: Deployment,
    sender: Option<Address>,
}

/// Maps an RPC failure of `call` that is not a revert.
fn rpc(call: &'static str, e: impl std::fmt::Display) -> Error {
    RpcError::Call {
        call,
        reason: e.to_string(),
    }
    .into()
}

/// Names of the roles the contracts use (`keccak256("X_ROLE")`).
fn role_name(role: B256) -> &'static str {
    use alloy::primitives::keccak256;
    if role == keccak256("REGISTRAR_ROLE") {
        "REGISTRAR_ROLE"
    } else if role == keccak256("REVOKER_ROLE") {
        "REVOKER_ROLE"
    } else if role == keccak256("REGISTRAR_MODULE_ROLE") {
        "REGISTRAR_MODULE_ROLE"
    } else if role == B256::ZERO {
        "DEFAULT_ADMIN_ROLE"
    } else {
        "an unknown role"
    }
}

/// Decodes a contract-call failure: a revert from one of the interfaces, else an RPC failure.
pub fn decode_error(call: &'static str, e: alloy::contract::Error) -> Error {
    if let Some(x) = e.as_decoded_interface_error::<IPcrRegistry::IPcrRegistryErrors>() {
        return Revert::PcrRegistry(x).into();
    }
    if let Some(x) = e.as_decoded_interface_error::<IEnclaveRegistry::IEnclaveRegistryErrors>() {
        return Revert::EnclaveRegistry(x).into();
    }
    if let Some(IAccessControl::IAccessControlErrors::AccessControlUnauthorizedAccount(x)) =
        e.as_decoded_interface_error::<IAccessControl::IAccessControlErrors>()
    {
        return Revert::MissingRole {
            account: x.account,
            role: x.neededRole,
            role_name: role_name(x.neededRole),
        }
        .into();
    }
    if let Some(x) =
        e.as_decoded_interface_error::<INitroOptimisticVerifier::INitroOptimisticVerifierErrors>()
    {
        return Revert::Optimistic(x).into();
    }
    if let Some(x) =
        e.as_decoded_interface_error::<INitroAttestationVerifier::INitroAttestationVerifierErrors>()
    {
        return Revert::Verifier(x).into();
    }
    if let Some(data) = e.as_revert_data() {
        return Revert::Other(format!("undecoded revert data {data}")).into();
    }
    if let alloy::contract::Error::TransportError(t) = &e
        && let Some(resp) = t.as_error_resp()
        && resp.message.contains("revert")
    {
        return Revert::Other(resp.message.to_string()).into();
    }
    rpc(call, e)
}

async fn timed<T>(
    call: &'static str,
    fut: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    tokio::time::timeout(RPC_TIMEOUT, fut).await.map_err(|_| {
        rpc(
            call,
            format!("no answer within {} s", RPC_TIMEOUT.as_secs()),
        )
    })?
}

impl Registry {
    /// Checks that `provider` serves `deployment.chain_id` and that the registry has code there.
    /// `url` is only used in messages.
    pub async fn connect(
        provider: DynProvider,
        deployment: Deployment,
        sender: Option<Address>,
        url: &str,
    ) -> Result<Self, Error> {
        let actual = chain_id(&provider, url).await?;
        if actual != deployment.chain_id {
            return Err(RpcError::WrongChain {
                expected: deployment.chain_id,
                actual,
            }
            .into());
        }
        let code = timed("eth_getCode", async {
            provider
                .get_code_at(deployment.pcr_registry)
                .await
                .map_err(|e| rpc("eth_getCode", e))
        })
        .await?;
        if code.is_empty() {
            return Err(RpcError::NoCode(deployment.pcr_registry).into());
        }
        Ok(Registry {
            provider,
            deployment,
            sender,
        })
    }

    /// The deployment this registry belongs to.
    pub fn deployment(&self) -> &Deployment {
        &self.deployment
    }

    /// The provider.
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// The account transactions are sent from, if a key was given.
    pub fn sender(&self) -> Option<Address> {
        self.sender
    }

    fn pcr(&self) -> IPcrRegistry::IPcrRegistryInstance<DynProvider> {
        IPcrRegistry::new(self.deployment.pcr_registry, self.provider.clone())
    }

    fn enclave(&self) -> IEnclaveRegistry::IEnclaveRegistryInstance<DynProvider> {
        IEnclaveRegistry::new(self.deployment.enclave_registry, self.provider.clone())
    }

    /// Everything known about an image (status `None` if unknown).
    pub async fn image(&self, id: B256) -> Result<IPcrRegistry::Image, Error> {
        timed("getImage", async {
            self.pcr()
                .getImage(id)
                .call()
                .await
                .map_err(|e| decode_error("getImage", e))
        })
        .await
    }

    /// Every image id ever registered in a family, in registration order.
    pub async fn family_images(&self, family: B256) -> Result<Vec<B256>, Error> {
        timed("familyImages", async {
            self.pcr()
                .familyImages(family)
                .call()
                .await
                .map_err(|e| decode_error("familyImages", e))
        })
        .await
    }

    /// Registers an image; returns its id and the transaction hash.
    pub async fn register(
        &self,
        family: B256,
        pcrs: &ImagePcrs,
        metadata: IPcrRegistry::ImageMetadata,
    ) -> Result<(B256, B256), Error> {
        let pcrs = IPcrRegistry::ImagePcrs {
            pcr0: Bytes::copy_from_slice(pcrs.pcr0.as_bytes()),
            pcr1: Bytes::copy_from_slice(pcrs.pcr1.as_bytes()),
            pcr2: Bytes::copy_from_slice(pcrs.pcr2.as_bytes()),
            pcr8: pcrs
                .pcr8
                .map(|p| Bytes::copy_from_slice(p.as_bytes()))
                .unwrap_or_default(),
        };
        let contract = self.pcr();
        let call = contract.registerImage(family, pcrs, metadata);
        let id = self.simulate("registerImage", &call).await?;
        let tx = self.send("registerImage", call).await?;
        Ok((id, tx))
    }

    /// Revokes an image; returns the transaction hash.
    pub async fn revoke(&self, id: B256, reason: &str) -> Result<B256, Error> {
        let contract = self.pcr();
        let call = contract.revokeImage(id, reason.to_owned());
        self.simulate("revokeImage", &call).await?;
        self.send("revokeImage", call).await
    }

    /// A family's registration policy.
    pub async fn family_config(
        &self,
        family: B256,
    ) -> Result<IEnclaveRegistry::FamilyConfig, Error> {
        timed("familyConfig", async {
            self.enclave()
                .familyConfig(family)
                .call()
                .await
                .map_err(|e| decode_error("familyConfig", e))
        })
        .await
    }

    /// What the registry knows about an enclave key in one family (key records are per family).
    pub async fn enclave_key(
        &self,
        family: B256,
        key: Address,
    ) -> Result<IEnclaveRegistry::EnclaveKey, Error> {
        timed("getEnclaveKey", async {
            self.enclave()
                .getEnclaveKey(family, key)
                .call()
                .await
                .map_err(|e| decode_error("getEnclaveKey", e))
        })
        .await
    }

    /// Submits an attestation to `registerEnclaveKey`; returns the key address and the transaction.
    pub async fn register_enclave_key(
        &self,
        family: B256,
        attestation: Bytes,
    ) -> Result<(Address, B256), Error> {
        let contract = self.enclave();
        let call = contract.registerEnclaveKey(family, attestation, B256::ZERO, B256::ZERO);
        let key = self.simulate("registerEnclaveKey", &call).await?;
        let tx = self.send("registerEnclaveKey", call).await?;
        Ok((key, tx))
    }

    /// Simulates a call with the sender's address; a revert comes back decoded, nothing is sent.
    pub async fn simulate<D: CallDecoder + Clone>(
        &self,
        name: &'static str,
        call: &CallBuilder<&DynProvider, D, Ethereum>,
    ) -> Result<D::CallOutput, Error> {
        let sender = self.sender.ok_or_else(|| {
            Error::Input(crate::error::InputError::Invalid(format!(
                "{name} sends a transaction: give a key (--private-key-env VAR or --keystore FILE)"
            )))
        })?;
        timed(name, async {
            call.clone()
                .from(sender)
                .call()
                .await
                .map_err(|e| decode_error(name, e))
        })
        .await
    }

    /// Sends a call and waits for its receipt; fails unless the transaction succeeded.
    pub async fn send<D: CallDecoder + Clone>(
        &self,
        name: &'static str,
        call: CallBuilder<&DynProvider, D, Ethereum>,
    ) -> Result<B256, Error> {
        let pending = timed(name, async {
            call.send().await.map_err(|e| decode_error(name, e))
        })
        .await?;
        let hash = *pending.tx_hash();
        let unconfirmed = |e: &dyn std::fmt::Display| {
            rpc(
                name,
                format!("transaction {hash} was sent but not confirmed: {e}"),
            )
        };
        let receipt = tokio::time::timeout(RPC_TIMEOUT, pending.get_receipt())
            .await
            .map_err(|_| unconfirmed(&format!("no receipt within {} s", RPC_TIMEOUT.as_secs())))?
            .map_err(|e| unconfirmed(&e))?;
        if !receipt.status() {
            return Err(RpcError::TxFailed(receipt.transaction_hash).into());
        }
        Ok(receipt.transaction_hash)
    }
}

/// `eth_chainId`, mapping any failure to "unreachable".
pub async fn chain_id(provider: &DynProvider, url: &str) -> Result<u64, Error> {
    let unreachable = |reason: String| -> Error {
        RpcError::Unreachable {
            url: url.to_owned(),
            reason,
        }
        .into()
    };
    match tokio::time::timeout(RPC_TIMEOUT, provider.get_chain_id()).await {
        Err(_) => Err(unreachable(format!(
            "no answer within {} s",
            RPC_TIMEOUT.as_secs()
        ))),
        Ok(Err(e)) => Err(unreachable(e.to_string())),
        Ok(Ok(id)) => Ok(id),
    }
}

#[cfg(test)]
mod tests;
