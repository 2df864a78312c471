#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod cache;
mod chain;
mod clock;
mod cose;
mod document;
mod error;
mod input;
mod key;
pub mod nsm;
mod payload;
mod policy;
mod unverified;
mod verifier;

#[cfg(feature = "danger-dev-nsm")]
pub mod dev;

pub use cache::CertCache;
pub use chain::{AWS_ROOT_G1_SHA256, TrustedRoot};
pub use clock::{Clock, FixedClock, SystemClock};
pub use document::{AttestationDocument, VerifiedDocument};
pub use error::{ChainError, Error, Malformed, NsmError, PolicyError, SignatureError};
pub use input::{MAX_DOCUMENT_LEN, decode_input};
pub use key::{EnclaveKey, SECP256K1_UNCOMPRESSED_LEN};
pub use nitro_pcrs::{ImagePcrs, PCR_LEN, Pcr, PcrError};
pub use payload::{MAX_CABUNDLE, MAX_FIELD_LEN, MAX_PCRS};
pub use policy::{DEFAULT_MAX_AGE_MS, MIN_TIMESTAMP_MS, Policy};
pub use unverified::{UnverifiedDocument, read_unverified};
pub use verifier::{DEFAULT_CACHE_CAPACITY, Verifier, peek_timestamp};

/// Entry points for fuzz targets only; not part of the API.
#[doc(hidden)]
pub mod internal {
    /// Parses `data` as an attestation payload (the CBOR map inside COSE_Sign1).
    pub fn fuzz_payload(data: &[u8]) {
        if let Ok(p) = crate::payload::parse(data) {
            // Anything the parser accepts converts to a document without panicking.
            let doc = crate::document::AttestationDocument::from_payload(&p);
            let _ = doc.is_debug_mode();
        }
    }
}
