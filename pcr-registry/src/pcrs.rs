//! Image measurements (the workspace's one [`ImagePcrs`] type, from `nitro-pcrs`) read from an
//! EIF or a `pcr.json`.

use std::path::Path;

use alloy::primitives::B256;

pub use nitro_pcrs::{ImagePcrs, Pcr};

use crate::error::InputError;

/// An image measured from an EIF file: its PCRs and the file's SHA-256.
#[derive(Clone, Debug)]
pub struct MeasuredEif {
    /// The PCRs.
    pub pcrs: ImagePcrs,
    /// SHA-256 of the whole file (the registry's `eifSha256`).
    pub sha256: B256,
}

/// The registry's id of an image: `keccak256(PCR0 ‖ PCR1 ‖ PCR2)` ([`ImagePcrs::image_id`]).
pub fn image_id(pcrs: &ImagePcrs) -> B256 {
    B256::from(pcrs.image_id())
}

/// Reads and parses a `pcr.json` file (see [`ImagePcrs::from_pcr_json`]).
pub fn read_pcr_json(path: &Path) -> Result<ImagePcrs, InputError> {
    let bytes = std::fs::read(path).map_err(|e| InputError::read(path, e))?;
    ImagePcrs::from_pcr_json(&bytes).map_err(|source| InputError::PcrJson {
        path: path.to_owned(),
        source,
    })
}

/// Measures an EIF: validates its layout, computes the PCRs and the file's SHA-256.
pub fn measure_eif(path: &Path) -> Result<MeasuredEif, InputError> {
    let bytes = std::fs::read(path).map_err(|e| InputError::read(path, e))?;
    let description = eif_builder::describe_bytes(&bytes).map_err(|e| InputError::NotEif {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    Ok(MeasuredEif {
        pcrs: description.measurements,
        sha256: sha256(&bytes),
    })
}

fn sha256(bytes: &[u8]) -> B256 {
    use sha2::Digest as _;
    B256::from(<[u8; 32]>::from(sha2::Sha256::digest(bytes)))
}

#[cfg(test)]
mod tests;
