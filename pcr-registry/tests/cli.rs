//! Black-box tests of the `pcr-registry` binary over the real AWS documents and dev documents.

use std::process::Command;
use std::sync::Arc;

use nitro_attestation::dev::{
    DevNsm, DevNsmConfig, DocumentFields, emulated_nsm_document, envelope_with_signature,
};
use nitro_attestation::nsm::{AttestationRequest, Nsm};
use nitro_attestation::{AttestationDocument, FixedClock, Policy, Verifier};
use serde_json::Value;

mod common;

use common::{TestEnv, real_document as real};

const BLOCKY_PCR0: &str = "e72a46ca80a260fb044a125442f0c7e331813bcbaf9724d9f3857758992766f2d65710a27aa94ae3949dd54e7c9fe86a";

#[test]
fn real_documents_verify_at_document_time() {
    let env = TestEnv::new();
    for (file, module_id, ts) in [
        (
            "evervault_beta_valid-attestation-doc-bytes.cose",
            "i-020b6af9246d90e92-enc0183d09086c24190",
            1665651482136u64,
        ),
        (
            "blocky_nitrite_nitro_attestation.b64",
            "i-0a22e5c5f24d22174-enc0191cceb4289903f",
            1725719859545,
        ),
        (
            "base_nitro-validator_2026-01-03_repaired.cose",
            "i-0368fa67e156d6d23-enc019b8596b1a9dad6",
            1767472867402,
        ),
    ] {
        let (code, v) = env.json(&[
            "verify-attestation",
            "--offline",
            "--doc",
            &real(file),
            "--at-doc-time",
        ]);
        assert_eq!(code, 0, "{file}: {v}");
        assert_eq!(v["verified"], true);
        assert_eq!(v["module_id"], module_id);
        assert_eq!(v["timestamp"], ts);
        assert_eq!(v["digest"], "SHA384");
        assert_eq!(v["pcrs"].as_object().unwrap().len(), 16);
        for i in 0..16 {
            assert_eq!(v["pcrs"][i.to_string()].as_str().unwrap().len(), 96);
        }
    }
}

#[test]
fn blocky_fields_in_json() {
    let env = TestEnv::new();
    let (code, v) = env.json(&[
        "verify-attestation",
        "--offline",
        "--doc",
        &real("blocky_nitrite_nitro_attestation.b64"),
        "--at",
        "1725719859545",
        "--expect-pcr",
        &format!("0={BLOCKY_PCR0}"),
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["pcrs"]["0"], BLOCKY_PCR0);
    for field in ["public_key", "user_data", "nonce"] {
        assert_eq!(
            v[field].as_str().unwrap().len(),
            2048,
            "{field} is 1024 bytes of hex"
        );
    }
}

#[test]
fn debug_document_rejected_unless_allowed() {
    let env = TestEnv::new();
    let doc = real("evervault_beta_debug-mode-attestation-doc-bytes.cose");
    let (code, v) = env.json(&[
        "verify-attestation",
        "--offline",
        "--doc",
        &doc,
        "--at-doc-time",
    ]);
    assert_eq!((code, v["error"].as_str()), (1, Some("policy.debug_mode")));
    let (code, v) = env.json(&[
        "verify-attestation",
        "--offline",
        "--doc",
        &doc,
        "--at-doc-time",
        "--allow-debug",
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["pcrs"]["0"], "0".repeat(96));
    assert_eq!(v["user_data"], hex::encode("hello, world!"));
    assert_eq!(v["nonce"], Value::Null);
}

#[test]
fn rejections_exit_1_with_error_name() {
    let env = TestEnv::new();
    let doc = real("evervault_beta_valid-attestation-doc-bytes.cose");
    // Today: the certificates have expired.
    let (code, v) = env.json(&["verify-attestation", "--offline", "--doc", &doc]);
    assert_eq!((code, v["error"].as_str()), (1, Some("chain.expired")));
    // PCR mismatch.
    let (code, v) = env.json(&[
        "verify-attestation",
        "--offline",
        "--doc",
        &doc,
        "--at-doc-time",
        "--expect-pcr",
        &format!("0={BLOCKY_PCR0}"),
    ]);
    assert_eq!(
        (code, v["error"].as_str()),
        (1, Some("policy.pcr_mismatch"))
    );
    // Stale at a later time.
    let (code, v) = env.json(&[
        "verify-attestation",
        "--offline",
        "--doc",
        &doc,
        "--at",
        "1665651782137",
    ]);
    assert_eq!((code, v["error"].as_str()), (1, Some("policy.stale")));
    // Garbage and a flipped byte.
    let garbage = env.write("garbage", b"%% definitely not an attestation %%");
    let (code, v) = env.json(&[
        "verify-attestation",
        "--offline",
        "--doc",
        garbage.to_str().unwrap(),
        "--at",
        "1",
    ]);
    assert_eq!((code, v["error"].as_str()), (1, Some("malformed.base64")));
    let mut flipped = std::fs::read(&doc).unwrap();
    let n = flipped.len();
    flipped[n - 10] ^= 1;
    let flipped = env.write("flipped.cose", &flipped);
    let (code, v) = env.json(&[
        "verify-attestation",
        "--offline",
        "--doc",
        flipped.to_str().unwrap(),
        "--at-doc-time",
    ]);
    assert_eq!((code, v["error"].as_str()), (1, Some("signature.invalid")));
}

#[test]
fn human_output_and_errors() {
    let env = TestEnv::new();
    let out = env.run(&[
        "verify-attestation",
        "--offline",
        "--doc",
        &real("base_nitro-validator_2026-01-03_repaired.cose"),
        "--at-doc-time",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("attestation verified"), "{text}");
    assert!(text.contains("2026-01-03T20:41:07.402Z"), "{text}");

    // No --offline and no RPC, a missing file, conflicting clocks: exit 2.
    let doc = real("base_nitro-validator_2026-01-03_repaired.cose");
    let err = env.error(&["verify-attestation", "--doc", &doc, "--at-doc-time"]);
    assert!(err.contains("--rpc"), "{err}");
    let missing = env.run(&[
        "verify-attestation",
        "--offline",
        "--doc",
        "/nonexistent/doc",
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/doc"));
    let both = env.run(&[
        "verify-attestation",
        "--offline",
        "--doc",
        &doc,
        "--at-doc-time",
        "--at",
        "5",
    ]);
    assert_eq!(both.status.code(), Some(2));
    let bad_pcr = env.run(&[
        "verify-attestation",
        "--offline",
        "--doc",
        &doc,
        "--expect-pcr",
        "0=abcd",
    ]);
    assert_eq!(bad_pcr.status.code(), Some(2));
}

#[test]
fn dev_documents_need_the_dev_root() {
    let env = TestEnv::new();
    let now = 1_767_225_600_000u64;
    let nsm = DevNsm::new(
        DevNsmConfig::image([1; 48], [2; 48], [3; 48]).with_clock(Arc::new(FixedClock(now))),
    )
    .unwrap();
    let key = hex::decode("0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8").unwrap();
    let doc = nsm
        .attestation(&AttestationRequest {
            public_key: Some(key),
            nonce: Some(b"abc".to_vec()),
            user_data: None,
        })
        .unwrap();
    let doc = env.write("dev.cose", &doc);
    let root = env.write("dev-root.der", nsm.trusted_root().der());
    let doc = doc.to_str().unwrap();
    let (code, v) = env.json(&[
        "verify-attestation",
        "--offline",
        "--doc",
        doc,
        "--at",
        &now.to_string(),
    ]);
    assert_eq!(
        (code, v["error"].as_str()),
        (1, Some("chain.untrusted_root"))
    );
    let (code, v) = env.json(&[
        "verify-attestation",
        "--offline",
        "--doc",
        doc,
        "--at",
        &now.to_string(),
        "--danger-trust-root",
        root.to_str().unwrap(),
        "--require-secp256k1-key",
        "--nonce",
        &hex::encode("abc"),
        "--expect-pcr",
        &format!("2={}", "03".repeat(48)),
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        v["enclave_address"],
        "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf"
    );
    let (code, v) = env.json(&[
        "verify-attestation",
        "--offline",
        "--doc",
        doc,
        "--at",
        &now.to_string(),
        "--danger-trust-root",
        root.to_str().unwrap(),
        "--nonce",
        "00",
    ]);
    assert_eq!(
        (code, v["error"].as_str()),
        (1, Some("policy.nonce_mismatch"))
    );
}

#[test]
fn reads_base64_from_standard_input() {
    use std::io::Write as _;
    use std::process::Stdio;
    let text = std::fs::read(real("blocky_nitrite_nitro_attestation.b64")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pcr-registry"))
        .args([
            "verify-attestation",
            "--offline",
            "--doc",
            "-",
            "--at-doc-time",
            "--json",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&text).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["pcrs"]["0"], BLOCKY_PCR0);
}

#[test]
fn offline_pcrs_file_is_compared() {
    let env = TestEnv::new();
    let doc = real("blocky_nitrite_nitro_attestation.b64");
    let (_, v) = env.json(&[
        "verify-attestation",
        "--offline",
        "--doc",
        &doc,
        "--at-doc-time",
    ]);
    let pcrs =
        serde_json::json!({"PCR0": v["pcrs"]["0"], "PCR1": v["pcrs"]["1"], "PCR2": v["pcrs"]["2"]});
    let good = env.write("good.json", pcrs.to_string().as_bytes());
    let mut wrong = pcrs.clone();
    wrong["PCR1"] = Value::String("11".repeat(48));
    let wrong = env.write("wrong.json", wrong.to_string().as_bytes());
    let run = |file: &std::path::Path| {
        env.json(&[
            "verify-attestation",
            "--offline",
            "--pcrs",
            file.to_str().unwrap(),
            "--doc",
            &doc,
            "--at-doc-time",
        ])
    };
    let (code, v) = run(&good);
    assert_eq!((code, v["pcrs_match"].as_bool()), (0, Some(true)), "{v}");
    let (code, v) = run(&wrong);
    assert_eq!((code, v["pcrs_match"].as_bool()), (1, Some(false)), "{v}");
    assert_eq!(v["pcr_mismatches"], serde_json::json!([1]));
    let human = env.run(&[
        "verify-attestation",
        "--offline",
        "--pcrs",
        wrong.to_str().unwrap(),
        "--doc",
        &doc,
        "--at-doc-time",
    ]);
    assert!(
        String::from_utf8(human.stdout)
            .unwrap()
            .contains("PCR MISMATCH")
    );
    // A malformed pcr.json is an error, not an answer.
    let bad = env.write("bad.json", b"{\"PCR0\": 1}");
    let err = env.error(&[
        "verify-attestation",
        "--offline",
        "--pcrs",
        bad.to_str().unwrap(),
        "--doc",
        &doc,
    ]);
    assert!(err.contains("malformed pcr.json"), "{err}");
}

#[test]
fn chain_commands_fail_cleanly_without_a_chain() {
    let env = TestEnv::new();
    let eif = common::small_eif(env.dir.path(), "x.eif", 3);
    let eif = eif.to_str().unwrap();
    // Nothing listens on this port: RPC down.
    let url = format!("http://127.0.0.1:{}", testkit::free_port());
    let err = env.error(&["verify-eif", eif, "--rpc", &url]);
    assert!(err.contains(&format!("RPC {url} unreachable")), "{err}");
    let err = env.error(&["list", "--rpc", "not a url"]);
    assert!(err.contains("invalid RPC URL"), "{err}");
    let err = env.error(&["list"]);
    assert!(err.contains("no RPC endpoint"), "{err}");
    // Bad local input is reported before any connection is tried.
    let junk = env.write("junk.eif", b"junk");
    let err = env.error(&["verify-eif", junk.to_str().unwrap(), "--rpc", &url]);
    assert!(err.contains("is not a valid EIF"), "{err}");
    let err = env.error(&["verify-eif", "/nonexistent.eif", "--rpc", &url]);
    assert!(err.contains("cannot read /nonexistent.eif"), "{err}");
    // A bad argument value: clap's usage error, exit 2.
    let out = env.run(&["show", "0x1234", "--rpc", &url]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("error: ") && err.contains("not a 32-byte hex id"),
        "{err}"
    );
}

#[test]
fn help_lists_the_verbs_and_exit_codes() {
    let env = TestEnv::new();
    let out = env.run(&["--help"]);
    let text = String::from_utf8(out.stdout).unwrap();
    for verb in [
        "register",
        "revoke",
        "list",
        "show",
        "verify-eif",
        "rebuild",
        "verify-attestation",
        "inspect-attestation",
        "register-enclave",
        "watch",
    ] {
        assert!(text.contains(verb), "{verb} missing from --help");
    }
    assert!(
        text.contains("Exit status:") && text.contains("  1  no:"),
        "{text}"
    );
}

const BASE_FILE: &str = "base_nitro-validator_2026-01-03_repaired.cose";
const BASE_TS: u64 = 1767472867402;
const WARNING: &str = "nothing below is verified: use verify-attestation";

/// BASE's fields (authenticated at its own time), to re-encode into unsigned documents.
fn base_document() -> AttestationDocument {
    let bytes = std::fs::read(real(BASE_FILE)).unwrap();
    Verifier::aws(Policy::default())
        .authenticate_at(&bytes, BASE_TS)
        .unwrap()
}

fn base_fields() -> DocumentFields {
    DocumentFields::from_document(&base_document())
}

/// What qemu's emulated NSM returns (protected alg -1, zero-filled signature, certificate and CA
/// bundle) with BASE's PCRs and the optional fields an enclave asks for.
fn emulated_fields() -> DocumentFields {
    DocumentFields::emulated_request(&base_document())
}

#[test]
fn inspect_reads_real_documents_as_verification_does() {
    let env = TestEnv::new();
    for file in [
        "blocky_nitrite_nitro_attestation.b64",
        "evervault_beta_valid-attestation-doc-bytes.cose",
        "evervault_beta_debug-mode-attestation-doc-bytes.cose",
        BASE_FILE,
    ] {
        let doc = real(file);
        let (code, seen) = env.json(&["inspect-attestation", "--doc", &doc]);
        assert_eq!(code, 0, "{file}: {seen}");
        let (code, verified) = env.json(&[
            "verify-attestation",
            "--offline",
            "--doc",
            &doc,
            "--at-doc-time",
            "--allow-debug",
        ]);
        assert_eq!(code, 0, "{file}: {verified}");
        assert_eq!(seen["authenticated"], false);
        assert_eq!(seen["warning"], WARNING);
        assert_eq!(seen["module_id"], verified["module_id"], "{file}");
        assert_eq!(seen["timestamp_ms"], verified["timestamp"], "{file}");
        assert_eq!(seen["timestamp_utc"], verified["timestamp_utc"], "{file}");
        assert_eq!(seen["digest"], "SHA384");
        let pcrs = seen["pcrs"].as_object().unwrap();
        assert_eq!(pcrs.len(), 16, "{file}");
        for i in 0..16 {
            assert_eq!(
                seen["pcrs"][format!("PCR{i}")],
                verified["pcrs"][i.to_string()],
                "{file} PCR{i}"
            );
        }
        for field in ["public_key", "user_data", "nonce"] {
            assert_eq!(seen[field], verified[field], "{file} {field}");
        }
        assert_eq!(seen["cabundle_len"], 4);
        assert!(seen["certificate_len"].as_u64().unwrap() > 300, "{seen}");
        assert_eq!(
            (seen["cose_alg"].as_i64(), seen["signature_len"].as_u64()),
            (Some(-35), Some(96))
        );
    }
    // Today the real documents' certificates have expired: rejected, yet still readable.
    let doc = real(BASE_FILE);
    let (code, v) = env.json(&["verify-attestation", "--offline", "--doc", &doc]);
    assert_eq!((code, v["error"].as_str()), (1, Some("chain.expired")));
    // Without --json the same object, indented.
    let out = env.run(&["inspect-attestation", "--doc", &doc]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("{\n  \""), "{text}");
    let pretty: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(pretty, env.json(&["inspect-attestation", "--doc", &doc]).1);
}

#[test]
fn emulated_nsm_document_is_inspected_but_rejected() {
    let env = TestEnv::new();
    let fields = emulated_fields();
    let bytes = emulated_nsm_document(&fields);
    let doc = env.write("qemu.cose", &bytes);
    let doc = doc.to_str().unwrap();

    let (code, v) = env.json(&["inspect-attestation", "--doc", doc]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["authenticated"], false);
    assert_eq!(v["warning"], WARNING);
    assert_eq!(v["module_id"], "i-234-enc5678");
    assert_eq!(v["timestamp_ms"], fields.timestamp);
    for (i, pcr) in &fields.pcrs {
        assert_eq!(v["pcrs"][format!("PCR{i}")], hex::encode(pcr));
    }
    assert_eq!(
        v["pcrs"]["PCR0"],
        "4b8d4cf2a99e05ce1b5bddaf9d21cb446eb0e606c5bebd1ebf02b473a22165f7b68b0bb0d1ac5a90f0311e493522cfab"
    );
    assert_eq!(v["public_key"], "04".repeat(65));
    assert_eq!(v["user_data"], hex::encode("boot"));
    assert_eq!(v["nonce"], "ab".repeat(32));
    assert_eq!(
        (v["certificate_len"].as_u64(), v["cabundle_len"].as_u64()),
        (Some(64), Some(1))
    );
    assert_eq!(
        (v["cose_alg"].as_i64(), v["signature_len"].as_u64()),
        (Some(-1), Some(64))
    );

    // Base64 on standard input reads the same.
    use std::io::Write as _;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_pcr-registry"))
        .args(["inspect-attestation", "--doc", "-", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let text = base64_lines(&bytes);
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap(), v);

    // The production verifier rejects it, by name, at any time, before looking at a certificate.
    for clock in [&[][..], &["--at-doc-time"], &["--at", "1767472867402"]] {
        let mut args = vec!["verify-attestation", "--offline", "--doc", doc];
        args.extend_from_slice(clock);
        let (code, v) = env.json(&args);
        assert_eq!(
            (code, v["error"].as_str()),
            (1, Some("malformed.unsupported_algorithm")),
            "{clock:?}: {v}"
        );
        assert_eq!(v["verified"], false);
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .contains("cannot be authenticated"),
            "{v}"
        );
    }
    let out = env.run(&["verify-attestation", "--offline", "--doc", doc]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "attestation rejected: malformed document: protected header algorithm is not ES384 \
             (-35), the only one an AWS NSM signs with: the document cannot be authenticated \
             [malformed.unsupported_algorithm]"
        )
    );
    let hint = lines.next().unwrap();
    assert!(
        hint.starts_with("not authenticated under the AWS Nitro Enclaves Root-G1")
            && hint.contains("inspect-attestation --doc"),
        "{hint}"
    );
    assert!(out.stderr.is_empty());
}

/// Standard base64 in 76-column lines, as `base64` writes it.
fn base64_lines(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, b| n << 8 | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                A[(n >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            });
        }
        if out.len() % 77 == 76 {
            out.push('\n');
        }
    }
    out + "\n"
}

#[test]
fn zero_filled_certificates_are_named_rejections() {
    let env = TestEnv::new();
    // BASE re-encoded with a zero-filled leaf under the real AWS bundle, then with a zero-filled
    // bundle too; an ES384 envelope with 96 zero bytes of signature.
    let mut fields = base_fields();
    fields.certificate = vec![0; 64];
    let zero_leaf = env.write(
        "zero-leaf.cose",
        &envelope_with_signature(fields.encode_payload(), vec![0; 96]),
    );
    fields.cabundle = vec![vec![0; 64]];
    let zero_all = env.write(
        "zero-all.cose",
        &envelope_with_signature(fields.encode_payload(), vec![0; 96]),
    );
    let (zero_leaf, zero_all) = (zero_leaf.to_str().unwrap(), zero_all.to_str().unwrap());

    let (code, v) = env.json(&[
        "verify-attestation",
        "--offline",
        "--doc",
        zero_leaf,
        "--at-doc-time",
    ]);
    assert_eq!(
        (code, v["error"].as_str()),
        (1, Some("malformed.certificate")),
        "{v}"
    );
    let message = v["message"].as_str().unwrap();
    assert!(
        message.contains("certificate 4 of the chain")
            && message.contains("64 zero bytes: a placeholder, not a certificate")
            && message.contains("cannot be authenticated"),
        "{message}"
    );
    for clock in [&[][..], &["--at-doc-time"]] {
        let mut args = vec!["verify-attestation", "--offline", "--doc", zero_all];
        args.extend_from_slice(clock);
        let (code, v) = env.json(&args);
        assert_eq!(
            (code, v["error"].as_str()),
            (1, Some("chain.untrusted_root")),
            "{v}"
        );
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .contains("not signed under the trusted root"),
            "{v}"
        );
    }
    for (doc, bundle) in [(zero_leaf, 4), (zero_all, 1)] {
        let (code, v) = env.json(&["inspect-attestation", "--doc", doc]);
        assert_eq!(code, 0, "{v}");
        assert_eq!(
            (v["certificate_len"].as_u64(), v["cabundle_len"].as_u64()),
            (Some(64), Some(bundle))
        );
        assert_eq!(v["module_id"], "i-0368fa67e156d6d23-enc019b8596b1a9dad6");
        assert_eq!(v["timestamp_ms"], BASE_TS);
    }
}

#[test]
fn inspect_bad_input_is_an_error() {
    let env = TestEnv::new();
    let garbage = env.write("garbage", b"%% definitely not an attestation %%");
    let err = env.error(&["inspect-attestation", "--doc", garbage.to_str().unwrap()]);
    assert!(
        err.contains("not an attestation document") && err.contains("[malformed.base64]"),
        "{err}"
    );
    let empty = env.write("empty", b"");
    let err = env.error(&["inspect-attestation", "--doc", empty.to_str().unwrap()]);
    assert!(err.contains("[malformed.empty]"), "{err}");
    let bytes = std::fs::read(real(BASE_FILE)).unwrap();
    let cut = env.write("cut.cose", &bytes[..bytes.len() / 2]);
    let err = env.error(&[
        "inspect-attestation",
        "--doc",
        cut.to_str().unwrap(),
        "--json",
    ]);
    assert!(err.contains("[malformed.truncated]"), "{err}");
    let err = env.error(&["inspect-attestation", "--doc", "/nonexistent/doc"]);
    assert!(err.contains("/nonexistent/doc"), "{err}");
    // --doc is required: clap's usage error, exit 2.
    assert_eq!(env.run(&["inspect-attestation"]).status.code(), Some(2));
}
