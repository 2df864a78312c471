//! `inspect-attestation`: what an attestation document claims, verifying nothing (no signature,
//! no certificate, no policy). For looking inside a document before trusting it, and for documents
//! no verifier accepts (qemu's emulated NSM signs nothing).

use nitro_attestation::{Malformed, UnverifiedDocument, decode_input, read_unverified};
use serde_json::{Map, Value, json};

use crate::ExitStatus;
use crate::render::Report;
use crate::report::{hex_opt, iso8601};

/// The `warning` every inspection prints next to `"authenticated": false`.
pub const WARNING: &str = "nothing below is verified: use verify-attestation";

/// Reads `input` (raw COSE_Sign1 or base64 text) without verifying anything.
pub fn inspect(input: &[u8]) -> Result<UnverifiedDocument, Malformed> {
    read_unverified(&decode_input(input)?)
}

/// One JSON object: `"authenticated": false`, [`WARNING`], and every claim. Byte strings are
/// lowercase hex without `0x` (as in `verify-attestation --json`); PCRs are keyed `PCR<i>` (as in
/// `pcr.json` and `show`); `certificate_len` counts bytes, `cabundle_len` entries.
pub fn inspect_json(doc: &UnverifiedDocument) -> Value {
    let pcrs: Map<String, Value> = doc
        .pcrs
        .iter()
        .map(|(i, v)| (format!("PCR{i}"), Value::String(hex::encode(v))))
        .collect();
    json!({
        "authenticated": false,
        "warning": WARNING,
        "module_id": doc.module_id,
        "timestamp_ms": doc.timestamp_ms,
        "timestamp_utc": iso8601(doc.timestamp_ms),
        "digest": doc.digest,
        "pcrs": pcrs,
        "public_key": hex_opt(&doc.public_key),
        "user_data": hex_opt(&doc.user_data),
        "nonce": hex_opt(&doc.nonce),
        "certificate_len": doc.certificate.len(),
        "cabundle_len": doc.cabundle.len(),
        "cose_alg": doc.cose_alg,
        "signature_len": doc.signature.len(),
    })
}

/// The command's report: the JSON object, indented for people and on one line with `--json`.
/// Exit 0: the document parsed (which says nothing about whether it is genuine).
pub fn inspect_report(doc: &UnverifiedDocument) -> Report {
    let json = inspect_json(doc);
    let human = serde_json::to_string_pretty(&json)
        .map(|s| s + "\n")
        .unwrap_or_else(|_| format!("{json}\n"));
    Report {
        status: ExitStatus::Success,
        human,
        json,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_a_named_error() {
        assert_eq!(inspect(b"").unwrap_err(), Malformed::Empty);
        assert_eq!(inspect(b"%% no %%").unwrap_err(), Malformed::Base64);
        assert!(inspect(&[0x84, 0x40]).is_err());
    }
}
