//! Just enough CBOR to find the signatures of a Nitro attestation document.

use minicbor::Decoder;
use minicbor::data::Type;

use crate::Error;

pub(crate) struct Envelope {
    pub(crate) payload: Vec<u8>,
    pub(crate) signature: Vec<u8>,
}

pub(crate) struct Payload {
    pub(crate) certificate: Vec<u8>,
    pub(crate) cabundle: Vec<Vec<u8>>,
}

fn bad(what: &'static str) -> impl Fn(minicbor::decode::Error) -> Error {
    move |_| Error::Malformed(what)
}

/// COSE_Sign1, tagged (18) or untagged: `[protected, unprotected, payload, signature]`.
pub(crate) fn envelope(bytes: &[u8]) -> Result<Envelope, Error> {
    let mut d = Decoder::new(bytes);
    if d.datatype().map_err(bad("envelope"))? == Type::Tag {
        d.tag().map_err(bad("tag"))?;
    }
    d.array().map_err(bad("envelope"))?;
    d.skip().map_err(bad("protected"))?;
    d.skip().map_err(bad("unprotected"))?;
    let payload = d.bytes().map_err(bad("payload"))?.to_vec();
    let signature = d.bytes().map_err(bad("signature"))?.to_vec();
    if signature.len() != 96 {
        return Err(Error::Malformed("signature length"));
    }
    Ok(Envelope { payload, signature })
}

/// The `certificate` and `cabundle` fields of the payload map (definite or indefinite).
pub(crate) fn payload(bytes: &[u8]) -> Result<Payload, Error> {
    let mut d = Decoder::new(bytes);
    let len = d.map().map_err(bad("payload"))?;
    let mut certificate = None;
    let mut cabundle = None;
    let mut i = 0u64;
    loop {
        match len {
            Some(n) if i == n => break,
            None if d.datatype().map_err(bad("payload"))? == Type::Break => break,
            _ => {}
        }
        i += 1;
        match d.str().map_err(bad("payload key"))? {
            "certificate" => certificate = Some(d.bytes().map_err(bad("certificate"))?.to_vec()),
            "cabundle" => {
                let mut certs = Vec::new();
                for cert in d
                    .array_iter::<&minicbor::bytes::ByteSlice>()
                    .map_err(bad("cabundle"))?
                {
                    certs.push(cert.map_err(bad("cabundle"))?.to_vec());
                }
                cabundle = Some(certs);
            }
            _ => d.skip().map_err(bad("payload value"))?,
        }
    }
    Ok(Payload {
        certificate: certificate.ok_or(Error::Malformed("certificate missing"))?,
        cabundle: cabundle
            .filter(|c| !c.is_empty())
            .ok_or(Error::Malformed("cabundle missing"))?,
    })
}
