//! Sealed bids: ECIES over secp256k1 (ephemeral ECDH, HKDF-SHA256, AES-256-GCM).
//!
//! Layout: `ephemeral public key (33 bytes, SEC1 compressed) ‖ AES-256-GCM(price as 16 bytes
//! big-endian) ‖ tag (16 bytes)`, 65 bytes in all. HKDF-SHA256 takes the ECDH x-coordinate as
//! input key material, `ephemeral key ‖ enclave key` (both compressed) as salt and
//! [`BID_INFO`] as info, and yields 44 bytes: the AES key then the nonce (the key is used once).
//! The associated data binds the bid to its context: `chainId (32 bytes) ‖ marketplace (20) ‖
//! askId (32) ‖ bidder (20)`, so a ciphertext copied into another generator's bid or another
//! ask fails authentication.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use hkdf::Hkdf;
use k256::elliptic_curve::sec1::ToEncodedPoint;
use k256::{PublicKey, SecretKey};
use rand_core::CryptoRngCore;
use sha2::Sha256;

use crate::error::SealError;
use crate::types::{Address, Amount, AskId};

/// HKDF info string of sealed bids.
pub const BID_INFO: &[u8] = b"ProofMarketplace sealed bid v1";
/// Length of a sealed bid.
pub const SEALED_BID_LEN: usize = 33 + 16 + 16;

/// Where bids are valid: the chain and the marketplace contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BidContext {
    /// Chain id.
    pub chain_id: u64,
    /// Marketplace contract address.
    pub marketplace: Address,
}

impl BidContext {
    fn aad(&self, ask: AskId, bidder: Address) -> [u8; 104] {
        let mut aad = [0u8; 104];
        aad[24..32].copy_from_slice(&self.chain_id.to_be_bytes());
        aad[32..52].copy_from_slice(&self.marketplace.0);
        aad[76..84].copy_from_slice(&ask.to_be_bytes());
        aad[84..104].copy_from_slice(&bidder.0);
        aad
    }
}

/// Opens sealed bids with the enclave's bid key. Lives only inside the enclave.
#[derive(Clone)]
pub struct BidOpener {
    secret: SecretKey,
    context: BidContext,
}

impl core::fmt::Debug for BidOpener {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BidOpener")
            .field("public_key", &self.public_key_compressed())
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

impl BidOpener {
    /// An opener for the given secret key and context.
    #[must_use]
    pub fn new(secret: SecretKey, context: BidContext) -> Self {
        Self { secret, context }
    }

    /// The public key bidders encrypt to (published with the attestation).
    #[must_use]
    pub fn public_key(&self) -> PublicKey {
        self.secret.public_key()
    }

    fn public_key_compressed(&self) -> [u8; 33] {
        compressed(&self.public_key())
    }

    /// Opens a bid: returns the price.
    ///
    /// # Errors
    /// [`SealError::Malformed`] for a wrong length or an invalid ephemeral key,
    /// [`SealError::Unauthentic`] when authentication fails.
    pub fn open(&self, ask: AskId, bidder: Address, sealed: &[u8]) -> Result<Amount, SealError> {
        if sealed.len() != SEALED_BID_LEN {
            return Err(SealError::Malformed);
        }
        let (eph, ct) = sealed.split_at(33);
        let eph_pk = PublicKey::from_sec1_bytes(eph).map_err(|_| SealError::Malformed)?;
        let shared =
            k256::ecdh::diffie_hellman(self.secret.to_nonzero_scalar(), eph_pk.as_affine());
        let cipher = CipherKey::derive(
            shared.raw_secret_bytes().as_slice(),
            eph,
            &self.public_key_compressed(),
        );
        let aad = self.context.aad(ask, bidder);
        let plain = cipher
            .aead()
            .decrypt(
                Nonce::from_slice(&cipher.nonce),
                Payload { msg: ct, aad: &aad },
            )
            .map_err(|_| SealError::Unauthentic)?;
        let bytes: [u8; 16] = plain.try_into().map_err(|_| SealError::Malformed)?;
        Ok(Amount::from_be_bytes(bytes))
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
    let eph = k256::ecdh::EphemeralSecret::random(rng);
    let eph_pub = compressed(&eph.public_key());
    let shared = eph.diffie_hellman(enclave);
    let cipher = CipherKey::derive(
        shared.raw_secret_bytes().as_slice(),
        &eph_pub,
        &compressed(enclave),
    );
    let aad = context.aad(ask, bidder);
    let ct = cipher
        .aead()
        .encrypt(
            Nonce::from_slice(&cipher.nonce),
            Payload {
                msg: &price.to_be_bytes(),
                aad: &aad,
            },
        )
        .expect("AES-GCM encrypts 16 bytes without error");
    let mut out = Vec::with_capacity(SEALED_BID_LEN);
    out.extend_from_slice(&eph_pub);
    out.extend_from_slice(&ct);
    out
}

fn compressed(pk: &PublicKey) -> [u8; 33] {
    pk.to_encoded_point(true)
        .as_bytes()
        .try_into()
        .expect("a compressed SEC1 point is 33 bytes")
}

struct CipherKey {
    key: [u8; 32],
    nonce: [u8; 12],
}

impl CipherKey {
    fn derive(shared_x: &[u8], eph: &[u8], recipient: &[u8; 33]) -> Self {
        let mut salt = [0u8; 66];
        salt[..33].copy_from_slice(eph);
        salt[33..].copy_from_slice(recipient);
        let mut okm = [0u8; 44];
        Hkdf::<Sha256>::new(Some(&salt), shared_x)
            .expand(BID_INFO, &mut okm)
            .expect("44 bytes is within HKDF-SHA256's output limit");
        let mut key = [0u8; 32];
        let mut nonce = [0u8; 12];
        key.copy_from_slice(&okm[..32]);
        nonce.copy_from_slice(&okm[32..]);
        Self { key, nonce }
    }

    fn aead(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.key))
    }
}
