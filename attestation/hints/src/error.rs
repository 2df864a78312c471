//! Errors of hint preparation.

/// Why hints could not be prepared for an input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The COSE_Sign1 envelope or the payload map is not what a Nitro document looks like.
    #[error("malformed document: {0}")]
    Malformed(&'static str),
    /// A certificate could not be parsed.
    #[error("malformed certificate: {0}")]
    Certificate(String),
    /// A certificate signature is not a DER ECDSA-Sig-Value.
    #[error("malformed ECDSA signature")]
    Signature,
    /// s is zero or not below the group order (the contract rejects it whatever the hint).
    #[error("signature scalar out of range")]
    ScalarOutOfRange,
    /// A public key is not an uncompressed SEC1 P-384 point (0x04 ‖ x ‖ y).
    #[error("malformed P-384 public key")]
    Key,
}
