//! Which connections the engine API holds: at most a fixed number, with the ones that are not
//! being answered (a request head still coming, or idle after an answer) given up first, by
//! the peer that holds the most, when a new connection needs a slot (see `limits.rs`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::listen::Peer;

/// Connection slots.
pub(crate) struct Admission {
    max: usize,
    queue: usize,
    table: Mutex<Table>,
    /// Signalled when a slot is released.
    freed: Notify,
}

#[derive(Default)]
struct Table {
    next_id: u64,
    conns: HashMap<u64, Held>,
    per_peer: HashMap<Peer, usize>,
    queued: usize,
}

struct Held {
    peer: Peer,
    /// Since when the connection has not been answered; `None` while a request is.
    waiting_since: Option<Instant>,
    /// Signalled when the connection loses its slot.
    close: Arc<Notify>,
}

/// Why a connection gets no slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refused {
    /// Every slot is being answered and the queue is full, or the wait ran out.
    #[error("every connection slot is busy")]
    Full,
}

/// What [`Admission::admit`] did to make room.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Made {
    /// A slot was free.
    Free,
    /// The connection waited in the queue.
    Queued,
    /// A connection that was not being answered was closed; its peer.
    Evicted(Peer),
}

impl Admission {
    /// `max` slots, and up to `queue` connections waiting for one.
    pub(crate) fn new(max: usize, queue: usize) -> Arc<Self> {
        Arc::new(Self {
            max,
            queue,
            table: Mutex::new(Table::default()),
            freed: Notify::new(),
        })
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        // Nothing panics while holding the lock; a poisoned table is still whole.
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A slot for a connection from `peer`, waiting up to `wait` in the queue when every slot
    /// is being answered.
    pub(crate) async fn admit(
        self: &Arc<Self>,
        peer: Peer,
        wait: Duration,
    ) -> Result<(Slot, Made), Refused> {
        if let Some(admitted) = self.try_admit(peer) {
            return Ok(admitted);
        }
        {
            let mut table = self.table();
            if table.queued >= self.queue {
                return Err(Refused::Full);
            }
            table.queued += 1;
        }
        let _queued = Queued(self);
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            if let Some((slot, _)) = self.try_admit(peer) {
                return Ok((slot, Made::Queued));
            }
            if tokio::time::timeout_at(deadline, freed).await.is_err() {
                return Err(Refused::Full);
            }
        }
    }

    fn try_admit(self: &Arc<Self>, peer: Peer) -> Option<(Slot, Made)> {
        let mut table = self.table();
        let mut made = Made::Free;
        if table.conns.len() >= self.max {
            let victim = table.victim()?;
            let held = table.release(victim)?;
            held.close.notify_one();
            made = Made::Evicted(held.peer);
        }
        let id = table.next_id;
        table.next_id += 1;
        let close = Arc::new(Notify::new());
        table.conns.insert(
            id,
            Held {
                peer,
                waiting_since: Some(Instant::now()),
                close: close.clone(),
            },
        );
        *table.per_peer.entry(peer).or_default() += 1;
        Some((
            Slot {
                admission: self.clone(),
                id,
                close,
            },
            made,
        ))
    }

    /// Connections held now.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.table().conns.len()
    }
}

impl Table {
    /// The connection to close for a new one: among those not being answered, the one waiting
    /// longest of the peer that holds the most connections.
    fn victim(&self) -> Option<u64> {
        let mut best: Option<(usize, Instant, u64)> = None;
        for (&id, held) in &self.conns {
            let Some(since) = held.waiting_since else {
                continue;
            };
            let load = self.per_peer.get(&held.peer).copied().unwrap_or(0);
            let better = match best {
                None => true,
                Some((best_load, best_since, _)) => {
                    load > best_load || (load == best_load && since < best_since)
                }
            };
            if better {
                best = Some((load, since, id));
            }
        }
        best.map(|(_, _, id)| id)
    }

    fn release(&mut self, id: u64) -> Option<Held> {
        let held = self.conns.remove(&id)?;
        if let Some(n) = self.per_peer.get_mut(&held.peer) {
            *n -= 1;
            if *n == 0 {
                self.per_peer.remove(&held.peer);
            }
        }
        Some(held)
    }
}

/// Leaves the queue when dropped.
struct Queued<'a>(&'a Admission);

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.table().queued -= 1;
    }
}

/// A held connection's slot, released when dropped.
pub(crate) struct Slot {
    admission: Arc<Admission>,
    id: u64,
    close: Arc<Notify>,
}

impl Slot {
    /// Completes when the connection has lost its slot to a new one.
    pub(crate) async fn evicted(&self) {
        self.close.notified().await;
    }

    /// A handle that marks the connection as being answered.
    pub(crate) fn handle(&self) -> SlotHandle {
        SlotHandle {
            admission: self.admission.clone(),
            id: self.id,
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let released = self.admission.table().release(self.id).is_some();
        if released {
            self.admission.freed.notify_one();
        }
    }
}

/// Marks its connection as being answered (see [`SlotHandle::busy`]).
#[derive(Clone)]
pub(crate) struct SlotHandle {
    admission: Arc<Admission>,
    id: u64,
}

impl SlotHandle {
    /// The connection is being answered until the guard is dropped: it cannot be evicted.
    pub(crate) fn busy(&self) -> Busy {
        self.set_waiting(None);
        Busy(self.clone())
    }

    fn set_waiting(&self, since: Option<Instant>) {
        if let Some(held) = self.admission.table().conns.get_mut(&self.id) {
            held.waiting_since = since;
        }
    }
}

/// See [`SlotHandle::busy`].
pub(crate) struct Busy(SlotHandle);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.set_waiting(Some(Instant::now()));
        // A queued connection may take this one's slot now.
        self.0.admission.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;

    const A: Peer = Peer::Ip(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)));
    const B: Peer = Peer::Ip(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)));
    const NOW: Duration = Duration::ZERO;

    #[tokio::test]
    async fn a_full_table_gives_up_the_oldest_waiting_connection_of_the_heaviest_peer() {
        let admission = Admission::new(3, 0);
        let (a1, _) = admission.admit(A, NOW).await.unwrap();
        let (a2, _) = admission.admit(A, NOW).await.unwrap();
        let (b1, _) = admission.admit(B, NOW).await.unwrap();
        // a1 is being answered: a2 is A's oldest waiting connection.
        let _answering = a1.handle().busy();
        let (_b2, made) = admission.admit(B, NOW).await.unwrap();
        assert_eq!(made, Made::Evicted(A));
        tokio::time::timeout(Duration::from_secs(1), a2.evicted())
            .await
            .expect("a2 is told to close");
        assert_eq!(admission.held(), 3);
        // Now B holds two: its oldest waiting one (b1) goes next, even for A.
        let (_a3, made) = admission.admit(A, NOW).await.unwrap();
        assert_eq!(made, Made::Evicted(B));
        tokio::time::timeout(Duration::from_secs(1), b1.evicted())
            .await
            .expect("b1 is told to close");
        // Dropping an evicted slot releases nothing twice.
        drop((a2, b1));
        assert_eq!(admission.held(), 3);
    }

    #[tokio::test]
    async fn when_every_slot_is_answering_a_connection_queues_then_is_refused() {
        let admission = Admission::new(1, 1);
        let (only, _) = admission.admit(A, NOW).await.unwrap();
        let busy = only.handle().busy();
        // Queue of one: a second waiter is refused at once.
        let waiting = {
            let admission = admission.clone();
            tokio::spawn(async move { admission.admit(B, Duration::from_secs(10)).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(matches!(
            admission.admit(B, Duration::from_secs(10)).await,
            Err(Refused::Full)
        ));
        // The slot frees: the queued connection gets it.
        drop(busy);
        drop(only);
        let (slot, made) = waiting.await.unwrap().unwrap();
        assert_eq!(made, Made::Queued);
        // A wait that runs out is a refusal.
        let _busy = slot.handle().busy();
        assert!(matches!(
            admission.admit(A, Duration::from_millis(20)).await,
            Err(Refused::Full)
        ));
    }
}
