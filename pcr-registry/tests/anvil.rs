//! End-to-end tests against a real anvil with the registry deployed from forge's artifacts.
//! Ignored by default (they need anvil on PATH and `forge build` output): `ci/pcr-registry-test`.

mod common;

use common::{
    Anvil, DEPLOYER_KEY, Deployed, REGISTRAR_KEY, REVOKER_KEY, TestEnv, deploy, deploy_on, nonce,
    real_document, small_eif,
};
use serde_json::Value;

async fn setup(chain_id: u64) -> (TestEnv, Deployed) {
    let env = TestEnv::new();
    let deployed = deploy(
        env.dir.path(),
        chain_id,
        &["matching-engine", "matching-engine-dev"],
    )
    .await;
    with_chain(env, deployed)
}

fn with_chain(mut env: TestEnv, deployed: Deployed) -> (TestEnv, Deployed) {
    env.env("PCR_REGISTRY_RPC_URL", &deployed.anvil.url);
    env.env(
        "PCR_REGISTRY_DEPLOYMENT",
        deployed.deployment.to_str().unwrap(),
    );
    env.env("REGISTRAR_KEY", REGISTRAR_KEY);
    env.env("REVOKER_KEY", REVOKER_KEY);
    env.env("DEPLOYER_KEY", DEPLOYER_KEY);
    env.env("KEYSTORE_PW", "pw");
    env.env("WRONG_PW", "not the password");
    env.env("NOT_A_KEY", "0xsecretbutmalformed");
    (env, deployed)
}

fn sha256_hex(path: &std::path::Path) -> String {
    use sha2::Digest as _;
    format!(
        "0x{}",
        hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
    )
}

#[tokio::test]
#[ignore = "needs anvil and forge artifacts: run ci/pcr-registry-test"]
async fn register_list_verify_revoke() {
    let (env, _chain) = setup(31401).await;
    let eif = small_eif(env.dir.path(), "image.eif", 1);
    let eif = eif.to_str().unwrap();

    // Before registration: a negative answer, exit 1.
    let (code, v) = env.json(&["verify-eif", eif]);
    assert_eq!(
        (code, v["status"].as_str()),
        (1, Some("not-registered")),
        "{v}"
    );
    let image_id = v["image_id"].as_str().unwrap().to_owned();

    let (code, v) = env.json(&[
        "register",
        "--eif",
        eif,
        "--family",
        "matching-engine",
        "--version",
        "1.2.3",
        "--source-rev",
        "abc123",
        "--private-key-env",
        "REGISTRAR_KEY",
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["image_id"], image_id.as_str());

    let (code, v) = env.json(&["list"]);
    assert_eq!(code, 0);
    let images = v["images"].as_array().unwrap();
    assert_eq!(images.len(), 1, "{v}");
    assert_eq!(images[0]["image_id"], image_id.as_str());
    assert_eq!(images[0]["status"], "live");
    assert_eq!(images[0]["family_name"], "matching-engine");
    let table = env.run(&["list", "--family", "matching-engine"]);
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(table.starts_with("IMAGE_ID"), "{table}");
    let row = table.lines().find(|l| l.starts_with(&image_id)).unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cells[1..],
        ["matching-engine", "live", "1.2.3", "abc123"],
        "{table}"
    );
    let (_, v) = env.json(&["list", "--family", "matching-engine-dev"]);
    assert_eq!(v["images"], Value::Array(vec![]));

    let (code, v) = env.json(&["show", &image_id]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["version"], "1.2.3");
    assert_eq!(v["source_revision"], "abc123");
    assert_eq!(
        v["eif_sha256"],
        sha256_hex(std::path::Path::new(eif)).as_str()
    );
    assert_eq!(v["pcrs"]["PCR8"], Value::Null);

    let (code, v) = env.json(&["verify-eif", eif]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["status"], "live");
    assert_eq!(v["family_name"], "matching-engine");
    let human = String::from_utf8(env.run(&["verify-eif", eif]).stdout).unwrap();
    assert!(
        human.contains("is registered and live in family matching-engine"),
        "{human}"
    );

    // The registrar may not revoke: decoded role error, exit 2.
    let err = env.error(&["revoke", &image_id, "--private-key-env", "REGISTRAR_KEY"]);
    assert!(
        err.contains("missing role") && err.contains("REVOKER_ROLE"),
        "{err}"
    );

    // The revoker signs from an encrypted keystore (made by cast); a wrong password is an error.
    let keystores = env.path("keystores");
    let made = std::process::Command::new("cast")
        .args([
            "wallet",
            "import",
            "revoker",
            "--private-key",
            REVOKER_KEY,
            "--unsafe-password",
            "pw",
        ])
        .arg("--keystore-dir")
        .arg(&keystores)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let keystore = keystores.join("revoker");
    let keystore = keystore.to_str().unwrap();
    let err = env.error(&[
        "revoke",
        &image_id,
        "--keystore",
        keystore,
        "--password-env",
        "WRONG_PW",
    ]);
    assert!(err.contains("keystore") && err.contains("revoker"), "{err}");
    let (code, v) = env.json(&[
        "revoke",
        &image_id,
        "--reason",
        "superseded",
        "--keystore",
        keystore,
        "--password-env",
        "KEYSTORE_PW",
    ]);
    assert_eq!((code, v["revoked"].as_bool()), (0, Some(true)), "{v}");

    let (code, v) = env.json(&["verify-eif", eif]);
    assert_eq!((code, v["status"].as_str()), (1, Some("revoked")), "{v}");
    assert_eq!(v["revoked"], true);
    let (code, v) = env.json(&["show", &image_id]);
    assert_eq!((code, v["status"].as_str()), (0, Some("revoked")));
    assert!(v["revoked_at"].as_u64().unwrap() > 0);

    // Revocation is final: registering again is a decoded custom error.
    let err = env.error(&[
        "register",
        "--eif",
        eif,
        "--family",
        "matching-engine",
        "--version",
        "1.2.4",
        "--private-key-env",
        "REGISTRAR_KEY",
    ]);
    assert!(
        err.contains(&format!("PcrRegistryImageRevoked({image_id})")),
        "{err}"
    );

    // An unknown id: exit 1.
    let (code, _) = env.json(&["show", &format!("0x{}", "ab".repeat(32))]);
    assert_eq!(code, 1);
}

#[tokio::test]
#[ignore = "needs anvil and forge artifacts: run ci/pcr-registry-test"]
async fn verify_attestation_against_the_registry() {
    let (env, _chain) = setup(31402).await;
    let doc = real_document("base_nitro-validator_2026-01-03_repaired.cose");
    let other = real_document("evervault_beta_valid-attestation-doc-bytes.cose");

    // The document's image is not registered yet.
    let (code, v) = env.json(&["verify-attestation", "--doc", &doc, "--at-doc-time"]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["verified"], true);
    assert_eq!(v["registry"]["status"], "not-registered");

    // Publish its PCRs (a pcr.json made from the verified document) and check again.
    let (_, offline) = env.json(&[
        "verify-attestation",
        "--offline",
        "--doc",
        &doc,
        "--at-doc-time",
    ]);
    let pcr_json = serde_json::json!({
        "PCR0": offline["pcrs"]["0"], "PCR1": offline["pcrs"]["1"], "PCR2": offline["pcrs"]["2"],
    });
    let pcr_file = env.write("pcr.json", pcr_json.to_string().as_bytes());
    let (code, v) = env.json(&[
        "register",
        "--pcrs",
        pcr_file.to_str().unwrap(),
        "--family",
        "matching-engine",
        "--version",
        "2026.1",
        "--private-key-env",
        "REGISTRAR_KEY",
    ]);
    assert_eq!(code, 0, "{v}");
    let image_id = v["image_id"].as_str().unwrap().to_owned();

    let (code, v) = env.json(&["verify-attestation", "--doc", &doc, "--at-doc-time"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["registry"]["status"], "live");
    assert_eq!(v["registry"]["image_id"], image_id.as_str());
    assert_eq!(v["registry"]["family_name"], "matching-engine");

    // Another genuine document of an unregistered image: no.
    let (code, v) = env.json(&["verify-attestation", "--doc", &other, "--at-doc-time"]);
    assert_eq!(
        (code, v["registry"]["status"].as_str()),
        (1, Some("not-registered"))
    );
    // A rejected document never reaches the registry check.
    let (code, v) = env.json(&["verify-attestation", "--doc", &doc]);
    assert_eq!((code, v["error"].as_str()), (1, Some("chain.expired")));

    let (code, _) = env.json(&["revoke", &image_id, "--private-key-env", "REVOKER_KEY"]);
    assert_eq!(code, 0);
    let (code, v) = env.json(&["verify-attestation", "--doc", &doc, "--at-doc-time"]);
    assert_eq!(
        (code, v["registry"]["status"].as_str()),
        (1, Some("revoked")),
        "{v}"
    );
}

#[tokio::test]
#[ignore = "needs anvil and forge artifacts: run ci/pcr-registry-test"]
async fn bad_input_sends_nothing() {
    let (env, chain) = setup(31403).await;
    let before = nonce(&chain.anvil.url, REGISTRAR_KEY).await;
    let junk = env.write("junk.eif", b"not an enclave image");
    let bad_json = env.write("bad.json", br#"{"PCR0": "abcd"}"#);
    let debug = env.write(
        "debug.json",
        format!(
            r#"{{"PCR0": "{0}", "PCR1": "{0}", "PCR2": "{0}"}}"#,
            "00".repeat(48)
        )
        .as_bytes(),
    );
    let register = |source: &str, file: &str| {
        env.error(&[
            "register",
            source,
            file,
            "--family",
            "matching-engine",
            "--version",
            "1",
            "--private-key-env",
            "REGISTRAR_KEY",
        ])
    };
    assert!(
        register("--eif", "/nonexistent/image.eif").contains("cannot read /nonexistent/image.eif")
    );
    assert!(register("--eif", junk.to_str().unwrap()).contains("is not a valid EIF"));
    assert!(register("--pcrs", bad_json.to_str().unwrap()).contains("malformed pcr.json"));
    assert!(register("--pcrs", debug.to_str().unwrap()).contains("PCR0 is all zeros"));

    // A deployment file for another chain: refused before anything is sent.
    let text = std::fs::read_to_string(&chain.deployment).unwrap();
    let wrong = env.write(
        "wrong.json",
        text.replace("\"chainId\": 31403", "\"chainId\": 1")
            .as_bytes(),
    );
    let eif = small_eif(env.dir.path(), "ok.eif", 9);
    let err = env.error(&[
        "register",
        "--eif",
        eif.to_str().unwrap(),
        "--family",
        "matching-engine",
        "--version",
        "1",
        "--private-key-env",
        "REGISTRAR_KEY",
        "--deployment",
        wrong.to_str().unwrap(),
    ]);
    assert!(
        err.contains(
            "wrong chain: the RPC serves chain id 31403, the deployment is for chain id 1"
        ),
        "{err}"
    );
    // No key, a key variable that is not set.
    let err = env.error(&["revoke", &format!("0x{}", "11".repeat(32))]);
    assert!(err.contains("--private-key-env"), "{err}");
    let err = env.error(&[
        "revoke",
        &format!("0x{}", "11".repeat(32)),
        "--private-key-env",
        "NOPE_UNSET",
    ]);
    assert!(
        err.contains("environment variable NOPE_UNSET is not set"),
        "{err}"
    );
    // A malformed key: named by its variable, its value never shown.
    let err = env.error(&[
        "revoke",
        &format!("0x{}", "11".repeat(32)),
        "--private-key-env",
        "NOT_A_KEY",
    ]);
    assert!(
        err.contains("$NOT_A_KEY does not hold a valid hex private key"),
        "{err}"
    );
    assert!(!err.contains("secretbutmalformed"), "{err}");
    // Revoking an unknown image: decoded custom error.
    let err = env.error(&[
        "revoke",
        &format!("0x{}", "11".repeat(32)),
        "--private-key-env",
        "REVOKER_KEY",
    ]);
    assert!(err.contains("PcrRegistryImageNotRegistered"), "{err}");

    assert_eq!(
        nonce(&chain.anvil.url, REGISTRAR_KEY).await,
        before,
        "something was sent"
    );
    assert_eq!(
        nonce(&chain.anvil.url, REVOKER_KEY).await,
        0,
        "something was sent"
    );
}

#[tokio::test]
#[ignore = "needs anvil and forge artifacts: run ci/pcr-registry-test"]
async fn rebuild_compares_a_fresh_build_with_the_registry() {
    use std::process::Command;
    let (env, _chain) = setup(31404).await;
    // A tiny repository whose "reproducible build" writes out/pcr.json from its sources.
    let repo = env.path("repo");
    std::fs::create_dir(&repo).unwrap();
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(&repo)
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "--quiet"]);
    let build = "mkdir -p out && printf '{\"PCR0\":\"%s\",\"PCR1\":\"%s\",\"PCR2\":\"%s\"}' \
                 $(cat pcr0) $(cat pcr1) $(cat pcr2) > out/pcr.json\n";
    std::fs::write(repo.join("build.sh"), build).unwrap();
    for (i, b) in ["a1", "b2", "c3"].iter().enumerate() {
        std::fs::write(repo.join(format!("pcr{i}")), b.repeat(48)).unwrap();
    }
    git(&["add", "."]);
    git(&["commit", "--quiet", "-m", "v1"]);
    std::fs::write(repo.join("pcr2"), "d4".repeat(48)).unwrap();
    git(&["commit", "--quiet", "-am", "v2"]);
    git(&["tag", "v2"]);

    let pcr_file = env.write(
        "v1.json",
        format!(
            r#"{{"PCR0":"{}","PCR1":"{}","PCR2":"{}"}}"#,
            "a1".repeat(48),
            "b2".repeat(48),
            "c3".repeat(48)
        )
        .as_bytes(),
    );
    let (code, v) = env.json(&[
        "register",
        "--pcrs",
        pcr_file.to_str().unwrap(),
        "--family",
        "matching-engine",
        "--version",
        "1",
        "--private-key-env",
        "REGISTRAR_KEY",
    ]);
    assert_eq!(code, 0, "{v}");
    let repo_s = repo.to_str().unwrap();
    let rebuild = |rev: &str| {
        env.json(&[
            "rebuild",
            "--rev",
            rev,
            "--repo",
            repo_s,
            "--build-cmd",
            "sh build.sh",
        ])
    };
    let (code, v) = rebuild("HEAD~1");
    assert_eq!((code, v["status"].as_str()), (0, Some("live")), "{v}");
    assert_eq!(v["pcrs"]["PCR2"], "c3".repeat(48));
    let (code, v) = rebuild("v2");
    assert_eq!(
        (code, v["status"].as_str()),
        (1, Some("not-registered")),
        "{v}"
    );
    // A failing build and an unknown revision are errors, not answers (after the progress lines).
    for (rev, cmd, needle) in [
        ("v2", "exit 3", "error: the build failed: exit status: 3"),
        ("nope", "true", "error: git checkout failed"),
    ] {
        let out = env.run(&[
            "rebuild",
            "--rev",
            rev,
            "--repo",
            repo_s,
            "--build-cmd",
            cmd,
        ]);
        assert_eq!(out.status.code(), Some(2));
        assert!(out.stdout.is_empty());
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.starts_with("[1/4] cloning"), "{stderr}");
        assert!(
            stderr.lines().last().unwrap().starts_with(needle),
            "{stderr}"
        );
    }
}

#[tokio::test]
#[ignore = "needs anvil and forge artifacts: run ci/pcr-registry-test"]
async fn enclave_verbs_need_a_verifier() {
    let (env, _chain) = setup(31405).await;
    let doc = real_document("base_nitro-validator_2026-01-03_repaired.cose");
    let err = env.error(&[
        "register-enclave",
        "--doc",
        &doc,
        "--family",
        "matching-engine",
        "--private-key-env",
        "DEPLOYER_KEY",
    ]);
    assert!(
        err.contains("not available: family `matching-engine` has no verifier"),
        "{err}"
    );
    let err = env.error(&[
        "register-enclave",
        "--doc",
        &doc,
        "--family",
        "unknown-family",
        "--private-key-env",
        "DEPLOYER_KEY",
    ]);
    assert!(err.contains("not configured"), "{err}");
    let err = env.error(&[
        "watch",
        "--family",
        "matching-engine",
        "--polls",
        "1",
        "--private-key-env",
        "DEPLOYER_KEY",
    ]);
    assert!(err.contains("not available"), "{err}");
}

/// The document's PCR0/1/2 as a pcr.json, from its offline verification.
fn pcr_json_of(env: &TestEnv, doc: &str) -> std::path::PathBuf {
    let (_, v) = env.json(&[
        "verify-attestation",
        "--offline",
        "--doc",
        doc,
        "--at-doc-time",
    ]);
    let pcrs =
        serde_json::json!({"PCR0": v["pcrs"]["0"], "PCR1": v["pcrs"]["1"], "PCR2": v["pcrs"]["2"]});
    env.write("doc-pcr.json", pcrs.to_string().as_bytes())
}

#[tokio::test]
#[ignore = "needs anvil and forge artifacts: run ci/pcr-registry-test"]
async fn optimistic_register_enclave_and_watch() {
    use alloy::providers::{Provider, ProviderBuilder};
    // A chain whose clock starts just after the real document was produced (2026-01-03T20:41:07Z),
    // so that its leaf certificate is valid and the claim is fresh.
    let anvil = Anvil::start(31406, &["--timestamp", "1767472900"]);
    let url = anvil.url.clone();
    let env = TestEnv::new();
    let deployed = deploy_on(
        anvil,
        env.dir.path(),
        &["matching-engine"],
        Some(("matching-engine-opt", 10u128.pow(18))),
    )
    .await;
    let (env, _chain) = with_chain(env, deployed);
    let family = "matching-engine-opt";
    let doc = real_document("base_nitro-validator_2026-01-03_repaired.cose");
    let mut forged = std::fs::read(&doc).unwrap();
    let n = forged.len();
    forged[n - 10] ^= 1; // inside the COSE signature: still parses, no longer genuine
    let forged = env.write("forged.cose", &forged);
    let forged = forged.to_str().unwrap();

    let pcr_file = pcr_json_of(&env, &doc);
    let (code, v) = env.json(&[
        "register",
        "--pcrs",
        pcr_file.to_str().unwrap(),
        "--family",
        family,
        "--version",
        "1",
        "--private-key-env",
        "REGISTRAR_KEY",
    ]);
    assert_eq!(code, 0, "{v}");

    let enclave = |doc: &str, key: &str| {
        env.json(&[
            "register-enclave",
            "--doc",
            doc,
            "--family",
            family,
            "--private-key-env",
            key,
        ])
    };
    // Someone copies the document and proposes it first: claims are per proposer, so it does not
    // block the genuine proposer's own claim.
    let (code, v) = enclave(&doc, "REGISTRAR_KEY");
    assert_eq!(
        (code, v["claim_status"].as_str()),
        (0, Some("proposed")),
        "{v}"
    );
    // First run: a bonded claim (the bond learned from the contract).
    let (code, v) = enclave(&doc, "DEPLOYER_KEY");
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["claim_status"], "proposed");
    assert_eq!(v["bond_wei"], "1000000000000000000");
    // During the window: not yet.
    let (code, v) = enclave(&doc, "DEPLOYER_KEY");
    assert_eq!(
        (code, v["claim_status"].as_str()),
        (1, Some("pending")),
        "{v}"
    );
    // Someone claims a forged document.
    let (code, v) = enclave(forged, "REGISTRAR_KEY");
    assert_eq!(
        (code, v["claim_status"].as_str()),
        (0, Some("proposed")),
        "{v}"
    );

    // The watcher verifies both off-chain and challenges only the forged one.
    let (code, v) = env.json(&[
        "watch",
        "--family",
        family,
        "--polls",
        "1",
        "--private-key-env",
        "REVOKER_KEY",
    ]);
    assert_eq!(code, 0, "{v}");
    let claims = v["claims"].as_array().unwrap();
    assert_eq!(claims.len(), 3, "{v}");
    let verdicts: Vec<&str> = claims
        .iter()
        .map(|c| c["verdict"].as_str().unwrap())
        .collect();
    assert!(
        verdicts.contains(&"genuine") && verdicts.contains(&"challenged"),
        "{v}"
    );
    let (code, v) = enclave(forged, "REGISTRAR_KEY");
    assert_eq!(
        (code, v["claim_status"].as_str()),
        (1, Some("challenged")),
        "{v}"
    );

    // After the 30-minute window the genuine claim is valid and the key registration is tried:
    // the real document carries no public key, which the registry refuses (decoded error).
    let provider = ProviderBuilder::new().connect_http(url.parse().unwrap());
    let _: serde_json::Value = provider
        .raw_request("evm_increaseTime".into(), (1801,))
        .await
        .unwrap();
    let _: serde_json::Value = provider.raw_request("evm_mine".into(), ()).await.unwrap();
    let err = env.error(&[
        "register-enclave",
        "--doc",
        &doc,
        "--family",
        family,
        "--private-key-env",
        "DEPLOYER_KEY",
    ]);
    assert!(err.contains("EnclaveRegistryInvalidPublicKey"), "{err}");
}

#[tokio::test]
#[ignore = "needs anvil and forge artifacts: run ci/pcr-registry-test"]
async fn full_verifier_register_enclave() {
    use alloy::network::EthereumWallet;
    use alloy::primitives::{Address, keccak256};
    use alloy::providers::ProviderBuilder;
    use alloy::signers::local::PrivateKeySigner;
    use alloy::sol_types::SolValue;
    use marketplace_bindings::IEnclaveRegistry;
    // The document's time, a block gas limit above a cold verification (~41 M gas over the whole
    // chain of certificates in one transaction), and pre-Osaka rules (no per-transaction cap).
    let anvil = Anvil::start(
        31407,
        &[
            "--timestamp",
            "1767472900",
            "--gas-limit",
            "200000000",
            "--hardfork",
            "cancun",
        ],
    );
    let url = anvil.url.clone();
    let env = TestEnv::new();
    let deployed = deploy_on(anvil, env.dir.path(), &[], None).await;
    let registry = deployed.registry;
    let (env, _chain) = with_chain(env, deployed);
    let deployer: PrivateKeySigner = DEPLOYER_KEY.parse().unwrap();
    let admin = deployer.address();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(deployer))
        .connect_http(url.parse().unwrap());
    // The real verifier, rooted in the AWS root (empty constructor root = the pinned one), with
    // its P-384 arithmetic deployed first.
    let p384 = common::deploy_contract(&provider, "P384Verifier", Vec::new()).await;
    let full = common::deploy_contract(
        &provider,
        "NitroAttestationVerifier",
        (alloy::primitives::Bytes::new(), admin, p384).abi_encode_params(),
    )
    .await;
    let family = "matching-engine-full";
    IEnclaveRegistry::new(registry, &provider)
        .configureFamily(keccak256(family), full, 86_400, 7 * 86_400)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert_ne!(full, Address::ZERO);

    let doc = real_document("base_nitro-validator_2026-01-03_repaired.cose");
    let pcr_file = pcr_json_of(&env, &doc);
    let (code, v) = env.json(&[
        "register",
        "--pcrs",
        pcr_file.to_str().unwrap(),
        "--family",
        family,
        "--version",
        "1",
        "--private-key-env",
        "REGISTRAR_KEY",
    ]);
    assert_eq!(code, 0, "{v}");
    // The verifier accepts the document with the hints this tool computed; the registry then
    // refuses it because the real document carries no enclave public key. A wrong hint or
    // calldata would have failed earlier, with a Nitro… error.
    let err = env.error(&[
        "register-enclave",
        "--doc",
        &doc,
        "--family",
        family,
        "--private-key-env",
        "DEPLOYER_KEY",
    ]);
    assert!(err.contains("EnclaveRegistryInvalidPublicKey"), "{err}");
    // A forged document: the full verifier's own error, decoded.
    let mut forged = std::fs::read(&doc).unwrap();
    let n = forged.len();
    forged[n - 10] ^= 1;
    let forged = env.write("forged.cose", &forged);
    let err = env.error(&[
        "register-enclave",
        "--doc",
        forged.to_str().unwrap(),
        "--family",
        family,
        "--private-key-env",
        "DEPLOYER_KEY",
    ]);
    assert!(err.contains("NitroBadSignature"), "{err}");
}
