use super::*;

fn sample() -> ImagePcrs {
    ImagePcrs {
        pcr0: Pcr::new([1; 48]),
        pcr1: Pcr::new([2; 48]),
        pcr2: Pcr::new([3; 48]),
        pcr8: None,
    }
}

#[test]
fn image_id_is_the_registry_key() {
    // `cast keccak $(cast concat-hex 0x01..01 0x02..02 0x03..03)`
    assert_eq!(
        image_id(&sample()).to_string(),
        "0x79415a8460aad0c8ae8d2eb4b4c7a7cb2d4d546b453e170add25071572b0fd69"
    );
}

#[test]
fn pcr_json_files_are_read_and_their_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("pcr.json");
    std::fs::write(&good, sample().to_json().to_string()).unwrap();
    assert_eq!(read_pcr_json(&good).unwrap(), sample());
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"PCR0": "00", "PCR1": "00", "PCR2": "00"}"#).unwrap();
    let e = read_pcr_json(&bad).unwrap_err();
    assert!(matches!(e, InputError::PcrJson { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        format!(
            "malformed pcr.json {}: PCR0: 1 bytes, expected 48 (96 hex digits)",
            bad.display()
        )
    );
    let e = read_pcr_json(&dir.path().join("missing.json")).unwrap_err();
    assert!(matches!(e, InputError::Read { .. }), "{e}");
}

#[test]
fn non_eif_and_missing_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.eif");
    std::fs::write(&junk, b"this is not an enclave image file at all").unwrap();
    let e = measure_eif(&junk).unwrap_err();
    assert!(matches!(e, InputError::NotEif { .. }), "{e}");
    assert!(
        e.to_string()
            .starts_with(&format!("{} is not a valid EIF", junk.display()))
    );
    let e = measure_eif(&dir.path().join("missing.eif")).unwrap_err();
    assert!(matches!(e, InputError::Read { .. }), "{e}");
}
