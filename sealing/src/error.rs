//! Why sealing or opening failed. Every failure has its own variant; none panics.

/// A ciphertext, key or inputs blob could not be parsed or opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A fixed-size field or ciphertext has the wrong length.
    #[error("{what}: expected {expected} bytes, got {got}")]
    WrongLength {
        /// What was being parsed.
        what: &'static str,
        /// The length it must have.
        expected: usize,
        /// The length it had.
        got: usize,
    },
    /// A variable-size blob is shorter than its fixed header and tag.
    #[error("{what}: at least {min} bytes needed, got {got}")]
    TooShort {
        /// What was being parsed.
        what: &'static str,
        /// The least length.
        min: usize,
        /// The length it had.
        got: usize,
    },
    /// A public key (a recipient's or an ephemeral one) is not a valid compressed secp256k1
    /// point: wrong prefix, or an x-coordinate off the curve.
    #[error("{what}: not a compressed secp256k1 point")]
    BadPoint {
        /// Which key.
        what: &'static str,
    },
    /// A secret key is zero or not below the group order.
    #[error("secret key is not a scalar in [1, n)")]
    BadSecretKey,
    /// AES-GCM authentication failed: the wrong key, a tampered ciphertext, or a ciphertext
    /// moved to another context (its associated data differs).
    #[error("{what}: authentication failed")]
    AuthenticationFailed {
        /// What was being opened.
        what: &'static str,
    },
    /// The inputs blob does not hash (keccak256) to its commitment.
    #[error("inputs do not hash to the committed inputs hash")]
    HashMismatch,
}
