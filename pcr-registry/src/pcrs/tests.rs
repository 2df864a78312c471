use super::*;

fn sample() -> ImagePcrs {
    ImagePcrs {
        pcr0: [1; 48],
        pcr1: [2; 48],
        pcr2: [3; 48],
        pcr8: None,
    }
}

#[test]
fn image_id_is_keccak_of_the_three_pcrs() {
    // `cast keccak $(cast concat-hex 0x01..01 0x02..02 0x03..03)`
    assert_eq!(
        sample().image_id().to_string(),
        "0x79415a8460aad0c8ae8d2eb4b4c7a7cb2d4d546b453e170add25071572b0fd69"
    );
    let mut with8 = sample();
    with8.pcr8 = Some([8; 48]);
    assert_eq!(
        with8.image_id(),
        sample().image_id(),
        "PCR8 is not in the id"
    );
}

#[test]
fn pcr_json_round_trips_and_accepts_describe_output() {
    let text = sample().to_json().to_string();
    assert_eq!(ImagePcrs::from_pcr_json(text.as_bytes()).unwrap(), sample());
    let describe = format!(
        r#"{{"EifVersion": 4, "Measurements": {{"HashAlgorithm": "Sha512_48 {{ .. }}", "PCR0": "{}", "PCR1": "{}", "PCR2": "{}", "PCR8": "0x{}"}}}}"#,
        "01".repeat(48),
        "02".repeat(48),
        "03".repeat(48),
        "08".repeat(48)
    );
    let parsed = ImagePcrs::from_pcr_json(describe.as_bytes()).unwrap();
    assert_eq!(parsed.pcr8, Some([8; 48]));
    assert_eq!(parsed.pcr2, [3; 48]);
}

#[test]
fn malformed_pcr_json_is_named() {
    let cases: [(&str, &str); 5] = [
        ("not json", "expected"),
        ("[1, 2]", "not a JSON object"),
        (
            r#"{"PCR0": "00", "PCR1": "00", "PCR2": "00"}"#,
            "PCR0: 1 bytes, expected 48",
        ),
        (r#"{"PCR0": 5}"#, "PCR0 is not a string"),
        (
            &format!(r#"{{"PCR0": "{0}", "PCR1": "{0}"}}"#, "11".repeat(48)),
            "PCR2 is missing",
        ),
    ];
    for (input, needle) in cases {
        let e = ImagePcrs::from_pcr_json(input.as_bytes()).unwrap_err();
        assert!(
            matches!(e, InputError::PcrJson(_)) && e.to_string().contains(needle),
            "{input}: {e}"
        );
    }
    let e = ImagePcrs::from_pcr_json(format!(r#"{{"PCR0": "{}"}}"#, "zz".repeat(48)).as_bytes())
        .unwrap_err();
    assert!(e.to_string().contains("PCR0: Invalid character"), "{e}");
}

#[test]
fn debug_pcrs_are_found() {
    assert_eq!(sample().debug_pcr(), None);
    let mut p = sample();
    p.pcr1 = [0; 48];
    assert_eq!(p.debug_pcr(), Some(1));
}

#[test]
fn mismatches_compare_pcr8_only_when_pinned() {
    let mut measured = sample();
    measured.pcr8 = Some([8; 48]);
    assert!(measured.mismatches(&sample()).is_empty());
    let mut pinned = sample();
    pinned.pcr8 = Some([9; 48]);
    assert_eq!(measured.mismatches(&pinned), vec![8]);
    pinned.pcr2 = [7; 48];
    assert_eq!(measured.mismatches(&pinned), vec![2, 8]);
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
