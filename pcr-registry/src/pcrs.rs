//! Image measurements: PCR0/1/2 (and PCR8 when the EIF is signed), read from an EIF or a `pcr.json`,
//! and the image id the registry keys them by.

use std::path::Path;

use alloy::primitives::{B256, keccak256};

use crate::error::InputError;

/// Length of one PCR (SHA-384).
pub const PCR_LEN: usize = 48;

/// One PCR value.
pub type Pcr = [u8; PCR_LEN];

/// The measurements of an image, as the registry stores them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImagePcrs {
    /// PCR0: kernel, cmdline and every ramdisk.
    pub pcr0: Pcr,
    /// PCR1: kernel, cmdline and the boot ramdisk.
    pub pcr1: Pcr,
    /// PCR2: the application ramdisks.
    pub pcr2: Pcr,
    /// PCR8: the EIF signing certificate, for signed images.
    pub pcr8: Option<Pcr>,
}

/// An image measured from an EIF file: its PCRs and the file's SHA-256.
#[derive(Clone, Debug)]
pub struct MeasuredEif {
    /// The PCRs.
    pub pcrs: ImagePcrs,
    /// SHA-256 of the whole file (the registry's `eifSha256`).
    pub sha256: B256,
}

impl ImagePcrs {
    /// `keccak256(PCR0 ‖ PCR1 ‖ PCR2)`, the registry's image id.
    pub fn image_id(&self) -> B256 {
        let mut all = [0u8; 3 * PCR_LEN];
        all[..PCR_LEN].copy_from_slice(&self.pcr0);
        all[PCR_LEN..2 * PCR_LEN].copy_from_slice(&self.pcr1);
        all[2 * PCR_LEN..].copy_from_slice(&self.pcr2);
        keccak256(all)
    }

    /// The first of PCR0/1/2 that is all zeros (a debug-mode measurement), if any.
    pub fn debug_pcr(&self) -> Option<u8> {
        [&self.pcr0, &self.pcr1, &self.pcr2]
            .iter()
            .position(|p| p.iter().all(|b| *b == 0))
            .map(|i| i as u8)
    }

    /// Parses a `pcr.json` (`eif-builder pcrs` / `nitro-cli describe-eif` `Measurements`): `PCR0`,
    /// `PCR1`, `PCR2` (96 hex digits each) and optionally `PCR8`; other keys are ignored.
    pub fn from_pcr_json(bytes: &[u8]) -> Result<Self, InputError> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| InputError::PcrJson(e.to_string()))?;
        // Accept both the bare object and a whole `describe --json` report.
        let obj = value
            .get("Measurements")
            .unwrap_or(&value)
            .as_object()
            .ok_or_else(|| InputError::PcrJson("not a JSON object".into()))?;
        let field = |name: &str| -> Result<Option<Pcr>, InputError> {
            let Some(v) = obj.get(name) else {
                return Ok(None);
            };
            let s = v
                .as_str()
                .ok_or_else(|| InputError::PcrJson(format!("{name} is not a string")))?;
            parse_pcr_hex(s)
                .map(Some)
                .map_err(|e| InputError::PcrJson(format!("{name}: {e}")))
        };
        let required = |name: &str| {
            field(name)?.ok_or_else(|| InputError::PcrJson(format!("{name} is missing")))
        };
        Ok(ImagePcrs {
            pcr0: required("PCR0")?,
            pcr1: required("PCR1")?,
            pcr2: required("PCR2")?,
            pcr8: field("PCR8")?,
        })
    }

    /// Reads and parses a `pcr.json` file.
    pub fn read_pcr_json(path: &Path) -> Result<Self, InputError> {
        let bytes = std::fs::read(path).map_err(|e| InputError::read(path, e))?;
        Self::from_pcr_json(&bytes).map_err(|e| match e {
            InputError::PcrJson(m) => InputError::PcrJson(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// The `pcr.json` object for these PCRs.
    pub fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        for (name, v) in [
            ("PCR0", &self.pcr0),
            ("PCR1", &self.pcr1),
            ("PCR2", &self.pcr2),
        ] {
            m.insert(name.into(), hex::encode(v).into());
        }
        if let Some(p) = &self.pcr8 {
            m.insert("PCR8".into(), hex::encode(p).into());
        }
        serde_json::Value::Object(m)
    }
}

/// Parses 96 hex digits (optional `0x`) into a PCR.
pub fn parse_pcr_hex(s: &str) -> Result<Pcr, String> {
    let bytes = hex::decode(s.trim().trim_start_matches("0x")).map_err(|e| e.to_string())?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("{} bytes, expected {PCR_LEN}", b.len()))
}

/// Measures an EIF: validates its layout, computes the PCRs and the file's SHA-256.
pub fn measure_eif(path: &Path) -> Result<MeasuredEif, InputError> {
    let bytes = std::fs::read(path).map_err(|e| InputError::read(path, e))?;
    let description = eif_builder::describe_bytes(&bytes).map_err(|e| InputError::NotEif {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    let m = &description.measurements;
    Ok(MeasuredEif {
        pcrs: ImagePcrs {
            pcr0: m.pcr0.0,
            pcr1: m.pcr1.0,
            pcr2: m.pcr2.0,
            pcr8: m.pcr8.as_ref().map(|p| p.0),
        },
        sha256: sha256(&bytes),
    })
}

fn sha256(bytes: &[u8]) -> B256 {
    use sha2::Digest as _;
    B256::from(<[u8; 32]>::from(sha2::Sha256::digest(bytes)))
}

#[cfg(test)]
mod tests;

impl ImagePcrs {
    /// PCR0/1/2 (and PCR8 when non-zero) of an attestation document; `None` if PCR0-2 are missing.
    pub fn from_document(doc: &nitro_attestation::AttestationDocument) -> Option<Self> {
        let pcr8 = doc.pcr(8).filter(|p| p.iter().any(|b| *b != 0)).copied();
        Some(ImagePcrs {
            pcr0: *doc.pcr(0)?,
            pcr1: *doc.pcr(1)?,
            pcr2: *doc.pcr(2)?,
            pcr8,
        })
    }

    /// Indexes at which `self` (measured) differs from `expected`. PCR8 is compared only when
    /// `expected` pins one.
    pub fn mismatches(&self, expected: &ImagePcrs) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, (a, b)) in [
            (&self.pcr0, &expected.pcr0),
            (&self.pcr1, &expected.pcr1),
            (&self.pcr2, &expected.pcr2),
        ]
        .into_iter()
        .enumerate()
        {
            if a != b {
                out.push(i as u8);
            }
        }
        if expected.pcr8.is_some() && self.pcr8 != expected.pcr8 {
            out.push(8);
        }
        out
    }
}
