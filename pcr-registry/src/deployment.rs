//! The deployment file `contracts/script/Deploy.s.sol` writes (`deployments/<chainid>.json`).

use std::path::{Path, PathBuf};

use alloy::primitives::{Address, B256, keccak256};
use serde::Deserialize;

use crate::error::InputError;

/// One configured family.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Family {
    /// The family name, e.g. `matching-engine`.
    pub name: String,
    /// `keccak256(name)`.
    pub id: B256,
    /// Its verifier (zero: module path only).
    pub verifier: Address,
}

/// Where the registry lives.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// The chain the contracts were deployed on.
    pub chain_id: u64,
    /// The block before deployment (scan events from here).
    #[serde(default)]
    pub start_block: u64,
    /// The `PcrRegistry` address.
    pub pcr_registry: Address,
    /// The `EnclaveRegistry` address (the same contract today).
    pub enclave_registry: Address,
    /// Families configured at deployment.
    #[serde(default)]
    pub families: Vec<Family>,
}

/// The id of a family name: `keccak256(bytes(name))`, as in `Deploy.s.sol`.
pub fn family_id(name: &str) -> B256 {
    keccak256(name.as_bytes())
}

impl Deployment {
    /// Parses a deployment file's contents.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Self, InputError> {
        let d: Deployment = serde_json::from_slice(bytes).map_err(|e| InputError::Deployment {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        if let Some(f) = d.families.iter().find(|f| f.id != family_id(&f.name)) {
            return Err(InputError::Deployment {
                path: path.to_owned(),
                reason: format!("family `{}` has id {} != keccak256(name)", f.name, f.id),
            });
        }
        Ok(d)
    }

    /// Reads a deployment file.
    pub fn read(path: &Path) -> Result<Self, InputError> {
        let bytes = std::fs::read(path).map_err(|e| InputError::read(path, e))?;
        Self::parse(&bytes, path)
    }

    /// The default location for a chain: `contracts/deployments/<chainid>.json` under `root`.
    pub fn default_path(root: &Path, chain_id: u64) -> PathBuf {
        root.join("contracts/deployments")
            .join(format!("{chain_id}.json"))
    }

    /// The name of a family id, when the deployment knows it.
    pub fn family_name(&self, id: B256) -> Option<&str> {
        self.families
            .iter()
            .find(|f| f.id == id)
            .map(|f| f.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
  "chainId": 31337,
  "startBlock": 3,
  "enclaveRegistry": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  "pcrRegistry": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  "admin": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
  "families": [
    {"name": "matching-engine", "id": "0x%ID%", "verifier": "0x0000000000000000000000000000000000000000"}
  ]
}"#;

    #[test]
    fn parses_the_deploy_script_output() {
        let id = hex::encode(family_id("matching-engine"));
        let text = SAMPLE.replace("0x%ID%", &format!("0x{id}"));
        let d = Deployment::parse(text.as_bytes(), Path::new("x.json")).unwrap();
        assert_eq!(d.chain_id, 31337);
        assert_eq!(d.start_block, 3);
        assert_eq!(d.pcr_registry, d.enclave_registry);
        assert_eq!(
            d.family_name(family_id("matching-engine")),
            Some("matching-engine")
        );
        assert_eq!(d.family_name(family_id("other")), None);
    }

    #[test]
    fn rejects_inconsistent_family_ids_and_garbage() {
        let text = SAMPLE.replace("0x%ID%", &format!("0x{}", "11".repeat(32)));
        let e = Deployment::parse(text.as_bytes(), Path::new("x.json")).unwrap_err();
        assert!(e.to_string().contains("keccak256(name)"), "{e}");
        let e = Deployment::parse(b"{\"chainId\": 1}", Path::new("y.json")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("malformed deployment file y.json"),
            "{e}"
        );
    }

    #[test]
    fn family_id_is_keccak_of_the_name() {
        // `cast keccak matching-engine`
        assert_eq!(
            family_id("matching-engine").to_string(),
            "0x2f0303b6b90ed776debbc207e9e305eed9875699360ece80e475faca875e9bd3"
        );
        assert_ne!(
            family_id("matching-engine"),
            family_id("matching-engine-dev")
        );
    }
}
