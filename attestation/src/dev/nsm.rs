//! [`DevNsm`]: the [`Nsm`] trait over a dev CA, with PCR state like a real NSM (0..=15 locked at
//! boot with the image's values, 16..=31 extendable).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_lc_rs::digest::{self, SHA384};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use super::ca::{CertSpec, DevCa, DevLeaf};
use super::encode::DocumentFields;
use crate::chain::TrustedRoot;
use crate::clock::{Clock, SystemClock};
use crate::error::NsmError;
use crate::nsm::{AttestationRequest, NSM_PCR_COUNT, Nsm, PcrDescription, check_index};
use nitro_pcrs::{PCR_LEN, Pcr};

/// Module id the dev NSM reports unless configured otherwise.
pub const DEV_MODULE_ID: &str = "i-0de0000000000000d-enc0de000000000000d";

/// PCRs set and locked at boot, as on Nitro.
const BOOT_PCRS: u16 = 16;

/// How a [`DevNsm`] presents itself.
#[derive(Clone)]
pub struct DevNsmConfig {
    /// `module_id` of the documents.
    pub module_id: String,
    /// Values of PCRs 0..=15 at boot (e.g. PCR0/1/2 of a dev EIF). Unlisted ones are zero,
    /// except PCR4, which defaults to SHA384(0^48 ‖ instance id of `module_id`) like on Nitro.
    pub boot_pcrs: BTreeMap<u8, Pcr>,
    /// Time source for document timestamps and certificate validity.
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for DevNsmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevNsmConfig")
            .field("module_id", &self.module_id)
            .field("boot_pcrs", &self.boot_pcrs.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl DevNsmConfig {
    /// A dev enclave of the image with these PCR0/1/2.
    pub fn image(pcr0: impl Into<Pcr>, pcr1: impl Into<Pcr>, pcr2: impl Into<Pcr>) -> Self {
        DevNsmConfig {
            module_id: DEV_MODULE_ID.into(),
            boot_pcrs: BTreeMap::from([(0, pcr0.into()), (1, pcr1.into()), (2, pcr2.into())]),
            clock: Arc::new(SystemClock),
        }
    }

    /// Replaces the clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

/// `SHA384(data)` as a PCR value.
fn sha384(parts: &[&[u8]]) -> Pcr {
    let mut ctx = digest::Context::new(&SHA384);
    for p in parts {
        ctx.update(p);
    }
    let mut out = [0u8; PCR_LEN];
    out.copy_from_slice(ctx.finish().as_ref()); // SHA-384: PCR_LEN bytes
    Pcr::new(out)
}

struct PcrState {
    value: Pcr,
    locked: bool,
}

/// A software NSM signing with a dev CA. See the [module docs](crate::dev).
pub struct DevNsm {
    ca: DevCa,
    leaf: DevLeaf,
    module_id: String,
    clock: Arc<dyn Clock>,
    pcrs: Mutex<Vec<PcrState>>,
}

impl std::fmt::Debug for DevNsm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevNsm")
            .field("module_id", &self.module_id)
            .finish_non_exhaustive()
    }
}

impl DevNsm {
    /// Generates a dev CA and leaf valid from one day before the clock's now for a year.
    pub fn new(config: DevNsmConfig) -> Result<Self, NsmError> {
        let now_s = i64::try_from(config.clock.now_ms() / 1000).unwrap_or(i64::MAX / 2);
        let (from, until) = (now_s - 86_400, now_s + 365 * 86_400);
        let ca = DevCa::generate(from, until)?;
        let leaf = ca.issue_leaf(&CertSpec::leaf(
            &format!("{}.region.aws", config.module_id),
            from,
            until,
        ))?;
        let instance = config.module_id.split("-enc").next().unwrap_or_default();
        let pcr4 = sha384(&[&[0u8; PCR_LEN], instance.as_bytes()]);
        let pcrs = (0..NSM_PCR_COUNT)
            .map(|i| {
                let boot = i < BOOT_PCRS;
                let value = match (i, config.boot_pcrs.get(&(i as u8))) {
                    (_, Some(v)) if boot => *v,
                    (4, None) => pcr4,
                    _ => Pcr::ZERO,
                };
                PcrState {
                    value,
                    locked: boot,
                }
            })
            .collect();
        Ok(DevNsm {
            ca,
            leaf,
            module_id: config.module_id,
            clock: config.clock,
            pcrs: Mutex::new(pcrs),
        })
    }

    /// The root a verifier must be configured with to accept this NSM's documents.
    pub fn trusted_root(&self) -> TrustedRoot {
        self.ca.trusted_root()
    }

    /// The CA, to issue more leaves (e.g. for bad-document corpora).
    pub fn ca(&self) -> &DevCa {
        &self.ca
    }

    /// The document-signing leaf.
    pub fn leaf(&self) -> &DevLeaf {
        &self.leaf
    }

    /// The fields a document requested now would carry (before signing).
    pub fn document_fields(
        &self,
        request: &AttestationRequest,
    ) -> Result<DocumentFields, NsmError> {
        request.validate()?;
        let pcrs = self
            .lock()
            .iter()
            .take(BOOT_PCRS as usize)
            .enumerate()
            .map(|(i, p)| (i as u64, p.value.as_bytes().to_vec()))
            .collect();
        Ok(DocumentFields {
            module_id: self.module_id.clone(),
            digest: "SHA384".into(),
            timestamp: self.clock.now_ms(),
            pcrs,
            certificate: self.leaf.der().to_vec(),
            cabundle: self.ca.cabundle(),
            public_key: request.public_key.clone(),
            user_data: request.user_data.clone(),
            nonce: request.nonce.clone(),
            indefinite_map: false,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<PcrState>> {
        // PCR updates are single assignments; a poisoned lock holds consistent values.
        self.pcrs.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Nsm for DevNsm {
    fn attestation(&self, request: &AttestationRequest) -> Result<Vec<u8>, NsmError> {
        self.document_fields(request)?.sign(&self.leaf)
    }

    fn describe_pcr(&self, index: u16) -> Result<PcrDescription, NsmError> {
        check_index(index)?;
        let pcrs = self.lock();
        let p = &pcrs[index as usize];
        Ok(PcrDescription {
            locked: p.locked,
            value: p.value.as_bytes().to_vec(),
        })
    }

    fn extend_pcr(&self, index: u16, data: &[u8]) -> Result<Vec<u8>, NsmError> {
        check_index(index)?;
        let mut pcrs = self.lock();
        let p = &mut pcrs[index as usize];
        if p.locked {
            return Err(NsmError::ReadOnlyPcr(index));
        }
        p.value = sha384(&[p.value.as_bytes(), data]);
        Ok(p.value.as_bytes().to_vec())
    }

    fn lock_pcr(&self, index: u16) -> Result<(), NsmError> {
        check_index(index)?;
        self.lock()[index as usize].locked = true;
        Ok(())
    }

    fn get_random(&self) -> Result<Vec<u8>, NsmError> {
        let mut out = vec![0u8; 256];
        SystemRandom::new()
            .fill(&mut out)
            .map_err(|e| NsmError::Dev(e.to_string()))?;
        Ok(out)
    }
}
