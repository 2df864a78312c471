//! The engine identity handed from one enclave to a newcomer of the same image.
//!
//! ```text
//! sealedIdentity = wrap(newcomer ephemeral key, engineSecret (32) ‖ bidSecret (32), IDENTITY_INFO,
//!                  keccak256(request document) ‖ chainId ‖ registry)
//! ```
//! 113 bytes: the ephemeral key (33), the encrypted secrets (64) and the tag (16). The
//! associated data ties the ciphertext to the one request it answers and to the chain and
//! registry whose engine family vouches for the key.

use core::fmt;

use k256::NonZeroScalar;
use k256::elliptic_curve::zeroize::Zeroizing;
use rand_core::CryptoRngCore;
use sha3::{Digest, Keccak256};

use crate::context::{Aad, Address};
use crate::ecies::{self, OVERHEAD, Purpose};
use crate::error::Error;
use crate::keys::{EncryptionKey, EncryptionPublicKey};

/// HKDF info of the sealed identity.
pub const IDENTITY_INFO: &[u8] = b"ProofMarketplace identity hand-off v1";
/// Length of one secret key (big-endian scalar).
pub const SECRET_LEN: usize = 32;
/// Length of the sealed identity: ephemeral key, the two encrypted secrets, tag.
pub const SEALED_IDENTITY_LEN: usize = OVERHEAD + 2 * SECRET_LEN;

const PURPOSE: Purpose = Purpose {
    info: IDENTITY_INFO,
    name: "sealed identity",
};

/// What a sealed identity is bound to: the request it answers and the registry's chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandoffBinding {
    /// keccak256 of the newcomer's attestation document (the request body).
    pub request_hash: [u8; 32],
    /// Chain id of the registry.
    pub chain_id: u64,
    /// The `EnclaveRegistry` where the engine key is live.
    pub registry: Address,
}

impl HandoffBinding {
    /// The binding of an answer to `request_document`.
    #[must_use]
    pub fn new(request_document: &[u8], chain_id: u64, registry: Address) -> Self {
        Self {
            request_hash: Keccak256::digest(request_document).into(),
            chain_id,
            registry,
        }
    }

    fn aad(&self) -> Aad {
        Aad::empty()
            .hash(&self.request_hash)
            .word(self.chain_id)
            .address(&self.registry)
    }
}

/// The engine's two secret keys, zeroed when dropped; `Debug` shows nothing of them.
pub struct IdentitySecrets {
    /// The engine (signing) key's secret scalar, big-endian.
    pub engine: Zeroizing<[u8; SECRET_LEN]>,
    /// The bid (encryption) key's secret scalar, big-endian.
    pub bid: Zeroizing<[u8; SECRET_LEN]>,
}

impl fmt::Debug for IdentitySecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdentitySecrets(..)")
    }
}

/// Seals `secrets` to the newcomer's ephemeral key `newcomer` (what the giving enclave does).
#[must_use]
pub fn seal_identity(
    rng: &mut impl CryptoRngCore,
    newcomer: &EncryptionPublicKey,
    binding: &HandoffBinding,
    secrets: &IdentitySecrets,
) -> [u8; SEALED_IDENTITY_LEN] {
    let eph = NonZeroScalar::random(rng);
    let mut plain = Zeroizing::new([0u8; 2 * SECRET_LEN]);
    plain[..SECRET_LEN].copy_from_slice(secrets.engine.as_ref());
    plain[SECRET_LEN..].copy_from_slice(secrets.bid.as_ref());
    ecies::wrap(
        &eph,
        newcomer,
        plain.as_ref(),
        PURPOSE,
        binding.aad().as_bytes(),
    )
    .try_into()
    .expect("64 bytes of secrets seal to SEALED_IDENTITY_LEN bytes")
}

/// Opens a sealed identity with the newcomer's ephemeral key.
///
/// # Errors
/// [`Error::WrongLength`] unless [`SEALED_IDENTITY_LEN`] bytes, [`Error::BadPoint`] for an
/// invalid ephemeral key, [`Error::AuthenticationFailed`] for another key, request, chain or
/// registry, or tampering. The scalars inside are not checked here: the caller builds its keys
/// from them and compares their public keys with the attested ones.
pub fn open_identity(
    key: &EncryptionKey,
    binding: &HandoffBinding,
    sealed: &[u8],
) -> Result<IdentitySecrets, Error> {
    let plain = ecies::unwrap(
        key,
        sealed,
        2 * SECRET_LEN,
        PURPOSE,
        binding.aad().as_bytes(),
    )?;
    let mut secrets = IdentitySecrets {
        engine: Zeroizing::new([0u8; SECRET_LEN]),
        bid: Zeroizing::new([0u8; SECRET_LEN]),
    };
    secrets.engine.copy_from_slice(&plain[..SECRET_LEN]);
    secrets.bid.copy_from_slice(&plain[SECRET_LEN..]);
    Ok(secrets)
}
