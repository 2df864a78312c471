//! The proxy: one accept loop per route over one shared core
//! (`accept → limit → dial (allowlist) → copy`), whatever the direction or transport.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn};

use crate::addr::Endpoint;
use crate::config::{Config, Route};
use crate::copy::Transfer;
use crate::error::{DialError, Error, TransferError};
use crate::metrics::{Metrics, RouteMetrics};
use crate::transport::{Listener, Stream};
use crate::{admin, transport};

const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(5);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// A proxy whose listeners are bound; [`Proxy::serve`] starts it.
#[derive(Debug)]
pub struct Proxy {
    routes: Vec<(Arc<Route>, Listener)>,
    admin: Option<Listener>,
    metrics: Arc<Metrics>,
    drain_timeout: Duration,
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
            metrics: Arc::new(Metrics::new()),
            drain_timeout: config.drain_timeout,
        })
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
        for (route, listener) in self.routes {
            let ctx = RouteCtx {
                metrics: self.metrics.route(&route.name),
                limit: Arc::new(Semaphore::new(route.max_connections)),
                route,
                tracker: tracker.clone(),
                cut: cut.clone(),
            };
            // The bound address: with `tcp:IP:0` the kernel picked the port.
            let listen = listener
                .local_endpoint()
                .map_or_else(|_| ctx.route.listen.to_string(), |ep| ep.to_string());
            info!(route = %ctx.route.name, %listen, connect = %ctx.route.connect, "route up");
            loops.spawn(accept_loop(ctx, listener, stop.clone()));
        }
        let admin_stop = CancellationToken::new();
        let admin_task = self.admin.map(|l| {
            if let Ok(ep) = l.local_endpoint() {
                info!(listen = %ep, "admin up");
            }
            tokio::spawn(admin::serve(
                l,
                Arc::clone(&self.metrics),
                Arc::clone(&draining),
                admin_stop.clone(),
            ))
        });

        shutdown.await;
        info!(open = tracker.len(), drain_timeout = ?self.drain_timeout, "draining");
        draining.store(true, Ordering::SeqCst);
        stop.cancel();
        while loops.join_next().await.is_some() {}
        tracker.close();
        let mut report = DrainReport { cut: 0 };
        if tokio::time::timeout(self.drain_timeout, tracker.wait())
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
        info!(cut = report.cut, "stopped");
        report
    }
}

struct RouteCtx {
    route: Arc<Route>,
    metrics: RouteMetrics,
    limit: Arc<Semaphore>,
    tracker: TaskTracker,
    cut: CancellationToken,
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
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&ctx.limit).try_acquire_owned() else {
            ctx.metrics.refused("connection_limit");
            debug!(route = %ctx.route.name, %peer, "refused: connection limit");
            drop(stream);
            continue;
        };
        ctx.tracker.spawn(connection(
            Arc::clone(&ctx.route),
            ctx.metrics.clone(),
            stream,
            peer,
            permit,
            ctx.cut.clone(),
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

async fn connection(
    route: Arc<Route>,
    metrics: RouteMetrics,
    mut client: Stream,
    peer: String,
    _permit: OwnedSemaphorePermit,
    cut: CancellationToken,
) {
    metrics.active.inc();
    let _active = ActiveGuard(&metrics);
    let started = Instant::now();
    let dialed = tokio::select! {
        () = cut.cancelled() => return,
        r = transport::dial(&route.connect, &route.policy, route.connect_timeout) => r,
    };
    let mut upstream = match dialed {
        Ok(s) => s,
        Err(DialError::Refused(r)) => {
            metrics.refused(r.reason());
            warn!(route = %route.name, %peer, reason = r.reason(), error = %r, "refused");
            return;
        }
        Err(e) => {
            if let Some(kind) = e.upstream_kind() {
                metrics.upstream_error(kind);
            }
            warn!(route = %route.name, %peer, error = %e, "upstream unreachable");
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
        route.buffer_size,
        route.zero_copy,
        route.idle_timeout,
        [&metrics.to_upstream, &metrics.to_client],
    );
    let outcome = tokio::select! {
        r = &mut transfer => r,
        () = cut.cancelled() => Err(TransferError::DrainDeadline),
    };
    let moved = transfer.moved();
    let reason = match &outcome {
        Ok(_) => "eof",
        Err(TransferError::Idle(_)) => "idle_timeout",
        Err(TransferError::Client(_)) => "client_error",
        Err(TransferError::Upstream(_)) => {
            metrics.upstream_error("io");
            "upstream_error"
        }
        Err(TransferError::DrainDeadline) => "drain_deadline",
    };
    metrics.closed(reason);
    metrics.duration.observe(started.elapsed().as_secs_f64());
    let error = outcome.err().map(|e| e.to_string());
    info!(
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
