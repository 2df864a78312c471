//! The input store: private asks' encrypted inputs uploaded off chain, kept in memory under a
//! byte budget and an entry limit.
//!
//! An upload is accepted only if it hashes (keccak256) to the name it is stored under, so the
//! store holds nothing but ciphertexts some commitment may name; they are useless without
//! their ask's content key. An entry whose ask is live stays until that ask retires (settled or
//! expired); an entry no live ask claims is dropped `orphan_ttl` seconds (block time) after
//! its upload.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::InputsError;
use crate::types::Timestamp;

/// Bounds of the input store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreLimits {
    /// Largest single upload, in bytes.
    pub max_entry_bytes: usize,
    /// Total bytes held.
    pub max_bytes: usize,
    /// Entries held.
    pub max_entries: usize,
    /// Seconds of block time an upload no live ask claims is kept.
    pub orphan_ttl: u64,
}

impl Default for StoreLimits {
    fn default() -> Self {
        Self {
            max_entry_bytes: 1 << 20,
            max_bytes: 64 << 20,
            max_entries: 4096,
            orphan_ttl: 3_600,
        }
    }
}

/// What an accepted upload did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Uploaded {
    /// Stored now.
    Stored,
    /// The same bytes were already stored (or are inline in their ask).
    AlreadyPresent,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct InputStore {
    entries: BTreeMap<[u8; 32], Vec<u8>>,
    bytes: usize,
    /// Uploads by time, for dropping unclaimed ones.
    uploaded: BTreeSet<(Timestamp, [u8; 32])>,
}

impl InputStore {
    pub(crate) fn get(&self, hash: &[u8; 32]) -> Option<&[u8]> {
        self.entries.get(hash).map(Vec::as_slice)
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Checks and stores an upload.
    pub(crate) fn insert(
        &mut self,
        limits: &StoreLimits,
        now: Timestamp,
        hash: [u8; 32],
        data: &[u8],
    ) -> Result<Uploaded, InputsError> {
        if data.len() > limits.max_entry_bytes {
            return Err(InputsError::TooLarge {
                len: data.len(),
                max: limits.max_entry_bytes,
            });
        }
        if market_sealing::inputs_hash(data) != hash {
            return Err(InputsError::HashMismatch);
        }
        if self.entries.contains_key(&hash) {
            return Ok(Uploaded::AlreadyPresent);
        }
        if self.entries.len() >= limits.max_entries
            || self.bytes.saturating_add(data.len()) > limits.max_bytes
        {
            return Err(InputsError::StoreFull);
        }
        self.bytes += data.len();
        self.entries.insert(hash, data.to_vec());
        self.uploaded.insert((now, hash));
        Ok(Uploaded::Stored)
    }

    pub(crate) fn remove(&mut self, hash: &[u8; 32]) {
        if let Some(data) = self.entries.remove(hash) {
            self.bytes -= data.len();
        }
    }

    /// Uploads made more than `ttl` seconds before `now`, oldest first; each is returned once.
    pub(crate) fn take_aged(&mut self, now: Timestamp, ttl: u64) -> Vec<[u8; 32]> {
        let mut out = Vec::new();
        while let Some(&(at, hash)) = self.uploaded.first() {
            if at.saturating_add(ttl) >= now {
                break;
            }
            self.uploaded.pop_first();
            out.push(hash);
        }
        out
    }
}
