//! Encodes attestation payloads and COSE_Sign1 envelopes exactly as the AWS NSM does: payload map
//! `module_id, digest, timestamp, pcrs, certificate, cabundle, public_key, user_data, nonce`,
//! absent optionals as CBOR null, protected header `{1: -35}`, empty unprotected map.

use coset::{CborSerializable, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable, iana};
use minicbor::Encoder;

use super::ca::DevLeaf;
use crate::document::AttestationDocument;
use crate::error::NsmError;

/// Every payload field, editable (including into invalid values, to build bad documents).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentFields {
    /// `module_id`.
    pub module_id: String,
    /// `digest`.
    pub digest: String,
    /// `timestamp` (ms).
    pub timestamp: u64,
    /// `pcrs`, in map order.
    pub pcrs: Vec<(u64, Vec<u8>)>,
    /// `certificate` (leaf DER).
    pub certificate: Vec<u8>,
    /// `cabundle`, root first.
    pub cabundle: Vec<Vec<u8>>,
    /// `public_key`.
    pub public_key: Option<Vec<u8>>,
    /// `user_data`.
    pub user_data: Option<Vec<u8>>,
    /// `nonce`.
    pub nonce: Option<Vec<u8>>,
    /// Write the payload map with indefinite length (`bf … ff`), as some AWS documents do.
    pub indefinite_map: bool,
}

impl DocumentFields {
    /// The fields of an authenticated document, to re-encode or mutate.
    pub fn from_document(doc: &AttestationDocument) -> Self {
        DocumentFields {
            module_id: doc.module_id.clone(),
            digest: doc.digest.into(),
            timestamp: doc.timestamp_ms,
            pcrs: doc
                .pcrs
                .iter()
                .map(|(i, v)| (u64::from(*i), v.as_bytes().to_vec()))
                .collect(),
            certificate: doc.certificate.clone(),
            cabundle: doc.cabundle.clone(),
            public_key: doc.public_key.clone(),
            user_data: doc.user_data.clone(),
            nonce: doc.nonce.clone(),
            indefinite_map: false,
        }
    }

    /// The fields of `doc` (its PCRs and time) with what an enclave typically asks for under
    /// qemu's `nitro-enclave` machine: a module id, an uncompressed public key, `user_data`
    /// `"boot"` and a 32-byte nonce. Feed them to [`emulated_nsm_document`] for the document
    /// that machine's emulated NSM returns.
    pub fn emulated_request(doc: &AttestationDocument) -> Self {
        let mut fields = Self::from_document(doc);
        fields.module_id = "i-234-enc5678".into();
        fields.public_key = Some(vec![0x04; 65]);
        fields.user_data = Some(b"boot".to_vec());
        fields.nonce = Some(vec![0xab; 32]);
        fields
    }

    /// The CBOR payload.
    pub fn encode_payload(&self) -> Vec<u8> {
        let mut e = Encoder::new(Vec::with_capacity(8192));
        // Writing into a Vec cannot fail: the encoder's only errors are the writer's.
        let result: Result<(), minicbor::encode::Error<std::convert::Infallible>> = (|| {
            if self.indefinite_map {
                e.begin_map()?;
            } else {
                e.map(9)?;
            }
            e.str("module_id")?.str(&self.module_id)?;
            e.str("digest")?.str(&self.digest)?;
            e.str("timestamp")?.u64(self.timestamp)?;
            e.str("pcrs")?.map(self.pcrs.len() as u64)?;
            for (i, v) in &self.pcrs {
                e.u64(*i)?.bytes(v)?;
            }
            e.str("certificate")?.bytes(&self.certificate)?;
            e.str("cabundle")?.array(self.cabundle.len() as u64)?;
            for c in &self.cabundle {
                e.bytes(c)?;
            }
            for (k, v) in [
                ("public_key", &self.public_key),
                ("user_data", &self.user_data),
                ("nonce", &self.nonce),
            ] {
                e.str(k)?;
                match v {
                    Some(b) => e.bytes(b)?,
                    None => e.null()?,
                };
            }
            if self.indefinite_map {
                e.end()?;
            }
            Ok(())
        })();
        result.expect("encoding into a Vec is infallible");
        e.into_writer()
    }

    /// An untagged COSE_Sign1 over the payload, signed by `leaf` (ES384).
    pub fn sign(&self, leaf: &DevLeaf) -> Result<Vec<u8>, NsmError> {
        sign_payload(self.encode_payload(), leaf, false)
    }
}

/// Wraps `payload` in a COSE_Sign1 signed by `leaf`; `tagged` adds CBOR tag 18.
pub fn sign_payload(payload: Vec<u8>, leaf: &DevLeaf, tagged: bool) -> Result<Vec<u8>, NsmError> {
    let mut failure = None;
    let sign1 = CoseSign1Builder::new()
        .protected(
            HeaderBuilder::new()
                .algorithm(iana::Algorithm::ES384)
                .build(),
        )
        .payload(payload)
        .create_signature(&[], |tbs| match leaf.sign(tbs) {
            Ok(sig) => sig,
            Err(e) => {
                failure = Some(e);
                Vec::new()
            }
        })
        .build();
    if let Some(e) = failure {
        return Err(e);
    }
    let bytes = if tagged {
        sign1.to_tagged_vec()
    } else {
        sign1.to_vec()
    };
    bytes.map_err(|e| NsmError::Dev(e.to_string()))
}

/// Wraps `payload` in an untagged ES384 COSE_Sign1 carrying `signature` as given (no signing):
/// for documents whose signature must be stale or foreign.
pub fn envelope_with_signature(payload: Vec<u8>, signature: Vec<u8>) -> Vec<u8> {
    let sign1 = CoseSign1Builder::new()
        .protected(
            HeaderBuilder::new()
                .algorithm(iana::Algorithm::ES384)
                .build(),
        )
        .payload(payload)
        .signature(signature)
        .build();
    sign1
        .to_vec()
        .expect("encoding a COSE_Sign1 into a Vec is infallible")
}

/// Like [`sign_payload`] but with an arbitrary protected `alg` (to build wrong-algorithm inputs).
pub fn sign_payload_with_alg(
    payload: Vec<u8>,
    leaf: &DevLeaf,
    alg: iana::Algorithm,
) -> Result<Vec<u8>, NsmError> {
    let protected = HeaderBuilder::new().algorithm(alg).build();
    let unsigned = CoseSign1Builder::new()
        .protected(protected.clone())
        .payload(payload.clone())
        .build();
    let signature = leaf.sign(&unsigned.tbs_data(&[]))?;
    let sign1 = CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .signature(signature)
        .build();
    sign1.to_vec().map_err(|e| NsmError::Dev(e.to_string()))
}

/// Length of qemu's zero-filled placeholders (certificate, the one CA bundle entry, signature).
const QEMU_PLACEHOLDER_LEN: usize = 64;

/// The document an emulated NSM returns (qemu's `nitro-enclave` machine, `hw/virtio/virtio-nsm.c`):
/// the payload of `fields` with `certificate` replaced by 64 zero bytes and `cabundle` by one entry
/// of 64 zero bytes, in an untagged COSE_Sign1 whose protected header is `{1: -1}` (no algorithm),
/// with an empty unprotected map and 64 zero bytes of signature. Nothing is signed:
/// [`crate::read_unverified`] reads it, every verifier rejects it
/// (`malformed.unsupported_algorithm`). qemu writes the timestamp as a 9-byte integer; this
/// encoder writes it minimally (both decode alike).
pub fn emulated_nsm_document(fields: &DocumentFields) -> Vec<u8> {
    let placeholder = vec![0u8; QEMU_PLACEHOLDER_LEN];
    let payload = DocumentFields {
        certificate: placeholder.clone(),
        cabundle: vec![placeholder.clone()],
        ..fields.clone()
    }
    .encode_payload();
    let mut e = Encoder::new(Vec::with_capacity(payload.len() + 128));
    let result: Result<(), minicbor::encode::Error<std::convert::Infallible>> = (|| {
        e.array(4)?;
        e.bytes(&[0xa1, 0x01, 0x20])?; // {1: -1}
        e.map(0)?;
        e.bytes(&payload)?;
        e.bytes(&placeholder)?;
        Ok(())
    })();
    result.expect("encoding into a Vec is infallible");
    e.into_writer()
}
