//! Sealed bids, on the marketplace's one ECIES primitive ([`market_sealing`]).
//!
//! Layout: `ephemeral public key (33 bytes, SEC1 compressed) ‖ AES-256-GCM(price as 16 bytes
//! big-endian) ‖ tag (16 bytes)`, 65 bytes in all. HKDF-SHA256 takes the ECDH x-coordinate as
//! input key material, `ephemeral key ‖ enclave key` (both compressed) as salt and
//! [`BID_INFO`] as info, and yields 44 bytes: the AES key then the nonce (the key is used once).
//! The associated data binds the bid to its context: `chainId (32 bytes) ‖ marketplace (20) ‖
//! askId (32) ‖ bidder (20)`, so a ciphertext copied into another generator's bid or another
//! ask fails authentication.

use k256::{PublicKey, SecretKey};
use market_sealing::{Context, EncryptionKey, EncryptionPublicKey};
use rand_core::CryptoRngCore;

use crate::error::SealError;
use crate::types::{Address, Amount, AskId};

pub use market_sealing::{BID_INFO, SEALED_BID_LEN};

/// Where bids (and private inputs) are valid: the chain and the marketplace contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BidContext {
    /// Chain id.
    pub chain_id: u64,
    /// Marketplace contract address.
    pub marketplace: Address,
}

impl BidContext {
    pub(crate) fn sealing(&self) -> Context {
        Context {
            chain_id: self.chain_id,
            marketplace: self.marketplace.0,
        }
    }
}

/// The enclave's decryption key and its context: opens sealed bids and private asks' content
/// keys, and re-wraps those to generators. Lives only inside the enclave.
#[derive(Clone)]
pub struct BidOpener {
    key: EncryptionKey,
    context: BidContext,
}

impl core::fmt::Debug for BidOpener {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BidOpener")
            .field("public_key", self.key.public_key())
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

impl BidOpener {
    /// An opener for the given secret key and context.
    #[must_use]
    pub fn new(secret: SecretKey, context: BidContext) -> Self {
        Self {
            key: EncryptionKey::from(secret),
            context,
        }
    }

    /// The public key bidders and requesters encrypt to (published with the attestation).
    #[must_use]
    pub fn public_key(&self) -> PublicKey {
        self.key.public_key().to_public_key()
    }

    /// The decryption key.
    pub(crate) fn key(&self) -> &EncryptionKey {
        &self.key
    }

    /// The chain and marketplace.
    #[must_use]
    pub fn context(&self) -> &BidContext {
        &self.context
    }

    /// Opens a bid: returns the price.
    ///
    /// # Errors
    /// [`SealError::Malformed`] for a wrong length or an invalid ephemeral key,
    /// [`SealError::Unauthentic`] when authentication fails.
    pub fn open(&self, ask: AskId, bidder: Address, sealed: &[u8]) -> Result<Amount, SealError> {
        market_sealing::open_bid(&self.key, &self.context.sealing(), ask, &bidder.0, sealed)
            .map_err(|e| match e {
                market_sealing::Error::AuthenticationFailed { .. } => SealError::Unauthentic,
                _ => SealError::Malformed,
            })
    }
}

/// Seals a bid for the enclave key `enclave` (what a generator's client does).
pub fn seal_bid(
    rng: &mut impl CryptoRngCore,
    enclave: &PublicKey,
    context: &BidContext,
    ask: AskId,
    bidder: Address,
    price: Amount,
) -> Vec<u8> {
    market_sealing::seal_bid(
        rng,
        &EncryptionPublicKey::from(*enclave),
        &context.sealing(),
        ask,
        &bidder.0,
        price,
    )
    .to_vec()
}
