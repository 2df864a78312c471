//! Private inputs: the requester's ciphertext, the content key wrapped to the engine, and the
//! engine's deterministic re-wrap of that key to each assigned generator.
//!
//! ```text
//! inputs          = N (12) ‖ AES-256-GCM(K, N, secret, "ProofMarketplace inputs v1" ‖ chainId
//!                   ‖ marketplace ‖ marketId ‖ requester ‖ proverDataHash) ‖ tag (16)
//! inputsHash      = keccak256(inputs)
//! engineKeyWrap   = wrap(engine, K, ENGINE_INFO,
//!                   chainId ‖ marketplace ‖ marketId ‖ requester ‖ proverDataHash ‖ inputsHash)
//! generatorKeyWrap = wrap(generator, K, GENERATOR_INFO,
//!                   chainId ‖ marketplace ‖ askId ‖ slot ‖ generator ‖ inputsHash)
//! ```
//! The generator wrap's ephemeral secret is `(h mod (n − 1)) + 1` with
//! `h = HMAC-SHA256(engine secret (32 bytes big-endian), WRAP_TAG ‖ aad)` read big-endian and
//! `n` the secp256k1 group order: the same slot and inputs always give the same 81 bytes, and
//! two contexts never share an ephemeral key.

use core::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use hmac::{Hmac, Mac};
use k256::elliptic_curve::Curve;
use k256::elliptic_curve::bigint::{ArrayEncoding, NonZero, U256};
use k256::elliptic_curve::subtle::ConstantTimeEq;
use k256::elliptic_curve::zeroize::{Zeroize, Zeroizing};
use k256::{NonZeroScalar, Secp256k1};
use rand_core::CryptoRngCore;
use sha2::Sha256;
use sha3::{Digest, Keccak256};

use crate::context::{Aad, Address, Context};
use crate::ecies::{self, OVERHEAD, Purpose};
use crate::error::Error;
use crate::keys::{EncryptionKey, EncryptionPublicKey};

/// Domain tag opening the associated data of the requester's ciphertext.
pub const INPUTS_AAD_TAG: &[u8] = b"ProofMarketplace inputs v1";
/// HKDF info of the content key wrapped to the engine.
pub const ENGINE_INFO: &[u8] = b"ProofMarketplace inputs key to engine v1";
/// HKDF info of the content key wrapped to a generator.
pub const GENERATOR_INFO: &[u8] = b"ProofMarketplace inputs key to generator v1";
/// HMAC tag of the generator wrap's deterministic ephemeral key.
pub const WRAP_TAG: &[u8] = b"ProofMarketplace inputs wrap v1";
/// Length of a content key.
pub const CONTENT_KEY_LEN: usize = 32;
/// Length of a wrapped content key: ephemeral key, encrypted key, tag.
pub const KEY_WRAP_LEN: usize = OVERHEAD + CONTENT_KEY_LEN;
/// Length of the nonce opening the inputs blob.
pub const INPUTS_NONCE_LEN: usize = 12;
/// Shortest inputs blob: the nonce and the tag (an empty secret).
pub const MIN_INPUTS_LEN: usize = INPUTS_NONCE_LEN + 16;
/// Largest inputs blob the contract takes inline (`ProofMarketplace.MAX_INLINE_INPUTS`).
pub const MAX_INLINE_INPUTS: usize = 32 * 1024;

const TO_ENGINE: Purpose = Purpose {
    info: ENGINE_INFO,
    name: "engine key wrap",
};
const TO_GENERATOR: Purpose = Purpose {
    info: GENERATOR_INFO,
    name: "generator key wrap",
};

/// What a requester's ciphertext is bound to besides the chain and marketplace: the ask's
/// market, its creator (the transaction sender) and its public statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InputsBinding {
    /// Market id.
    pub market: u64,
    /// The requester (the address that creates the ask).
    pub requester: Address,
    /// keccak256 of the ask's public prover data.
    pub prover_data_hash: [u8; 32],
}

/// What a generator wrap is bound to besides the chain and marketplace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SlotBinding {
    /// Ask id.
    pub ask: u64,
    /// Slot of the ask.
    pub slot: u8,
    /// The generator assigned to the slot.
    pub generator: Address,
}

/// The 32-byte AES key of one ask's inputs. Zeroed when dropped; `Debug` hides it.
#[derive(Clone)]
pub struct ContentKey([u8; CONTENT_KEY_LEN]);

impl ContentKey {
    fn from_plain(plain: &[u8]) -> Self {
        let mut k = [0u8; CONTENT_KEY_LEN];
        k.copy_from_slice(plain);
        Self(k)
    }
}

impl Drop for ContentKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl PartialEq for ContentKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for ContentKey {}

impl fmt::Debug for ContentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContentKey(..)")
    }
}

/// A requester's sealed inputs and what its `createPrivateAsk` call carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedInputs {
    /// The inputs blob (inline in the ask, or uploaded to the engine).
    pub inputs: Vec<u8>,
    /// keccak256 of `inputs`: the ask's commitment.
    pub inputs_hash: [u8; 32],
    /// The content key wrapped to the engine.
    pub engine_key_wrap: [u8; KEY_WRAP_LEN],
}

/// keccak256 of an inputs blob.
#[must_use]
pub fn inputs_hash(inputs: &[u8]) -> [u8; 32] {
    Keccak256::digest(inputs).into()
}

fn inputs_aad(ctx: &Context, b: &InputsBinding) -> Aad {
    Aad::new(INPUTS_AAD_TAG, ctx)
        .word(b.market)
        .address(&b.requester)
        .hash(&b.prover_data_hash)
}

fn engine_aad(ctx: &Context, b: &InputsBinding, hash: &[u8; 32]) -> Aad {
    Aad::new(b"", ctx)
        .word(b.market)
        .address(&b.requester)
        .hash(&b.prover_data_hash)
        .hash(hash)
}

fn generator_aad(ctx: &Context, s: &SlotBinding, hash: &[u8; 32]) -> Aad {
    Aad::new(b"", ctx)
        .word(s.ask)
        .word(u64::from(s.slot))
        .address(&s.generator)
        .hash(hash)
}

/// Encrypts a requester's secret inputs under a fresh content key and wraps that key to the
/// engine (what a requester's client does before `createPrivateAsk`).
pub fn seal_inputs(
    ctx: &Context,
    binding: &InputsBinding,
    secret: &[u8],
    engine: &EncryptionPublicKey,
    rng: &mut impl CryptoRngCore,
) -> SealedInputs {
    let mut key = ContentKey([0u8; CONTENT_KEY_LEN]);
    rng.fill_bytes(&mut key.0);
    let mut nonce = [0u8; INPUTS_NONCE_LEN];
    rng.fill_bytes(&mut nonce);
    let eph = NonZeroScalar::random(rng);
    let ct = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key.0))
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: secret,
                aad: inputs_aad(ctx, binding).as_bytes(),
            },
        )
        .expect("AES-GCM encrypts any message below 64 GiB");
    let mut inputs = Vec::with_capacity(INPUTS_NONCE_LEN + ct.len());
    inputs.extend_from_slice(&nonce);
    inputs.extend_from_slice(&ct);
    let hash = inputs_hash(&inputs);
    let wrap = ecies::wrap(
        &eph,
        engine,
        &key.0,
        TO_ENGINE,
        engine_aad(ctx, binding, &hash).as_bytes(),
    );
    SealedInputs {
        inputs,
        inputs_hash: hash,
        engine_key_wrap: wrap
            .try_into()
            .expect("a 32-byte key wraps to KEY_WRAP_LEN"),
    }
}

/// Unwraps an ask's content key with the engine key.
///
/// # Errors
/// [`Error::WrongLength`] unless 81 bytes, [`Error::BadPoint`] for an invalid ephemeral key,
/// [`Error::AuthenticationFailed`] for another engine key or any other binding.
pub fn unwrap_engine_key(
    engine: &EncryptionKey,
    ctx: &Context,
    binding: &InputsBinding,
    inputs_hash: &[u8; 32],
    wrap: &[u8],
) -> Result<ContentKey, Error> {
    let aad = engine_aad(ctx, binding, inputs_hash);
    ecies::unwrap(engine, wrap, CONTENT_KEY_LEN, TO_ENGINE, aad.as_bytes())
        .map(|k| ContentKey::from_plain(&k))
}

/// Checks an inputs blob against its commitment and decrypts it (the engine before assigning,
/// the generator before proving). The plaintext is zeroed when dropped.
///
/// # Errors
/// [`Error::TooShort`] below nonce and tag, [`Error::HashMismatch`] when it does not hash to
/// `inputs_hash`, [`Error::AuthenticationFailed`] for another key or binding.
pub fn open_inputs(
    ctx: &Context,
    binding: &InputsBinding,
    key: &ContentKey,
    inputs: &[u8],
    inputs_hash: &[u8; 32],
) -> Result<Zeroizing<Vec<u8>>, Error> {
    if inputs.len() < MIN_INPUTS_LEN {
        return Err(Error::TooShort {
            what: "inputs",
            min: MIN_INPUTS_LEN,
            got: inputs.len(),
        });
    }
    if !bool::from(self::inputs_hash(inputs).ct_eq(inputs_hash)) {
        return Err(Error::HashMismatch);
    }
    let (nonce, ct) = inputs.split_at(INPUTS_NONCE_LEN);
    Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key.0))
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ct,
                aad: inputs_aad(ctx, binding).as_bytes(),
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| Error::AuthenticationFailed { what: "inputs" })
}

/// Wraps an ask's content key to the generator assigned to one of its slots. Deterministic:
/// the ephemeral key is derived from the engine key and the whole associated data.
#[must_use]
pub fn wrap_for_generator(
    engine: &EncryptionKey,
    ctx: &Context,
    slot: &SlotBinding,
    inputs_hash: &[u8; 32],
    key: &ContentKey,
    generator: &EncryptionPublicKey,
) -> [u8; KEY_WRAP_LEN] {
    let aad = generator_aad(ctx, slot, inputs_hash);
    let eph = derived_ephemeral(engine, aad.as_bytes());
    ecies::wrap(&eph, generator, &key.0, TO_GENERATOR, aad.as_bytes())
        .try_into()
        .expect("a 32-byte key wraps to KEY_WRAP_LEN")
}

/// Unwraps the content key of a slot with the generator's key for the ask's market.
///
/// # Errors
/// [`Error::WrongLength`] unless 81 bytes, [`Error::BadPoint`] for an invalid ephemeral key,
/// [`Error::AuthenticationFailed`] for another generator's key or any other binding.
pub fn unwrap_generator_key(
    generator: &EncryptionKey,
    ctx: &Context,
    slot: &SlotBinding,
    inputs_hash: &[u8; 32],
    wrap: &[u8],
) -> Result<ContentKey, Error> {
    let aad = generator_aad(ctx, slot, inputs_hash);
    ecies::unwrap(
        generator,
        wrap,
        CONTENT_KEY_LEN,
        TO_GENERATOR,
        aad.as_bytes(),
    )
    .map(|k| ContentKey::from_plain(&k))
}

/// `(HMAC-SHA256(engine secret, WRAP_TAG ‖ aad) mod (n − 1)) + 1`: a scalar in `[1, n)`.
fn derived_ephemeral(engine: &EncryptionKey, aad: &[u8]) -> NonZeroScalar {
    let secret = Zeroizing::new(engine.secret_key().to_bytes());
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_slice())
        .expect("HMAC takes keys of any length");
    mac.update(WRAP_TAG);
    mac.update(aad);
    let h = U256::from_be_slice(&mac.finalize().into_bytes());
    let n_minus_1 = NonZero::new(Secp256k1::ORDER.wrapping_sub(&U256::ONE))
        .expect("the group order is above 1");
    let scalar = h.rem(&n_minus_1).wrapping_add(&U256::ONE);
    Option::from(NonZeroScalar::from_repr(scalar.to_be_byte_array()))
        .expect("a value in [1, n) is a non-zero scalar")
}
