#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod bid;
mod context;
mod ecies;
mod error;
mod handoff;
mod inputs;
mod keys;

pub use bid::{BID_INFO, SEALED_BID_LEN, open_bid, seal_bid};
pub use context::{Address, Context};
pub use ecies::{OVERHEAD, TAG_LEN};
pub use error::Error;
pub use handoff::{
    HandoffBinding, IDENTITY_INFO, IdentitySecrets, SEALED_IDENTITY_LEN, SECRET_LEN, open_identity,
    seal_identity,
};
pub use inputs::{
    CONTENT_KEY_LEN, ContentKey, ENGINE_INFO, GENERATOR_INFO, INPUTS_AAD_TAG, INPUTS_NONCE_LEN,
    InputsBinding, KEY_WRAP_LEN, MAX_INLINE_INPUTS, MIN_INPUTS_LEN, SealedInputs, SlotBinding,
    WRAP_TAG, inputs_hash, open_inputs, seal_inputs, unwrap_engine_key, unwrap_generator_key,
    wrap_for_generator,
};
/// The plaintext wrapper that zeroes its contents when dropped.
pub use k256::elliptic_curve::zeroize::Zeroizing;
pub use keys::{EncryptionKey, EncryptionPublicKey, PUBLIC_KEY_LEN};
