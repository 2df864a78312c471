//! What commands print: one [`Report`] per command, rendered as text for people or as one JSON
//! object for scripts. Nothing else in the library prints.

use alloy::primitives::B256;
use serde_json::{Value, json};

use crate::ExitStatus;
use crate::report::iso8601;
use marketplace_bindings::IPcrRegistry::{self, ImageStatus};

/// A command's answer: its exit status and both renderings.
#[derive(Clone, Debug)]
pub struct Report {
    /// 0 yes, 1 no.
    pub status: ExitStatus,
    /// Text for people (ends with a newline).
    pub human: String,
    /// One JSON value for scripts.
    pub json: Value,
}

impl Report {
    /// The rendering asked for.
    pub fn render(&self, json: bool) -> String {
        if json {
            format!("{}\n", self.json)
        } else {
            self.human.clone()
        }
    }
}

/// The lifecycle status as a word; a value the contract cannot produce reads as not registered.
pub(crate) fn status_word(status: ImageStatus) -> &'static str {
    match status {
        ImageStatus::Registered => "live",
        ImageStatus::Revoked => "revoked",
        ImageStatus::None | ImageStatus::__Invalid => "not-registered",
    }
}

/// Whether an image was ever registered (live or revoked).
pub(crate) fn is_registered(status: ImageStatus) -> bool {
    matches!(status, ImageStatus::Registered | ImageStatus::Revoked)
}

fn hex_or_null(b: &[u8]) -> Value {
    if b.is_empty() {
        Value::Null
    } else {
        Value::String(hex::encode(b))
    }
}

/// An image as one JSON object.
pub(crate) fn image_json(
    id: B256,
    image: &IPcrRegistry::Image,
    family_name: Option<&str>,
) -> Value {
    let m = &image.metadata;
    json!({
        "image_id": id.to_string(),
        "status": status_word(image.status),
        "family": image.family.to_string(),
        "family_name": family_name,
        "registered_at": image.registeredAt,
        "revoked_at": (image.revokedAt != 0).then_some(image.revokedAt),
        "pcrs": {
            "PCR0": hex_or_null(&image.pcrs.pcr0),
            "PCR1": hex_or_null(&image.pcrs.pcr1),
            "PCR2": hex_or_null(&image.pcrs.pcr2),
            "PCR8": hex_or_null(&image.pcrs.pcr8),
        },
        "name": m.name,
        "version": m.version,
        "source_revision": m.sourceRevision,
        "eif_sha256": (m.eifSha256 != B256::ZERO).then(|| m.eifSha256.to_string()),
        "provenance_uri": m.provenanceUri,
    })
}

/// An image as labelled lines.
pub(crate) fn image_human(
    id: B256,
    image: &IPcrRegistry::Image,
    family_name: Option<&str>,
) -> String {
    let m = &image.metadata;
    let family = match family_name {
        Some(n) => format!("{n} ({})", image.family),
        None => image.family.to_string(),
    };
    let mut out = format!(
        "image_id:        {id}\nstatus:          {}\n",
        status_word(image.status)
    );
    out += &format!("family:          {family}\n");
    out += &format!(
        "registered_at:   {}\n",
        iso8601(image.registeredAt.saturating_mul(1000))
    );
    if image.revokedAt != 0 {
        out += &format!(
            "revoked_at:      {}\n",
            iso8601(image.revokedAt.saturating_mul(1000))
        );
    }
    for (name, v) in [
        ("PCR0", &image.pcrs.pcr0),
        ("PCR1", &image.pcrs.pcr1),
        ("PCR2", &image.pcrs.pcr2),
        ("PCR8", &image.pcrs.pcr8),
    ] {
        if !v.is_empty() {
            out += &format!("{name}:            {}\n", hex::encode(v));
        }
    }
    out += &format!(
        "name:            {}\nversion:         {}\n",
        m.name, m.version
    );
    out += &format!("source_revision: {}\n", m.sourceRevision);
    if m.eifSha256 != B256::ZERO {
        out += &format!("eif_sha256:      {}\n", m.eifSha256);
    }
    if !m.provenanceUri.is_empty() {
        out += &format!("provenance_uri:  {}\n", m.provenanceUri);
    }
    out
}

/// A left-aligned text table with a header row.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                s += cell;
            } else {
                s += &format!("{cell:<w$}  ");
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out += &line(row.iter().map(String::as_str).collect());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::table;

    #[test]
    fn table_aligns_columns() {
        let t = table(
            &["A", "BB"],
            &[
                vec!["xyz".into(), "1".into()],
                vec!["q".into(), "22".into()],
            ],
        );
        assert_eq!(t, "A    BB\nxyz  1\nq    22\n");
    }
}
