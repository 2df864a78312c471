//! A bounded set of intermediate certificates whose signatures were already verified.
//!
//! An entry is keyed by SHA-256(issuer public key ‖ TBS bytes): it records "this to-be-signed
//! content was signed by this issuer key". Keying on the TBS (not the whole DER) makes the entry
//! independent of signature encoding malleability; binding the issuer key makes it path-specific.
//! Validity periods, names and constraints are re-checked on every use; only the ECDSA check is
//! skipped. When full, the oldest entry is evicted.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use aws_lc_rs::digest;

/// Cache key: SHA-256(issuer point ‖ TBS).
pub(crate) type CacheKey = [u8; 32];

/// Bounded FIFO set of verified (issuer key, TBS) pairs; shareable across threads.
#[derive(Debug)]
pub struct CertCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    set: HashSet<CacheKey>,
    order: VecDeque<CacheKey>,
}

impl CertCache {
    /// A cache holding at most `capacity` entries (0 disables caching).
    pub fn new(capacity: usize) -> Self {
        CertCache {
            capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.lock().set.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every entry.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.set.clear();
        inner.order.clear();
    }

    pub(crate) fn key(issuer_point: &[u8], tbs: &[u8]) -> CacheKey {
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(issuer_point);
        ctx.update(tbs);
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.finish().as_ref());
        out
    }

    pub(crate) fn contains(&self, key: &CacheKey) -> bool {
        self.lock().set.contains(key)
    }

    pub(crate) fn insert(&self, key: CacheKey) {
        if self.capacity == 0 {
            return;
        }
        let mut inner = self.lock();
        if !inner.set.insert(key) {
            return;
        }
        inner.order.push_back(key);
        while inner.order.len() > self.capacity {
            if let Some(old) = inner.order.pop_front() {
                inner.set.remove(&old);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the set inconsistent with anything that
        // matters: at worst an entry is missing and gets re-verified.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_fifo() {
        let cache = CertCache::new(2);
        let (a, b, c) = (
            CertCache::key(b"k", b"a"),
            CertCache::key(b"k", b"b"),
            CertCache::key(b"k", b"c"),
        );
        cache.insert(a);
        cache.insert(b);
        cache.insert(b);
        assert_eq!(cache.len(), 2);
        cache.insert(c);
        assert_eq!(cache.len(), 2);
        assert!(!cache.contains(&a), "oldest evicted");
        assert!(cache.contains(&b) && cache.contains(&c));
        cache.clear();
        assert!(cache.is_empty());
    }

    #[test]
    fn key_binds_issuer() {
        assert_ne!(CertCache::key(b"k1", b"tbs"), CertCache::key(b"k2", b"tbs"));
    }

    #[test]
    fn zero_capacity_disables() {
        let cache = CertCache::new(0);
        cache.insert(CertCache::key(b"k", b"a"));
        assert!(cache.is_empty());
    }
}
