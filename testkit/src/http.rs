//! One HTTP/1.1 `GET` over any byte stream (a Unix socket to the enclave app, or TCP through the
//! host proxy): what the tests and the devnet need from the app's API, without an HTTP stack.

use std::io::{Read, Write};

/// Upper bound on a response (the app's largest answer, an attestation document, is ~5 KiB).
const MAX_RESPONSE: u64 = 1 << 20;

/// Why a `GET` gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The stream failed (connect, write, read or timeout).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The bytes that came back are not an HTTP response.
    #[error("not an HTTP response: {0}")]
    Malformed(&'static str),
}

/// Sends `GET path` with `Connection: close` on `stream`; returns the status and the body.
///
/// # Errors
/// [`HttpError::Io`] when the stream fails, [`HttpError::Malformed`] when the answer has no
/// status line or no end of headers.
pub fn get(mut stream: impl Read + Write, path: &str) -> Result<(u16, Vec<u8>), HttpError> {
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: engine\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.take(MAX_RESPONSE).read_to_end(&mut raw)?;
    parse_response(&raw)
}

/// Splits a whole HTTP/1.1 response into its status and its body.
///
/// # Errors
/// [`HttpError::Malformed`] when the answer has no status line or no end of headers.
pub fn parse_response(raw: &[u8]) -> Result<(u16, Vec<u8>), HttpError> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or(HttpError::Malformed("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or(HttpError::Malformed("no status code"))?;
    Ok((status, raw[split + 4..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A canned answer; records what was written.
    struct Canned {
        answer: std::io::Cursor<Vec<u8>>,
        written: Vec<u8>,
    }
    impl Read for Canned {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.answer.read(buf)
        }
    }
    impl Write for Canned {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    fn canned(answer: &[u8]) -> Canned {
        Canned {
            answer: std::io::Cursor::new(answer.to_vec()),
            written: Vec::new(),
        }
    }

    #[test]
    fn splits_status_and_body() {
        let mut s = canned(b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}");
        assert_eq!(get(&mut s, "/x").unwrap(), (404, b"{}".to_vec()));
        assert!(s.written.starts_with(b"GET /x HTTP/1.1\r\n"));
    }

    #[test]
    fn names_a_response_without_headers_end_or_status() {
        assert!(matches!(
            get(canned(b"HTTP/1.1 200 OK\r\n"), "/"),
            Err(HttpError::Malformed("no end of headers"))
        ));
        assert!(matches!(
            get(canned(b"garbage\r\n\r\n"), "/"),
            Err(HttpError::Malformed("no status code"))
        ));
    }
}
