//! Which NSM the application talks to: `/dev/nsm`, or the dev NSM of a local simulation.

use std::sync::Arc;
#[cfg(feature = "danger-dev-nsm")]
use std::time::Duration;

#[cfg(feature = "danger-dev-nsm")]
use anyhow::Context as _;
use nitro_attestation::nsm::Nsm;

use crate::config::Config;
use crate::status::NsmStartError;

/// The NSM: the dev NSM when the configuration asks for it (dev builds only), else `/dev/nsm`,
/// which must exist and open ([`NsmStartError`] otherwise).
pub(crate) fn open(config: &Config) -> anyhow::Result<Arc<dyn Nsm>> {
    match &config.dev_nsm_pcrs {
        None => Ok(Arc::new(
            nitro_attestation::nsm::NsmDevice::open().map_err(NsmStartError::opening)?,
        )),
        #[cfg(feature = "danger-dev-nsm")]
        Some(pcrs) => {
            use nitro_attestation::dev::{DevNsm, DevNsmConfig};
            let nsm = DevNsm::new(DevNsmConfig::image(pcrs.pcr0, pcrs.pcr1, pcrs.pcr2))
                .context("starting the dev NSM")?;
            tracing::warn!("DEV NSM (dev CA): documents are rejected by production verifiers");
            match config.dev_nsm_delay_ms {
                None => Ok(Arc::new(nsm)),
                Some(ms) => Ok(Arc::new(SlowNsm {
                    inner: nsm,
                    delay: Duration::from_millis(ms),
                })),
            }
        }
        #[cfg(not(feature = "danger-dev-nsm"))]
        Some(_) => anyhow::bail!(
            "the configuration asks for the dev NSM (dev_nsm_pcrs), which this build does not have"
        ),
    }
}

/// Local simulation of a slow NSM: the dev NSM, each attestation `delay` late.
#[cfg(feature = "danger-dev-nsm")]
struct SlowNsm {
    inner: nitro_attestation::dev::DevNsm,
    delay: Duration,
}

#[cfg(feature = "danger-dev-nsm")]
impl Nsm for SlowNsm {
    fn attestation(
        &self,
        request: &nitro_attestation::nsm::AttestationRequest,
    ) -> Result<Vec<u8>, nitro_attestation::NsmError> {
        std::thread::sleep(self.delay);
        self.inner.attestation(request)
    }
    fn describe_pcr(
        &self,
        index: u16,
    ) -> Result<nitro_attestation::nsm::PcrDescription, nitro_attestation::NsmError> {
        self.inner.describe_pcr(index)
    }
    fn extend_pcr(&self, index: u16, data: &[u8]) -> Result<Vec<u8>, nitro_attestation::NsmError> {
        self.inner.extend_pcr(index, data)
    }
    fn lock_pcr(&self, index: u16) -> Result<(), nitro_attestation::NsmError> {
        self.inner.lock_pcr(index)
    }
    fn get_random(&self) -> Result<Vec<u8>, nitro_attestation::NsmError> {
        self.inner.get_random()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> Config {
        Config::parse(
            format!(r#"{{"vsock_port": 5005, "ca_roots": "/nonexistent"{extra}}}"#).as_bytes(),
        )
        .unwrap()
    }

    fn dev_pcrs() -> String {
        format!(
            r#", "dev_nsm_pcrs": {{"PCR0": "0x{}", "PCR1": "{}", "PCR2": "{}"}}"#,
            "11".repeat(48),
            "22".repeat(48),
            "33".repeat(48)
        )
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn without_the_dev_nsm_a_missing_device_is_a_failed_start() {
        // Build machines have no Nitro hardware; inside an enclave this test has nothing to check.
        if std::path::Path::new(nitro_attestation::nsm::NSM_DEVICE_PATH).exists() {
            return;
        }
        let Err(err) = open(&config("")) else {
            panic!("no /dev/nsm here, yet the NSM opened");
        };
        assert_eq!(
            err.downcast_ref::<NsmStartError>(),
            Some(&NsmStartError::NoDevice("/dev/nsm".into()))
        );
        assert_eq!(
            format!("{err:#}"),
            "no NSM device (/dev/nsm does not exist): this image runs only inside a Nitro enclave"
        );
    }

    #[cfg(feature = "danger-dev-nsm")]
    #[test]
    fn the_dev_nsm_reports_the_configured_pcrs() {
        let nsm = open(&config(&dev_pcrs())).unwrap();
        let status = crate::status::Status::collect(nsm.as_ref(), 1).unwrap();
        assert_eq!(
            status.pcr_line(),
            format!(
                "PCR0 {} PCR1 {} PCR2 {}",
                "11".repeat(48),
                "22".repeat(48),
                "33".repeat(48)
            )
        );
        assert!(status.pcrs.iter().all(|p| p.locked));
    }

    #[cfg(not(feature = "danger-dev-nsm"))]
    #[test]
    fn the_image_build_has_no_dev_nsm() {
        let Err(err) = open(&config(&dev_pcrs())) else {
            panic!("the image's build opened a dev NSM");
        };
        assert!(err.downcast_ref::<NsmStartError>().is_none(), "{err:#}");
        assert!(
            format!("{err:#}").contains("this build does not have"),
            "{err:#}"
        );
    }

    #[test]
    fn dev_nsm_pcrs_that_are_not_pcrs_are_a_configuration_error() {
        let bad = r#"{"vsock_port": 5005, "ca_roots": "/x",
            "dev_nsm_pcrs": {"PCR0": "00", "PCR1": "00", "PCR2": "00"}}"#;
        let err = Config::parse(bad.as_bytes()).unwrap_err();
        assert!(
            err.to_string().contains("PCR0: 1 bytes, expected 48"),
            "{err}"
        );
    }
}
