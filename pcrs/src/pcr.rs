//! One PCR value and its text form.

use std::fmt;
use std::str::FromStr;

/// Length of one PCR in bytes (SHA-384).
pub const PCR_LEN: usize = 48;
/// Length of a PCR's text form.
const HEX_LEN: usize = 2 * PCR_LEN;

/// One Platform Configuration Register value: 48 bytes of SHA-384.
///
/// Text form ([`fmt::Display`], [`FromStr`], serde): 96 lower-case hex digits without a prefix, as
/// `nitro-cli describe-eif` prints them. Parsing also accepts upper-case digits and a leading
/// `0x`, so that values copied from Solidity tooling read back; anything else (a wrong length,
/// whitespace, a non-hex character) is a [`PcrError`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pcr([u8; PCR_LEN]);

/// Why a PCR does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PcrError {
    /// The value is not 48 bytes long.
    #[error("{0} bytes, expected {PCR_LEN} ({HEX_LEN} hex digits)")]
    Length(usize),
    /// An odd number of hex digits.
    #[error("{0} hex digits: an odd number, expected {HEX_LEN}")]
    OddLength(usize),
    /// A character that is not a hex digit.
    #[error("{character:?} at position {index} is not a hex digit")]
    NotHex {
        /// The character.
        character: char,
        /// Its byte offset in the digits (after any `0x`).
        index: usize,
    },
}

impl Pcr {
    /// The all-zero register: what a debug-mode enclave reports for PCR0, PCR1 and PCR2.
    pub const ZERO: Pcr = Pcr([0; PCR_LEN]);

    /// A PCR from its bytes.
    pub const fn new(bytes: [u8; PCR_LEN]) -> Self {
        Pcr(bytes)
    }

    /// The bytes.
    pub const fn as_bytes(&self) -> &[u8; PCR_LEN] {
        &self.0
    }

    /// The bytes, by value.
    pub const fn to_bytes(self) -> [u8; PCR_LEN] {
        self.0
    }

    /// True when every byte is zero (a debug-mode measurement).
    pub fn is_zero(&self) -> bool {
        self.0 == [0; PCR_LEN]
    }

    /// 96 lower-case hex digits, no prefix.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 96 hex digits, optionally after `0x`.
    pub fn from_hex(s: &str) -> Result<Self, PcrError> {
        let digits = s.strip_prefix("0x").unwrap_or(s);
        if !digits.len().is_multiple_of(2) {
            return Err(PcrError::OddLength(digits.len()));
        }
        if digits.len() != HEX_LEN {
            return Err(PcrError::Length(digits.len() / 2));
        }
        let mut out = [0u8; PCR_LEN];
        hex::decode_to_slice(digits, &mut out).map_err(|e| match e {
            hex::FromHexError::InvalidHexCharacter { c, index } => PcrError::NotHex {
                character: c,
                index,
            },
            // Both lengths were checked above.
            hex::FromHexError::OddLength | hex::FromHexError::InvalidStringLength => {
                PcrError::Length(digits.len() / 2)
            }
        })?;
        Ok(Pcr(out))
    }
}

impl From<[u8; PCR_LEN]> for Pcr {
    fn from(bytes: [u8; PCR_LEN]) -> Self {
        Pcr(bytes)
    }
}

impl From<Pcr> for [u8; PCR_LEN] {
    fn from(pcr: Pcr) -> Self {
        pcr.0
    }
}

impl TryFrom<&[u8]> for Pcr {
    type Error = PcrError;

    fn try_from(bytes: &[u8]) -> Result<Self, PcrError> {
        <[u8; PCR_LEN]>::try_from(bytes)
            .map(Pcr)
            .map_err(|_| PcrError::Length(bytes.len()))
    }
}

impl AsRef<[u8]> for Pcr {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Pcr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Pcr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pcr({})", self.to_hex())
    }
}

impl FromStr for Pcr {
    type Err = PcrError;

    fn from_str(s: &str) -> Result<Self, PcrError> {
        Pcr::from_hex(s)
    }
}

impl serde::Serialize for Pcr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for Pcr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Hex;
        impl serde::de::Visitor<'_> for Hex {
            type Value = Pcr;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a PCR as {HEX_LEN} hex digits")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Pcr, E> {
                Pcr::from_hex(s).map_err(E::custom)
            }
        }
        d.deserialize_str(Hex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGITS: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\
                          202122232425262728292a2b2c2d2e2f";

    fn counting() -> Pcr {
        Pcr::new(std::array::from_fn(|i| i as u8))
    }

    #[test]
    fn text_form_is_lower_case_hex_without_prefix_and_round_trips() {
        assert_eq!(counting().to_string(), DIGITS);
        assert_eq!(DIGITS.parse::<Pcr>(), Ok(counting()));
        assert_eq!(format!("0x{DIGITS}").parse::<Pcr>(), Ok(counting()));
        assert_eq!(DIGITS.to_uppercase().parse::<Pcr>(), Ok(counting()));
        assert_eq!(format!("{:?}", counting()), format!("Pcr({DIGITS})"));
    }

    #[test]
    fn malformed_text_is_named() {
        let cases = [
            ("", PcrError::Length(0)),
            ("0x", PcrError::Length(0)),
            ("00", PcrError::Length(1)),
            (&"ab".repeat(49), PcrError::Length(49)),
            (&"a".repeat(95), PcrError::OddLength(95)),
            (
                &format!("{}zz", &DIGITS[..94]),
                PcrError::NotHex {
                    character: 'z',
                    index: 94,
                },
            ),
            (
                &format!(" {}", &DIGITS[1..]),
                PcrError::NotHex {
                    character: ' ',
                    index: 0,
                },
            ),
            (
                &format!("0X{}", &DIGITS[2..]),
                PcrError::NotHex {
                    character: 'X',
                    index: 1,
                },
            ),
        ];
        for (text, want) in cases {
            assert_eq!(text.parse::<Pcr>(), Err(want.clone()), "{text:?}");
        }
        assert_eq!(
            PcrError::Length(1).to_string(),
            "1 bytes, expected 48 (96 hex digits)"
        );
    }

    #[test]
    fn bytes_of_the_wrong_length_are_refused() {
        assert_eq!(Pcr::try_from(&[7u8; 48][..]), Ok(Pcr::new([7; 48])));
        assert_eq!(Pcr::try_from(&[7u8; 32][..]), Err(PcrError::Length(32)));
    }

    #[test]
    fn zero_is_the_debug_mode_value() {
        assert!(Pcr::ZERO.is_zero());
        let mut last = [0u8; PCR_LEN];
        last[47] = 1;
        assert!(!Pcr::new(last).is_zero());
    }

    #[test]
    fn serde_uses_the_text_form() {
        let json = serde_json::to_string(&counting()).unwrap();
        assert_eq!(json, format!("\"{DIGITS}\""));
        assert_eq!(serde_json::from_str::<Pcr>(&json).unwrap(), counting());
        let e = serde_json::from_str::<Pcr>("\"00\"").unwrap_err();
        assert!(e.to_string().starts_with("1 bytes, expected 48"), "{e}");
        assert!(serde_json::from_str::<Pcr>("5").is_err());
    }
}
