//! What the guest probe and its host-side upstreams agree on: the bulk stream's bytes and
//! the sink's one-line receipt, and both ends of the duplex check ([`duplex`], [`echo`]).
//!
//! The bulk check sends a deterministic pseudo-random stream through the proxy to a sink
//! upstream: first its length (8 bytes, big-endian), then the bytes. The sink reads that
//! many (or up to end of stream) and answers one line, `BYTES SHA256HEX\n` (a
//! [`Receipt`]); the guest compares it with what it sent. The length comes first because
//! the guest cannot half-close: vhost-device-vsock ignores a guest's shutdown of its
//! sending side alone.
//!
//! The duplex check streams both ways at once through one connection to an echo upstream
//! (see [`duplex`]): the guest's transmit and receive paths full at the same time.
#![forbid(unsafe_code)]

mod duplex;
pub mod heartbeat;

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

pub use duplex::{DUPLEX_SEED, DuplexError, DuplexReport, Limits, MAX_WRITE, duplex, echo};

/// A reproducible byte stream (xorshift64*): cheap to generate in an emulated guest, and
/// no two 8-byte words of a long run repeat, so a lost, doubled or reordered chunk
/// changes the hash.
#[derive(Debug, Clone)]
pub struct Pattern(u64);

impl Pattern {
    /// A stream starting from `seed` (0 is replaced by a fixed non-zero value).
    pub fn new(seed: u64) -> Self {
        Self(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    /// Fills `buf` with the next bytes of the stream (`buf.len()` a multiple of 8).
    pub fn fill(&mut self, buf: &mut [u8]) {
        debug_assert_eq!(buf.len() % 8, 0, "whole words only");
        for word in buf.chunks_exact_mut(8) {
            let mut x = self.0;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.0 = x;
            word.copy_from_slice(&x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
        }
    }

    /// The next chunk of a stream with `left` bytes still to send: fills `buf` and returns
    /// its first `min(left, buf.len())` bytes.
    pub fn next_chunk<'a>(&mut self, buf: &'a mut [u8], left: u64) -> &'a [u8] {
        self.fill(buf);
        let n = usize::try_from(left).map_or(buf.len(), |l| l.min(buf.len()));
        &buf[..n]
    }
}

/// Byte count and SHA-256 of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    /// Bytes hashed.
    pub bytes: u64,
    /// Their SHA-256.
    pub sha256: [u8; 32],
}

/// Hashes a stream as it passes.
#[derive(Debug, Clone, Default)]
pub struct Hasher {
    bytes: u64,
    sha: Sha256,
}

impl Hasher {
    /// Adds `data`.
    pub fn update(&mut self, data: &[u8]) {
        self.bytes += data.len() as u64;
        self.sha.update(data);
    }

    /// The receipt of everything added.
    pub fn finish(self) -> Receipt {
        Receipt {
            bytes: self.bytes,
            sha256: self.sha.finalize().into(),
        }
    }
}

impl Receipt {
    /// The SHA-256 in lower-case hex.
    pub fn sha256_hex(&self) -> String {
        self.sha256.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Display for Receipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.bytes, self.sha256_hex())
    }
}

/// Why a receipt line does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("receipt `{0}`: expected `BYTES SHA256HEX`")]
pub struct BadReceipt(String);

impl FromStr for Receipt {
    type Err = BadReceipt;

    fn from_str(s: &str) -> Result<Self, BadReceipt> {
        let bad = || BadReceipt(s.chars().take(100).collect());
        let (bytes, hex) = s.trim_end().split_once(' ').ok_or_else(bad)?;
        let bytes = bytes.parse().map_err(|_| bad())?;
        if hex.len() != 64 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let mut sha256 = [0u8; 32];
        for (i, b) in sha256.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(Receipt { bytes, sha256 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_round_trips_and_names_bad_lines() {
        let mut h = Hasher::default();
        h.update(b"abc");
        let r = h.finish();
        let line = r.to_string();
        assert_eq!(
            line,
            "3 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(format!("{line}\n").parse::<Receipt>(), Ok(r));
        for bad in ["", "3", "x ba78", "3 zz", &line[..line.len() - 1]] {
            assert!(bad.parse::<Receipt>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn pattern_is_reproducible_and_chunking_does_not_matter() {
        let mut whole = vec![0u8; 4096];
        Pattern::new(7).fill(&mut whole);
        let mut parts = vec![0u8; 4096];
        let mut p = Pattern::new(7);
        for chunk in parts.chunks_mut(1024) {
            p.fill(chunk);
        }
        assert_eq!(whole, parts);
        let mut other = vec![0u8; 4096];
        Pattern::new(8).fill(&mut other);
        assert_ne!(whole, other);
        let words: std::collections::HashSet<&[u8]> = whole.chunks(8).collect();
        assert_eq!(words.len(), 512, "no repeated word in a short run");
    }
}
