//! Starting a node: its state directory, its per-market encryption keys (generated once, kept
//! with mode 0600), and its on-chain standing (stake, registration, offers, encryption keys).

use std::collections::BTreeMap;
use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use alloy::primitives::aliases::U96;
use alloy::primitives::{Address, Bytes, U256, keccak256};
use alloy::providers::DynProvider;
use market_sealing::EncryptionKey;
use marketplace_bindings::{NativeStaking, ProofMarketplace};

use super::config::Config;
use crate::chain::{call_error, ensure_allowance, send};
use crate::error::{Error, Result};

/// Creates the state directory (0700) and its `work/` directory; returns the latter.
pub(super) fn state_dirs(state: &Path) -> Result<PathBuf> {
    let work = state.join("work");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&work)
        .map_err(|e| Error::io(&work, e))?;
    Ok(work)
}

/// The node's encryption key for each configured market: read from
/// `STATE/encryption-key-MARKET` (hex), or generated and written there (0600) on first start.
pub(super) fn encryption_keys(config: &Config) -> Result<BTreeMap<U256, EncryptionKey>> {
    let mut keys = BTreeMap::new();
    for market in &config.markets {
        let path = config
            .state_dir
            .join(format!("encryption-key-{}", market.id));
        keys.insert(market.id, load_or_create(&path)?);
    }
    Ok(keys)
}

fn load_or_create(path: &Path) -> Result<EncryptionKey> {
    if path.exists() {
        let mode = std::fs::metadata(path)
            .map_err(|e| Error::io(path, e))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(Error::invalid(
                format!("key file {}", path.display()),
                format!("mode {:o}: readable by others (must be 0600)", mode & 0o777),
            ));
        }
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let bytes: [u8; 32] = hex::decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                Error::invalid(format!("key file {}", path.display()), "not 32 hex bytes")
            })?;
        return EncryptionKey::from_bytes(&bytes)
            .map_err(|e| Error::invalid(format!("key file {}", path.display()), e));
    }
    let key = EncryptionKey::random(&mut rand_core::OsRng);
    let secret = market_sealing::Zeroizing::new(hex::encode(key.secret_key().to_bytes()));
    super::create_private(path, secret.as_bytes())?;
    Ok(key)
}

fn u96(value: U256, what: &str) -> Result<U96> {
    u128::try_from(value)
        .ok()
        .and_then(|v| U96::try_from(v).ok())
        .ok_or_else(|| Error::invalid(what, format!("{value} exceeds 96 bits")))
}

/// Optional hex bytes from the configuration (empty when absent).
fn hex_bytes(text: Option<&str>, what: &str) -> Result<Bytes> {
    text.map_or(Ok(Bytes::new()), |t| {
        hex::decode(t.trim_start_matches("0x"))
            .map(Bytes::from)
            .map_err(|e| Error::invalid(what, e))
    })
}

/// Stakes, registers, joins (or updates offers) and sets the encryption keys, each only where
/// the chain differs from the configuration.
pub(super) async fn register(
    config: &Config,
    provider: &DynProvider,
    me: Address,
    keys: &BTreeMap<U256, EncryptionKey>,
) -> Result<()> {
    let market = ProofMarketplace::new(config.marketplace, provider);
    for offer in &config.markets {
        let Some(stake) = offer.stake else { continue };
        let staking_address = market
            .STAKING()
            .call()
            .await
            .map_err(|e| call_error("STAKING", e))?;
        let staking = NativeStaking::new(staking_address, provider);
        let have = staking
            .stakeOf(me, offer.id)
            .call()
            .await
            .map_err(|e| call_error("stakeOf", e))?;
        if have < stake {
            let token = staking
                .STAKE_TOKEN()
                .call()
                .await
                .map_err(|e| call_error("STAKE_TOKEN", e))?;
            let missing = stake - have;
            ensure_allowance(provider, token, me, staking_address, missing).await?;
            send("deposit", staking.deposit(offer.id, missing).from(me)).await?;
        }
    }
    let generator = market
        .getGenerator(me)
        .call()
        .await
        .map_err(|e| call_error("getGenerator", e))?;
    if !generator.registered {
        send(
            "registerGenerator",
            market.registerGenerator(config.capacity).from(me),
        )
        .await?;
    } else if generator.capacity != config.capacity {
        send("setCapacity", market.setCapacity(config.capacity).from(me)).await?;
    }
    for offer in &config.markets {
        let cost = u96(offer.cost, "cost")?;
        let signature = hex_bytes(offer.enclave_signature.as_deref(), "enclave_signature")?;
        let current = market
            .getOffer(me, offer.id)
            .call()
            .await
            .map_err(|e| call_error("getOffer", e))?;
        if !current.joined {
            send(
                "joinMarket",
                market
                    .joinMarket(offer.id, cost, offer.proposed_time, signature.clone())
                    .from(me),
            )
            .await?;
        } else if current.cost != cost || current.proposedTime != offer.proposed_time {
            send(
                "updateOffer",
                market
                    .updateOffer(offer.id, cost, offer.proposed_time)
                    .from(me),
            )
            .await?;
        }
        let Some(key) = keys.get(&offer.id) else {
            continue;
        };
        let public = key.public_key().to_bytes();
        let registered = market
            .encryptionKeyHashOf(me, offer.id)
            .call()
            .await
            .map_err(|e| call_error("encryptionKeyHashOf", e))?;
        if registered != keccak256(public) {
            send(
                "setEncryptionKey",
                market
                    .setEncryptionKey(
                        offer.id,
                        Bytes::copy_from_slice(&public),
                        hex_bytes(
                            offer.encryption_key_signature.as_deref(),
                            "encryption_key_signature",
                        )?,
                    )
                    .from(me),
            )
            .await?;
        }
    }
    Ok(())
}
