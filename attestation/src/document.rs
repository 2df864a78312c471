//! Typed attestation documents: [`AttestationDocument`] (authentic: signature and chain checked)
//! and [`VerifiedDocument`] (authentic and accepted by a [`crate::Policy`]). What a document merely
//! claims, unchecked, is a different type: [`crate::UnverifiedDocument`].

use std::collections::BTreeMap;

use nitro_pcrs::{ImagePcrs, Pcr};

use crate::key::EnclaveKey;
use crate::payload::Payload;

/// An attestation document whose COSE signature and certificate chain were verified.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AttestationDocument {
    /// NSM module id, `i-<instance>-enc<enclave>`.
    pub module_id: String,
    /// Digest algorithm of the PCRs; always `"SHA384"` (others are rejected).
    pub digest: &'static str,
    /// Creation time, milliseconds since the epoch.
    pub timestamp_ms: u64,
    /// PCRs by index (a real NSM reports 0..=15).
    pub pcrs: BTreeMap<u8, Pcr>,
    /// The leaf certificate (DER) that signed the document.
    pub certificate: Vec<u8>,
    /// The CA bundle (DER), root first.
    pub cabundle: Vec<Vec<u8>>,
    /// `public_key` as requested by the enclave, if any.
    pub public_key: Option<Vec<u8>>,
    /// `user_data`, if any.
    pub user_data: Option<Vec<u8>>,
    /// `nonce`, if any.
    pub nonce: Option<Vec<u8>>,
}

/// The payload's PCRs by index.
pub(crate) fn pcr_map(p: &Payload<'_>) -> BTreeMap<u8, Pcr> {
    p.pcrs.iter().copied().collect()
}

impl AttestationDocument {
    pub(crate) fn from_payload(p: &Payload<'_>) -> Self {
        AttestationDocument {
            module_id: p.module_id.to_owned(),
            digest: "SHA384",
            timestamp_ms: p.timestamp,
            pcrs: pcr_map(p),
            certificate: p.certificate.to_vec(),
            cabundle: p.cabundle.iter().map(|c| c.to_vec()).collect(),
            public_key: p.public_key.map(<[u8]>::to_vec),
            user_data: p.user_data.map(<[u8]>::to_vec),
            nonce: p.nonce.map(<[u8]>::to_vec),
        }
    }

    /// The PCR at `index`, if reported.
    pub fn pcr(&self, index: u8) -> Option<&Pcr> {
        self.pcrs.get(&index)
    }

    /// True when PCR0, PCR1 or PCR2 is missing or all zero, as in a debug-mode enclave.
    pub fn is_debug_mode(&self) -> bool {
        (0..3).any(|i| self.pcr(i).is_none_or(Pcr::is_zero))
    }

    /// PCR0/1/2 and, when reported and not all zero, PCR8: the image's measurements as the
    /// registry stores them. `None` when PCR0, PCR1 or PCR2 is missing.
    pub fn image_pcrs(&self) -> Option<ImagePcrs> {
        Some(ImagePcrs {
            pcr0: *self.pcr(0)?,
            pcr1: *self.pcr(1)?,
            pcr2: *self.pcr(2)?,
            pcr8: self.pcr(8).filter(|p| !p.is_zero()).copied(),
        })
    }
}

/// A document accepted by a policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedDocument {
    document: AttestationDocument,
    enclave_key: Option<EnclaveKey>,
}

impl VerifiedDocument {
    pub(crate) fn new(document: AttestationDocument, enclave_key: Option<EnclaveKey>) -> Self {
        VerifiedDocument {
            document,
            enclave_key,
        }
    }

    /// The document's fields.
    pub fn document(&self) -> &AttestationDocument {
        &self.document
    }

    /// The bound secp256k1 key, when the policy required one.
    pub fn enclave_key(&self) -> Option<&EnclaveKey> {
        self.enclave_key.as_ref()
    }

    /// Gives up the typed fields.
    pub fn into_document(self) -> AttestationDocument {
        self.document
    }
}
