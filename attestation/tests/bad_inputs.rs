//! Every entry of the bad-document table is rejected with exactly its named error.

use nitro_attestation::dev::corpus::{BadDocument, bad_documents};

#[test]
fn each_bad_document_has_its_named_error() {
    let table = bad_documents().expect("corpus builds");
    assert!(table.len() >= 20, "table has {} entries", table.len());
    let mut failures = Vec::new();
    for entry in &table {
        let BadDocument {
            name,
            bytes,
            now_ms,
            expected,
            ..
        } = entry;
        match entry.verifier().verify_at(bytes, *now_ms) {
            Ok(_) => failures.push(format!("{name}: accepted, expected {expected}")),
            Err(e) if e.code() != *expected => failures.push(format!(
                "{name}: got {} ({e}), expected {expected}",
                e.code()
            )),
            Err(_) => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Names are unique (they become file names).
    let mut names: Vec<_> = table.iter().map(|e| e.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), table.len());
}

/// Writes the table to `tests/corpus/` (`<name>.cose`, the dev roots as `<root-sha256>.der`, and
/// `manifest.json` with the expected error of each file) for differential tests of other
/// verifiers. Run: `cargo test -p nitro-attestation --test bad_inputs -- --ignored export_corpus`.
#[test]
#[ignore = "writes files; run on demand to refresh tests/corpus"]
fn export_corpus() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    let mut entries = Vec::new();
    for entry in bad_documents().unwrap() {
        let file = format!("{}.cose", entry.name);
        std::fs::write(dir.join(&file), &entry.bytes).unwrap();
        let root_sha = hex::encode(entry.root.sha256());
        let root_file = if entry.root.is_aws() {
            "aws".to_string()
        } else {
            let f = format!("root-{}.der", &root_sha[..16]);
            std::fs::write(dir.join(&f), entry.root.der()).unwrap();
            f
        };
        let p = &entry.policy;
        entries.push(serde_json::json!({
            "name": entry.name,
            "file": file,
            "expected_error": entry.expected,
            "now_ms": entry.now_ms,
            "root": root_file,
            "root_sha256": root_sha,
            "policy": {
                "expected_pcrs": p.expected_pcrs.iter()
                    .map(|(i, v)| serde_json::json!({"index": i, "value": hex::encode(v)}))
                    .collect::<Vec<_>>(),
                "expected_nonce": p.expected_nonce.as_ref().map(hex::encode),
                "require_secp256k1_key": p.require_secp256k1_key,
                "max_age_ms": p.max_age_ms,
                "allow_debug": false,
            },
        }));
    }
    let manifest = serde_json::json!({
        "description": "Bad Nitro attestation documents; each must be rejected with expected_error (nitro-attestation Error::code)",
        "entries": entries,
    });
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_string_pretty(&manifest).unwrap() + "\n",
    )
    .unwrap();
}

/// The exported files in `tests/corpus/` (what other verifiers consume) are still rejected with
/// the errors their manifest names.
#[test]
fn committed_corpus_matches_its_manifest() {
    use nitro_attestation::{Policy, TrustedRoot, Verifier};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let entries = manifest["entries"].as_array().unwrap();
    assert!(entries.len() >= 20);
    for e in entries {
        let name = e["name"].as_str().unwrap();
        let bytes = std::fs::read(dir.join(e["file"].as_str().unwrap())).unwrap();
        let root = match e["root"].as_str().unwrap() {
            "aws" => TrustedRoot::aws_nitro_g1(),
            file => TrustedRoot::from_der(std::fs::read(dir.join(file)).unwrap()),
        };
        assert_eq!(hex::encode(root.sha256()), e["root_sha256"], "{name}");
        let p = &e["policy"];
        let mut policy = Policy::default().max_age_ms(p["max_age_ms"].as_u64().unwrap());
        for pcr in p["expected_pcrs"].as_array().unwrap() {
            let value: nitro_attestation::Pcr = pcr["value"].as_str().unwrap().parse().unwrap();
            policy = policy.expect_pcr(pcr["index"].as_u64().unwrap() as u8, value);
        }
        if let Some(nonce) = p["expected_nonce"].as_str() {
            policy = policy.expect_nonce(hex::decode(nonce).unwrap());
        }
        if p["require_secp256k1_key"].as_bool().unwrap() {
            policy = policy.require_secp256k1_key();
        }
        let err = Verifier::new(root, policy)
            .with_cache_capacity(0)
            .verify_at(&bytes, e["now_ms"].as_u64().unwrap())
            .expect_err(name);
        assert_eq!(err.code(), e["expected_error"], "{name}: {err}");
    }
}
