//! What the application reports at start: the NSM's attestation document, PCR0/1/2 as the NSM
//! describes them, and the number of CA roots it loaded.
//!
//! The application runs only with a working NSM (`/dev/nsm` inside a Nitro enclave, or the dev
//! NSM of a local-simulation build): without one it does not start ([`NsmStartError`], exit
//! status [`EXIT_NO_NSM`]), so an image booted outside Nitro fails visibly.

use std::path::Path;

use base64::Engine as _;
use nitro_attestation::nsm::{AttestationRequest, Nsm, PcrDescription};
use nitro_attestation::{NsmError, PCR_LEN, Pcr};
use serde_json::{Map, Value, json};

/// Exit status of a start refused because the NSM is missing or does not work (other start
/// errors exit with 2).
pub(crate) const EXIT_NO_NSM: u8 = 3;

/// The PCRs read at start and reported: the image (PCR0), its kernel and boot ramdisk (PCR1)
/// and its application (PCR2), as in the image build's `pcr.json`.
pub(crate) const REPORTED_PCRS: [u16; 3] = [0, 1, 2];

/// Why the application does not start: the NSM is missing, cannot be opened, or refuses the
/// start-up requests (an attestation document, then DescribePCR for [`REPORTED_PCRS`]).
///
/// The messages carry their cause inline (no error source), so the console line is exactly
/// `enclave-app: error: <message>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum NsmStartError {
    /// No NSM device node: not a Nitro enclave (or its kernel has no NSM driver).
    #[error("no NSM device ({0} does not exist): this image runs only inside a Nitro enclave")]
    NoDevice(String),
    /// The device exists but cannot be opened.
    #[error("NSM device unusable: {0}")]
    Open(NsmError),
    /// The NSM refused the start-up attestation request.
    #[error("NSM refused the start-up attestation request: {0}")]
    Attestation(NsmError),
    /// The NSM refused to describe a PCR.
    #[error("NSM refused DescribePCR for PCR{index}: {error}")]
    DescribePcr {
        /// The PCR.
        index: u16,
        /// The NSM's answer.
        error: NsmError,
    },
    /// The NSM described a PCR with a value that is not a SHA-384 digest.
    #[error("NSM described PCR{index} with {len} bytes, not {PCR_LEN}")]
    PcrLength {
        /// The PCR.
        index: u16,
        /// Bytes in the value.
        len: usize,
    },
}

impl NsmStartError {
    /// The start error for a device that could not be opened.
    pub(crate) fn opening(error: NsmError) -> Self {
        match error {
            NsmError::NoDevice(path) => NsmStartError::NoDevice(path),
            other => NsmStartError::Open(other),
        }
    }
}

/// One PCR as the NSM described it at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PcrReading {
    pub(crate) index: u16,
    pub(crate) value: Pcr,
    pub(crate) locked: bool,
}

impl PcrReading {
    /// `PCR<index>`, the key of `pcr.json`.
    fn name(&self) -> String {
        format!("PCR{}", self.index)
    }
}

/// The status report, fixed at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Status {
    /// The start-up attestation document (COSE_Sign1 bytes; no key, user data or nonce).
    pub(crate) document: Vec<u8>,
    /// [`REPORTED_PCRS`], in that order.
    pub(crate) pcrs: Vec<PcrReading>,
    pub(crate) ca_roots: usize,
}

impl Status {
    /// Asks the NSM for an attestation document and describes [`REPORTED_PCRS`].
    ///
    /// # Errors
    /// [`NsmStartError`] when the NSM refuses either.
    pub(crate) fn collect(nsm: &dyn Nsm, ca_roots: usize) -> Result<Self, NsmStartError> {
        let document = nsm
            .attestation(&AttestationRequest::default())
            .map_err(NsmStartError::Attestation)?;
        let pcrs = REPORTED_PCRS
            .iter()
            .map(|&index| {
                let PcrDescription { locked, value } = nsm
                    .describe_pcr(index)
                    .map_err(|error| NsmStartError::DescribePcr { index, error })?;
                let value =
                    Pcr::try_from(value.as_slice()).map_err(|_| NsmStartError::PcrLength {
                        index,
                        len: value.len(),
                    })?;
                Ok(PcrReading {
                    index,
                    value,
                    locked,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Status {
            document,
            pcrs,
            ca_roots,
        })
    }

    /// One line for the console: `PCR0 <hex> PCR1 <hex> PCR2 <hex>` (lowercase hex).
    pub(crate) fn pcr_line(&self) -> String {
        self.pcrs
            .iter()
            .map(|p| format!("{} {}", p.name(), p.value))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// One line for the console.
    pub(crate) fn summary(&self) -> String {
        let names = |locked: bool| -> Vec<String> {
            self.pcrs
                .iter()
                .filter(|p| p.locked == locked)
                .map(PcrReading::name)
                .collect()
        };
        let locks = match (names(true), names(false)) {
            (locked, unlocked) if unlocked.is_empty() => format!("{} locked", locked.join(", ")),
            (_, unlocked) => format!("{} not locked", unlocked.join(", ")),
        };
        format!(
            "attestation document of {} bytes; {locks}; {} CA roots",
            self.document.len(),
            self.ca_roots
        )
    }

    /// The answer to `STATUS`: one JSON object and a newline. `nsm_present` is always `true`
    /// (without an NSM there is no application to answer); `pcrs` has the shape of the image
    /// build's `pcr.json` (`{"PCR0": "<96 lowercase hex>", …}`), `pcrs_locked` the same keys
    /// with the NSM's lock state.
    pub(crate) fn to_json_line(&self) -> String {
        let pcrs: Map<String, Value> = self
            .pcrs
            .iter()
            .map(|p| (p.name(), Value::from(p.value.to_hex())))
            .collect();
        let locked: Map<String, Value> = self
            .pcrs
            .iter()
            .map(|p| (p.name(), Value::from(p.locked)))
            .collect();
        let value = json!({
            "app": "enclave-app",
            "version": env!("CARGO_PKG_VERSION"),
            "nsm_present": true,
            "nsm": "attestation document obtained",
            "attestation_document": base64::engine::general_purpose::STANDARD.encode(&self.document),
            "pcrs": pcrs,
            "pcrs_locked": locked,
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
