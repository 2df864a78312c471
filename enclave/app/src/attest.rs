//! The attestation workers behind `/attestation/*`: a fixed number of threads call the NSM
//! (which serialises its requests anyway), fed by a bounded queue of distinct nonces.
//!
//! - Requests with the same nonce share one NSM call, whether it is waiting or running.
//! - A request whose client goes away before its NSM call starts is taken out of the queue
//!   (its [`Ticket`] is dropped with the request): no NSM call is made for it.
//! - A full queue refuses at once ([`QueueFull`]); the HTTP API answers `503`.
//!
//! The workers end when the [`Attester`] is dropped.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;

use crate::identity::AttestError;

/// What a worker hands every request of a job.
pub(crate) type Outcome = Result<Arc<Vec<u8>>, AttestError>;

/// A job's key: the caller's nonce.
type Nonce = Option<Vec<u8>>;

/// The queue is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the attestation queue is full")]
pub(crate) struct QueueFull;

/// Attestation workers over one identity's NSM.
pub(crate) struct Attester {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    /// Signalled when a job is queued or the attester is dropped.
    work: Condvar,
    queue_len: usize,
}

#[derive(Default)]
struct State {
    jobs: HashMap<Nonce, Job>,
    /// Jobs not yet started, oldest first.
    queue: VecDeque<Nonce>,
    next_waiter: u64,
    closed: bool,
}

#[derive(Default)]
struct Job {
    waiters: Vec<(u64, oneshot::Sender<Outcome>)>,
    started: bool,
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; a poisoned state is still whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Attester {
    /// Starts `workers` threads attesting with `identity`, with room for `queue` distinct
    /// nonces waiting.
    ///
    /// # Errors
    /// The operating system refused a thread.
    pub(crate) fn start(
        identity: impl Fn(Nonce) -> Result<Vec<u8>, AttestError> + Send + Sync + 'static,
        workers: usize,
        queue: usize,
    ) -> std::io::Result<Self> {
        let inner = Arc::new(Inner {
            state: Mutex::new(State::default()),
            work: Condvar::new(),
            queue_len: queue,
        });
        let attest = Arc::new(identity);
        for i in 0..workers {
            let inner = inner.clone();
            let attest = attest.clone();
            std::thread::Builder::new()
                .name(format!("attest-{i}"))
                .spawn(move || work(&inner, &*attest))?;
        }
        Ok(Self { inner })
    }

    /// Queues a document for `nonce`, or joins the job already waiting or running for it.
    ///
    /// # Errors
    /// [`QueueFull`].
    pub(crate) fn submit(&self, nonce: Nonce) -> Result<Ticket, QueueFull> {
        let mut state = self.inner.state();
        let id = state.next_waiter;
        state.next_waiter += 1;
        let (tx, rx) = oneshot::channel();
        if let Some(job) = state.jobs.get_mut(&nonce) {
            job.waiters.push((id, tx));
        } else {
            if state.queue.len() >= self.inner.queue_len {
                return Err(QueueFull);
            }
            state.queue.push_back(nonce.clone());
            state.jobs.insert(
                nonce.clone(),
                Job {
                    waiters: vec![(id, tx)],
                    started: false,
                },
            );
            self.inner.work.notify_one();
        }
        Ok(Ticket {
            inner: self.inner.clone(),
            nonce,
            id,
            rx: Some(rx),
        })
    }

    /// Jobs waiting for a worker.
    #[cfg(test)]
    pub(crate) fn queued(&self) -> usize {
        self.inner.state().queue.len()
    }
}

impl Drop for Attester {
    fn drop(&mut self) {
        self.inner.state().closed = true;
        self.inner.work.notify_all();
    }
}

fn work(inner: &Inner, attest: &(dyn Fn(Nonce) -> Result<Vec<u8>, AttestError> + Send + Sync)) {
    loop {
        let nonce = {
            let mut state = inner.state();
            loop {
                if state.closed {
                    return;
                }
                if let Some(nonce) = state.queue.pop_front() {
                    // A job whose waiters all left was removed with its queue entry.
                    if let Some(job) = state.jobs.get_mut(&nonce) {
                        job.started = true;
                        break nonce;
                    }
                    continue;
                }
                state = inner
                    .work
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        let outcome = attest(nonce.clone()).map(Arc::new);
        let job = inner.state().jobs.remove(&nonce);
        for (_, waiter) in job.map(|j| j.waiters).unwrap_or_default() {
            // A waiter that left meanwhile does not want it.
            let _ = waiter.send(outcome.clone());
        }
    }
}

/// A request's place in a job; dropping it leaves the job, and a job nobody waits for any
/// more leaves the queue.
pub(crate) struct Ticket {
    inner: Arc<Inner>,
    nonce: Nonce,
    id: u64,
    rx: Option<oneshot::Receiver<Outcome>>,
}

impl Ticket {
    /// The document, once a worker has it.
    pub(crate) async fn outcome(mut self) -> Outcome {
        match self.rx.take() {
            Some(rx) => rx.await.unwrap_or(Err(AttestError::WorkerGone)),
            None => Err(AttestError::WorkerGone),
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut state = self.inner.state();
        let Some(job) = state.jobs.get_mut(&self.nonce) else {
            return;
        };
        job.waiters.retain(|(id, _)| *id != self.id);
        if job.waiters.is_empty() && !job.started {
            state.jobs.remove(&self.nonce);
            state.queue.retain(|n| *n != self.nonce);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::test_nsm::{Gate, until};

    type Calls = Arc<Mutex<Vec<Nonce>>>;

    /// An attester whose calls wait at `gate`, recording the nonces they are called with.
    fn gated(workers: usize, queue: usize) -> (Attester, Arc<Gate>, Calls) {
        let gate = Arc::new(Gate::default());
        let calls = Calls::default();
        let (g, c) = (gate.clone(), calls.clone());
        let attester = Attester::start(
            move |nonce: Nonce| {
                c.lock().unwrap().push(nonce.clone());
                g.pass();
                Ok(nonce.unwrap_or_default())
            },
            workers,
            queue,
        )
        .unwrap();
        (attester, gate, calls)
    }

    #[tokio::test]
    async fn identical_nonces_share_a_call_and_a_full_queue_refuses() {
        let (attester, gate, calls) = gated(1, 1);
        gate.shut();
        let first = attester.submit(Some(vec![1])).unwrap();
        until("the first call", || calls.lock().unwrap().len() == 1).await;
        // Joins the running call.
        let same = attester.submit(Some(vec![1])).unwrap();
        // Takes the one queue place; a third nonce is refused, a joiner is not.
        let second = attester.submit(Some(vec![2])).unwrap();
        assert_eq!(attester.submit(Some(vec![3])).err(), Some(QueueFull));
        let second_again = attester.submit(Some(vec![2])).unwrap();
        gate.open();
        for (ticket, doc) in [(first, 1), (same, 1), (second, 2), (second_again, 2)] {
            assert_eq!(*ticket.outcome().await.unwrap(), vec![doc]);
        }
        assert_eq!(*calls.lock().unwrap(), [Some(vec![1]), Some(vec![2])]);
    }

    #[tokio::test]
    async fn a_request_that_leaves_before_its_call_starts_costs_no_call() {
        let (attester, gate, calls) = gated(1, 4);
        gate.shut();
        let running = attester.submit(None).unwrap();
        until("the first call", || calls.lock().unwrap().len() == 1).await;
        let left = attester.submit(Some(vec![7])).unwrap();
        let stays = attester.submit(Some(vec![8])).unwrap();
        assert_eq!(attester.queued(), 2);
        drop(left);
        assert_eq!(attester.queued(), 1);
        gate.open();
        assert_eq!(*running.outcome().await.unwrap(), Vec::<u8>::new());
        assert_eq!(*stays.outcome().await.unwrap(), vec![8]);
        assert_eq!(*calls.lock().unwrap(), [None, Some(vec![8])]);
    }

    #[test]
    fn workers_end_with_the_attester() {
        let count = Arc::new(AtomicUsize::new(0));
        let c = count.clone();
        let attester = Attester::start(
            move |_| {
                c.fetch_add(1, Ordering::SeqCst);
                Ok(Vec::new())
            },
            2,
            1,
        )
        .unwrap();
        let inner = Arc::downgrade(&attester.inner);
        drop(attester);
        for _ in 0..500 {
            if inner.strong_count() == 0 {
                assert_eq!(count.load(Ordering::SeqCst), 0);
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("the workers did not end");
    }
}
