//! The real NSM: `/dev/nsm` through `aws-nitro-enclaves-nsm-api`. Thin by design: it only maps
//! requests and responses; it cannot be exercised outside Nitro hardware.

use std::path::Path;

use aws_nitro_enclaves_nsm_api::api::{ErrorCode, Request, Response};
use aws_nitro_enclaves_nsm_api::driver;
use serde_bytes::ByteBuf;

use super::{AttestationRequest, Nsm, PcrDescription, check_index};
use crate::error::NsmError;

/// Where the NSM driver exposes the device.
pub const NSM_DEVICE_PATH: &str = "/dev/nsm";

/// An open `/dev/nsm`.
#[derive(Debug)]
pub struct NsmDevice {
    fd: i32,
}

impl NsmDevice {
    /// Opens `/dev/nsm`; [`NsmError::NoDevice`] when it does not exist (not in an enclave).
    pub fn open() -> Result<Self, NsmError> {
        if !Path::new(NSM_DEVICE_PATH).exists() {
            return Err(NsmError::NoDevice(NSM_DEVICE_PATH.into()));
        }
        let fd = driver::nsm_init();
        if fd < 0 {
            return Err(NsmError::Open {
                path: NSM_DEVICE_PATH.into(),
                reason: std::io::Error::last_os_error().to_string(),
            });
        }
        Ok(NsmDevice { fd })
    }

    fn call(&self, request: Request) -> Result<Response, NsmError> {
        match driver::nsm_process_request(self.fd, request) {
            Response::Error(code) => Err(map_code(code)),
            other => Ok(other),
        }
    }
}

impl Drop for NsmDevice {
    fn drop(&mut self) {
        driver::nsm_exit(self.fd);
    }
}

fn map_code(code: ErrorCode) -> NsmError {
    NsmError::Device(format!("{code:?}"))
}

fn buf(v: &Option<Vec<u8>>) -> Option<ByteBuf> {
    v.clone().map(ByteBuf::from)
}

impl Nsm for NsmDevice {
    fn attestation(&self, request: &AttestationRequest) -> Result<Vec<u8>, NsmError> {
        request.validate()?;
        match self.call(Request::Attestation {
            public_key: buf(&request.public_key),
            user_data: buf(&request.user_data),
            nonce: buf(&request.nonce),
        })? {
            Response::Attestation { document } => Ok(document),
            _ => Err(NsmError::UnexpectedResponse("Attestation")),
        }
    }

    fn describe_pcr(&self, index: u16) -> Result<PcrDescription, NsmError> {
        check_index(index)?;
        match self.call(Request::DescribePCR { index })? {
            Response::DescribePCR { lock, data } => Ok(PcrDescription {
                locked: lock,
                value: data,
            }),
            _ => Err(NsmError::UnexpectedResponse("DescribePCR")),
        }
    }

    fn extend_pcr(&self, index: u16, data: &[u8]) -> Result<Vec<u8>, NsmError> {
        check_index(index)?;
        match self.call(Request::ExtendPCR {
            index,
            data: data.to_vec(),
        }) {
            Ok(Response::ExtendPCR { data }) => Ok(data),
            Ok(_) => Err(NsmError::UnexpectedResponse("ExtendPCR")),
            Err(NsmError::Device(code)) if code == "ReadOnlyIndex" => {
                Err(NsmError::ReadOnlyPcr(index))
            }
            Err(e) => Err(e),
        }
    }

    fn lock_pcr(&self, index: u16) -> Result<(), NsmError> {
        check_index(index)?;
        match self.call(Request::LockPCR { index })? {
            Response::LockPCR => Ok(()),
            _ => Err(NsmError::UnexpectedResponse("LockPCR")),
        }
    }

    fn get_random(&self) -> Result<Vec<u8>, NsmError> {
        match self.call(Request::GetRandom)? {
            Response::GetRandom { random } => Ok(random),
            _ => Err(NsmError::UnexpectedResponse("GetRandom")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_device_is_a_named_error() {
        // Build machines have no Nitro hardware; inside an enclave this test is not run.
        if Path::new(NSM_DEVICE_PATH).exists() {
            return;
        }
        let err = NsmDevice::open().expect_err("no /dev/nsm here");
        assert_eq!(err, NsmError::NoDevice(NSM_DEVICE_PATH.into()));
        assert_eq!(crate::Error::from(err).code(), "nsm.no_device");
    }
}
