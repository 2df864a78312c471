//! What the application reports: its NSM state (with the attestation document when there is
//! one) and the number of CA roots it loaded.

use std::path::Path;

use base64::Engine as _;
use nitro_attestation::NsmError;
use nitro_attestation::nsm::{AttestationRequest, Nsm};
use serde_json::json;

/// The NSM as the application found it at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NsmState {
    /// No `/dev/nsm`: not a Nitro enclave (e.g. the qemu boot test).
    Absent(String),
    /// The NSM produced this attestation document (COSE_Sign1 bytes).
    Attested(Vec<u8>),
    /// The device exists but could not be opened or refused the request.
    Failed(String),
}

/// The status report, fixed at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Status {
    pub(crate) nsm: NsmState,
    pub(crate) ca_roots: usize,
}

impl Status {
    /// Asks the NSM (when there is one) for an attestation document.
    pub(crate) fn collect(nsm: Result<&dyn Nsm, &NsmError>, ca_roots: usize) -> Self {
        let nsm = match nsm {
            Err(NsmError::NoDevice(path)) => {
                NsmState::Absent(format!("no NSM device ({path} does not exist)"))
            }
            Err(err) => NsmState::Failed(err.to_string()),
            Ok(device) => match device.attestation(&AttestationRequest::default()) {
                Ok(document) => NsmState::Attested(document),
                Err(err) => NsmState::Failed(format!("attestation request failed: {err}")),
            },
        };
        Status { nsm, ca_roots }
    }

    /// One line for the console.
    pub(crate) fn summary(&self) -> String {
        let nsm = match &self.nsm {
            NsmState::Absent(detail) | NsmState::Failed(detail) => detail.clone(),
            NsmState::Attested(doc) => format!("attestation document of {} bytes", doc.len()),
        };
        format!("{nsm}; {} CA roots", self.ca_roots)
    }

    /// The answer to `STATUS`: one JSON object and a newline.
    pub(crate) fn to_json_line(&self) -> String {
        let (present, detail, document) = match &self.nsm {
            NsmState::Absent(detail) => (false, detail.clone(), None),
            NsmState::Failed(detail) => (true, detail.clone(), None),
            NsmState::Attested(doc) => (
                true,
                "attestation document obtained".to_owned(),
                Some(base64::engine::general_purpose::STANDARD.encode(doc)),
            ),
        };
        let value = json!({
            "app": "enclave-app",
            "version": env!("CARGO_PKG_VERSION"),
            "nsm_present": present,
            "nsm": detail,
            "attestation_document": document,
            "ca_roots": self.ca_roots,
        });
        format!("{value}\n")
    }
}

/// Why the CA bundle cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CaRootsError {
    #[error("{0}")]
    Read(#[from] std::io::Error),
    #[error("the bundle contains no PEM certificate")]
    Empty,
}

/// Counts the PEM certificates of a CA bundle (the enclave must not start without TLS roots).
pub(crate) fn count_certificates(path: &Path) -> Result<usize, CaRootsError> {
    let text = std::fs::read_to_string(path)?;
    match text
        .lines()
        .filter(|l| l.trim_end() == "-----BEGIN CERTIFICATE-----")
        .count()
    {
        0 => Err(CaRootsError::Empty),
        n => Ok(n),
    }
}

#[cfg(test)]
mod tests;
