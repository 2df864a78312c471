//! The dev certificate authority: root → regional → zonal → instance → leaf, all P-384 /
//! ecdsa-with-SHA384 with the extensions AWS uses.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P384_SHA384, SerialNumber,
};

use crate::chain::TrustedRoot;
use crate::error::NsmError;

fn dev_err(e: impl std::fmt::Display) -> NsmError {
    NsmError::Dev(e.to_string())
}

fn time_s(seconds: i64) -> Result<time::OffsetDateTime, NsmError> {
    time::OffsetDateTime::from_unix_timestamp(seconds).map_err(dev_err)
}

/// What one certificate of the dev chain looks like.
#[derive(Clone, Debug)]
pub struct CertSpec {
    /// Subject common name.
    pub common_name: String,
    /// `Some(path_len)` for a CA (`None` inside = unconstrained), `None` for the leaf.
    pub ca: Option<Option<u8>>,
    /// notBefore, seconds since the epoch.
    pub not_before_s: i64,
    /// notAfter, seconds since the epoch.
    pub not_after_s: i64,
}

impl CertSpec {
    /// A CA certificate.
    pub fn ca(
        common_name: &str,
        path_len: Option<u8>,
        not_before_s: i64,
        not_after_s: i64,
    ) -> Self {
        CertSpec {
            common_name: common_name.into(),
            ca: Some(path_len),
            not_before_s,
            not_after_s,
        }
    }

    /// A leaf (document-signing) certificate.
    pub fn leaf(common_name: &str, not_before_s: i64, not_after_s: i64) -> Self {
        CertSpec {
            common_name: common_name.into(),
            ca: None,
            not_before_s,
            not_after_s,
        }
    }

    fn params(&self, serial: u64) -> Result<CertificateParams, NsmError> {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, "US");
        dn.push(DnType::OrganizationName, "Dev Nitro NSM (not Amazon)");
        dn.push(DnType::OrganizationalUnitName, "danger-dev-nsm");
        dn.push(DnType::CommonName, self.common_name.as_str());
        params.distinguished_name = dn;
        params.serial_number = Some(SerialNumber::from(serial.to_be_bytes().to_vec()));
        params.not_before = time_s(self.not_before_s)?;
        params.not_after = time_s(self.not_after_s)?;
        match self.ca {
            Some(path_len) => {
                params.is_ca = IsCa::Ca(match path_len {
                    Some(n) => BasicConstraints::Constrained(n),
                    None => BasicConstraints::Unconstrained,
                });
                params.key_usages = vec![
                    KeyUsagePurpose::DigitalSignature,
                    KeyUsagePurpose::KeyCertSign,
                    KeyUsagePurpose::CrlSign,
                ];
            }
            None => {
                params.is_ca = IsCa::ExplicitNoCa;
                params.key_usages = vec![
                    KeyUsagePurpose::DigitalSignature,
                    KeyUsagePurpose::ContentCommitment,
                ];
            }
        }
        Ok(params)
    }
}

struct Node {
    params: CertificateParams,
    key: KeyPair,
    der: Vec<u8>,
}

/// A generated dev CA chain `[root, regional, zonal, instance]`.
pub struct DevCa {
    nodes: Vec<Node>,
}

impl std::fmt::Debug for DevCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevCa")
            .field("certificates", &self.nodes.len())
            .finish()
    }
}

/// A leaf certificate and its signing key.
pub struct DevLeaf {
    key: EcdsaKeyPair,
    der: Vec<u8>,
}

impl std::fmt::Debug for DevLeaf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevLeaf")
            .field("der_len", &self.der.len())
            .finish()
    }
}

impl DevLeaf {
    /// The leaf certificate (DER).
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// ES384 over `message`, raw `r ‖ s` (96 bytes).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, NsmError> {
        let sig = self
            .key
            .sign(&SystemRandom::new(), message)
            .map_err(dev_err)?;
        Ok(sig.as_ref().to_vec())
    }

    /// A fresh key with the same certificate: its signatures do not match the certificate.
    pub fn with_other_key(&self) -> Result<DevLeaf, NsmError> {
        Ok(DevLeaf {
            key: new_signing_key()?.1,
            der: self.der.clone(),
        })
    }
}

fn new_signing_key() -> Result<(KeyPair, EcdsaKeyPair), NsmError> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).map_err(dev_err)?;
    let signer = EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &key.serialize_der())
        .map_err(dev_err)?;
    Ok((key, signer))
}

impl DevCa {
    /// A chain shaped like AWS's, valid from `not_before_s` to `not_after_s` (seconds).
    pub fn generate(not_before_s: i64, not_after_s: i64) -> Result<Self, NsmError> {
        Self::generate_with(&[
            CertSpec::ca("dev.aws.nitro-enclaves", None, not_before_s, not_after_s),
            CertSpec::ca(
                "dev.region.aws.nitro-enclaves",
                Some(2),
                not_before_s,
                not_after_s,
            ),
            CertSpec::ca(
                "dev.zonal.region.aws.nitro-enclaves",
                Some(1),
                not_before_s,
                not_after_s,
            ),
            CertSpec::ca(
                "i-dev.region.aws.nitro-enclaves",
                Some(0),
                not_before_s,
                not_after_s,
            ),
        ])
    }

    /// A chain from explicit specs: the first is self-signed, each next one is signed by its
    /// predecessor.
    pub fn generate_with(specs: &[CertSpec]) -> Result<Self, NsmError> {
        let mut nodes: Vec<Node> = Vec::with_capacity(specs.len());
        for (i, spec) in specs.iter().enumerate() {
            let params = spec.params(i as u64 + 1)?;
            let key = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).map_err(dev_err)?;
            let cert = match nodes.last() {
                None => params.self_signed(&key),
                Some(parent) => {
                    params.signed_by(&key, &Issuer::from_params(&parent.params, &parent.key))
                }
            }
            .map_err(dev_err)?;
            nodes.push(Node {
                params,
                key,
                der: cert.der().to_vec(),
            });
        }
        if nodes.is_empty() {
            return Err(NsmError::Dev("a dev CA needs at least a root".into()));
        }
        Ok(DevCa { nodes })
    }

    /// The root to configure a verifier with for dev documents.
    pub fn trusted_root(&self) -> TrustedRoot {
        TrustedRoot::from_der(self.nodes[0].der.clone())
    }

    /// `cabundle`: root first.
    pub fn cabundle(&self) -> Vec<Vec<u8>> {
        self.nodes.iter().map(|n| n.der.clone()).collect()
    }

    /// Issues a leaf under the last CA of the chain.
    pub fn issue_leaf(&self, spec: &CertSpec) -> Result<DevLeaf, NsmError> {
        let parent = self
            .nodes
            .last()
            .ok_or_else(|| NsmError::Dev("empty CA".into()))?;
        let (key, signer) = new_signing_key()?;
        let cert = spec
            .params(0x1eaf)?
            .signed_by(&key, &Issuer::from_params(&parent.params, &parent.key))
            .map_err(dev_err)?;
        Ok(DevLeaf {
            key: signer,
            der: cert.der().to_vec(),
        })
    }
}
