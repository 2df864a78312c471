//! The attestation payload: a CBOR map (definite or indefinite length) with the AWS schema
//! `module_id, digest, timestamp, pcrs, certificate, cabundle, public_key, user_data, nonce`.
//!
//! Parsing borrows from the payload bytes; sizes follow the AWS CDDL, except that `user_data` and
//! `nonce` accept up to 1024 bytes as real NSMs produce.

use minicbor::Decoder;
use minicbor::data::Type;

use nitro_pcrs::Pcr;

use crate::error::Malformed;

/// Number of PCR registers an NSM has (indexes 0..32).
pub const MAX_PCRS: usize = 32;
/// Upper bound of `public_key`, `user_data`, `nonce`, each certificate and `module_id`.
pub const MAX_FIELD_LEN: usize = 1024;
/// Upper bound of `cabundle` entries (AWS sends 4).
pub const MAX_CABUNDLE: usize = 16;

/// A parsed but not yet authenticated payload, borrowing from the payload bytes.
#[derive(Debug, Clone)]
pub(crate) struct Payload<'a> {
    pub(crate) module_id: &'a str,
    pub(crate) timestamp: u64,
    /// Sorted by index, no duplicates.
    pub(crate) pcrs: Vec<(u8, Pcr)>,
    pub(crate) certificate: &'a [u8],
    pub(crate) cabundle: Vec<&'a [u8]>,
    pub(crate) public_key: Option<&'a [u8]>,
    pub(crate) user_data: Option<&'a [u8]>,
    pub(crate) nonce: Option<&'a [u8]>,
}

/// Field names in the order AWS writes them (also the bit order of the "seen" mask).
const FIELDS: [&str; 9] = [
    "module_id",
    "digest",
    "timestamp",
    "pcrs",
    "certificate",
    "cabundle",
    "public_key",
    "user_data",
    "nonce",
];

struct Cbor<'a> {
    d: Decoder<'a>,
}

fn decode_error(field: &'static str) -> impl Fn(minicbor::decode::Error) -> Malformed {
    move |e| {
        if e.is_end_of_input() {
            Malformed::Truncated("payload")
        } else {
            Malformed::WrongType(field)
        }
    }
}

impl<'a> Cbor<'a> {
    fn datatype(&self, field: &'static str) -> Result<Type, Malformed> {
        self.d.datatype().map_err(decode_error(field))
    }

    /// Opens a map; `None` length = indefinite.
    fn map(&mut self, field: &'static str) -> Result<Option<u64>, Malformed> {
        match self.datatype(field)? {
            Type::Map | Type::MapIndef => self.d.map().map_err(decode_error(field)),
            _ => Err(Malformed::WrongType(field)),
        }
    }

    fn array(&mut self, field: &'static str) -> Result<Option<u64>, Malformed> {
        match self.datatype(field)? {
            Type::Array | Type::ArrayIndef => self.d.array().map_err(decode_error(field)),
            _ => Err(Malformed::WrongType(field)),
        }
    }

    /// True when a container with `remaining` entries (None = indefinite) is finished; consumes the
    /// break byte of an indefinite container.
    fn container_done(
        &mut self,
        remaining: &mut Option<u64>,
        field: &'static str,
    ) -> Result<bool, Malformed> {
        match remaining {
            Some(0) => Ok(true),
            Some(n) => {
                *n -= 1;
                Ok(false)
            }
            None => {
                if self.datatype(field)? == Type::Break {
                    self.d.set_position(self.d.position() + 1);
                    Ok(true)
                } else {
                    Ok(false)
                }
            }
        }
    }

    fn text(&mut self, field: &'static str) -> Result<&'a str, Malformed> {
        match self.datatype(field)? {
            Type::String => self.d.str().map_err(decode_error(field)),
            Type::StringIndef => Err(Malformed::IndefiniteString(field)),
            Type::Null => Err(Malformed::NullField(field)),
            _ => Err(Malformed::WrongType(field)),
        }
    }

    fn bytes(&mut self, field: &'static str) -> Result<&'a [u8], Malformed> {
        self.opt_bytes(field)?.ok_or(Malformed::NullField(field))
    }

    fn opt_bytes(&mut self, field: &'static str) -> Result<Option<&'a [u8]>, Malformed> {
        match self.datatype(field)? {
            Type::Bytes => self.d.bytes().map(Some).map_err(decode_error(field)),
            Type::BytesIndef => Err(Malformed::IndefiniteString(field)),
            Type::Null => {
                self.d.null().map_err(decode_error(field))?;
                Ok(None)
            }
            _ => Err(Malformed::WrongType(field)),
        }
    }

    fn uint(&mut self, field: &'static str) -> Result<u64, Malformed> {
        match self.datatype(field)? {
            Type::U8 | Type::U16 | Type::U32 | Type::U64 => {
                self.d.u64().map_err(decode_error(field))
            }
            Type::Null => Err(Malformed::NullField(field)),
            _ => Err(Malformed::WrongType(field)),
        }
    }
}

fn check_size(field: &'static str, len: usize, min: usize, max: usize) -> Result<(), Malformed> {
    if len < min || len > max {
        return Err(Malformed::FieldSize {
            field,
            len,
            min,
            max,
        });
    }
    Ok(())
}

fn check_opt_size(field: &'static str, value: Option<&[u8]>, min: usize) -> Result<(), Malformed> {
    match value {
        Some(v) => check_size(field, v.len(), min, MAX_FIELD_LEN),
        None => Ok(()),
    }
}

/// Parses and schema-checks the payload map. Rejects trailing bytes, unknown and duplicate keys,
/// null mandatory fields, digests other than SHA384, and out-of-range sizes.
pub(crate) fn parse(bytes: &[u8]) -> Result<Payload<'_>, Malformed> {
    let mut c = Cbor {
        d: Decoder::new(bytes),
    };
    let mut remaining = c.map("payload")?;
    let mut seen = 0u16;
    let mut module_id = None;
    let mut timestamp = None;
    let mut pcrs = None;
    let mut certificate = None;
    let mut cabundle = None;
    let (mut public_key, mut user_data, mut nonce) = (None, None, None);
    while !c.container_done(&mut remaining, "payload")? {
        let key = c.text("payload key")?;
        let slot = FIELDS
            .iter()
            .position(|f| *f == key)
            .ok_or_else(|| Malformed::UnknownField(key.chars().take(64).collect()))?;
        if seen & (1 << slot) != 0 {
            return Err(Malformed::DuplicateKey("payload"));
        }
        seen |= 1 << slot;
        match slot {
            0 => module_id = Some(c.text("module_id")?),
            1 => {
                let digest = c.text("digest")?;
                if digest != "SHA384" {
                    return Err(Malformed::UnsupportedDigest(
                        digest.chars().take(64).collect(),
                    ));
                }
            }
            2 => timestamp = Some(c.uint("timestamp")?),
            3 => pcrs = Some(parse_pcrs(&mut c)?),
            4 => certificate = Some(c.bytes("certificate")?),
            5 => cabundle = Some(parse_cabundle(&mut c)?),
            6 => public_key = c.opt_bytes("public_key")?,
            7 => user_data = c.opt_bytes("user_data")?,
            _ => nonce = c.opt_bytes("nonce")?,
        }
    }
    if c.d.position() != bytes.len() {
        return Err(Malformed::TrailingBytes("payload"));
    }
    let module_id = module_id.ok_or(Malformed::MissingField("module_id"))?;
    if seen & 0b10 == 0 {
        return Err(Malformed::MissingField("digest"));
    }
    let timestamp = timestamp.ok_or(Malformed::MissingField("timestamp"))?;
    let pcrs = pcrs.ok_or(Malformed::MissingField("pcrs"))?;
    let certificate = certificate.ok_or(Malformed::MissingField("certificate"))?;
    let cabundle = cabundle.ok_or(Malformed::MissingField("cabundle"))?;
    check_size("module_id", module_id.len(), 1, MAX_FIELD_LEN)?;
    check_size("certificate", certificate.len(), 1, MAX_FIELD_LEN)?;
    check_opt_size("public_key", public_key, 1)?;
    check_opt_size("user_data", user_data, 0)?;
    check_opt_size("nonce", nonce, 0)?;
    Ok(Payload {
        module_id,
        timestamp,
        pcrs,
        certificate,
        cabundle,
        public_key,
        user_data,
        nonce,
    })
}

fn parse_pcrs(c: &mut Cbor<'_>) -> Result<Vec<(u8, Pcr)>, Malformed> {
    let mut remaining = c.map("pcrs")?;
    let mut pcrs: Vec<(u8, Pcr)> = Vec::with_capacity(16);
    let mut seen = 0u32;
    while !c.container_done(&mut remaining, "pcrs")? {
        let index = c.uint("pcrs key")?;
        if index >= MAX_PCRS as u64 {
            return Err(Malformed::PcrIndex(index));
        }
        let index = index as u8; // < 32 checked above
        if seen & (1 << index) != 0 {
            return Err(Malformed::DuplicateKey("pcrs"));
        }
        seen |= 1 << index;
        let value = c.bytes("pcrs value")?;
        let pcr = Pcr::try_from(value).map_err(|_| Malformed::PcrLength {
            index,
            len: value.len(),
        })?;
        pcrs.push((index, pcr));
    }
    check_size("pcrs", pcrs.len(), 1, MAX_PCRS)?;
    pcrs.sort_unstable_by_key(|(i, _)| *i);
    Ok(pcrs)
}

fn parse_cabundle<'a>(c: &mut Cbor<'a>) -> Result<Vec<&'a [u8]>, Malformed> {
    let mut remaining = c.array("cabundle")?;
    if let Some(n) = remaining {
        check_size(
            "cabundle",
            usize::try_from(n).unwrap_or(usize::MAX),
            1,
            MAX_CABUNDLE,
        )?;
    }
    let mut certs = Vec::with_capacity(4);
    while !c.container_done(&mut remaining, "cabundle")? {
        let cert = c.bytes("cabundle")?;
        check_size("cabundle entry", cert.len(), 1, MAX_FIELD_LEN)?;
        certs.push(cert);
        if certs.len() > MAX_CABUNDLE {
            return Err(Malformed::FieldSize {
                field: "cabundle",
                len: certs.len(),
                min: 1,
                max: MAX_CABUNDLE,
            });
        }
    }
    check_size("cabundle", certs.len(), 1, MAX_CABUNDLE)?;
    Ok(certs)
}

/// Reads only the `timestamp` of a payload, for callers that verify "at the document's time".
/// Unauthenticated: use the value only to choose a clock for a full verification.
pub(crate) fn peek_timestamp(bytes: &[u8]) -> Result<u64, Malformed> {
    parse(bytes).map(|p| p.timestamp)
}

#[cfg(test)]
mod tests {
    use minicbor::Encoder;

    use super::*;

    /// How to write one field.
    #[derive(Clone, Copy)]
    enum V<'a> {
        Text(&'a str),
        Uint(u64),
        Bytes(&'a [u8]),
        Null,
        Pcrs {
            indefinite: bool,
            count: u64,
            len: usize,
        },
        Cabundle {
            indefinite: bool,
            count: u64,
        },
    }

    fn encode(fields: &[(&str, V<'_>)], indefinite: bool) -> Vec<u8> {
        let mut e = Encoder::new(Vec::new());
        if indefinite {
            e.begin_map().unwrap();
        } else {
            e.map(fields.len() as u64).unwrap();
        }
        for (k, v) in fields {
            e.str(k).unwrap();
            match *v {
                V::Text(s) => e.str(s).unwrap(),
                V::Uint(n) => e.u64(n).unwrap(),
                V::Bytes(b) => e.bytes(b).unwrap(),
                V::Null => e.null().unwrap(),
                V::Pcrs {
                    indefinite,
                    count,
                    len,
                } => {
                    if indefinite {
                        e.begin_map().unwrap();
                    } else {
                        e.map(count).unwrap();
                    }
                    for i in 0..count {
                        e.u64(i).unwrap().bytes(&vec![i as u8; len]).unwrap();
                    }
                    if indefinite {
                        e.end().unwrap();
                    }
                    &mut e
                }
                V::Cabundle { indefinite, count } => {
                    if indefinite {
                        e.begin_array().unwrap();
                    } else {
                        e.array(count).unwrap();
                    }
                    for _ in 0..count {
                        e.bytes(&[0x30; 10]).unwrap();
                    }
                    if indefinite {
                        e.end().unwrap();
                    }
                    &mut e
                }
            };
        }
        if indefinite {
            e.end().unwrap();
        }
        e.into_writer()
    }

    fn good<'a>() -> Vec<(&'static str, V<'a>)> {
        vec![
            ("module_id", V::Text("i-1-enc2")),
            ("digest", V::Text("SHA384")),
            ("timestamp", V::Uint(1_700_000_000_000)),
            (
                "pcrs",
                V::Pcrs {
                    indefinite: false,
                    count: 16,
                    len: 48,
                },
            ),
            ("certificate", V::Bytes(&[0x30; 20])),
            (
                "cabundle",
                V::Cabundle {
                    indefinite: false,
                    count: 4,
                },
            ),
            ("public_key", V::Null),
            ("user_data", V::Null),
            ("nonce", V::Null),
        ]
    }

    fn with<'a>(key: &str, v: V<'a>) -> Vec<(&'static str, V<'a>)> {
        let mut f = good();
        for field in f.iter_mut() {
            if field.0 == key {
                field.1 = v;
            }
        }
        f
    }

    #[test]
    fn accepts_every_container_form() {
        for outer in [false, true] {
            for inner in [false, true] {
                let mut f = with(
                    "pcrs",
                    V::Pcrs {
                        indefinite: inner,
                        count: 16,
                        len: 48,
                    },
                );
                f[5].1 = V::Cabundle {
                    indefinite: inner,
                    count: 4,
                };
                let bytes = encode(&f, outer);
                let p = parse(&bytes).unwrap();
                assert_eq!((p.pcrs.len(), p.cabundle.len()), (16, 4));
                assert_eq!(p.timestamp, 1_700_000_000_000);
                assert_eq!(p.nonce, None);
            }
        }
    }

    #[test]
    fn accepts_any_key_order_and_absent_optionals() {
        let mut f = good();
        f.reverse();
        assert!(parse(&encode(&f, false)).is_ok());
        let f: Vec<_> = good().into_iter().take(6).collect();
        let bytes = encode(&f, false);
        let p = parse(&bytes).unwrap();
        assert_eq!((p.public_key, p.user_data, p.nonce), (None, None, None));
    }

    #[test]
    fn size_limits() {
        let k1024 = [4u8; 1024];
        let k1025 = [4u8; 1025];
        for field in ["public_key", "user_data", "nonce"] {
            assert!(
                parse(&encode(&with(field, V::Bytes(&k1024)), false)).is_ok(),
                "{field}"
            );
            assert!(matches!(
                parse(&encode(&with(field, V::Bytes(&k1025)), false)),
                Err(Malformed::FieldSize { .. })
            ));
        }
        assert!(parse(&encode(&with("user_data", V::Bytes(&[])), false)).is_ok());
        assert!(matches!(
            parse(&encode(&with("public_key", V::Bytes(&[])), false)),
            Err(Malformed::FieldSize {
                field: "public_key",
                ..
            })
        ));
        assert!(matches!(
            parse(&encode(
                &with(
                    "cabundle",
                    V::Cabundle {
                        indefinite: true,
                        count: 17
                    }
                ),
                false
            )),
            Err(Malformed::FieldSize {
                field: "cabundle",
                ..
            })
        ));
        assert!(matches!(
            parse(&encode(
                &with(
                    "pcrs",
                    V::Pcrs {
                        indefinite: false,
                        count: 0,
                        len: 48
                    }
                ),
                false
            )),
            Err(Malformed::FieldSize { field: "pcrs", .. })
        ));
    }

    #[test]
    fn named_rejections() {
        let cases: Vec<(Vec<(&str, V<'_>)>, Malformed)> = vec![
            (
                with("timestamp", V::Text("now")),
                Malformed::WrongType("timestamp"),
            ),
            (
                with("module_id", V::Null),
                Malformed::NullField("module_id"),
            ),
            (
                with("certificate", V::Null),
                Malformed::NullField("certificate"),
            ),
            (
                with("digest", V::Text("SHA512")),
                Malformed::UnsupportedDigest("SHA512".into()),
            ),
            (
                with(
                    "pcrs",
                    V::Pcrs {
                        indefinite: false,
                        count: 16,
                        len: 32,
                    },
                ),
                Malformed::PcrLength { index: 0, len: 32 },
            ),
            (
                with(
                    "pcrs",
                    V::Pcrs {
                        indefinite: true,
                        count: 33,
                        len: 48,
                    },
                ),
                Malformed::PcrIndex(32),
            ),
            (
                good().into_iter().skip(1).collect(),
                Malformed::MissingField("module_id"),
            ),
            (
                good().into_iter().filter(|f| f.0 != "digest").collect(),
                Malformed::MissingField("digest"),
            ),
        ];
        for (fields, expected) in cases {
            assert_eq!(parse(&encode(&fields, false)).unwrap_err(), expected);
        }
        let mut dup = good();
        dup.push(("nonce", V::Null));
        assert_eq!(
            parse(&encode(&dup, false)).unwrap_err(),
            Malformed::DuplicateKey("payload")
        );
        let mut unknown = good();
        unknown.push(("extra", V::Null));
        assert_eq!(
            parse(&encode(&unknown, false)).unwrap_err(),
            Malformed::UnknownField("extra".into())
        );
    }

    #[test]
    fn truncation_and_trailing_bytes() {
        for indefinite in [false, true] {
            let bytes = encode(&good(), indefinite);
            for cut in 0..bytes.len() {
                assert!(
                    parse(&bytes[..cut]).is_err(),
                    "prefix of {cut} bytes accepted"
                );
            }
            let mut trailing = bytes.clone();
            trailing.push(0);
            assert_eq!(
                parse(&trailing).unwrap_err(),
                Malformed::TrailingBytes("payload")
            );
        }
        assert_eq!(parse(&[0xa9]).unwrap_err(), Malformed::Truncated("payload"));
        assert_eq!(parse(&[0x80]).unwrap_err(), Malformed::WrongType("payload"));
    }

    #[test]
    fn indefinite_strings_are_named() {
        // {"module_id": (_ "i-1")} as an indefinite text string.
        let mut bytes = vec![0xa1, 0x69];
        bytes.extend_from_slice(b"module_id");
        bytes.extend_from_slice(&[0x7f, 0x63, b'i', b'-', b'1', 0xff]);
        assert_eq!(
            parse(&bytes).unwrap_err(),
            Malformed::IndefiniteString("module_id")
        );
    }
}
