//! The application's configuration file (JSON, in the root file system).

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// What `/etc/enclave-app.json` holds.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// vsock port to listen on (any CID).
    pub(crate) vsock_port: u32,
    /// PEM bundle of the CA roots the enclave trusts for TLS.
    pub(crate) ca_roots: PathBuf,
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read the file: {0}")]
    Read(#[from] std::io::Error),
    /// The file is not valid configuration JSON.
    #[error("invalid configuration: {0}")]
    Parse(#[from] serde_json::Error),
    /// Port 0 would let the kernel pick a port nobody knows.
    #[error("vsock_port must not be 0")]
    ZeroPort,
}

impl Config {
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, ConfigError> {
        let config: Config = serde_json::from_slice(bytes)?;
        if config.vsock_port == 0 {
            return Err(ConfigError::ZeroPort);
        }
        Ok(config)
    }

    pub(crate) fn load(path: &Path) -> Result<Self, ConfigError> {
        Self::parse(&std::fs::read(path)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_shipped_configuration() {
        let shipped = include_bytes!("../rootfs/etc/enclave-app.json");
        let config = Config::parse(shipped).unwrap();
        assert_eq!(config.vsock_port, 5005);
        assert_eq!(
            config.ca_roots,
            PathBuf::from("/etc/ssl/certs/ca-certificates.crt")
        );
    }

    #[test]
    fn rejects_unknown_fields_port_zero_and_junk() {
        let unknown = br#"{"vsock_port": 1, "ca_roots": "/x", "tls": false}"#;
        assert!(matches!(Config::parse(unknown), Err(ConfigError::Parse(_))));
        let zero = br#"{"vsock_port": 0, "ca_roots": "/x"}"#;
        assert!(matches!(Config::parse(zero), Err(ConfigError::ZeroPort)));
        assert!(matches!(
            Config::parse(b"vsock_port=1"),
            Err(ConfigError::Parse(_))
        ));
        let too_big = br#"{"vsock_port": 4294967296, "ca_roots": "/x"}"#;
        assert!(matches!(Config::parse(too_big), Err(ConfigError::Parse(_))));
    }
}
