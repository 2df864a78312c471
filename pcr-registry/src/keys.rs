//! The signing key: from an environment variable or an encrypted keystore file. Keys are never
//! printed; errors name the variable or file, never the value.

use std::path::Path;

use alloy::signers::local::PrivateKeySigner;

use crate::error::KeyError;

/// Where the key comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// A hex private key in this environment variable.
    Env(String),
    /// An encrypted JSON keystore; the password from `password_env` or, if unset, a prompt.
    Keystore {
        /// The keystore file.
        path: std::path::PathBuf,
        /// The environment variable holding its password.
        password_env: Option<String>,
    },
}

impl KeySource {
    /// Loads the signer.
    pub fn load(&self) -> Result<PrivateKeySigner, KeyError> {
        match self {
            KeySource::Env(var) => {
                let value = std::env::var(var).map_err(|_| KeyError::MissingEnv(var.clone()))?;
                value
                    .trim()
                    .parse::<PrivateKeySigner>()
                    .map_err(|_| KeyError::BadKey(format!("${var}")))
            }
            KeySource::Keystore { path, password_env } => {
                let password = match password_env {
                    Some(var) => {
                        std::env::var(var).map_err(|_| KeyError::MissingEnv(var.clone()))?
                    }
                    None => prompt_password(path)?,
                };
                PrivateKeySigner::decrypt_keystore(path, password).map_err(|e| KeyError::Keystore {
                    path: path.to_owned(),
                    reason: e.to_string(),
                })
            }
        }
    }
}

fn prompt_password(path: &Path) -> Result<String, KeyError> {
    rpassword::prompt_password(format!("password for {}: ", path.display())).map_err(|e| {
        KeyError::Keystore {
            path: path.to_owned(),
            reason: format!("no password (set --password-env or use a terminal): {e}"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_env_key_names_the_variable() {
        // Loading a key from a set variable is covered by the CLI tests (child environment).
        let missing = KeySource::Env("PCR_REGISTRY_TEST_KEY_SURELY_UNSET".into())
            .load()
            .unwrap_err();
        assert_eq!(
            missing.to_string(),
            "environment variable PCR_REGISTRY_TEST_KEY_SURELY_UNSET is not set"
        );
    }

    #[test]
    fn keystore_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ks.json");
        std::fs::write(&path, b"{}").unwrap();
        let e = KeySource::Keystore {
            path: path.clone(),
            password_env: Some("PATH".into()),
        }
        .load()
        .unwrap_err();
        assert!(e.to_string().contains("ks.json"), "{e}");
    }
}
