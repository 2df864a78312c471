//! Accepts a document as raw COSE bytes or as base64 text of them.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::Malformed;

/// Largest raw document accepted: the NSM response buffer is 12 KiB; leave room.
pub const MAX_DOCUMENT_LEN: usize = 16 * 1024;

/// Returns the raw COSE bytes: input starting with a CBOR array (`0x84`) or tag 18 (`0xd2`) is
/// raw; anything else is decoded as standard base64 with whitespace ignored.
pub fn decode_input(input: &[u8]) -> Result<Cow<'_, [u8]>, Malformed> {
    let raw: Cow<'_, [u8]> = match input.first() {
        None => return Err(Malformed::Empty),
        Some(0x84 | 0xd2) => Cow::Borrowed(input),
        Some(_) => {
            // Base64 is 4/3 the size; refuse before allocating for oversize text.
            if input.len() > MAX_DOCUMENT_LEN * 4 / 3 + 1024 {
                return Err(Malformed::TooLarge {
                    len: input.len(),
                    max: MAX_DOCUMENT_LEN,
                });
            }
            let text: Vec<u8> = input
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            Cow::Owned(STANDARD.decode(text).map_err(|_| Malformed::Base64)?)
        }
    };
    if raw.is_empty() {
        return Err(Malformed::Empty);
    }
    if raw.len() > MAX_DOCUMENT_LEN {
        return Err(Malformed::TooLarge {
            len: raw.len(),
            max: MAX_DOCUMENT_LEN,
        });
    }
    Ok(raw)
}

/// Rejects raw COSE bytes that are empty or larger than [`MAX_DOCUMENT_LEN`].
pub(crate) fn check_len(cose_bytes: &[u8]) -> Result<(), Malformed> {
    if cose_bytes.is_empty() {
        return Err(Malformed::Empty);
    }
    if cose_bytes.len() > MAX_DOCUMENT_LEN {
        return Err(Malformed::TooLarge {
            len: cose_bytes.len(),
            max: MAX_DOCUMENT_LEN,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_and_base64() {
        assert_eq!(&*decode_input(&[0x84, 1]).unwrap(), &[0x84, 1]);
        assert_eq!(&*decode_input(b"hAE=\n").unwrap(), &[0x84, 1]);
        assert_eq!(decode_input(b""), Err(Malformed::Empty));
        assert_eq!(decode_input(b"!!!"), Err(Malformed::Base64));
        assert!(matches!(
            decode_input(&vec![0x84; MAX_DOCUMENT_LEN + 1]),
            Err(Malformed::TooLarge { .. })
        ));
    }
}
