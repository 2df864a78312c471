use nitro_attestation::nsm::PcrDescription;
use serde_json::Value;

use super::*;

/// An NSM that answers attestation requests with fixed bytes or a fixed error.
struct FixedNsm(Result<Vec<u8>, NsmError>);

impl Nsm for FixedNsm {
    fn attestation(&self, request: &AttestationRequest) -> Result<Vec<u8>, NsmError> {
        assert_eq!(request, &AttestationRequest::default());
        self.0.clone()
    }
    fn describe_pcr(&self, _: u16) -> Result<PcrDescription, NsmError> {
        unreachable!("the app only asks for attestations")
    }
    fn extend_pcr(&self, _: u16, _: &[u8]) -> Result<Vec<u8>, NsmError> {
        unreachable!("the app only asks for attestations")
    }
    fn lock_pcr(&self, _: u16) -> Result<(), NsmError> {
        unreachable!("the app only asks for attestations")
    }
    fn get_random(&self) -> Result<Vec<u8>, NsmError> {
        unreachable!("the app only asks for attestations")
    }
}

fn json(status: &Status) -> Value {
    let line = status.to_json_line();
    assert!(
        line.ends_with('\n') && !line[..line.len() - 1].contains('\n'),
        "one line: {line:?}"
    );
    serde_json::from_str(&line).unwrap()
}

#[test]
fn reports_a_missing_device() {
    let status = Status::collect(Err(&NsmError::NoDevice("/dev/nsm".into())), 3);
    let v = json(&status);
    assert_eq!(v["nsm_present"], false);
    assert_eq!(v["nsm"], "no NSM device (/dev/nsm does not exist)");
    assert_eq!(v["attestation_document"], Value::Null);
    assert_eq!(v["ca_roots"], 3);
    assert_eq!(v["app"], "enclave-app");
}

#[test]
fn reports_the_document_in_base64() {
    let doc = vec![0xd2, 0x84, 0x44, 0xa1, 0x01, 0x38, 0x22, 0xa0, 0xff];
    let nsm = FixedNsm(Ok(doc.clone()));
    let status = Status::collect(Ok(&nsm), 1);
    assert_eq!(status.nsm, NsmState::Attested(doc.clone()));
    let v = json(&status);
    assert_eq!(v["nsm_present"], true);
    let b64 = v["attestation_document"].as_str().unwrap();
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
        doc
    );
}

#[test]
fn reports_a_device_that_fails() {
    let nsm = FixedNsm(Err(NsmError::NoDevice("x".into())));
    let v = json(&Status::collect(Ok(&nsm), 1));
    assert_eq!(v["nsm_present"], true);
    assert_eq!(v["attestation_document"], Value::Null);
    assert!(
        v["nsm"]
            .as_str()
            .unwrap()
            .starts_with("attestation request failed")
    );

    let open = NsmError::Open {
        path: "/dev/nsm".into(),
        reason: "Permission denied".into(),
    };
    let v = json(&Status::collect(Err(&open), 1));
    assert_eq!(v["nsm_present"], true);
    assert!(v["nsm"].as_str().unwrap().contains("Permission denied"));
}

#[test]
fn counts_pem_certificates_and_refuses_an_empty_bundle() {
    let dir = std::env::temp_dir().join(format!("enclave-app-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bundle = dir.join("bundle.pem");
    let cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    std::fs::write(&bundle, format!("# comment\n{cert}{cert}")).unwrap();
    assert_eq!(count_certificates(&bundle).unwrap(), 2);
    std::fs::write(&bundle, "no certificates here\n").unwrap();
    assert!(matches!(
        count_certificates(&bundle),
        Err(CaRootsError::Empty)
    ));
    assert!(matches!(
        count_certificates(&dir.join("missing")),
        Err(CaRootsError::Read(_))
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}
