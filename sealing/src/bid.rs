//! Sealed bids: a generator's price for an ask, readable only by the engine.
//!
//! `seal = E (33) ‖ AES-256-GCM(price as 16 bytes big-endian) (16) ‖ tag (16)`, 65 bytes, with
//! info [`BID_INFO`] and associated data `chainId ‖ marketplace ‖ askId ‖ bidder`, so a
//! ciphertext copied into another generator's bid or another ask fails to open.

use k256::NonZeroScalar;
use rand_core::CryptoRngCore;

use crate::context::{Aad, Address, Context};
use crate::ecies::{self, OVERHEAD, Purpose};
use crate::error::Error;
use crate::keys::{EncryptionKey, EncryptionPublicKey};

/// HKDF info string of sealed bids.
pub const BID_INFO: &[u8] = b"ProofMarketplace sealed bid v1";
/// Length of a sealed bid.
pub const SEALED_BID_LEN: usize = OVERHEAD + 16;

const PURPOSE: Purpose = Purpose {
    info: BID_INFO,
    name: "sealed bid",
};

fn aad(ctx: &Context, ask: u64, bidder: &Address) -> Aad {
    Aad::new(b"", ctx).word(ask).address(bidder)
}

/// Seals `price` for the engine key `engine` (what a generator's client does).
pub fn seal_bid(
    rng: &mut impl CryptoRngCore,
    engine: &EncryptionPublicKey,
    ctx: &Context,
    ask: u64,
    bidder: &Address,
    price: u128,
) -> [u8; SEALED_BID_LEN] {
    let eph = NonZeroScalar::random(rng);
    let sealed = ecies::wrap(
        &eph,
        engine,
        &price.to_be_bytes(),
        PURPOSE,
        aad(ctx, ask, bidder).as_bytes(),
    );
    sealed
        .try_into()
        .expect("a 16-byte plaintext seals to SEALED_BID_LEN bytes")
}

/// Opens a sealed bid with the engine key: the price.
///
/// # Errors
/// [`Error::WrongLength`] unless 65 bytes, [`Error::BadPoint`] for an invalid ephemeral key,
/// [`Error::AuthenticationFailed`] for another key, context, ask or bidder, or tampering.
pub fn open_bid(
    engine: &EncryptionKey,
    ctx: &Context,
    ask: u64,
    bidder: &Address,
    sealed: &[u8],
) -> Result<u128, Error> {
    let plain = ecies::unwrap(
        engine,
        sealed,
        16,
        PURPOSE,
        aad(ctx, ask, bidder).as_bytes(),
    )?;
    let mut price = [0u8; 16];
    price.copy_from_slice(&plain);
    Ok(u128::from_be_bytes(price))
}
