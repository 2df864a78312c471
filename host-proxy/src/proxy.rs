//! The proxy: one accept loop per route over one shared core
//! (`accept → limit → dial (allowlist) → copy`), whatever the direction or transport.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn};

use crate::addr::Endpoint;
use crate::busy_poll::BusyPoll;
use crate::config::{Config, Route};
use crate::copy::{CopyOptions, Timeouts, Transfer};
use crate::error::{DialError, Error, Refusal, TransferError};
use crate::metrics::{Metrics, RouteMetrics};
use crate::timers::Timers;
use crate::transport::{ClientKey, Listener, Peer, Stream};
use crate::{admin, transport};

const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(5);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);
/// Per-connection warnings (refusals, unreachable upstream) of one route: at most one line
/// per this interval, carrying the count of those left out.
const WARN_INTERVAL: Duration = Duration::from_secs(10);

/// A proxy whose listeners are bound; [`Proxy::serve`] starts it.
#[derive(Debug)]
pub struct Proxy {
    routes: Vec<(Arc<Route>, Listener)>,
    admin: Option<Listener>,
    admin_max_connections: usize,
    metrics: Arc<Metrics>,
    drain_timeout: Duration,
    log_summary_interval: Duration,
    timers: Timers,
    busy_poll: BusyPoll,
}

/// What happened during shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DrainReport {
    /// Connections still open when the drain deadline passed, and then cut.
    pub cut: usize,
}

impl Proxy {
    /// Binds every listener (all or nothing: the first failure is returned).
    pub async fn bind(config: Config) -> Result<Self, Error> {
        let mut routes = Vec::with_capacity(config.routes.len());
        for route in config.routes {
            let l = Listener::bind(&route.listen)
                .await
                .map_err(|source| Error::Bind {
                    route: route.name.clone(),
                    endpoint: route.listen.to_string(),
                    source,
                })?;
            routes.push((Arc::new(route), l));
        }
        let admin = match &config.admin {
            Some(ep) => Some(Listener::bind(ep).await.map_err(|source| Error::Bind {
                route: "admin".into(),
                endpoint: ep.to_string(),
                source,
            })?),
            None => None,
        };
        Ok(Proxy {
            routes,
            admin,
            admin_max_connections: config.admin_max_connections,
            metrics: Arc::new(Metrics::new()),
            drain_timeout: config.drain_timeout,
            log_summary_interval: config.log_summary_interval,
            timers: Timers::in_serving_runtime(),
            busy_poll: BusyPoll::off(),
        })
    }

    /// Keeps the proxy's deadlines, timeouts and intervals on `timers` instead of the
    /// runtime that serves it (see [`Timers::on_own_thread`]).
    #[must_use]
    pub fn with_timers(mut self, timers: Timers) -> Self {
        self.timers = timers;
        self
    }

    /// Busy-polls the proxy's sockets for a window after bytes move (see [`BusyPoll`]). Only
    /// for a proxy served on a current-thread runtime.
    #[must_use]
    pub fn with_busy_poll(mut self, busy_poll: BusyPoll) -> Self {
        self.busy_poll = busy_poll;
        self
    }

    /// The address a route's listener is bound to (with the real port if 0 was configured).
    pub fn local_endpoint(&self, route: &str) -> Option<Endpoint> {
        self.routes
            .iter()
            .find(|(r, _)| r.name == route)
            .and_then(|(_, l)| l.local_endpoint().ok())
    }

    /// The bound address of `/metrics` and `/healthz`.
    pub fn admin_endpoint(&self) -> Option<Endpoint> {
        self.admin.as_ref().and_then(|l| l.local_endpoint().ok())
    }

    /// The metrics registry, shared with the running proxy.
    pub fn metrics(&self) -> Arc<Metrics> {
        Arc::clone(&self.metrics)
    }

    /// Serves until `shutdown` completes, then drains: listeners close at once,
    /// `/healthz` turns 503, open connections get `drain_timeout` to finish and
    /// are then cut.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) -> DrainReport {
        let stop = CancellationToken::new();
        let cut = CancellationToken::new();
        let tracker = TaskTracker::new();
        let draining = Arc::new(AtomicBool::new(false));
        let mut loops = JoinSet::new();
        let summaries_stop = CancellationToken::new();
        let mut summaries = JoinSet::new();
        for (route, listener) in self.routes {
            let ctx = RouteCtx {
                metrics: self.metrics.route(&route.name),
                limit: Arc::new(Semaphore::new(route.max_connections)),
                per_client: Arc::new(ClientCounts {
                    held: Mutex::new(HashMap::new()),
                    cap: route.max_connections_per_client,
                }),
                warnings: Arc::new(RateLimited::new(WARN_INTERVAL)),
                route,
                tracker: tracker.clone(),
                cut: cut.clone(),
                timers: self.timers.clone(),
                busy_poll: self.busy_poll.clone(),
            };
            summaries.spawn(log_summaries(
                ctx.metrics.clone(),
                self.log_summary_interval,
                summaries_stop.clone(),
                self.timers.clone(),
            ));
            // The bound address: with `tcp:IP:0` the kernel picked the port.
            let listen = listener
                .local_endpoint()
                .map_or_else(|_| ctx.route.listen.to_string(), |ep| ep.to_string());
            info!(route = %ctx.route.name, %listen, connect = %ctx.route.connect, "route up");
            loops.spawn(accept_loop(ctx, listener, stop.clone()));
        }
        let poller_stop = CancellationToken::new();
        let poller = tokio::spawn(
            self.busy_poll
                .clone()
                .run(poller_stop.clone().cancelled_owned()),
        );
        let admin_stop = CancellationToken::new();
        let admin_task = self.admin.map(|l| {
            if let Ok(ep) = l.local_endpoint() {
                info!(listen = %ep, "admin up");
            }
            tokio::spawn(admin::serve(
                l,
                self.admin_max_connections,
                Arc::clone(&self.metrics),
                Arc::clone(&draining),
                admin_stop.clone(),
                self.timers.clone(),
            ))
        });

        shutdown.await;
        info!(open = tracker.len(), drain_timeout = ?self.drain_timeout, "draining");
        draining.store(true, Ordering::SeqCst);
        stop.cancel();
        while loops.join_next().await.is_some() {}
        tracker.close();
        let mut report = DrainReport { cut: 0 };
        if self
            .timers
            .timeout(self.drain_timeout, tracker.wait())
            .await
            .is_err()
        {
            report.cut = tracker.len();
            warn!(
                cut = report.cut,
                "drain deadline passed, cutting open connections"
            );
            cut.cancel();
            tracker.wait().await;
        }
        admin_stop.cancel();
        if let Some(t) = admin_task {
            let _ = t.await;
        }
        summaries_stop.cancel();
        while summaries.join_next().await.is_some() {}
        poller_stop.cancel();
        let _ = poller.await;
        info!(cut = report.cut, "stopped");
        report
    }
}

struct RouteCtx {
    route: Arc<Route>,
    metrics: RouteMetrics,
    limit: Arc<Semaphore>,
    per_client: Arc<ClientCounts>,
    warnings: Arc<RateLimited>,
    tracker: TaskTracker,
    cut: CancellationToken,
    timers: Timers,
    busy_poll: BusyPoll,
}

/// Connections each client holds on one route. Only clients holding a connection have an
/// entry, so the map is bounded by the route's `max_connections`.
struct ClientCounts {
    held: Mutex<HashMap<ClientKey, usize>>,
    cap: usize,
}

/// One connection counted against its client; released on drop.
struct ClientSlot {
    counts: Arc<ClientCounts>,
    key: ClientKey,
}

impl ClientCounts {
    /// A slot for `key`, or `None` if that client already holds `cap` connections.
    fn try_acquire(self: &Arc<Self>, key: ClientKey) -> Option<ClientSlot> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let n = held.entry(key).or_insert(0);
        if *n >= self.cap {
            return None;
        }
        *n += 1;
        Some(ClientSlot {
            counts: Arc::clone(self),
            key,
        })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut held = self
            .counts
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = held.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.key);
            }
        }
    }
}

/// Lets one log line through per interval and counts the ones held back, so a flood of
/// refused or failing connections cannot flood the log.
pub(crate) struct RateLimited {
    interval: Duration,
    state: Mutex<(Option<Instant>, u64)>,
}

impl RateLimited {
    pub(crate) fn new(interval: Duration) -> Self {
        RateLimited {
            interval,
            state: Mutex::new((None, 0)),
        }
    }

    /// `Some(lines held back since the last one)` if a line may be logged now.
    pub(crate) fn check(&self) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let (last, held_back) = &mut *state;
        let now = Instant::now();
        if last.is_some_and(|l| now < l + self.interval) {
            *held_back += 1;
            return None;
        }
        *last = Some(now);
        Some(std::mem::take(held_back))
    }
}

/// Refuses a connection on purpose: counted, logged (rate-limited) naming the route, closed.
fn refuse(ctx: &RouteCtx, peer: &Peer, refusal: &Refusal) {
    ctx.metrics.refused(refusal.reason());
    debug!(route = %ctx.route.name, %peer, reason = refusal.reason(), "refused");
    if let Some(held_back) = ctx.warnings.check() {
        warn!(
            route = %ctx.route.name,
            %peer,
            reason = refusal.reason(),
            error = %refusal,
            held_back,
            "refused"
        );
    }
}

async fn accept_loop(ctx: RouteCtx, listener: Listener, stop: CancellationToken) {
    let mut backoff = ACCEPT_BACKOFF_MIN;
    loop {
        let accepted = tokio::select! {
            biased;
            () = stop.cancelled() => break,
            r = listener.accept() => r,
        };
        let (stream, peer) = match accepted {
            Ok(a) => {
                backoff = ACCEPT_BACKOFF_MIN;
                a
            }
            Err(e) => {
                // EMFILE and friends are transient: log, back off, keep listening.
                ctx.metrics.accept_errors.inc();
                warn!(route = %ctx.route.name, error = %e, ?backoff, "accept failed");
                tokio::select! {
                    () = stop.cancelled() => break,
                    () = ctx.timers.sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                continue;
            }
        };
        if !ctx.route.clients.permits(&peer) {
            refuse(&ctx, &peer, &Refusal::ClientNotAllowed);
            continue;
        }
        let Ok(permit) = Arc::clone(&ctx.limit).try_acquire_owned() else {
            refuse(&ctx, &peer, &Refusal::ConnectionLimit);
            continue;
        };
        let slot = match peer.client_key() {
            Some(key) => match ctx.per_client.try_acquire(key) {
                Some(slot) => Some(slot),
                None => {
                    refuse(&ctx, &peer, &Refusal::ClientLimit);
                    continue;
                }
            },
            None => None,
        };
        ctx.tracker.spawn(connection(
            Conn {
                route: Arc::clone(&ctx.route),
                metrics: ctx.metrics.clone(),
                warnings: Arc::clone(&ctx.warnings),
                cut: ctx.cut.clone(),
                timers: ctx.timers.clone(),
                busy_poll: ctx.busy_poll.clone(),
            },
            stream,
            peer,
            (permit, slot),
        ));
    }
    debug!(route = %ctx.route.name, "listener closed");
}

struct ActiveGuard<'a>(&'a RouteMetrics);

impl Drop for ActiveGuard<'_> {
    fn drop(&mut self) {
        self.0.active.dec();
    }
}

/// What one connection shares with its route.
struct Conn {
    route: Arc<Route>,
    metrics: RouteMetrics,
    warnings: Arc<RateLimited>,
    /// Cancelled when the drain deadline passes.
    cut: CancellationToken,
    timers: Timers,
    busy_poll: BusyPoll,
}

async fn connection(
    conn: Conn,
    mut client: Stream,
    peer: Peer,
    _held: (OwnedSemaphorePermit, Option<ClientSlot>),
) {
    let Conn {
        route,
        metrics,
        warnings,
        cut,
        timers,
        busy_poll,
    } = conn;
    metrics.active.inc();
    let _active = ActiveGuard(&metrics);
    let started = Instant::now();
    let dialed = tokio::select! {
        () = cut.cancelled() => return,
        r = transport::dial_within(&route.connect, &route.policy, route.connect_timeout, &timers) => r,
    };
    let mut upstream = match dialed {
        Ok(s) => s,
        Err(e) => {
            let reason = match &e {
                DialError::Refused(r) => {
                    metrics.refused(r.reason());
                    r.reason()
                }
                other => {
                    let kind = other.upstream_kind().unwrap_or("connect");
                    metrics.upstream_error(kind);
                    kind
                }
            };
            debug!(route = %route.name, %peer, reason, error = %e, "upstream not dialled");
            if let Some(held_back) = warnings.check() {
                warn!(route = %route.name, %peer, reason, error = %e, held_back, "upstream not dialled");
            }
            return;
        }
    };
    metrics
        .connect_latency
        .observe(started.elapsed().as_secs_f64());
    metrics.connections.inc();
    let mut transfer = Transfer::new(
        &mut client,
        &mut upstream,
        CopyOptions {
            buffer_size: route.buffer_size,
            zero_copy: route.zero_copy,
            timeouts: Timeouts {
                idle: route.idle_timeout,
                first_byte: route.first_byte_timeout,
                half_close: route.half_close_timeout,
            },
        },
        &timers,
        &busy_poll,
        [&metrics.to_upstream, &metrics.to_client],
    );
    let outcome = UntilCut::new(&mut transfer, cut).await;
    let moved = transfer.moved();
    let reason = match &outcome {
        Ok(_) => "eof",
        Err(e) => {
            if matches!(e, TransferError::Upstream(_)) {
                metrics.upstream_error("io");
            }
            e.reason()
        }
    };
    metrics.closed(reason);
    metrics.duration.observe(started.elapsed().as_secs_f64());
    let error = outcome.err().map(|e| e.to_string());
    debug!(
        route = %route.name,
        %peer,
        to_upstream = moved.to_upstream,
        to_client = moved.to_client,
        duration_ms = started.elapsed().as_millis() as u64,
        reason,
        error,
        "closed"
    );
}

/// A transfer that ends with [`TransferError::DrainDeadline`] once `cut` is cancelled.
///
/// It wakes on every message, so it keeps that wake cheap: the cancellation future (whose
/// poll re-registers the task's waker under a lock) is polled only on the first poll and
/// when the task's waker changed; otherwise the waker registered before is still the one
/// to wake, and a flag load tells whether the connection was cut.
struct UntilCut<F> {
    transfer: F,
    cut: CancellationToken,
    cancelled: Pin<Box<WaitForCancellationFutureOwned>>,
    registered: Option<Waker>,
}

impl<F> UntilCut<F> {
    fn new(transfer: F, cut: CancellationToken) -> Self {
        UntilCut {
            transfer,
            cancelled: Box::pin(cut.clone().cancelled_owned()),
            cut,
            registered: None,
        }
    }
}

impl<T, F> Future for UntilCut<F>
where
    F: Future<Output = Result<T, TransferError>> + Unpin,
{
    type Output = Result<T, TransferError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Poll::Ready(r) = Pin::new(&mut this.transfer).poll(cx) {
            return Poll::Ready(r);
        }
        let cut = match &this.registered {
            Some(w) if w.will_wake(cx.waker()) => this.cut.is_cancelled(),
            _ => {
                this.registered = Some(cx.waker().clone());
                this.cancelled.as_mut().poll(cx).is_ready()
            }
        };
        if cut {
            return Poll::Ready(Err(TransferError::DrainDeadline));
        }
        Poll::Pending
    }
}

/// Logs each route's connection counts at INFO every `interval` in which any changed (and
/// once more at stop): the per-connection lines are DEBUG.
async fn log_summaries(
    metrics: RouteMetrics,
    interval: Duration,
    stop: CancellationToken,
    timers: Timers,
) {
    let mut last = metrics.tally();
    let mut tick = timers.interval_at(Instant::now() + interval, interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let stopping = tokio::select! {
            () = stop.cancelled() => true,
            _ = tick.tick() => false,
        };
        let now = metrics.tally();
        if let Some(delta) = now.since(&last) {
            info!(
                route = %metrics.name,
                forwarded = delta.forwarded,
                refused = %delta.refused,
                closed = %delta.closed,
                active = metrics.active.get(),
                "connections"
            );
        }
        last = now;
        if stopping {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limited_lets_one_line_through_per_interval_and_counts_the_rest() {
        let r = RateLimited::new(Duration::from_secs(3600));
        assert_eq!(r.check(), Some(0));
        assert_eq!(r.check(), None);
        assert_eq!(r.check(), None);
        // Next interval: the line carries the two held back.
        r.state.lock().unwrap().0 = Some(Instant::now() - Duration::from_secs(3601));
        assert_eq!(r.check(), Some(2));
        assert_eq!(r.check(), None);
    }

    #[test]
    fn client_slots_are_capped_per_client_and_freed_on_drop() {
        let counts = Arc::new(ClientCounts {
            held: Mutex::new(HashMap::new()),
            cap: 2,
        });
        let a = ClientKey::Ip("10.0.0.1".parse().unwrap());
        let b = ClientKey::Cid(16);
        let first = counts.try_acquire(a).unwrap();
        let _second = counts.try_acquire(a).unwrap();
        assert!(
            counts.try_acquire(a).is_none(),
            "a third from the same client"
        );
        let other = counts.try_acquire(b).unwrap();
        drop(first);
        let _third = counts.try_acquire(a).unwrap();
        drop(other);
        // Clients holding nothing leave no entry behind.
        assert_eq!(counts.held.lock().unwrap().len(), 1);
    }
}
