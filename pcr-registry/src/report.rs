//! Renders an [`Outcome`] for people or as one JSON object.

use serde_json::{Value, json};

use crate::offline::Outcome;

pub(crate) fn hex_opt(v: &Option<Vec<u8>>) -> Value {
    v.as_ref()
        .map_or(Value::Null, |b| Value::String(hex::encode(b)))
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for ms since the epoch (proleptic Gregorian, UTC).
pub(crate) fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

/// One JSON object: `verified`, and either the document fields or the error name.
pub fn render_json(outcome: &Outcome) -> String {
    outcome_json(outcome).to_string()
}

/// The JSON value [`render_json`] prints.
pub fn outcome_json(outcome: &Outcome) -> Value {
    match outcome {
        Outcome::Verified { document, at_ms } => {
            let doc = document.document();
            let pcrs: serde_json::Map<String, Value> = doc
                .pcrs
                .iter()
                .map(|(i, v)| (i.to_string(), Value::String(hex::encode(v))))
                .collect();
            json!({
                "verified": true,
                "verified_at_ms": at_ms,
                "module_id": doc.module_id,
                "timestamp": doc.timestamp_ms,
                "timestamp_utc": iso8601(doc.timestamp_ms),
                "digest": doc.digest,
                "pcrs": pcrs,
                "public_key": hex_opt(&doc.public_key),
                "user_data": hex_opt(&doc.user_data),
                "nonce": hex_opt(&doc.nonce),
                "enclave_address": document.enclave_key().map(|k| k.address_hex()),
                "root_sha256": hex::encode(nitro_attestation::TrustedRoot::from_der(doc.cabundle[0].clone()).sha256()),
            })
        }
        Outcome::Rejected { error, at_ms } => json!({
            "verified": false,
            "verified_at_ms": at_ms,
            "error": error.code(),
            "message": error.to_string(),
        }),
    }
}

/// Human-readable lines.
pub fn render_human(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Verified { document, at_ms } => {
            let doc = document.document();
            let mut out = format!(
                "attestation verified (at {})\nmodule_id:  {}\ntimestamp:  {} ({})\ndigest:     {}\n",
                iso8601(*at_ms),
                doc.module_id,
                doc.timestamp_ms,
                iso8601(doc.timestamp_ms),
                doc.digest
            );
            for (i, v) in &doc.pcrs {
                if !v.is_zero() || *i < 3 {
                    out += &format!("PCR{i:<2}       {v}\n");
                }
            }
            for (name, v) in [
                ("public_key", &doc.public_key),
                ("user_data", &doc.user_data),
                ("nonce", &doc.nonce),
            ] {
                let shown = v.as_ref().map_or("null".to_string(), |b| {
                    // Long fields are shortened here; --json prints them whole.
                    let head = hex::encode(&b[..b.len().min(32)]);
                    let more = if b.len() > 32 { "…" } else { "" };
                    format!("{head}{more} ({} bytes)", b.len())
                });
                out += &format!("{name:<11} {shown}\n");
            }
            if let Some(k) = document.enclave_key() {
                out += &format!("address:    {}\n", k.address_hex());
            }
            out
        }
        Outcome::Rejected { error, .. } => {
            format!("attestation rejected: {} [{}]\n", error, error.code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::iso8601;

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_665_651_482_136), "2022-10-13T08:58:02.136Z");
        assert_eq!(iso8601(1_767_472_867_402), "2026-01-03T20:41:07.402Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
