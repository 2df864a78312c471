//! Input checks: whether a private ask's decrypted inputs are a witness for its statement.
//!
//! A market's check is chosen by its verifier address in [`crate::Config::input_checks`]. The
//! engine runs it only to decide whether to sign an `InvalidInputs` statement, so a check must
//! be exact: it says "invalid" only for inputs no prover could use.

use substrate_bn::arith::U256;
use substrate_bn::{AffineG1, Fq, Fr, G1, Group};

/// A market's input check.
pub trait InputCheck {
    /// Whether `secret` is a valid witness for `statement` (the ask's public prover data).
    /// Malformed statements or secrets are invalid.
    fn is_valid(&self, statement: &[u8], secret: &[u8]) -> bool;
}

/// The built-in checks, by configuration name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum InputCheckKind {
    /// `schnorr-bn254`: see [`SchnorrBn254`].
    SchnorrBn254,
}

impl InputCheckKind {
    /// Every built-in check.
    pub const ALL: [Self; 1] = [Self::SchnorrBn254];

    /// The configuration name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::SchnorrBn254 => "schnorr-bn254",
        }
    }

    /// The check named `name`, if built in.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The check itself.
    #[must_use]
    pub fn check(self) -> &'static dyn InputCheck {
        match self {
            Self::SchnorrBn254 => &SchnorrBn254,
        }
    }
}

/// Knowledge of a BN254 discrete logarithm: the statement is `abi.encode(Px, Py)` (64 bytes),
/// the secret is `x` (32 bytes, big-endian), valid iff `0 < x < n` and `x·G == P` with
/// `G = (1, 2)`. A statement off the curve or with coordinates not below the field modulus has
/// no witness.
#[derive(Clone, Copy, Debug, Default)]
pub struct SchnorrBn254;

impl InputCheck for SchnorrBn254 {
    fn is_valid(&self, statement: &[u8], secret: &[u8]) -> bool {
        let (Ok(statement), Ok(secret)) = (
            <&[u8; 64]>::try_from(statement),
            <&[u8; 32]>::try_from(secret),
        ) else {
            return false;
        };
        let (Ok(px), Ok(py)) = (
            Fq::from_slice(&statement[..32]),
            Fq::from_slice(&statement[32..]),
        ) else {
            return false;
        };
        let Ok(p) = AffineG1::new(px, py) else {
            return false;
        };
        // `Fr::new` refuses values not below the group order n (`Fr::from_slice` would reduce).
        let Some(x) = U256::from_slice(secret).ok().and_then(Fr::new) else {
            return false;
        };
        !x.is_zero() && G1::one() * x == G1::from(p)
    }
}
