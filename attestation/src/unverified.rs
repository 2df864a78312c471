//! Reading what a document says without verifying any of it: [`read_unverified`] and
//! [`UnverifiedDocument`].

use std::collections::BTreeMap;

use nitro_pcrs::Pcr;

use crate::document::pcr_map;
use crate::error::Malformed;
use crate::input::check_len;
use crate::{cose, payload};

/// What an attestation document **claims**, read without any verification.
///
/// **Nothing in it is authenticated.** Not the COSE signature, not the certificate chain, not the
/// protected header's algorithm, not the timestamp, not any policy (freshness, debug mode, PCRs,
/// nonce) was checked: anyone can write any value into any field. An emulated NSM (qemu's
/// `nitro-enclave` machine) writes real PCRs, nonce, public_key and user_data under a zero-filled
/// certificate, CA bundle and signature; a forger can write anything at all.
///
/// Use it to look inside a document (logs, boot tests, an operator's first look) and never to
/// decide anything: decisions take a [`VerifiedDocument`](crate::VerifiedDocument) from
/// [`Verifier::verify`](crate::Verifier::verify). It is deliberately a separate type from
/// [`AttestationDocument`](crate::AttestationDocument) (which means "signature and chain verified"),
/// with no conversion into it or into `VerifiedDocument`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnverifiedDocument {
    /// Claimed NSM module id (AWS: `i-<instance>-enc<enclave>`).
    pub module_id: String,
    /// Digest algorithm of the PCRs; always `"SHA384"` (the parser rejects others).
    pub digest: &'static str,
    /// Claimed creation time, milliseconds since the epoch.
    pub timestamp_ms: u64,
    /// Claimed PCRs by index (each 48 bytes; the parser checks the lengths, not the values).
    pub pcrs: BTreeMap<u8, Pcr>,
    /// The leaf certificate bytes as found: not parsed, may be any bytes (qemu: 64 zero bytes).
    pub certificate: Vec<u8>,
    /// The CA bundle entries as found, root first: not parsed (qemu: one entry of 64 zero bytes).
    pub cabundle: Vec<Vec<u8>>,
    /// Claimed `public_key`, if any.
    pub public_key: Option<Vec<u8>>,
    /// Claimed `user_data`, if any.
    pub user_data: Option<Vec<u8>>,
    /// Claimed `nonce`, if any.
    pub nonce: Option<Vec<u8>>,
    /// The protected header's `alg` when it is an integer: -35 (ES384) for an AWS NSM, -1 for
    /// qemu's emulated NSM; `None` when absent or given as text.
    pub cose_alg: Option<i64>,
    /// The COSE signature bytes as found (AWS: 96-byte `r‖s`; qemu: 64 zero bytes). Not checked.
    pub signature: Vec<u8>,
}

impl UnverifiedDocument {
    /// The claimed PCR at `index`, if reported.
    pub fn pcr(&self, index: u8) -> Option<&Pcr> {
        self.pcrs.get(&index)
    }
}

/// Reads what a document (raw COSE_Sign1 bytes; [`crate::decode_input`] turns base64 text into
/// them) says, **verifying nothing**: see [`UnverifiedDocument`].
///
/// The input is held to the same bounds as verification (non-empty, at most
/// [`MAX_DOCUMENT_LEN`](crate::MAX_DOCUMENT_LEN) bytes), the envelope must be a COSE_Sign1 (tag 18
/// optional) with an attached payload, and the payload must pass the same schema checks as in
/// [`Verifier::verify`](crate::Verifier::verify) (the nine AWS fields, `SHA384`, 48-byte PCRs,
/// field sizes). The protected header's algorithm, the signature (any length), the certificates
/// and every policy rule are not checked. Bad input is a named [`Malformed`] error, never a panic.
pub fn read_unverified(cose_bytes: &[u8]) -> Result<UnverifiedDocument, Malformed> {
    check_len(cose_bytes)?;
    let envelope = cose::decode_structure(cose_bytes)?;
    let p = payload::parse(envelope.payload)?;
    Ok(UnverifiedDocument {
        module_id: p.module_id.to_owned(),
        digest: "SHA384",
        timestamp_ms: p.timestamp,
        pcrs: pcr_map(&p),
        certificate: p.certificate.to_vec(),
        cabundle: p.cabundle.iter().map(|c| c.to_vec()).collect(),
        public_key: p.public_key.map(<[u8]>::to_vec),
        user_data: p.user_data.map(<[u8]>::to_vec),
        nonce: p.nonce.map(<[u8]>::to_vec),
        cose_alg: envelope.alg,
        signature: envelope.signature.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use coset::CborSerializable;
    use minicbor::Encoder;

    use super::*;

    /// A minimal valid payload (definite map, the nine fields).
    fn payload() -> Vec<u8> {
        let mut e = Encoder::new(Vec::new());
        e.map(9).unwrap();
        e.str("module_id").unwrap().str("i-234-enc5678").unwrap();
        e.str("digest").unwrap().str("SHA384").unwrap();
        e.str("timestamp").unwrap().u64(1_767_225_600_000).unwrap();
        e.str("pcrs").unwrap().map(3).unwrap();
        for i in 0..3u8 {
            e.u8(i).unwrap().bytes(&[i + 1; 48]).unwrap();
        }
        e.str("certificate").unwrap().bytes(&[0; 64]).unwrap();
        e.str("cabundle").unwrap().array(1).unwrap();
        e.bytes(&[0; 64]).unwrap();
        e.str("public_key").unwrap().bytes(b"pk").unwrap();
        e.str("user_data").unwrap().null().unwrap();
        e.str("nonce").unwrap().bytes(b"n").unwrap();
        e.into_writer()
    }

    /// `[protected, unprotected, payload, signature]` with the given pieces (already CBOR).
    fn envelope(protected: &[u8], unprotected: &[u8], payload: &[u8], signature: &[u8]) -> Vec<u8> {
        let mut e = Encoder::new(Vec::new());
        e.array(4).unwrap().bytes(protected).unwrap();
        let mut out = e.into_writer();
        out.extend_from_slice(unprotected);
        let mut e = Encoder::new(out);
        e.bytes(payload).unwrap().bytes(signature).unwrap();
        e.into_writer()
    }

    #[test]
    fn qemu_shape_reads() {
        // Protected {1: -1}, empty unprotected map, 64 zero bytes of signature.
        let doc = envelope(&[0xa1, 0x01, 0x20], &[0xa0], &payload(), &[0; 64]);
        let d = read_unverified(&doc).unwrap();
        assert_eq!(d.module_id, "i-234-enc5678");
        assert_eq!(d.timestamp_ms, 1_767_225_600_000);
        assert_eq!(d.pcr(2), Some(&Pcr::new([3; 48])));
        assert_eq!((d.cose_alg, d.signature.len()), (Some(-1), 64));
        assert_eq!((d.certificate.len(), d.cabundle.len()), (64, 1));
        assert_eq!(d.public_key.as_deref(), Some(&b"pk"[..]));
        assert_eq!((d.user_data, d.nonce.as_deref()), (None, Some(&b"n"[..])));
        // Tag 18 and an indefinite outer array read the same.
        let mut tagged = vec![0xd2];
        tagged.extend_from_slice(&doc);
        assert_eq!(read_unverified(&tagged).unwrap().module_id, "i-234-enc5678");
        let mut indefinite = doc.clone();
        indefinite[0] = 0x9f;
        indefinite.push(0xff);
        assert_eq!(read_unverified(&indefinite).unwrap().cose_alg, Some(-1));
        // coset refuses alg -1 outright (outside IANA's registry and the private range), which is
        // why reading does not go through it; the verifier's decoder then names the algorithm.
        assert!(matches!(
            coset::CoseSign1::from_slice(&doc),
            Err(coset::CoseError::UnregisteredIanaNonPrivateValue)
        ));
        assert_eq!(
            cose::decode(&doc).err(),
            Some(Malformed::UnsupportedAlgorithm)
        );
    }

    #[test]
    fn protected_header_forms() {
        let alg = |protected: &[u8]| {
            read_unverified(&envelope(protected, &[0xa0], &payload(), &[0; 96])).map(|d| d.cose_alg)
        };
        assert_eq!(alg(&[0xa1, 0x01, 0x38, 0x22]), Ok(Some(-35)));
        assert_eq!(alg(&[]), Ok(None));
        assert_eq!(alg(&[0xa0]), Ok(None));
        // Text alg, other labels before it, an indefinite map, a u64 beyond i64.
        assert_eq!(alg(&[0xa1, 0x01, 0x61, b'x']), Ok(None));
        assert_eq!(alg(&[0xa2, 0x04, 0x41, 0, 0x01, 0x26]), Ok(Some(-7)));
        assert_eq!(alg(&[0xbf, 0x01, 0x38, 0x22, 0xff]), Ok(Some(-35)));
        let big = [
            0xa1, 0x01, 0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ];
        assert_eq!(alg(&big), Ok(None));
        // Not a map, truncated, or followed by bytes.
        for bad in [&[0x01][..], &[0xa1, 0x01], &[0xa0, 0x00], &[0x80]] {
            assert!(
                matches!(alg(bad), Err(Malformed::Envelope(_))),
                "{bad:02x?}: {:?}",
                alg(bad)
            );
        }
    }

    #[test]
    fn malformed_envelopes_are_named() {
        let p = payload();
        let good = envelope(&[0xa1, 0x01, 0x20], &[0xa0], &p, &[0; 64]);
        assert_eq!(read_unverified(&[]), Err(Malformed::Empty));
        assert!(matches!(
            read_unverified(&vec![0x84; crate::MAX_DOCUMENT_LEN + 1]),
            Err(Malformed::TooLarge { .. })
        ));
        // Every strict prefix is truncated or otherwise malformed, never a panic.
        for n in 1..good.len() {
            assert!(read_unverified(&good[..n]).is_err(), "prefix {n}");
        }
        assert_eq!(
            read_unverified(&good[..good.len() - 1]),
            Err(Malformed::Truncated("envelope"))
        );
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(
            read_unverified(&trailing),
            Err(Malformed::TrailingBytes("envelope"))
        );
        // Wrong shapes.
        let three = {
            let mut e = Encoder::new(Vec::new());
            e.array(3).unwrap().bytes(&[]).unwrap().map(0).unwrap();
            e.bytes(&p).unwrap();
            e.into_writer()
        };
        assert!(matches!(
            read_unverified(&three),
            Err(Malformed::Envelope(_))
        ));
        assert!(matches!(
            read_unverified(&envelope(&[0xa0], &[0x80], &p, &[])),
            Err(Malformed::Envelope(_))
        ));
        let mut null_payload = Encoder::new(Vec::new());
        null_payload
            .array(4)
            .unwrap()
            .bytes(&[])
            .unwrap()
            .map(0)
            .unwrap();
        null_payload.null().unwrap().bytes(&[]).unwrap();
        assert_eq!(
            read_unverified(&null_payload.into_writer()),
            Err(Malformed::MissingPayload)
        );
        // A tag other than 18 in front is not an envelope.
        let mut tag17 = vec![0xd1];
        tag17.extend_from_slice(&good);
        assert!(matches!(
            read_unverified(&tag17),
            Err(Malformed::Envelope(_))
        ));
        // The payload goes through the same schema checks as verification.
        let bad_payload = envelope(&[], &[0xa0], &[0xa0], &[]);
        assert_eq!(
            read_unverified(&bad_payload),
            Err(Malformed::MissingField("module_id"))
        );
        assert!(matches!(
            read_unverified(b"%% not a document %%"),
            Err(Malformed::Envelope(_))
        ));
    }
}
