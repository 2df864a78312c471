//! Private inputs uploaded through the HTTP API, on their way to the engine.
//!
//! The HTTP task checks an upload (size, keccak256 against its name, room) and queues it; the
//! engine service drains the queue into its replica on its next round. Room is counted over
//! the engine's input store and the queue together, so the two never hold more than the
//! store's budget. Nothing here is trusted: a queued upload is only bytes that hash to the
//! name a requester gave them, useless without the ask's content key.

use std::sync::Mutex;

use bytes::Bytes;
use matching_engine::{InputsError, StoreLimits, keccak256};

/// What [`Uploads::offer`] did with a valid upload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Offered {
    /// Queued for the engine.
    Queued,
    /// Already queued or stored.
    AlreadyPresent,
}

/// The upload queue.
pub(crate) struct Uploads {
    limits: StoreLimits,
    queue: Mutex<Vec<([u8; 32], Bytes)>>,
}

impl Uploads {
    pub(crate) fn new(limits: StoreLimits) -> Self {
        Self {
            limits,
            queue: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn limits(&self) -> &StoreLimits {
        &self.limits
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Vec<([u8; 32], Bytes)>> {
        // No code panics while holding the lock; a poisoned queue is still whole.
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Checks and queues an upload named `hash`. `stored` is the engine store's (entries,
    /// bytes) and `present` whether the engine already has these inputs.
    ///
    /// # Errors
    /// [`InputsError::TooLarge`], [`InputsError::HashMismatch`], or [`InputsError::StoreFull`]
    /// when the store and the queue together have no room.
    pub(crate) fn offer(
        &self,
        hash: [u8; 32],
        body: Bytes,
        stored: (usize, usize),
        present: bool,
    ) -> Result<Offered, InputsError> {
        if body.len() > self.limits.max_entry_bytes {
            return Err(InputsError::TooLarge {
                len: body.len(),
                max: self.limits.max_entry_bytes,
            });
        }
        if keccak256(&body) != hash {
            return Err(InputsError::HashMismatch);
        }
        let mut queue = self.queue();
        if present || queue.iter().any(|(h, _)| *h == hash) {
            return Ok(Offered::AlreadyPresent);
        }
        let queued: usize = queue.iter().map(|(_, b)| b.len()).sum();
        let entries = stored.0 + queue.len();
        let bytes = stored.1 + queued;
        if entries >= self.limits.max_entries
            || bytes.saturating_add(body.len()) > self.limits.max_bytes
        {
            return Err(InputsError::StoreFull);
        }
        queue.push((hash, body));
        Ok(Offered::Queued)
    }

    /// A queued upload.
    pub(crate) fn get(&self, hash: &[u8; 32]) -> Option<Bytes> {
        self.queue()
            .iter()
            .find(|(h, _)| h == hash)
            .map(|(_, b)| b.clone())
    }

    /// Number of queued uploads.
    pub(crate) fn len(&self) -> usize {
        self.queue().len()
    }

    /// Takes every queued upload, oldest first.
    pub(crate) fn drain(&self) -> Vec<([u8; 32], Bytes)> {
        core::mem::take(&mut *self.queue())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> StoreLimits {
        StoreLimits {
            max_entry_bytes: 10,
            max_bytes: 15,
            max_entries: 2,
            orphan_ttl: 60,
        }
    }

    fn blob(n: u8, len: usize) -> (Bytes, [u8; 32]) {
        let b = Bytes::from(vec![n; len]);
        let h = keccak256(&b);
        (b, h)
    }

    #[test]
    fn uploads_are_checked_and_bounded_with_the_store() {
        let u = Uploads::new(limits());
        let (big, h) = blob(1, 11);
        assert_eq!(
            u.offer(h, big, (0, 0), false),
            Err(InputsError::TooLarge { len: 11, max: 10 })
        );
        let (b, h) = blob(1, 10);
        assert_eq!(
            u.offer([0; 32], b.clone(), (0, 0), false),
            Err(InputsError::HashMismatch)
        );
        assert_eq!(u.offer(h, b.clone(), (0, 0), false), Ok(Offered::Queued));
        assert_eq!(
            u.offer(h, b.clone(), (0, 0), false),
            Ok(Offered::AlreadyPresent)
        );
        assert_eq!(u.get(&h), Some(b));
        let (c, hc) = blob(2, 6);
        assert_eq!(
            u.offer(hc, c.clone(), (0, 0), false),
            Err(InputsError::StoreFull),
            "15-byte budget"
        );
        let (d, hd) = blob(3, 5);
        assert_eq!(
            u.offer(hd, d.clone(), (1, 0), false),
            Err(InputsError::StoreFull),
            "two entries with the store's"
        );
        assert_eq!(u.offer(hd, d, (0, 0), false), Ok(Offered::Queued));
        assert_eq!(u.drain().len(), 2);
        assert_eq!(u.len(), 0);
        assert_eq!(u.offer(hc, c, (0, 0), true), Ok(Offered::AlreadyPresent));
    }
}
