//! The unit tests' NSM: scripted answers, and a record of the attestation requests it got.

use std::sync::Mutex;

use nitro_attestation::nsm::{AttestationRequest, Nsm, PcrDescription};
use nitro_attestation::{NsmError, PCR_LEN};

/// An NSM that answers attestation requests with `attestation` and DescribePCR for PCR0..=2
/// with `pcrs`, and records every attestation request. The application asks for nothing else.
pub(crate) struct ScriptedNsm {
    pub(crate) attestation: Result<Vec<u8>, NsmError>,
    pub(crate) pcrs: [Result<PcrDescription, NsmError>; 3],
    requests: Mutex<Vec<AttestationRequest>>,
}

impl ScriptedNsm {
    /// Attests with `document`; PCR`i` is 48 bytes of `fill[i]`, locked.
    pub(crate) fn new(document: Vec<u8>, fill: [u8; 3]) -> Self {
        ScriptedNsm {
            attestation: Ok(document),
            pcrs: fill.map(|b| {
                Ok(PcrDescription {
                    locked: true,
                    value: vec![b; PCR_LEN],
                })
            }),
            requests: Mutex::default(),
        }
    }

    /// Refuses every request, as a failing device does.
    pub(crate) fn refusing() -> Self {
        let refusal = || NsmError::Device("InternalError".into());
        ScriptedNsm {
            attestation: Err(refusal()),
            pcrs: [Err(refusal()), Err(refusal()), Err(refusal())],
            requests: Mutex::default(),
        }
    }

    /// The attestation requests so far, in order.
    pub(crate) fn requests(&self) -> Vec<AttestationRequest> {
        self.requests.lock().unwrap().clone()
    }
}

impl Nsm for ScriptedNsm {
    fn attestation(&self, request: &AttestationRequest) -> Result<Vec<u8>, NsmError> {
        self.requests.lock().unwrap().push(request.clone());
        self.attestation.clone()
    }
    fn describe_pcr(&self, index: u16) -> Result<PcrDescription, NsmError> {
        self.pcrs[usize::from(index)].clone()
    }
    fn extend_pcr(&self, _: u16, _: &[u8]) -> Result<Vec<u8>, NsmError> {
        unreachable!("the app only attests and describes PCRs")
    }
    fn lock_pcr(&self, _: u16) -> Result<(), NsmError> {
        unreachable!("the app only attests and describes PCRs")
    }
    fn get_random(&self) -> Result<Vec<u8>, NsmError> {
        unreachable!("the app only attests and describes PCRs")
    }
}
