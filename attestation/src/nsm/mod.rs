//! Access to the Nitro Secure Module from inside an enclave.
//!
//! Enclave code talks to the NSM only through [`Nsm`]. [`NsmDevice`] is the real `/dev/nsm`;
//! the dev NSM (feature `danger-dev-nsm`, [`crate::dev::DevNsm`]) signs with a generated dev CA
//! so that local runs and tests get byte-compatible documents that production verification
//! rejects.

#[cfg(target_os = "linux")]
mod device;

#[cfg(target_os = "linux")]
pub use device::{NSM_DEVICE_PATH, NsmDevice};

use crate::error::NsmError;
use crate::payload::MAX_FIELD_LEN;

/// Number of PCRs an NSM exposes.
pub const NSM_PCR_COUNT: u16 = 32;

/// Optional fields an enclave asks the NSM to embed in a document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttestationRequest {
    /// Key to bind (for this project: a 65-byte uncompressed secp256k1 key).
    pub public_key: Option<Vec<u8>>,
    /// Application data.
    pub user_data: Option<Vec<u8>>,
    /// Verifier-chosen nonce.
    pub nonce: Option<Vec<u8>>,
}

impl AttestationRequest {
    /// Checks the AWS size limits (each field at most 1024 bytes, `public_key` non-empty).
    pub fn validate(&self) -> Result<(), NsmError> {
        for (name, field) in [
            ("public_key", &self.public_key),
            ("user_data", &self.user_data),
            ("nonce", &self.nonce),
        ] {
            if let Some(v) = field
                && v.len() > MAX_FIELD_LEN
            {
                return Err(NsmError::InvalidArgument(format!(
                    "{name} is {} bytes, at most {MAX_FIELD_LEN}",
                    v.len()
                )));
            }
        }
        if self.public_key.as_ref().is_some_and(Vec::is_empty) {
            return Err(NsmError::InvalidArgument("public_key is empty".into()));
        }
        Ok(())
    }
}

/// A PCR as described by the NSM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PcrDescription {
    /// Whether the PCR is locked (no further extends).
    pub locked: bool,
    /// Current value.
    pub value: Vec<u8>,
}

/// The NSM operations enclave code uses.
pub trait Nsm: Send + Sync {
    /// Produces a signed attestation document (COSE_Sign1 bytes).
    fn attestation(&self, request: &AttestationRequest) -> Result<Vec<u8>, NsmError>;
    /// Reads a PCR.
    fn describe_pcr(&self, index: u16) -> Result<PcrDescription, NsmError>;
    /// Extends a PCR (`new = SHA384(old ‖ data)`), returning the new value.
    fn extend_pcr(&self, index: u16, data: &[u8]) -> Result<Vec<u8>, NsmError>;
    /// Locks a PCR against further extends.
    fn lock_pcr(&self, index: u16) -> Result<(), NsmError>;
    /// Random bytes from the NSM's generator.
    fn get_random(&self) -> Result<Vec<u8>, NsmError>;
}

pub(crate) fn check_index(index: u16) -> Result<(), NsmError> {
    if index >= NSM_PCR_COUNT {
        return Err(NsmError::InvalidArgument(format!(
            "PCR index {index} out of range 0..{NSM_PCR_COUNT}"
        )));
    }
    Ok(())
}
