//! The one error type of the crate, split by cause.
//!
//! Every rejection has a stable name ([`Error::code`]) such as `chain.issuer_mismatch`; the bad-input
//! corpus and the command line report these names, and other verifiers (on-chain) are compared
//! against them.

use thiserror::Error;

/// Why a document was not accepted (or an NSM call failed).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not a well-formed attestation document (COSE envelope or payload).
    #[error("malformed document: {0}")]
    Malformed(#[from] Malformed),
    /// The COSE signature does not verify with the leaf certificate's key.
    #[error("document signature: {0}")]
    Signature(#[from] SignatureError),
    /// The certificate chain does not lead to the trusted root, or a certificate is not valid now.
    #[error("certificate chain: {0}")]
    Chain(#[from] ChainError),
    /// The document is authentic but the policy rejects it (PCRs, freshness, nonce, key).
    #[error("policy: {0}")]
    Policy(#[from] PolicyError),
    /// Talking to the NSM failed.
    #[error("nsm: {0}")]
    Nsm(#[from] NsmError),
}

impl Error {
    /// Stable, machine-readable name of the rejection, `<cause>.<reason>`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Malformed(e) => e.code(),
            Error::Signature(e) => e.code(),
            Error::Chain(e) => e.code(),
            Error::Policy(e) => e.code(),
            Error::Nsm(e) => e.code(),
        }
    }
}

/// Structural problems with the document bytes: untrusted input, never a caller bug.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Malformed {
    /// Input is empty.
    #[error("empty input")]
    Empty,
    /// Input is larger than any NSM can produce.
    #[error("document of {len} bytes exceeds the {max}-byte limit")]
    TooLarge {
        /// Input length.
        len: usize,
        /// Limit.
        max: usize,
    },
    /// Input looked like base64 text but did not decode.
    #[error("input is neither CBOR nor valid base64")]
    Base64,
    /// The COSE_Sign1 envelope did not decode.
    #[error("COSE_Sign1 envelope: {0}")]
    Envelope(String),
    /// Bytes follow the COSE_Sign1 structure or the payload map.
    #[error("trailing bytes after the {0}")]
    TrailingBytes(&'static str),
    /// The CBOR ends early.
    #[error("truncated CBOR in the {0}")]
    Truncated(&'static str),
    /// The protected header does not name ES384 (`alg: -35`), or names an algorithm outside
    /// IANA's registry (qemu's emulated NSM writes -1 and signs nothing).
    #[error(
        "protected header algorithm is not ES384 (-35), the only one an AWS NSM signs with: the document cannot be authenticated"
    )]
    UnsupportedAlgorithm,
    /// The payload is nil or detached.
    #[error("COSE payload missing")]
    MissingPayload,
    /// The signature is not 96 raw bytes (r || s).
    #[error(
        "signature is {0} bytes, expected 96 (ES384 r||s): the document cannot be authenticated"
    )]
    SignatureLength(usize),
    /// A CBOR item has the wrong type.
    #[error("field `{0}` has the wrong CBOR type")]
    WrongType(&'static str),
    /// Indefinite-length byte or text strings are not produced by any NSM.
    #[error("field `{0}` uses an indefinite-length string")]
    IndefiniteString(&'static str),
    /// A mandatory field is absent.
    #[error("mandatory field `{0}` missing")]
    MissingField(&'static str),
    /// A mandatory field is CBOR null.
    #[error("mandatory field `{0}` is null")]
    NullField(&'static str),
    /// A key appears twice in a map.
    #[error("duplicate key in `{0}`")]
    DuplicateKey(&'static str),
    /// The payload has a key that is not in the AWS schema.
    #[error("unknown payload field `{0}`")]
    UnknownField(String),
    /// A field is longer or shorter than the schema allows.
    #[error("field `{field}` has {len} bytes/items, allowed {min}..={max}")]
    FieldSize {
        /// Field name.
        field: &'static str,
        /// Observed size.
        len: usize,
        /// Minimum.
        min: usize,
        /// Maximum.
        max: usize,
    },
    /// `digest` is not `"SHA384"`.
    #[error("unsupported digest `{0}`")]
    UnsupportedDigest(String),
    /// A PCR index is out of range 0..32.
    #[error("PCR index {0} out of range")]
    PcrIndex(u64),
    /// A PCR value length does not match the digest (48 bytes for SHA-384).
    #[error("PCR{index} has {len} bytes, expected 48")]
    PcrLength {
        /// PCR index.
        index: u8,
        /// Observed length.
        len: usize,
    },
    /// A certificate is not parseable DER X.509 (for example a zero-filled placeholder).
    #[error(
        "certificate {index} of the chain (0 = cabundle[0], the leaf last) is not DER X.509 ({reason}): the document cannot be authenticated"
    )]
    Certificate {
        /// Position in the chain (0 = root).
        index: usize,
        /// Parser message.
        reason: String,
    },
}

impl Malformed {
    fn code(&self) -> &'static str {
        match self {
            Malformed::Empty => "malformed.empty",
            Malformed::TooLarge { .. } => "malformed.too_large",
            Malformed::Base64 => "malformed.base64",
            Malformed::Envelope(_) => "malformed.envelope",
            Malformed::TrailingBytes(_) => "malformed.trailing_bytes",
            Malformed::Truncated(_) => "malformed.truncated",
            Malformed::UnsupportedAlgorithm => "malformed.unsupported_algorithm",
            Malformed::MissingPayload => "malformed.missing_payload",
            Malformed::SignatureLength(_) => "malformed.signature_length",
            Malformed::WrongType(_) => "malformed.wrong_type",
            Malformed::IndefiniteString(_) => "malformed.indefinite_string",
            Malformed::MissingField(_) => "malformed.missing_field",
            Malformed::NullField(_) => "malformed.null_field",
            Malformed::DuplicateKey(_) => "malformed.duplicate_key",
            Malformed::UnknownField(_) => "malformed.unknown_field",
            Malformed::FieldSize { .. } => "malformed.field_size",
            Malformed::UnsupportedDigest(_) => "malformed.unsupported_digest",
            Malformed::PcrIndex(_) => "malformed.pcr_index",
            Malformed::PcrLength { .. } => "malformed.pcr_length",
            Malformed::Certificate { .. } => "malformed.certificate",
        }
    }
}

/// The COSE signature itself.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// ECDSA P-384 verification of `Sig_structure` with the leaf key failed.
    #[error("ES384 signature does not verify with the leaf certificate key")]
    Invalid,
}

impl SignatureError {
    fn code(&self) -> &'static str {
        match self {
            SignatureError::Invalid => "signature.invalid",
        }
    }
}

/// The certificate chain `cabundle[0..] + certificate`. Indexes count from the root (0); the leaf
/// is the last index.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ChainError {
    /// `cabundle[0]` is not the pinned root (DER SHA-256 differs).
    #[error(
        "cabundle[0] is not the trusted root certificate (its DER SHA-256 is {found}): the document is not signed under the trusted root"
    )]
    UntrustedRoot {
        /// Hex SHA-256 of the presented root.
        found: String,
    },
    /// A certificate's issuer name is not its predecessor's subject name.
    #[error("certificate {index} is not issued by certificate {}", index - 1)]
    IssuerMismatch {
        /// Position in the chain.
        index: usize,
    },
    /// A certificate's signature does not verify with its issuer's key.
    #[error("certificate {index} signature does not verify with its issuer's key")]
    BadCertificateSignature {
        /// Position in the chain.
        index: usize,
    },
    /// Signature algorithm other than ecdsa-with-SHA384, or a key other than P-384.
    #[error("certificate {index} uses an algorithm other than ECDSA P-384 / SHA-384")]
    UnsupportedAlgorithm {
        /// Position in the chain.
        index: usize,
    },
    /// `notAfter` is before the verification time.
    #[error("certificate {index} expired (notAfter {not_after_s} s < now {now_ms} ms)")]
    Expired {
        /// Position in the chain.
        index: usize,
        /// notAfter, seconds since the epoch.
        not_after_s: i64,
        /// Verification time, ms.
        now_ms: u64,
    },
    /// `notBefore` is after the verification time.
    #[error("certificate {index} not yet valid (notBefore {not_before_s} s > now {now_ms} ms)")]
    NotYetValid {
        /// Position in the chain.
        index: usize,
        /// notBefore, seconds since the epoch.
        not_before_s: i64,
        /// Verification time, ms.
        now_ms: u64,
    },
    /// An issuing certificate is not a CA (basicConstraints) or lacks keyCertSign.
    #[error("certificate {index} issues certificates but is not a CA with keyCertSign")]
    NotCa {
        /// Position in the chain.
        index: usize,
    },
    /// A CA's pathLenConstraint is smaller than the number of CAs below it.
    #[error("certificate {index} path length constraint exceeded")]
    PathLenExceeded {
        /// Position in the chain.
        index: usize,
    },
    /// An intermediate is self-issued (subject == issuer).
    #[error("certificate {index} is a self-issued intermediate")]
    SelfIssued {
        /// Position in the chain.
        index: usize,
    },
    /// The leaf certificate is a CA or lacks digitalSignature.
    #[error("leaf certificate is a CA or may not sign documents")]
    BadLeaf,
}

impl ChainError {
    fn code(&self) -> &'static str {
        match self {
            ChainError::UntrustedRoot { .. } => "chain.untrusted_root",
            ChainError::IssuerMismatch { .. } => "chain.issuer_mismatch",
            ChainError::BadCertificateSignature { .. } => "chain.bad_certificate_signature",
            ChainError::UnsupportedAlgorithm { .. } => "chain.unsupported_algorithm",
            ChainError::Expired { .. } => "chain.expired",
            ChainError::NotYetValid { .. } => "chain.not_yet_valid",
            ChainError::NotCa { .. } => "chain.not_ca",
            ChainError::PathLenExceeded { .. } => "chain.path_len_exceeded",
            ChainError::SelfIssued { .. } => "chain.self_issued",
            ChainError::BadLeaf => "chain.bad_leaf",
        }
    }
}

/// An authentic document the policy does not accept.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// `timestamp` is below 10^12: a seconds value (or zero), not milliseconds.
    #[error("timestamp {0} is not in milliseconds")]
    TimestampNotMillis(u64),
    /// The document is from the future (beyond the allowed skew).
    #[error("document timestamp {timestamp_ms} ms is after now {now_ms} ms")]
    FromFuture {
        /// Document time.
        timestamp_ms: u64,
        /// Verification time.
        now_ms: u64,
    },
    /// The document is older than the freshness window.
    #[error("document is {age_ms} ms old, the limit is {max_age_ms} ms")]
    Stale {
        /// Age.
        age_ms: u64,
        /// Limit.
        max_age_ms: u64,
    },
    /// PCR0, PCR1 or PCR2 is all zero: a debug-mode enclave.
    #[error("debug-mode enclave (PCR0/1/2 all zero)")]
    DebugMode,
    /// A PCR the policy names is absent.
    #[error("PCR{0} missing")]
    PcrMissing(u8),
    /// A PCR differs from the expected value.
    #[error("PCR{0} differs from the expected value")]
    PcrMismatch(u8),
    /// `nonce` differs from the expected nonce.
    #[error("nonce differs from the expected nonce")]
    NonceMismatch,
    /// The policy requires a bound key but `public_key` is null.
    #[error("public_key missing")]
    PublicKeyMissing,
    /// `public_key` is not 65 bytes.
    #[error("public_key is {0} bytes, expected 65 (uncompressed secp256k1)")]
    PublicKeyLength(usize),
    /// `public_key` does not start with 0x04.
    #[error("public_key starts with {0:#04x}, expected 0x04")]
    PublicKeyPrefix(u8),
    /// `public_key` is not a point on secp256k1.
    #[error("public_key is not a secp256k1 point")]
    PublicKeyNotOnCurve,
}

impl PolicyError {
    fn code(&self) -> &'static str {
        match self {
            PolicyError::TimestampNotMillis(_) => "policy.timestamp_not_millis",
            PolicyError::FromFuture { .. } => "policy.from_future",
            PolicyError::Stale { .. } => "policy.stale",
            PolicyError::DebugMode => "policy.debug_mode",
            PolicyError::PcrMissing(_) => "policy.pcr_missing",
            PolicyError::PcrMismatch(_) => "policy.pcr_mismatch",
            PolicyError::NonceMismatch => "policy.nonce_mismatch",
            PolicyError::PublicKeyMissing => "policy.public_key_missing",
            PolicyError::PublicKeyLength(_) => "policy.public_key_length",
            PolicyError::PublicKeyPrefix(_) => "policy.public_key_prefix",
            PolicyError::PublicKeyNotOnCurve => "policy.public_key_not_on_curve",
        }
    }
}

/// NSM access failures.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NsmError {
    /// `/dev/nsm` does not exist (not inside a Nitro enclave, or the driver is not loaded).
    #[error("no NSM device at {0}")]
    NoDevice(String),
    /// The device exists but could not be opened.
    #[error("cannot open NSM device {path}: {reason}")]
    Open {
        /// Device path.
        path: String,
        /// OS error text.
        reason: String,
    },
    /// The NSM answered with an error code.
    #[error("NSM returned error {0}")]
    Device(String),
    /// The NSM answered with a response of the wrong kind.
    #[error("unexpected NSM response to {0}")]
    UnexpectedResponse(&'static str),
    /// A caller argument is out of range (PCR index, field size).
    #[error("invalid NSM argument: {0}")]
    InvalidArgument(String),
    /// The PCR is locked and cannot be extended.
    #[error("PCR{0} is locked")]
    ReadOnlyPcr(u16),
    /// The dev NSM could not build its certificates or sign.
    #[error("dev NSM: {0}")]
    Dev(String),
}

impl NsmError {
    fn code(&self) -> &'static str {
        match self {
            NsmError::NoDevice(_) => "nsm.no_device",
            NsmError::Open { .. } => "nsm.open",
            NsmError::Device(_) => "nsm.device",
            NsmError::UnexpectedResponse(_) => "nsm.unexpected_response",
            NsmError::InvalidArgument(_) => "nsm.invalid_argument",
            NsmError::ReadOnlyPcr(_) => "nsm.read_only_pcr",
            NsmError::Dev(_) => "nsm.dev",
        }
    }
}
