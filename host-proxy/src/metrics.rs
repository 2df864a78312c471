//! Prometheus metrics, encoded in the OpenMetrics text format at `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabel {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BytesLabel {
    route: String,
    direction: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ReasonLabel {
    route: String,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    route: String,
    kind: &'static str,
}

fn latency_histogram() -> Histogram {
    // 50 µs .. ~50 s
    Histogram::new(exponential_buckets(50e-6, 4.0, 11))
}

/// All metrics of one proxy process.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    connections: Family<RouteLabel, Counter>,
    active: Family<RouteLabel, Gauge>,
    refused: Family<ReasonLabel, Counter>,
    bytes: Family<BytesLabel, Counter>,
    upstream_errors: Family<KindLabel, Counter>,
    closed: Family<ReasonLabel, Counter>,
    accept_errors: Family<RouteLabel, Counter>,
    connect_latency: Family<RouteLabel, Histogram, fn() -> Histogram>,
    duration: Family<RouteLabel, Histogram, fn() -> Histogram>,
}

/// Handles for one route, looked up once so the data path touches only atomics.
#[derive(Debug, Clone)]
pub(crate) struct RouteMetrics {
    pub(crate) name: String,
    pub(crate) connections: Counter,
    pub(crate) active: Gauge,
    pub(crate) to_upstream: Counter,
    pub(crate) to_client: Counter,
    pub(crate) accept_errors: Counter,
    pub(crate) connect_latency: Histogram,
    pub(crate) duration: Histogram,
    refused: Family<ReasonLabel, Counter>,
    upstream_errors: Family<KindLabel, Counter>,
    closed: Family<ReasonLabel, Counter>,
}

/// Every `reason` of `host_proxy_refused_total`.
pub(crate) const REFUSED_REASONS: [&str; 4] = [
    "client_not_allowed",
    "client_limit",
    "connection_limit",
    "destination_not_allowed",
];
/// Every `reason` of `host_proxy_closed_total`.
pub(crate) const CLOSED_REASONS: [&str; 8] = [
    "eof",
    "idle_timeout",
    "stalled",
    "first_byte_timeout",
    "half_close_timeout",
    "client_error",
    "upstream_error",
    "drain_deadline",
];

/// A route's counters at one moment, for the periodic log summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tally {
    forwarded: u64,
    refused: [u64; REFUSED_REASONS.len()],
    closed: [u64; CLOSED_REASONS.len()],
}

/// What changed between two tallies: `refused` and `closed` read `reason=count ...`,
/// non-zero reasons only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TallyDelta {
    pub(crate) forwarded: u64,
    pub(crate) refused: String,
    pub(crate) closed: String,
}

impl Tally {
    /// The change since `earlier`, or `None` if nothing changed.
    pub(crate) fn since(&self, earlier: &Tally) -> Option<TallyDelta> {
        if self == earlier {
            return None;
        }
        let list = |reasons: &[&str], now: &[u64], then: &[u64]| {
            let parts: Vec<String> = reasons
                .iter()
                .zip(now.iter().zip(then))
                .filter(|(_, (n, t))| n > t)
                .map(|(r, (n, t))| format!("{r}={}", n - t))
                .collect();
            parts.join(" ")
        };
        Some(TallyDelta {
            forwarded: self.forwarded.saturating_sub(earlier.forwarded),
            refused: list(&REFUSED_REASONS, &self.refused, &earlier.refused),
            closed: list(&CLOSED_REASONS, &self.closed, &earlier.closed),
        })
    }
}

impl RouteMetrics {
    /// The route's counters now (reading, never creating, the labelled series).
    pub(crate) fn tally(&self) -> Tally {
        let read = |family: &Family<ReasonLabel, Counter>, reason: &'static str| {
            family
                .get(&ReasonLabel {
                    route: self.name.clone(),
                    reason,
                })
                .map_or(0, |c| c.get())
        };
        Tally {
            forwarded: self.connections.get(),
            refused: REFUSED_REASONS.map(|r| read(&self.refused, r)),
            closed: CLOSED_REASONS.map(|r| read(&self.closed, r)),
        }
    }

    pub(crate) fn refused(&self, reason: &'static str) {
        self.refused
            .get_or_create(&ReasonLabel {
                route: self.name.clone(),
                reason,
            })
            .inc();
    }

    pub(crate) fn upstream_error(&self, kind: &'static str) {
        self.upstream_errors
            .get_or_create(&KindLabel {
                route: self.name.clone(),
                kind,
            })
            .inc();
    }

    pub(crate) fn closed(&self, reason: &'static str) {
        self.closed
            .get_or_create(&ReasonLabel {
                route: self.name.clone(),
                reason,
            })
            .inc();
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// An empty registry with every metric family registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("host_proxy");
        let m = Metrics {
            registry: Registry::default(),
            connections: Family::default(),
            active: Family::default(),
            refused: Family::default(),
            bytes: Family::default(),
            upstream_errors: Family::default(),
            closed: Family::default(),
            accept_errors: Family::default(),
            connect_latency: Family::new_with_constructor(latency_histogram),
            duration: Family::new_with_constructor(latency_histogram),
        };
        registry.register(
            "connections",
            "Connections accepted and forwarded",
            m.connections.clone(),
        );
        registry.register(
            "active_connections",
            "Connections open now",
            m.active.clone(),
        );
        registry.register(
            "refused",
            "Connections refused, by reason",
            m.refused.clone(),
        );
        registry.register("bytes", "Bytes forwarded, by direction", m.bytes.clone());
        registry.register(
            "upstream_errors",
            "Upstream failures, by kind",
            m.upstream_errors.clone(),
        );
        registry.register(
            "closed",
            "Forwarded connections closed, by reason",
            m.closed.clone(),
        );
        registry.register(
            "accept_errors",
            "Errors accepting on a listener",
            m.accept_errors.clone(),
        );
        registry.register(
            "upstream_connect_seconds",
            "Time to resolve and connect to the upstream",
            m.connect_latency.clone(),
        );
        registry.register(
            "connection_duration_seconds",
            "Lifetime of forwarded connections",
            m.duration.clone(),
        );
        Metrics { registry, ..m }
    }

    pub(crate) fn route(&self, name: &str) -> RouteMetrics {
        let r = RouteLabel {
            route: name.to_owned(),
        };
        let bytes = |direction| {
            self.bytes
                .get_or_create(&BytesLabel {
                    route: name.to_owned(),
                    direction,
                })
                .clone()
        };
        RouteMetrics {
            name: name.to_owned(),
            connections: self.connections.get_or_create(&r).clone(),
            active: self.active.get_or_create(&r).clone(),
            to_upstream: bytes("to_upstream"),
            to_client: bytes("to_client"),
            accept_errors: self.accept_errors.get_or_create(&r).clone(),
            connect_latency: self.connect_latency.get_or_create(&r).clone(),
            duration: self.duration.get_or_create(&r).clone(),
            refused: self.refused.clone(),
            upstream_errors: self.upstream_errors.clone(),
            closed: self.closed.clone(),
        }
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }

    /// `host_proxy_refused_total{route,reason}`, for tests and health checks.
    pub fn refused_count(&self, route: &str, reason: &'static str) -> u64 {
        self.refused
            .get_or_create(&ReasonLabel {
                route: route.to_owned(),
                reason,
            })
            .get()
    }

    /// `host_proxy_connections_total{route}`: connections forwarded.
    pub fn forwarded_count(&self, route: &str) -> u64 {
        self.connections
            .get_or_create(&RouteLabel {
                route: route.to_owned(),
            })
            .get()
    }

    /// `host_proxy_closed_total{route,reason}`.
    pub fn closed_count(&self, route: &str, reason: &'static str) -> u64 {
        self.closed
            .get_or_create(&ReasonLabel {
                route: route.to_owned(),
                reason,
            })
            .get()
    }

    /// `host_proxy_upstream_errors_total{route,kind}`.
    pub fn upstream_error_count(&self, route: &str, kind: &'static str) -> u64 {
        self.upstream_errors
            .get_or_create(&KindLabel {
                route: route.to_owned(),
                kind,
            })
            .get()
    }

    /// `host_proxy_active_connections{route}`.
    pub fn active_count(&self, route: &str) -> i64 {
        self.active
            .get_or_create(&RouteLabel {
                route: route.to_owned(),
            })
            .get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_reports_only_what_changed() {
        let m = Metrics::new();
        let r = m.route("api");
        let before = r.tally();
        assert_eq!(r.tally().since(&before), None);
        r.connections.inc();
        r.refused("client_limit");
        r.refused("client_limit");
        r.closed("eof");
        r.closed("first_byte_timeout");
        let delta = r.tally().since(&before).unwrap();
        assert_eq!(delta.forwarded, 1);
        assert_eq!(delta.refused, "client_limit=2");
        assert_eq!(delta.closed, "eof=1 first_byte_timeout=1");
        // Another route's counts are its own.
        assert_eq!(
            m.route("other").tally().since(&m.route("other").tally()),
            None
        );
    }
}
