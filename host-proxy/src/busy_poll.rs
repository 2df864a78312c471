//! Busy polling: after bytes move, the forwarding thread keeps polling its sockets for a short
//! window instead of going to sleep, so the reply that usually follows within tens of µs finds
//! it awake.
//!
//! Why: a round trip through the proxy is four wake-ups (client → proxy → upstream → proxy →
//! client). A thread that sleeps between them is woken by the kernel, which puts a woken
//! thread on an idle CPU when there is one; on a virtual machine an idle vCPU is halted, and
//! waking it costs an inter-processor interrupt and a VM entry (on the 2-vCPU machine of
//! `ci/bench proxy`, 10-30 µs, against 2-3 µs for a wake-up on the CPU that is running). While
//! the forwarding thread polls, the two wake-ups of the proxy cost nothing; only the client's
//! and the upstream's own remain.
//!
//! How: one task of the forwarding runtime (a current-thread runtime) spins while the window
//! is open. Each turn it yields to the runtime (`yield_now`), which makes the runtime poll
//! its I/O driver without blocking (`epoll_wait` with a zero timeout) and run whatever became
//! ready, and then yields the CPU (`sched_yield`), so a client or upstream thread woken onto
//! this CPU runs at once instead of waiting behind the spin. Transfers report the bytes they
//! move ([`BusyPoll::moved`]); each report reopens the window. When the window closes without
//! bytes moving, the task sleeps until the next report, and the thread blocks in `epoll_wait`
//! as before.
//!
//! Cost: CPU. An idle proxy spins not at all; a proxy that forwards a message every `T` spends
//! at most `window / T` of a CPU spinning (at most one CPU in all), which is the price of not
//! being woken. `--busy-poll-us 0` turns it off.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// The window the binary uses unless told otherwise (`--busy-poll-us`), in µs: a JSON-RPC reply
/// from a chain node on the same host, or the enclave's next request, usually comes sooner.
pub const DEFAULT_WINDOW_US: u64 = 50;

/// The spin window shared by the poller task and the transfers that report to it.
#[derive(Debug, Clone)]
pub struct BusyPoll {
    inner: Option<Arc<Shared>>,
}

#[derive(Debug)]
struct Shared {
    window: Duration,
    /// Reports of moved bytes so far (only compared, never read as a count).
    moves: AtomicU64,
    /// Whether the poller is spinning (reports then need not wake it).
    spinning: AtomicBool,
    wake: Notify,
}

impl BusyPoll {
    /// No busy polling: the forwarding thread sleeps whenever it has nothing to do.
    pub fn off() -> Self {
        BusyPoll { inner: None }
    }

    /// Busy polling for `window` after each report of moved bytes (off if `window` is zero).
    pub fn new(window: Duration) -> Self {
        if window.is_zero() {
            return Self::off();
        }
        BusyPoll {
            inner: Some(Arc::new(Shared {
                window,
                moves: AtomicU64::new(0),
                spinning: AtomicBool::new(false),
                wake: Notify::new(),
            })),
        }
    }

    /// Whether the poller is in a window now.
    #[cfg(test)]
    fn is_spinning(&self) -> bool {
        self.inner
            .as_ref()
            .is_some_and(|s| s.spinning.load(Ordering::Relaxed))
    }

    /// Reports that a transfer moved bytes: (re)opens the window.
    pub(crate) fn moved(&self) {
        if let Some(s) = &self.inner {
            s.moves.fetch_add(1, Ordering::Relaxed);
            if !s.spinning.load(Ordering::Relaxed) {
                s.wake.notify_one();
            }
        }
    }

    /// The poller: runs until `stop` completes (returns at once when off). Spawn it on the
    /// runtime that forwards (a current-thread runtime: on a multi-thread one it would keep one
    /// worker spinning while the others do the work).
    pub(crate) async fn run(self, stop: impl std::future::Future<Output = ()>) {
        let Some(s) = self.inner else { return };
        tokio::select! {
            () = stop => {}
            () = s.poll_loop() => {}
        }
    }
}

impl Shared {
    async fn poll_loop(&self) {
        loop {
            self.wake.notified().await;
            self.spinning.store(true, Ordering::Relaxed);
            let mut seen = self.moves.load(Ordering::Relaxed);
            let mut until = Instant::now() + self.window;
            loop {
                tokio::task::yield_now().await;
                // The result says nothing useful: Linux's sched_yield always succeeds.
                let _ = nix::sched::sched_yield();
                let now = Instant::now();
                let moves = self.moves.load(Ordering::Relaxed);
                if moves != seen {
                    seen = moves;
                    until = now + self.window;
                } else if now >= until {
                    self.spinning.store(false, Ordering::Relaxed);
                    // A report between the last look and the store did not notify: look again.
                    if self.moves.load(Ordering::Relaxed) == seen {
                        break;
                    }
                    self.spinning.store(true, Ordering::Relaxed);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::future::pending;

    use nix::time::{ClockId, clock_gettime};
    use tokio::time::advance;

    use super::*;

    /// Lets the poller take a few turns of its loop.
    async fn turns() {
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
    }

    /// CPU time of the calling thread (the current-thread runtime's).
    fn thread_cpu() -> Duration {
        let t = clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).expect("thread CPU clock");
        Duration::from(t)
    }

    #[tokio::test]
    async fn off_polls_nothing_and_its_poller_ends_at_once() {
        let off = BusyPoll::new(Duration::ZERO);
        assert!(off.inner.is_none(), "a zero window is off");
        off.moved();
        tokio::time::timeout(Duration::from_secs(5), off.run(pending()))
            .await
            .expect("a poller that is off returns without waiting for its stop");
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn the_window_opens_on_a_report_reopens_on_the_next_and_closes_without_one() {
        let bp = BusyPoll::new(Duration::from_millis(10));
        let poller = tokio::spawn(bp.clone().run(pending()));
        turns().await;
        assert!(!bp.is_spinning(), "spinning before any bytes moved");

        bp.moved();
        turns().await;
        assert!(bp.is_spinning(), "a report did not open the window");
        advance(Duration::from_millis(6)).await;
        turns().await;
        assert!(bp.is_spinning(), "closed 6 ms into a 10 ms window");

        // A second report 6 ms in: the window now ends 10 ms after it, not after the first.
        bp.moved();
        turns().await;
        advance(Duration::from_millis(6)).await;
        turns().await;
        assert!(bp.is_spinning(), "a report did not reopen the window");
        advance(Duration::from_millis(5)).await;
        turns().await;
        assert!(
            !bp.is_spinning(),
            "still spinning 11 ms after the last report"
        );

        // Closed, it waits for the next report, and opens again on it.
        bp.moved();
        turns().await;
        assert!(bp.is_spinning(), "the window did not open again");
        poller.abort();
    }

    /// On real time and a real CPU clock: a window burns CPU while open and none once closed.
    #[tokio::test(flavor = "current_thread")]
    async fn the_poller_spends_cpu_only_inside_its_window() {
        let window = Duration::from_millis(40);
        let bp = BusyPoll::new(window);
        let poller = tokio::spawn(bp.clone().run(pending()));
        let idle = |d: Duration| async move {
            let t = thread_cpu();
            tokio::time::sleep(d).await;
            thread_cpu() - t
        };
        let before = idle(Duration::from_millis(100)).await;
        assert!(
            before < Duration::from_millis(20),
            "{before:?} of CPU before any report"
        );

        bp.moved();
        let open = idle(Duration::from_millis(100)).await;
        // Lower bound loose: another thread may share the CPU (the poller yields to it).
        assert!(
            open >= Duration::from_millis(5),
            "only {open:?} of CPU in a 40 ms window"
        );
        let after = idle(Duration::from_millis(100)).await;
        assert!(
            after < Duration::from_millis(20),
            "{after:?} of CPU after the window closed"
        );
        poller.abort();
    }
}
