//! A table of bad attestation documents, each with the one named error ([`crate::Error::code`])
//! a verifier must reject it with. Mutations of a genuine AWS document need no key; mutations
//! that must get past the signature check are re-signed by a dev CA (and verified against that
//! dev root). The table is exported to files by the crate's `export_corpus` test so that other
//! verifiers (on-chain) can be run over the same inputs.

use coset::iana;

use super::ca::{CertSpec, DevCa, DevLeaf};
use super::encode::{DocumentFields, envelope_with_signature, sign_payload_with_alg};
use crate::chain::TrustedRoot;
use nitro_pcrs::Pcr;

use crate::document::AttestationDocument;
use crate::error::NsmError;
use crate::policy::{DEFAULT_MAX_AGE_MS, Policy};
use crate::verifier::Verifier;

/// A genuine AWS production document (evervault, 2022-10-13, signed EIF, 256-byte nonce).
pub const REAL_DOCUMENT: &[u8] =
    include_bytes!("../../tests/data/evervault_beta_valid-attestation-doc-bytes.cose");
/// Its `timestamp`.
pub const REAL_TIMESTAMP_MS: u64 = 1_665_651_482_136;
/// The clock of dev-signed entries: 2026-01-01T00:00:00Z.
pub const DEV_NOW_MS: u64 = 1_767_225_600_000;
/// Stride of the truncation entries.
pub const TRUNCATION_STRIDE: usize = 97;

/// The policy an entry is checked under, in plain data (so it can be written to a manifest).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorpusPolicy {
    /// Required PCR values.
    pub expected_pcrs: Vec<(u8, Pcr)>,
    /// Required nonce.
    pub expected_nonce: Option<Vec<u8>>,
    /// Require a secp256k1 `public_key`.
    pub require_secp256k1_key: bool,
    /// Freshness window.
    pub max_age_ms: u64,
}

impl Default for CorpusPolicy {
    fn default() -> Self {
        CorpusPolicy {
            expected_pcrs: Vec::new(),
            expected_nonce: None,
            require_secp256k1_key: false,
            max_age_ms: DEFAULT_MAX_AGE_MS,
        }
    }
}

impl CorpusPolicy {
    /// The verifier policy.
    pub fn to_policy(&self) -> Policy {
        let mut p = Policy::default().max_age_ms(self.max_age_ms);
        for (i, v) in &self.expected_pcrs {
            p = p.expect_pcr(*i, *v);
        }
        if let Some(n) = &self.expected_nonce {
            p = p.expect_nonce(n.clone());
        }
        if self.require_secp256k1_key {
            p = p.require_secp256k1_key();
        }
        p
    }
}

/// One bad input.
#[derive(Clone, Debug)]
pub struct BadDocument {
    /// Unique snake_case name.
    pub name: String,
    /// The document bytes (raw COSE).
    pub bytes: Vec<u8>,
    /// Root the verifier trusts.
    pub root: TrustedRoot,
    /// Policy.
    pub policy: CorpusPolicy,
    /// Verification time, ms.
    pub now_ms: u64,
    /// Expected [`crate::Error::code`].
    pub expected: &'static str,
}

impl BadDocument {
    /// A verifier configured for this entry (no certificate cache).
    pub fn verifier(&self) -> Verifier {
        Verifier::new(self.root.clone(), self.policy.to_policy()).with_cache_capacity(0)
    }
}

struct Dev {
    ca: DevCa,
    leaf: DevLeaf,
    fields: DocumentFields,
}

const DEV_IMAGE: [Pcr; 3] = [
    Pcr::new([0x11; 48]),
    Pcr::new([0x22; 48]),
    Pcr::new([0x33; 48]),
];

fn dev_chain(now_s: i64, specs: Option<Vec<CertSpec>>) -> Result<(DevCa, DevLeaf), NsmError> {
    let (from, until) = (now_s - 86_400, now_s + 30 * 86_400);
    let ca = match specs {
        Some(s) => DevCa::generate_with(&s)?,
        None => DevCa::generate(from, until)?,
    };
    let leaf = ca.issue_leaf(&CertSpec::leaf("i-dev-enc-dev.region.aws", from, until))?;
    Ok((ca, leaf))
}

fn dev_fields(ca: &DevCa, leaf: &DevLeaf) -> DocumentFields {
    let mut pcrs: Vec<(u64, Vec<u8>)> = (0..16).map(|i| (i, vec![0u8; 48])).collect();
    for (i, v) in DEV_IMAGE.iter().enumerate() {
        pcrs[i].1 = v.as_bytes().to_vec();
    }
    DocumentFields {
        module_id: "i-0de0000000000000d-enc0de000000000000d".into(),
        digest: "SHA384".into(),
        timestamp: DEV_NOW_MS - 1_000,
        pcrs,
        certificate: leaf.der().to_vec(),
        cabundle: ca.cabundle(),
        public_key: None,
        user_data: None,
        nonce: None,
        indefinite_map: false,
    }
}

fn real_document() -> Result<AttestationDocument, NsmError> {
    Verifier::aws(Policy::default())
        .authenticate_at(REAL_DOCUMENT, REAL_TIMESTAMP_MS)
        .map_err(|e| NsmError::Dev(format!("embedded real document: {e}")))
}

/// The real document's payload re-encoded after `mutate`, keeping the original (now stale)
/// signature.
fn real_mutated(real: &AttestationDocument, mutate: impl FnOnce(&mut DocumentFields)) -> Vec<u8> {
    let mut fields = DocumentFields::from_document(real);
    mutate(&mut fields);
    let signature = REAL_DOCUMENT[REAL_DOCUMENT.len() - 96..].to_vec();
    envelope_with_signature(fields.encode_payload(), signature)
}

/// Builds the whole table. Dev keys are fresh on every call; names and expectations are stable.
pub fn bad_documents() -> Result<Vec<BadDocument>, NsmError> {
    let aws = TrustedRoot::aws_nitro_g1();
    let real = real_document()?;
    let now_s = (DEV_NOW_MS / 1000) as i64;
    let (ca, leaf) = dev_chain(now_s, None)?;
    let dev = Dev {
        fields: dev_fields(&ca, &leaf),
        ca,
        leaf,
    };
    let dev_root = dev.ca.trusted_root();
    let mut out = Vec::new();
    let mut real_entry =
        |name: &str, bytes: Vec<u8>, policy: CorpusPolicy, now_ms: u64, expected| {
            out.push(BadDocument {
                name: name.into(),
                bytes,
                root: aws.clone(),
                policy,
                now_ms,
                expected,
            });
        };
    let t = REAL_TIMESTAMP_MS;
    let def = CorpusPolicy::default;

    // --- Genuine AWS document, mutated without any key ---
    let mut flipped = REAL_DOCUMENT.to_vec();
    let pcr0 = real
        .pcr(0)
        .map(|p| p.as_bytes().to_vec())
        .unwrap_or_default();
    let at = find(&flipped, &pcr0).ok_or_else(|| NsmError::Dev("PCR0 not found".into()))?;
    flipped[at + 7] ^= 0x01;
    real_entry(
        "flipped_payload_byte",
        flipped,
        def(),
        t,
        "signature.invalid",
    );

    let mut flipped = REAL_DOCUMENT.to_vec();
    let last = flipped.len() - 1;
    flipped[last - 50] ^= 0x80;
    real_entry(
        "flipped_signature_byte",
        flipped,
        def(),
        t,
        "signature.invalid",
    );

    let mut trailing = REAL_DOCUMENT.to_vec();
    trailing.extend_from_slice(&[0x00, 0xde, 0xad]);
    real_entry(
        "trailing_garbage",
        trailing,
        def(),
        t,
        "malformed.trailing_bytes",
    );

    for cut in (TRUNCATION_STRIDE..REAL_DOCUMENT.len()).step_by(TRUNCATION_STRIDE) {
        real_entry(
            &format!("truncated_at_{cut:05}"),
            REAL_DOCUMENT[..cut].to_vec(),
            def(),
            t,
            "malformed.truncated",
        );
    }
    real_entry("empty", Vec::new(), def(), t, "malformed.empty");

    let dev_root_der = dev_root.der().to_vec();
    real_entry(
        "wrong_root",
        real_mutated(&real, |f| f.cabundle[0] = dev_root_der),
        def(),
        t,
        "chain.untrusted_root",
    );
    real_entry(
        "missing_certificate",
        real_mutated(&real, |f| {
            f.cabundle.remove(2);
        }),
        def(),
        t,
        "chain.issuer_mismatch",
    );
    real_entry(
        "reordered_certificates",
        real_mutated(&real, |f| f.cabundle.swap(1, 2)),
        def(),
        t,
        "chain.issuer_mismatch",
    );
    let leaf_der = real.certificate.clone();
    real_entry(
        "extra_certificate",
        real_mutated(&real, |f| f.cabundle.push(leaf_der)),
        def(),
        t,
        // The regional CA's pathLen 2 cannot cover three CAs below it.
        "chain.path_len_exceeded",
    );
    real_entry(
        "self_issued_intermediate",
        real_mutated(&real, |f| {
            let root = f.cabundle[0].clone();
            f.cabundle.insert(1, root);
        }),
        def(),
        t,
        "chain.self_issued",
    );
    real_entry(
        "expired_leaf",
        REAL_DOCUMENT.to_vec(),
        CorpusPolicy {
            max_age_ms: u64::MAX,
            ..def()
        },
        t + 6 * 3600 * 1000,
        "chain.expired",
    );
    real_entry(
        "not_yet_valid_leaf",
        REAL_DOCUMENT.to_vec(),
        def(),
        t - 6 * 3600 * 1000,
        "chain.not_yet_valid",
    );
    real_entry(
        "stale_document",
        REAL_DOCUMENT.to_vec(),
        def(),
        t + DEFAULT_MAX_AGE_MS + 1,
        "policy.stale",
    );
    real_entry(
        "pcr0_mismatch",
        REAL_DOCUMENT.to_vec(),
        CorpusPolicy {
            expected_pcrs: vec![(0, Pcr::new([0xab; 48]))],
            ..def()
        },
        t,
        "policy.pcr_mismatch",
    );
    real_entry(
        "pcr8_mismatch",
        REAL_DOCUMENT.to_vec(),
        CorpusPolicy {
            expected_pcrs: vec![(8, Pcr::ZERO)],
            ..def()
        },
        t,
        "policy.pcr_mismatch",
    );
    real_entry(
        "pcr16_missing",
        REAL_DOCUMENT.to_vec(),
        CorpusPolicy {
            expected_pcrs: vec![(16, Pcr::ZERO)],
            ..def()
        },
        t,
        "policy.pcr_missing",
    );
    real_entry(
        "nonce_mismatch",
        REAL_DOCUMENT.to_vec(),
        CorpusPolicy {
            expected_nonce: Some(vec![0x42; 32]),
            ..def()
        },
        t,
        "policy.nonce_mismatch",
    );
    real_entry(
        "public_key_missing",
        REAL_DOCUMENT.to_vec(),
        CorpusPolicy {
            require_secp256k1_key: true,
            ..def()
        },
        t,
        "policy.public_key_missing",
    );

    // --- Dev-CA documents: valid signatures over bad content ---
    let dev_cases = dev_cases(&dev)?;
    for (name, bytes, policy, expected) in dev_cases {
        out.push(BadDocument {
            name,
            bytes,
            root: dev_root.clone(),
            policy,
            now_ms: DEV_NOW_MS,
            expected,
        });
    }
    // A well-formed dev document is still rejected by a verifier pinned to AWS.
    out.push(BadDocument {
        name: "dev_document_under_aws_root".into(),
        bytes: dev.fields.sign(&dev.leaf)?,
        root: aws.clone(),
        policy: CorpusPolicy::default(),
        now_ms: DEV_NOW_MS,
        expected: "chain.untrusted_root",
    });
    // Chains with broken shapes, each under its own dev root.
    for (name, bytes, root, expected) in dev_chain_cases(now_s)? {
        out.push(BadDocument {
            name,
            bytes,
            root,
            policy: CorpusPolicy::default(),
            now_ms: DEV_NOW_MS,
            expected,
        });
    }
    Ok(out)
}

type DevCase = (String, Vec<u8>, CorpusPolicy, &'static str);

fn dev_cases(dev: &Dev) -> Result<Vec<DevCase>, NsmError> {
    let def = CorpusPolicy::default;
    let with_key = || CorpusPolicy {
        require_secp256k1_key: true,
        ..def()
    };
    let mut cases: Vec<DevCase> = Vec::new();
    let mut push = |name: &str,
                    mutate: &dyn Fn(&mut DocumentFields),
                    policy: CorpusPolicy,
                    expected: &'static str|
     -> Result<(), NsmError> {
        let mut f = dev.fields.clone();
        mutate(&mut f);
        cases.push((name.into(), f.sign(&dev.leaf)?, policy, expected));
        Ok(())
    };
    push(
        "timestamp_in_seconds",
        &|f| f.timestamp = DEV_NOW_MS / 1000,
        def(),
        "policy.timestamp_not_millis",
    )?;
    push(
        "future_timestamp",
        &|f| f.timestamp = DEV_NOW_MS + 60_000,
        def(),
        "policy.from_future",
    )?;
    push(
        "debug_mode_pcrs",
        &|f| {
            for p in f.pcrs.iter_mut().take(3) {
                p.1 = vec![0u8; 48];
            }
        },
        def(),
        "policy.debug_mode",
    )?;
    push(
        "debug_mode_pcr0_only",
        &|f| f.pcrs[0].1 = vec![0u8; 48],
        def(),
        "policy.debug_mode",
    )?;
    push(
        "pcr2_mismatch",
        &|_| {},
        CorpusPolicy {
            expected_pcrs: vec![
                (0, DEV_IMAGE[0]),
                (1, DEV_IMAGE[1]),
                (2, Pcr::new([0x34; 48])),
            ],
            ..def()
        },
        "policy.pcr_mismatch",
    )?;
    push(
        "nonce_null_but_expected",
        &|_| {},
        CorpusPolicy {
            expected_nonce: Some(b"challenge".to_vec()),
            ..def()
        },
        "policy.nonce_mismatch",
    )?;
    push(
        "public_key_64_bytes",
        &|f| f.public_key = Some(vec![0x04; 64]),
        with_key(),
        "policy.public_key_length",
    )?;
    push(
        "public_key_33_bytes_compressed",
        &|f| f.public_key = Some([&[0x02u8][..], &[0x11; 32]].concat()),
        with_key(),
        "policy.public_key_length",
    )?;
    push(
        "public_key_prefix_03",
        &|f| f.public_key = Some([&[0x03u8][..], &[0x11; 64]].concat()),
        with_key(),
        "policy.public_key_prefix",
    )?;
    push(
        "public_key_not_on_curve",
        &|f| f.public_key = Some([&[0x04u8][..], &[0x11; 64]].concat()),
        with_key(),
        "policy.public_key_not_on_curve",
    )?;
    push(
        "wrong_digest_sha256",
        &|f| f.digest = "SHA256".into(),
        def(),
        "malformed.unsupported_digest",
    )?;
    push(
        "oversize_user_data",
        &|f| f.user_data = Some(vec![0x55; 1025]),
        def(),
        "malformed.field_size",
    )?;
    push(
        "oversize_nonce",
        &|f| f.nonce = Some(vec![0x55; 1025]),
        def(),
        "malformed.field_size",
    )?;
    push(
        "oversize_public_key",
        &|f| f.public_key = Some(vec![0x04; 1025]),
        def(),
        "malformed.field_size",
    )?;
    push(
        "empty_public_key",
        &|f| f.public_key = Some(Vec::new()),
        def(),
        "malformed.field_size",
    )?;
    push(
        "oversize_module_id",
        &|f| f.module_id = "i".repeat(1025),
        def(),
        "malformed.field_size",
    )?;
    push(
        "empty_cabundle",
        &|f| f.cabundle.clear(),
        def(),
        "malformed.field_size",
    )?;
    push(
        "pcr_32_bytes",
        &|f| f.pcrs[0].1 = vec![0x11; 32],
        def(),
        "malformed.pcr_length",
    )?;
    push(
        "pcr_index_32",
        &|f| f.pcrs.push((32, vec![0u8; 48])),
        def(),
        "malformed.pcr_index",
    )?;
    push(
        "pcr_duplicate_index",
        &|f| f.pcrs.push((3, vec![0u8; 48])),
        def(),
        "malformed.duplicate_key",
    )?;

    let mut other = dev.fields.clone();
    other.user_data = Some(b"signed by someone else".to_vec());
    cases.push((
        "signature_from_other_key".into(),
        other.sign(&dev.leaf.with_other_key()?)?,
        def(),
        "signature.invalid",
    ));
    cases.push((
        "protected_alg_es256".into(),
        sign_payload_with_alg(
            dev.fields.encode_payload(),
            &dev.leaf,
            iana::Algorithm::ES256,
        )?,
        def(),
        "malformed.unsupported_algorithm",
    ));
    let mut tagged_other =
        super::encode::sign_payload(dev.fields.encode_payload(), &dev.leaf, true)?;
    tagged_other[0] = 0xd1; // tag 17 (COSE_Mac0) instead of 18
    cases.push((
        "wrong_cbor_tag".into(),
        tagged_other,
        def(),
        "malformed.envelope",
    ));
    let mut unknown = dev.fields.encode_payload();
    // Rename "nonce" to "nonse": same length, not in the schema.
    let at = find(&unknown, b"nonce").ok_or_else(|| NsmError::Dev("no nonce key".into()))?;
    unknown[at + 3] = b's';
    cases.push((
        "unknown_payload_field".into(),
        super::encode::sign_payload(unknown, &dev.leaf, false)?,
        def(),
        "malformed.unknown_field",
    ));
    let mut trailing_payload = dev.fields.encode_payload();
    trailing_payload.push(0xf6);
    cases.push((
        "payload_trailing_bytes".into(),
        super::encode::sign_payload(trailing_payload, &dev.leaf, false)?,
        def(),
        "malformed.trailing_bytes",
    ));
    Ok(cases)
}

type ChainCase = (String, Vec<u8>, TrustedRoot, &'static str);

fn dev_chain_cases(now_s: i64) -> Result<Vec<ChainCase>, NsmError> {
    let (from, until) = (now_s - 86_400, now_s + 30 * 86_400);
    let shape = |regional_until: i64, zonal_from: i64, regional_len: Option<u8>| {
        vec![
            CertSpec::ca("dev.aws.nitro-enclaves", None, from, until),
            CertSpec::ca(
                "dev.region.aws.nitro-enclaves",
                regional_len,
                from,
                regional_until,
            ),
            CertSpec::ca(
                "dev.zonal.region.aws.nitro-enclaves",
                Some(1),
                zonal_from,
                until,
            ),
            CertSpec::ca("i-dev.region.aws.nitro-enclaves", Some(0), from, until),
        ]
    };
    let mut out = Vec::new();
    let mut doc = |name: &str, ca: DevCa, leaf: DevLeaf, expected| -> Result<(), NsmError> {
        let bytes = dev_fields(&ca, &leaf).sign(&leaf)?;
        out.push((name.to_string(), bytes, ca.trusted_root(), expected));
        Ok(())
    };
    let leaf_spec = CertSpec::leaf("i-dev-enc-dev.region.aws", from, until);

    let ca = DevCa::generate_with(&shape(now_s - 60, from, Some(2)))?;
    let leaf = ca.issue_leaf(&leaf_spec)?;
    doc("expired_intermediate", ca, leaf, "chain.expired")?;

    let ca = DevCa::generate_with(&shape(until, now_s + 60, Some(2)))?;
    let leaf = ca.issue_leaf(&leaf_spec)?;
    doc(
        "not_yet_valid_intermediate",
        ca,
        leaf,
        "chain.not_yet_valid",
    )?;

    let ca = DevCa::generate_with(&shape(until, from, Some(0)))?;
    let leaf = ca.issue_leaf(&leaf_spec)?;
    doc("path_len_exceeded", ca, leaf, "chain.path_len_exceeded")?;

    let ca = DevCa::generate(from, until)?;
    let leaf = ca.issue_leaf(&CertSpec::ca("i-dev-enc-dev.region.aws", None, from, until))?;
    doc("leaf_is_ca", ca, leaf, "chain.bad_leaf")?;

    // Same names, different keys: the leaf claims the right issuer but was signed by another CA.
    let ca = DevCa::generate(from, until)?;
    let impostor = DevCa::generate(from, until)?.issue_leaf(&leaf_spec)?;
    doc(
        "leaf_signed_by_other_ca",
        ca,
        impostor,
        "chain.bad_certificate_signature",
    )?;
    Ok(out)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}
