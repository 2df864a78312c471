//! The one ECIES primitive every use shares.
//!
//! `wrap(recipient, plaintext, info, aad) = E ‖ AES-256-GCM(k, n, plaintext, aad) ‖ tag`, where
//! `E` is the ephemeral public key (33 bytes, compressed) and `(k, n)` are the 44 bytes of
//! HKDF-SHA256(ikm = x(ECDH(e, recipient)), salt = `E ‖ recipient` (compressed), info).
//! Each `(k, n)` encrypts one message: a fresh ephemeral key gives a fresh pair, and a
//! deterministic ephemeral key is derived from the whole context it is used in.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use hkdf::Hkdf;
use k256::elliptic_curve::zeroize::Zeroizing;
use k256::{NonZeroScalar, PublicKey};
use sha2::Sha256;

use crate::error::Error;
use crate::keys::{EncryptionKey, EncryptionPublicKey, PUBLIC_KEY_LEN, parse_point};

/// Length of the AES-GCM tag.
pub const TAG_LEN: usize = 16;
/// What the primitive adds to a plaintext: the ephemeral key and the tag.
pub const OVERHEAD: usize = PUBLIC_KEY_LEN + TAG_LEN;

/// One use of the primitive: its HKDF info string and, for errors, its name.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Purpose {
    pub(crate) info: &'static [u8],
    pub(crate) name: &'static str,
}

/// Encrypts `plaintext` to `recipient` with the ephemeral secret `ephemeral`.
pub(crate) fn wrap(
    ephemeral: &NonZeroScalar,
    recipient: &EncryptionPublicKey,
    plaintext: &[u8],
    purpose: Purpose,
    aad: &[u8],
) -> Vec<u8> {
    let eph = EncryptionPublicKey::from(PublicKey::from_secret_scalar(ephemeral));
    let shared = k256::ecdh::diffie_hellman(ephemeral, recipient.to_public_key().as_affine());
    let cipher = CipherKey::derive(
        shared.raw_secret_bytes().as_slice(),
        &eph.to_bytes(),
        &recipient.to_bytes(),
        purpose.info,
    );
    let ct = cipher
        .aead()
        .encrypt(
            Nonce::from_slice(&cipher.nonce()),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .expect("AES-GCM encrypts any message below 64 GiB");
    let mut out = Vec::with_capacity(PUBLIC_KEY_LEN + ct.len());
    out.extend_from_slice(&eph.to_bytes());
    out.extend_from_slice(&ct);
    out
}

/// Decrypts a ciphertext of a `plain_len`-byte plaintext made by [`wrap`] for `key`.
pub(crate) fn unwrap(
    key: &EncryptionKey,
    sealed: &[u8],
    plain_len: usize,
    purpose: Purpose,
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let expected = OVERHEAD + plain_len;
    if sealed.len() != expected {
        return Err(Error::WrongLength {
            what: purpose.name,
            expected,
            got: sealed.len(),
        });
    }
    let (eph, ct) = sealed.split_at(PUBLIC_KEY_LEN);
    let eph_key = parse_point(eph, "ephemeral key")?;
    let shared = k256::ecdh::diffie_hellman(key.scalar(), eph_key.to_public_key().as_affine());
    let cipher = CipherKey::derive(
        shared.raw_secret_bytes().as_slice(),
        &eph_key.to_bytes(),
        &key.public_key().to_bytes(),
        purpose.info,
    );
    cipher
        .aead()
        .decrypt(Nonce::from_slice(&cipher.nonce()), Payload { msg: ct, aad })
        .map(Zeroizing::new)
        .map_err(|_| Error::AuthenticationFailed { what: purpose.name })
}

/// The AES key and nonce of one message, zeroed when dropped.
struct CipherKey(Zeroizing<[u8; 44]>);

impl CipherKey {
    fn derive(shared_x: &[u8], eph: &[u8; 33], recipient: &[u8; 33], info: &[u8]) -> Self {
        let mut salt = [0u8; 2 * PUBLIC_KEY_LEN];
        salt[..PUBLIC_KEY_LEN].copy_from_slice(eph);
        salt[PUBLIC_KEY_LEN..].copy_from_slice(recipient);
        let mut okm = Zeroizing::new([0u8; 44]);
        Hkdf::<Sha256>::new(Some(&salt), shared_x)
            .expand(info, okm.as_mut())
            .expect("44 bytes is within HKDF-SHA256's output limit");
        Self(okm)
    }

    fn aead(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.0[..32]))
    }

    fn nonce(&self) -> [u8; 12] {
        let mut n = [0u8; 12];
        n.copy_from_slice(&self.0[32..]);
        n
    }
}
