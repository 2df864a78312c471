//! The measurements of one image, its registry id and its `pcr.json` form.

use sha3::{Digest as _, Keccak256};

use crate::pcr::{PCR_LEN, Pcr, PcrError};

/// `HashAlgorithm` as `nitro-cli describe-eif` prints it (the `Debug` string of sha2 0.10's
/// `Sha384`). A label, not data: it is written, never parsed.
pub const HASH_ALGORITHM: &str = "Sha512_48 { .. }";

/// The measurements of an image: what an EIF hashes to, what an attestation document reports,
/// what the registry stores.
///
/// Serde reads and writes the `pcr.json` object (see [`ImagePcrs::to_json`] and
/// [`ImagePcrs::from_json`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ImagePcrs {
    /// PCR0: kernel, command line and every ramdisk.
    pub pcr0: Pcr,
    /// PCR1: kernel, command line and the boot ramdisk.
    pub pcr1: Pcr,
    /// PCR2: the application ramdisks.
    pub pcr2: Pcr,
    /// PCR8: the EIF signing certificate, for signed images.
    pub pcr8: Option<Pcr>,
}

/// Why a `pcr.json` does not read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PcrJsonError {
    /// Not JSON.
    #[error("{0}")]
    Syntax(String),
    /// The JSON (or its `Measurements`) is not an object.
    #[error("not a JSON object")]
    NotObject,
    /// PCR0, PCR1 or PCR2 is absent.
    #[error("{0} is missing")]
    Missing(&'static str),
    /// A PCR is not a JSON string.
    #[error("{0} is not a string")]
    NotString(&'static str),
    /// A PCR string is not a PCR.
    #[error("{name}: {source}")]
    Pcr {
        /// `PCR0`, `PCR1`, `PCR2` or `PCR8`.
        name: &'static str,
        /// What is wrong with it.
        source: PcrError,
    },
}

impl ImagePcrs {
    /// The registry's image id: `keccak256(PCR0 ‖ PCR1 ‖ PCR2)`, as `Pcrs.imageId` computes it
    /// (`contracts/src/libraries/Pcrs.sol`). PCR8 is not part of it.
    pub fn image_id(&self) -> [u8; 32] {
        let mut all = [0u8; 3 * PCR_LEN];
        for (chunk, pcr) in all
            .chunks_exact_mut(PCR_LEN)
            .zip([&self.pcr0, &self.pcr1, &self.pcr2])
        {
            chunk.copy_from_slice(pcr.as_bytes());
        }
        Keccak256::digest(all).into()
    }

    /// The first of PCR0/1/2 that is all zeros (a debug-mode measurement), if any.
    pub fn debug_pcr(&self) -> Option<u8> {
        [&self.pcr0, &self.pcr1, &self.pcr2]
            .iter()
            .position(|p| p.is_zero())
            .and_then(|i| u8::try_from(i).ok())
    }

    /// Indexes at which `self` (measured) differs from `expected`. PCR8 is compared only when
    /// `expected` pins one.
    pub fn mismatches(&self, expected: &ImagePcrs) -> Vec<u8> {
        let mut out: Vec<u8> = [
            (0, &self.pcr0, &expected.pcr0),
            (1, &self.pcr1, &expected.pcr1),
            (2, &self.pcr2, &expected.pcr2),
        ]
        .into_iter()
        .filter(|(_, a, b)| a != b)
        .map(|(i, _, _)| i)
        .collect();
        if expected.pcr8.is_some() && self.pcr8 != expected.pcr8 {
            out.push(8);
        }
        out
    }

    /// The `pcr.json` object: `HashAlgorithm`, `PCR0`, `PCR1`, `PCR2` and, for a signed image,
    /// `PCR8` (the `Measurements` of `nitro-cli describe-eif`).
    pub fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        m.insert("HashAlgorithm".into(), HASH_ALGORITHM.into());
        for (name, pcr) in [
            ("PCR0", Some(&self.pcr0)),
            ("PCR1", Some(&self.pcr1)),
            ("PCR2", Some(&self.pcr2)),
            ("PCR8", self.pcr8.as_ref()),
        ] {
            if let Some(p) = pcr {
                m.insert(name.into(), p.to_hex().into());
            }
        }
        serde_json::Value::Object(m)
    }

    /// Reads a `pcr.json` object, or a whole `describe --json` report (its `Measurements`):
    /// `PCR0`, `PCR1`, `PCR2` and optionally `PCR8`; other keys are ignored.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, PcrJsonError> {
        let obj = value
            .get("Measurements")
            .unwrap_or(value)
            .as_object()
            .ok_or(PcrJsonError::NotObject)?;
        let field = |name: &'static str| -> Result<Option<Pcr>, PcrJsonError> {
            let Some(v) = obj.get(name) else {
                return Ok(None);
            };
            let s = v.as_str().ok_or(PcrJsonError::NotString(name))?;
            s.parse()
                .map(Some)
                .map_err(|source| PcrJsonError::Pcr { name, source })
        };
        let required = |name: &'static str| field(name)?.ok_or(PcrJsonError::Missing(name));
        Ok(ImagePcrs {
            pcr0: required("PCR0")?,
            pcr1: required("PCR1")?,
            pcr2: required("PCR2")?,
            pcr8: field("PCR8")?,
        })
    }

    /// Parses the bytes of a `pcr.json` file (see [`ImagePcrs::from_json`]).
    pub fn from_pcr_json(bytes: &[u8]) -> Result<Self, PcrJsonError> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| PcrJsonError::Syntax(e.to_string()))?;
        Self::from_json(&value)
    }
}

impl serde::Serialize for ImagePcrs {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for ImagePcrs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        ImagePcrs::from_json(&value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ImagePcrs {
        ImagePcrs {
            pcr0: Pcr::new([1; 48]),
            pcr1: Pcr::new([2; 48]),
            pcr2: Pcr::new([3; 48]),
            pcr8: None,
        }
    }

    /// PCR0 ‖ PCR1 ‖ PCR2 is the 144 bytes 0x00, 0x01, … 0x8f (an order mistake changes the id).
    fn distinct() -> ImagePcrs {
        let pcr = |n: u8| Pcr::new(std::array::from_fn(|i| n * 48 + i as u8));
        ImagePcrs {
            pcr0: pcr(0),
            pcr1: pcr(1),
            pcr2: pcr(2),
            pcr8: Some(Pcr::new([8; 48])),
        }
    }

    #[test]
    fn image_id_matches_the_solidity_library() {
        // `Pcrs.imageId` in Solidity; the same vector is pinned by
        // contracts/test/libraries/Pcrs.t.sol.
        assert_eq!(
            hex::encode(distinct().image_id()),
            "36b6c310c763efcdcd51591b27ac640ec854bf8da8e413f4cc0f4a29e2a48dbc"
        );
        // `cast keccak $(cast concat-hex 0x01..01 0x02..02 0x03..03)`
        assert_eq!(
            hex::encode(sample().image_id()),
            "79415a8460aad0c8ae8d2eb4b4c7a7cb2d4d546b453e170add25071572b0fd69"
        );
        let mut without8 = distinct();
        without8.pcr8 = None;
        assert_eq!(
            without8.image_id(),
            distinct().image_id(),
            "PCR8 is not in the id"
        );
    }

    #[test]
    fn pcr_json_is_the_describe_measurements_object() {
        let mut signed = sample();
        signed.pcr8 = Some(Pcr::new([8; 48]));
        assert_eq!(
            serde_json::to_string(&signed).unwrap(),
            format!(
                r#"{{"HashAlgorithm":"Sha512_48 {{ .. }}","PCR0":"{}","PCR1":"{}","PCR2":"{}","PCR8":"{}"}}"#,
                "01".repeat(48),
                "02".repeat(48),
                "03".repeat(48),
                "08".repeat(48)
            )
        );
        assert!(sample().to_json().get("PCR8").is_none());
    }

    #[test]
    fn pcr_json_round_trips_and_accepts_describe_output() {
        for pcrs in [sample(), distinct()] {
            let text = serde_json::to_string_pretty(&pcrs).unwrap();
            assert_eq!(ImagePcrs::from_pcr_json(text.as_bytes()), Ok(pcrs));
            assert_eq!(serde_json::from_str::<ImagePcrs>(&text).unwrap(), pcrs);
        }
        let describe = format!(
            r#"{{"EifVersion": 4, "Measurements": {{"HashAlgorithm": "Sha512_48 {{ .. }}", "PCR0": "{}", "PCR1": "{}", "PCR2": "{}", "PCR8": "0x{}"}}}}"#,
            "01".repeat(48),
            "02".repeat(48),
            "03".repeat(48),
            "08".repeat(48)
        );
        let parsed = ImagePcrs::from_pcr_json(describe.as_bytes()).unwrap();
        assert_eq!(parsed.pcr8, Some(Pcr::new([8; 48])));
        assert_eq!(parsed.pcr2, Pcr::new([3; 48]));
    }

    #[test]
    fn malformed_pcr_json_is_named() {
        let good = "11".repeat(48);
        let cases: [(String, PcrJsonError); 6] = [
            ("[1, 2]".into(), PcrJsonError::NotObject),
            (
                r#"{"PCR0": "00", "PCR1": "00", "PCR2": "00"}"#.into(),
                PcrJsonError::Pcr {
                    name: "PCR0",
                    source: PcrError::Length(1),
                },
            ),
            (r#"{"PCR0": 5}"#.into(), PcrJsonError::NotString("PCR0")),
            (
                format!(r#"{{"PCR0": "{good}", "PCR1": "{good}"}}"#),
                PcrJsonError::Missing("PCR2"),
            ),
            (
                format!(r#"{{"PCR0": "{good}", "PCR1": "{good}", "PCR2": "{good}", "PCR8": "0"}}"#),
                PcrJsonError::Pcr {
                    name: "PCR8",
                    source: PcrError::OddLength(1),
                },
            ),
            (
                format!(r#"{{"PCR0": "{}"}}"#, "zz".repeat(48)),
                PcrJsonError::Pcr {
                    name: "PCR0",
                    source: PcrError::NotHex {
                        character: 'z',
                        index: 0,
                    },
                },
            ),
        ];
        for (input, want) in cases {
            assert_eq!(
                ImagePcrs::from_pcr_json(input.as_bytes()),
                Err(want),
                "{input}"
            );
        }
        assert!(matches!(
            ImagePcrs::from_pcr_json(b"not json"),
            Err(PcrJsonError::Syntax(_))
        ));
        let e = serde_json::from_str::<ImagePcrs>(r#"{"PCR0": "00"}"#).unwrap_err();
        assert_eq!(e.to_string(), "PCR0: 1 bytes, expected 48 (96 hex digits)");
    }

    #[test]
    fn debug_pcrs_are_found() {
        assert_eq!(sample().debug_pcr(), None);
        let mut p = sample();
        p.pcr1 = Pcr::ZERO;
        assert_eq!(p.debug_pcr(), Some(1));
        p.pcr0 = Pcr::ZERO;
        assert_eq!(p.debug_pcr(), Some(0));
    }

    #[test]
    fn mismatches_compare_pcr8_only_when_pinned() {
        let mut measured = sample();
        measured.pcr8 = Some(Pcr::new([8; 48]));
        assert!(measured.mismatches(&sample()).is_empty());
        let mut pinned = sample();
        pinned.pcr8 = Some(Pcr::new([9; 48]));
        assert_eq!(measured.mismatches(&pinned), vec![8]);
        pinned.pcr2 = Pcr::new([7; 48]);
        assert_eq!(measured.mismatches(&pinned), vec![2, 8]);
    }
}
