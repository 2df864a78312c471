//! The unit tests' NSM: scripted answers, and a record of the attestation requests it got;
//! and what tests of blocking calls share: a [`Gate`], and [`until`].

use std::sync::{Condvar, Mutex};

use nitro_attestation::nsm::{AttestationRequest, Nsm, PcrDescription};
use nitro_attestation::{NsmError, PCR_LEN};

/// An NSM that answers attestation requests with `attestation` and DescribePCR for PCR0..=2
/// with `pcrs`, and records every attestation request. The application asks for nothing else.
/// An attestation request is recorded, then passes `gate`: a test that shuts it models a
/// slow NSM.
pub(crate) struct ScriptedNsm {
    pub(crate) attestation: Result<Vec<u8>, NsmError>,
    pub(crate) pcrs: [Result<PcrDescription, NsmError>; 3],
    pub(crate) gate: Gate,
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
            gate: Gate::default(),
            requests: Mutex::default(),
        }
    }

    /// Refuses every request, as a failing device does.
    pub(crate) fn refusing() -> Self {
        let refusal = || NsmError::Device("InternalError".into());
        ScriptedNsm {
            attestation: Err(refusal()),
            pcrs: [Err(refusal()), Err(refusal()), Err(refusal())],
            gate: Gate::default(),
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
        self.gate.pass();
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

/// Where blocking calls wait while a test holds them up.
#[derive(Default)]
pub(crate) struct Gate {
    shut: Mutex<bool>,
    changed: Condvar,
}

impl Gate {
    /// Calls wait from now on.
    pub(crate) fn shut(&self) {
        *self.shut.lock().unwrap() = true;
    }

    /// Waiting calls go on, and later ones pass.
    pub(crate) fn open(&self) {
        *self.shut.lock().unwrap() = false;
        self.changed.notify_all();
    }

    /// Returns once the gate is open.
    pub(crate) fn pass(&self) {
        let mut shut = self.shut.lock().unwrap();
        while *shut {
            shut = self.changed.wait(shut).unwrap();
        }
    }
}

/// Waits (up to 5 s, else panics naming `what`) until `ok`.
pub(crate) async fn until(what: &str, ok: impl Fn() -> bool) {
    for _ in 0..500 {
        if ok() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}
