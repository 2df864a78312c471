//! Where the proxy keeps its deadlines, timeouts and intervals.
//!
//! By default they live in the runtime that serves the proxy. A runtime with a time driver
//! does timer bookkeeping each time its thread wakes (it reads the clock and scans and
//! advances its timer wheel, several hundred instructions), and on a runtime forwarding
//! small messages the thread wakes once per message: that work sits on the path of every
//! message, before the read and after the write. [`Timers::on_own_thread`] moves the timers
//! to a runtime of their own on a second thread, so the serving runtime can be built with
//! I/O only and its thread does no timer work until a deadline fires (then the timer thread
//! wakes the connection's task, a cross-thread wake-up that happens only on a timeout).

use std::future::IntoFuture;
use std::io;
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::time::{Instant, Interval, Sleep, Timeout};

/// Which runtime's time driver keeps the proxy's timers.
#[derive(Debug, Clone, Default)]
pub struct Timers {
    /// `None`: the runtime the proxy is served on.
    handle: Option<Handle>,
}

impl Timers {
    /// Timers on the runtime that serves the proxy (it must have its time driver enabled).
    pub fn in_serving_runtime() -> Self {
        Timers::default()
    }

    /// Timers on a current-thread runtime with only a time driver, on a thread of its own
    /// (named `host-proxy-timers`) that lives as long as the process. The runtime serving
    /// the proxy then needs only its I/O driver.
    pub fn on_own_thread() -> io::Result<Self> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()?;
        let handle = rt.handle().clone();
        // The runtime never shuts down: a timer polled after its driver stopped panics, and
        // connections may hold timers until the process exits.
        std::thread::Builder::new()
            .name("host-proxy-timers".into())
            .spawn(move || rt.block_on(std::future::pending::<()>()))?;
        Ok(Timers {
            handle: Some(handle),
        })
    }

    /// Runs `f` with these timers' runtime entered, so the timers it creates register there.
    fn within<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.handle {
            Some(h) => {
                let _entered = h.enter();
                f()
            }
            None => f(),
        }
    }

    pub(crate) fn sleep_until(&self, deadline: Instant) -> Sleep {
        self.within(|| tokio::time::sleep_until(deadline))
    }

    pub(crate) fn sleep(&self, duration: Duration) -> Sleep {
        self.within(|| tokio::time::sleep(duration))
    }

    pub(crate) fn timeout<F: IntoFuture>(
        &self,
        duration: Duration,
        future: F,
    ) -> Timeout<F::IntoFuture> {
        self.within(|| tokio::time::timeout(duration, future))
    }

    pub(crate) fn interval_at(&self, start: Instant, period: Duration) -> Interval {
        self.within(|| tokio::time::interval_at(start, period))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_on_their_own_thread_serve_a_runtime_without_a_time_driver() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .unwrap();
        let timers = Timers::on_own_thread().unwrap();
        rt.block_on(async {
            // The serving runtime really has no time driver of its own.
            let own = std::panic::catch_unwind(|| drop(tokio::time::sleep(Duration::ZERO)));
            assert!(own.is_err(), "the serving runtime has timers enabled");
            let t = Instant::now();
            timers.sleep(Duration::from_millis(30)).await;
            assert!(t.elapsed() >= Duration::from_millis(30));
            let never = std::future::pending::<()>();
            assert!(
                timers
                    .timeout(Duration::from_millis(10), never)
                    .await
                    .is_err()
            );
            let mut tick = timers.interval_at(Instant::now(), Duration::from_millis(5));
            tick.tick().await;
            tick.tick().await;
            // A deadline moved after the timer was created fires from the timer thread too.
            let mut sleep =
                Box::pin(timers.sleep_until(Instant::now() + Duration::from_secs(3600)));
            sleep
                .as_mut()
                .reset(Instant::now() + Duration::from_millis(10));
            sleep.await;
        });
    }
}
