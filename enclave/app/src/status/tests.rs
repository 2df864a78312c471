use serde_json::Value;

use super::*;
use crate::test_nsm::ScriptedNsm;

fn json(status: &Status) -> Value {
    let line = status.to_json_line();
    assert!(
        line.ends_with('\n') && !line[..line.len() - 1].contains('\n'),
        "one line: {line:?}"
    );
    serde_json::from_str(&line).unwrap()
}

#[test]
fn a_missing_device_is_the_named_start_error() {
    let err = NsmStartError::opening(NsmError::NoDevice("/dev/nsm".into()));
    assert_eq!(err, NsmStartError::NoDevice("/dev/nsm".into()));
    assert_eq!(
        err.to_string(),
        "no NSM device (/dev/nsm does not exist): this image runs only inside a Nitro enclave"
    );

    let open = NsmError::Open {
        path: "/dev/nsm".into(),
        reason: "Permission denied".into(),
    };
    let err = NsmStartError::opening(open.clone());
    assert_eq!(err, NsmStartError::Open(open));
    assert_eq!(
        err.to_string(),
        "NSM device unusable: cannot open NSM device /dev/nsm: Permission denied"
    );
}

#[test]
fn an_nsm_that_refuses_to_attest_is_a_start_error() {
    let mut nsm = ScriptedNsm::new(vec![1], [1, 2, 3]);
    nsm.attestation = Err(NsmError::Device("InternalError".into()));
    let err = Status::collect(&nsm, 1).unwrap_err();
    assert_eq!(nsm.requests(), [AttestationRequest::default()]);
    assert_eq!(
        err,
        NsmStartError::Attestation(NsmError::Device("InternalError".into()))
    );
    assert_eq!(
        err.to_string(),
        "NSM refused the start-up attestation request: NSM returned error InternalError"
    );
}

#[test]
fn an_nsm_that_refuses_describe_pcr_or_answers_a_short_value_is_a_start_error() {
    let mut nsm = ScriptedNsm::new(vec![1], [1, 2, 3]);
    nsm.pcrs[1] = Err(NsmError::Device("InvalidIndex".into()));
    let err = Status::collect(&nsm, 1).unwrap_err();
    assert_eq!(
        err.to_string(),
        "NSM refused DescribePCR for PCR1: NSM returned error InvalidIndex"
    );

    let mut nsm = ScriptedNsm::new(vec![1], [1, 2, 3]);
    nsm.pcrs[2] = Ok(PcrDescription {
        locked: true,
        value: vec![0; 32],
    });
    assert_eq!(
        Status::collect(&nsm, 1).unwrap_err(),
        NsmStartError::PcrLength { index: 2, len: 32 }
    );
}

#[test]
fn reports_the_document_in_base64_and_the_pcrs_in_hex() {
    let doc = vec![0xd2, 0x84, 0x44, 0xa1, 0x01, 0x38, 0x22, 0xa0, 0xff];
    let mut nsm = ScriptedNsm::new(doc.clone(), [0x00, 0xab, 0x7f]);
    // A distinct value in every position, so the hex is checked byte for byte.
    let pcr0: Vec<u8> = (0..48).collect();
    nsm.pcrs[0] = Ok(PcrDescription {
        locked: true,
        value: pcr0,
    });
    nsm.pcrs[2] = Ok(PcrDescription {
        locked: false,
        value: vec![0x7f; 48],
    });
    let status = Status::collect(&nsm, 3).unwrap();
    assert_eq!(status.document, doc);
    // The start-up document binds nothing: no key, user data or nonce.
    assert_eq!(nsm.requests(), [AttestationRequest::default()]);

    let pcr0_hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\
                    202122232425262728292a2b2c2d2e2f";
    let v = json(&status);
    assert_eq!(v["app"], "enclave-app");
    assert_eq!(v["nsm_present"], true);
    assert_eq!(v["nsm"], "attestation document obtained");
    assert_eq!(v["ca_roots"], 3);
    let b64 = v["attestation_document"].as_str().unwrap();
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
        doc
    );
    assert_eq!(
        v["pcrs"],
        serde_json::json!({
            "PCR0": pcr0_hex,
            "PCR1": "ab".repeat(48),
            "PCR2": "7f".repeat(48),
        })
    );
    assert_eq!(
        v["pcrs_locked"],
        serde_json::json!({"PCR0": true, "PCR1": true, "PCR2": false})
    );

    assert_eq!(
        status.pcr_line(),
        format!(
            "PCR0 {pcr0_hex} PCR1 {} PCR2 {}",
            "ab".repeat(48),
            "7f".repeat(48)
        )
    );
    assert_eq!(
        status.summary(),
        "attestation document of 9 bytes; PCR2 not locked; 3 CA roots"
    );
    nsm.pcrs[2] = Ok(PcrDescription {
        locked: true,
        value: vec![0x7f; 48],
    });
    assert_eq!(
        Status::collect(&nsm, 3).unwrap().summary(),
        "attestation document of 9 bytes; PCR0, PCR1, PCR2 locked; 3 CA roots"
    );
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
