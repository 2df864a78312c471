//! The demo market's proof system (`SchnorrBn254Verifier`), computed natively on BN254: "I know
//! x with P = x·G", with R = k·G, c = keccak256(P ‖ R) mod n and s = k + c·x mod n. Nothing
//! leaves the process: the secret is never sent to a node.
//!
//! Encodings (what the verifier reads): the statement is `abi.encode(Px, Py)` (64 bytes), the
//! proof `abi.encode(Rx, Ry, s)` (96 bytes), the secret x 32 bytes big-endian. The nonce k is
//! derived deterministically from x and P (RFC 6979 style): `HMAC-SHA256(x, DOMAIN ‖ P ‖ i)` for
//! i = 0, 1, … until the value is a non-zero scalar below n, so one (x, P) always gives one proof
//! and no randomness can leak x.

use alloy::primitives::{U256, keccak256, uint};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use substrate_bn::{AffineG1, Fq, Fr, G1, Group};

/// The order n of BN254's group.
pub const BN254_N: U256 =
    uint!(0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001_U256);

/// Domain separation of the nonce derivation.
const NONCE_DOMAIN: &[u8] = b"ProofMarketplace schnorr-bn254 nonce v1";

/// Why a proof could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchnorrError {
    /// The statement is not 64 bytes.
    #[error("the statement is {0} bytes, not abi.encode(Px, Py) (64)")]
    StatementLength(usize),
    /// The statement is not a point of the curve (or is the point at infinity).
    #[error("the statement is not a point of BN254 G1")]
    NotAPoint,
    /// The secret is not 32 bytes.
    #[error("the secret is {0} bytes, not 32")]
    SecretLength(usize),
    /// The secret is zero or not below n.
    #[error("the secret is not a non-zero scalar below n")]
    SecretRange,
    /// x·G is not P: the inputs cannot prove the statement.
    #[error("the secret does not match the statement (x·G != P)")]
    Mismatch,
}

/// A scalar from 32 big-endian bytes, if below n. (`Fr::from_slice` neither checks the range
/// nor is the inverse of `Fr::to_big_endian`, which writes the Montgomery form: both are
/// avoided.)
fn scalar(bytes: &[u8; 32]) -> Option<Fr> {
    Fr::new(substrate_bn::arith::U256::from_slice(bytes).ok()?)
}

/// The canonical 32 big-endian bytes of a scalar.
fn scalar_bytes(s: Fr) -> [u8; 32] {
    let mut out = [0u8; 32];
    // Infallible for a 32-byte buffer.
    let _ = s.into_u256().to_big_endian(&mut out);
    out
}

fn coordinate_bytes(f: Fq) -> [u8; 32] {
    let mut out = [0u8; 32];
    // Infallible for a 32-byte buffer.
    let _ = f.to_big_endian(&mut out);
    out
}

/// `abi.encode(x, y)` of k·G; `None` for the point at infinity.
fn mul_g(k: Fr) -> Option<[u8; 64]> {
    let p = AffineG1::from_jacobian(G1::one() * k)?;
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&coordinate_bytes(p.x()));
    out[32..].copy_from_slice(&coordinate_bytes(p.y()));
    Some(out)
}

/// The statement P = x·G for a secret x (32 bytes big-endian).
///
/// # Errors
/// [`SchnorrError::SecretLength`], [`SchnorrError::SecretRange`].
pub fn statement(secret: &[u8]) -> Result<[u8; 64], SchnorrError> {
    let x = secret_scalar(secret)?;
    mul_g(x).ok_or(SchnorrError::SecretRange)
}

fn secret_scalar(secret: &[u8]) -> Result<Fr, SchnorrError> {
    let bytes: &[u8; 32] = secret
        .try_into()
        .map_err(|_| SchnorrError::SecretLength(secret.len()))?;
    match scalar(bytes) {
        Some(x) if !x.is_zero() => Ok(x),
        _ => Err(SchnorrError::SecretRange),
    }
}

/// Checks that `statement` is an on-curve point other than infinity.
fn check_point(statement: &[u8]) -> Result<(), SchnorrError> {
    if statement.len() != 64 {
        return Err(SchnorrError::StatementLength(statement.len()));
    }
    let x = Fq::from_slice(&statement[..32]).map_err(|_| SchnorrError::NotAPoint)?;
    let y = Fq::from_slice(&statement[32..]).map_err(|_| SchnorrError::NotAPoint)?;
    if x.is_zero() && y.is_zero() {
        return Err(SchnorrError::NotAPoint);
    }
    AffineG1::new(x, y)
        .map(|_| ())
        .map_err(|_| SchnorrError::NotAPoint)
}

/// The deterministic nonce k for (x, P).
fn nonce(secret: &[u8; 32], statement: &[u8]) -> Fr {
    let mut counter: u32 = 0;
    loop {
        // HMAC accepts keys of any length: `new_from_slice` cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(NONCE_DOMAIN);
        mac.update(statement);
        mac.update(&counter.to_be_bytes());
        let candidate: [u8; 32] = mac.finalize().into_bytes().into();
        if let Some(k) = scalar(&candidate).filter(|k| !k.is_zero()) {
            return k;
        }
        counter = counter.wrapping_add(1);
    }
}

/// The proof `abi.encode(Rx, Ry, s)` that the prover knows `secret` with `statement` = x·G.
///
/// # Errors
/// [`SchnorrError::Mismatch`] when x·G is not the statement (the inputs are invalid); the
/// other variants for malformed inputs.
pub fn prove(statement: &[u8], secret: &[u8]) -> Result<[u8; 96], SchnorrError> {
    check_point(statement)?;
    let x = secret_scalar(secret)?;
    if mul_g(x).as_ref().map(<[u8; 64]>::as_slice) != Some(statement) {
        return Err(SchnorrError::Mismatch);
    }
    let secret_bytes = scalar_bytes(x);
    let k = nonce(&secret_bytes, statement);
    let r = mul_g(k).ok_or(SchnorrError::SecretRange)?;
    let c_word = U256::from_be_bytes(keccak256([statement, &r[..]].concat()).0) % BN254_N;
    let c = scalar(&c_word.to_be_bytes()).ok_or(SchnorrError::SecretRange)?;
    let s = k + c * x;
    let mut proof = [0u8; 96];
    proof[..64].copy_from_slice(&r);
    proof[64..].copy_from_slice(&scalar_bytes(s));
    Ok(proof)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(v: u64) -> [u8; 32] {
        U256::from(v).to_be_bytes()
    }

    #[test]
    fn scalars_round_trip_canonically() {
        let bytes = secret(12345);
        assert_eq!(scalar_bytes(scalar(&bytes).unwrap()), bytes);
        assert!(scalar(&BN254_N.to_be_bytes()).is_none());
        // 2·G computed from the scalar 2 equals G + G.
        let two = AffineG1::from_jacobian(G1::one() * scalar(&secret(2)).unwrap()).unwrap();
        assert_eq!(two, AffineG1::from_jacobian(G1::one() + G1::one()).unwrap());
    }

    #[test]
    fn g_is_one_two() {
        let p = statement(&secret(1)).unwrap();
        assert_eq!(U256::from_be_slice(&p[..32]), U256::from(1));
        assert_eq!(U256::from_be_slice(&p[32..]), U256::from(2));
    }

    #[test]
    fn the_proof_satisfies_the_verification_equation() {
        // s·G = R + c·P, checked with the group law (the verifier does it with ecMul/ecAdd).
        let x = secret(0xdead_beef);
        let p = statement(&x).unwrap();
        let proof = prove(&p, &x).unwrap();
        let c_word = U256::from_be_bytes(keccak256([&p[..], &proof[..64]].concat()).0) % BN254_N;
        let c = scalar(&c_word.to_be_bytes()).unwrap();
        let s = scalar(proof[64..].try_into().unwrap()).unwrap();
        let point = |b: &[u8]| {
            G1::from(
                AffineG1::new(
                    Fq::from_slice(&b[..32]).unwrap(),
                    Fq::from_slice(&b[32..64]).unwrap(),
                )
                .unwrap(),
            )
        };
        let lhs = AffineG1::from_jacobian(G1::one() * s).unwrap();
        let rhs = AffineG1::from_jacobian(point(&proof[..64]) + point(&p) * c).unwrap();
        assert_eq!(lhs, rhs);
        // Deterministic.
        assert_eq!(prove(&p, &x).unwrap(), proof);
    }

    #[test]
    fn refuses_a_secret_that_is_not_the_statements() {
        let p = statement(&secret(7)).unwrap();
        assert_eq!(prove(&p, &secret(8)), Err(SchnorrError::Mismatch));
        assert_eq!(
            prove(&p[..63], &secret(7)),
            Err(SchnorrError::StatementLength(63))
        );
        assert_eq!(prove(&[0u8; 64], &secret(7)), Err(SchnorrError::NotAPoint));
        let mut off = p;
        off[63] ^= 1;
        assert_eq!(prove(&off, &secret(7)), Err(SchnorrError::NotAPoint));
        assert_eq!(prove(&p, &[0u8; 32]), Err(SchnorrError::SecretRange));
        assert_eq!(
            prove(&p, &BN254_N.to_be_bytes::<32>()),
            Err(SchnorrError::SecretRange)
        );
        assert_eq!(prove(&p, &[1u8; 31]), Err(SchnorrError::SecretLength(31)));
    }
}
