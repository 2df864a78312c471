//! The TOML configuration: parsed into raw serde types, then resolved into a
//! [`Config`] whose values are all known to be usable ("parse, don't validate").

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use ipnet::IpNet;
use serde::Deserialize;

use crate::addr::{Endpoint, VSOCK_CID_ANY};
use crate::policy::{AddressPolicy, ClientPolicy};

/// Smallest and largest per-direction copy buffer a route may ask for.
pub const BUFFER_RANGE: std::ops::RangeInclusive<usize> = 4096..=4 << 20;

/// A validated proxy configuration.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Where `/metrics` and `/healthz` are served (`None`: not served).
    pub admin: Option<Endpoint>,
    /// Admin connections open at once; one more is closed at once.
    pub admin_max_connections: usize,
    /// How long open connections may finish after SIGTERM before they are cut.
    pub drain_timeout: Duration,
    /// How often each route logs its connection counts at INFO (connections themselves log at
    /// DEBUG).
    pub log_summary_interval: Duration,
    /// The routes, in file order.
    pub routes: Vec<Route>,
}

/// One listener mapped to one upstream.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Route {
    /// Unique name, used in logs and metric labels.
    pub name: String,
    /// Where the proxy accepts connections.
    pub listen: Endpoint,
    /// The single destination those connections are forwarded to.
    pub connect: Endpoint,
    /// Which resolved addresses of a `tcp:` upstream may be dialled.
    pub policy: AddressPolicy,
    /// Which clients may connect (by source address, or by CID on vsock).
    pub clients: ClientPolicy,
    /// Connections open at once; one more is refused immediately.
    pub max_connections: usize,
    /// Connections one client (source IP, or vsock CID) may hold at once; one more from that
    /// client is refused immediately. Unix listeners have no client identity: only
    /// `max_connections` applies there.
    pub max_connections_per_client: usize,
    /// A connection that moves no byte either way for this long is closed, and so is one
    /// whose direction holds bytes its reader has not taken for this long.
    pub idle_timeout: Duration,
    /// A client that sends no byte for this long after its connection is forwarded is
    /// closed (at most `idle_timeout`).
    pub first_byte_timeout: Duration,
    /// Once one direction has ended (half-close), the other is closed after moving no byte
    /// for this long (at most `idle_timeout`).
    pub half_close_timeout: Duration,
    /// Time allowed for resolving and connecting to the upstream.
    pub connect_timeout: Duration,
    /// Largest copy buffer per direction (buffers start small and grow to this).
    pub buffer_size: usize,
    /// Move bytes with splice(2) when both sides are TCP or Unix sockets (off by default: the
    /// forwarded segments carry the sender's page fragments, and on loopback that is slower than
    /// copying through a 1 MiB buffer; vsock never splices).
    pub zero_copy: bool,
}

/// Why a configuration is rejected. Each message names the route and field.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path given.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// TOML syntax, unknown field, wrong type or malformed address.
    #[error("{0}")]
    Syntax(#[from] toml::de::Error),
    /// No `[[route]]` table.
    #[error("no [[route]] is configured: the proxy would forward nothing")]
    NoRoutes,
    /// A value is out of range or inconsistent.
    #[error("{place}: {problem}")]
    Invalid {
        /// `route "name"`, or the top-level table.
        place: String,
        /// What is wrong, and what would be accepted.
        problem: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    admin: Option<RawAdmin>,
    #[serde(default)]
    drain_timeout: Option<RawDuration>,
    #[serde(default)]
    log_summary_interval: Option<RawDuration>,
    #[serde(default)]
    defaults: RawLimits,
    #[serde(default, rename = "route")]
    routes: Vec<RawRoute>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdmin {
    listen: Endpoint,
    max_connections: Option<usize>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    max_connections: Option<usize>,
    max_connections_per_client: Option<usize>,
    idle_timeout: Option<RawDuration>,
    first_byte_timeout: Option<RawDuration>,
    half_close_timeout: Option<RawDuration>,
    connect_timeout: Option<RawDuration>,
    buffer_size: Option<usize>,
    zero_copy: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    name: String,
    listen: Endpoint,
    connect: Endpoint,
    allow: Option<Vec<IpNet>>,
    clients: Option<Vec<RawClient>>,
    #[serde(flatten)]
    limits: RawLimits,
}

/// One entry of a route's `clients`: a vsock CID (integer), or an IP network or address
/// (string).
#[derive(Deserialize)]
#[serde(untagged)]
enum RawClient {
    Cid(u32),
    Net(String),
}

/// A duration written `250ms`, `30s`, `5m` or `1h`.
#[derive(Clone, Copy)]
struct RawDuration(Duration);

impl<'de> Deserialize<'de> for RawDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_duration(&s)
            .map(RawDuration)
            .map_err(serde::de::Error::custom)
    }
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}`: expected a duration like `250ms`, `30s`, `5m` or `1h`"))?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        _ => return Err(format!("`{s}`: unit must be ms, s, m or h")),
    };
    Ok(d)
}

const DEFAULT_MAX_CONNECTIONS: usize = 256;
const DEFAULT_IDLE: Duration = Duration::from_secs(300);
/// Clients of every route speak first (TLS, HTTP, `STATUS`), at once.
const DEFAULT_FIRST_BYTE: Duration = Duration::from_secs(10);
const DEFAULT_HALF_CLOSE: Duration = Duration::from_secs(30);
/// On a `tcp:` listener, one client may hold this share of a route's connections unless
/// configured. A `vsock:` listener's clients are enclaves (usually the one enclave of the
/// instance, whose outbound routes must not be cut to a share of themselves): there the
/// default is the whole route.
const DEFAULT_CLIENT_SHARE_DIVISOR: usize = 4;
const DEFAULT_ADMIN_MAX_CONNECTIONS: usize = 16;
const ADMIN_MAX_CONNECTIONS_CAP: usize = 1024;
const DEFAULT_LOG_SUMMARY: Duration = Duration::from_secs(60);
const DEFAULT_CONNECT: Duration = Duration::from_secs(10);
/// 1 MiB: on loopback this copies ~1.4x as fast as 256 KiB (fewer, larger socket calls), while 4 MiB
/// no longer fits the caches and is slower again (`ci/bench proxy --buffer-size N`).
const DEFAULT_BUFFER: usize = 1 << 20;
const DEFAULT_DRAIN: Duration = Duration::from_secs(30);
const MAX_CONNECTIONS_CAP: usize = 1 << 20;

impl Config {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Parses and validates configuration text.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let raw: RawConfig = toml::from_str(text)?;
        resolve(raw)
    }
}

fn invalid(place: impl Into<String>, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        place: place.into(),
        problem: problem.into(),
    }
}

fn resolve(raw: RawConfig) -> Result<Config, ConfigError> {
    if raw.routes.is_empty() {
        return Err(ConfigError::NoRoutes);
    }
    let defaults = raw.defaults;
    let mut names = HashSet::new();
    let mut listens = HashSet::new();
    if let Some(admin) = &raw.admin {
        check_listen("[admin]", &admin.listen)?;
        if matches!(admin.listen, Endpoint::Vsock { .. }) {
            return Err(invalid(
                "[admin]",
                "listen must be tcp: or unix:, the enclave has no business with metrics",
            ));
        }
        listens.insert(admin.listen.clone());
    }
    let mut routes = Vec::with_capacity(raw.routes.len());
    for r in raw.routes {
        let place = format!("route \"{}\"", r.name);
        if r.name.is_empty()
            || !r
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(invalid(
                place,
                "name must be non-empty ASCII letters, digits, `-` or `_`",
            ));
        }
        if !names.insert(r.name.clone()) {
            return Err(invalid(place, "duplicate route name"));
        }
        check_listen(&place, &r.listen)?;
        let ephemeral = matches!(r.listen, Endpoint::Tcp { port: 0, .. });
        if !ephemeral && !listens.insert(r.listen.clone()) {
            return Err(invalid(
                place,
                format!("listen address {} is already used", r.listen),
            ));
        }
        if let Endpoint::Vsock { cid, .. } = r.connect
            && cid == VSOCK_CID_ANY
        {
            return Err(invalid(
                place,
                "connect: `vsock:any` is not a destination; give the enclave's CID",
            ));
        }
        let policy = match (&r.connect, r.allow) {
            (Endpoint::Tcp { .. }, None) => AddressPolicy::PublicOnly,
            (Endpoint::Tcp { .. }, Some(nets)) if nets.is_empty() => {
                return Err(invalid(
                    place,
                    "allow = [] would refuse every connection; omit it for public addresses only",
                ));
            }
            (Endpoint::Tcp { .. }, Some(nets)) => AddressPolicy::Networks(nets),
            (_, Some(_)) => return Err(invalid(place, "allow only applies to tcp: upstreams")),
            (_, None) => AddressPolicy::PublicOnly,
        };
        let pick =
            |own: Option<usize>, def: Option<usize>, fallback| own.or(def).unwrap_or(fallback);
        let pick_d = |own: Option<RawDuration>, def: Option<RawDuration>, fallback| {
            own.or(def).map_or(fallback, |d| d.0)
        };
        let clients = client_policy(&place, &r.listen, r.clients)?;
        let max_connections = pick(
            r.limits.max_connections,
            defaults.max_connections,
            DEFAULT_MAX_CONNECTIONS,
        );
        if !(1..=MAX_CONNECTIONS_CAP).contains(&max_connections) {
            return Err(invalid(
                place,
                format!("max_connections must be in 1..={MAX_CONNECTIONS_CAP}"),
            ));
        }
        let default_per_client = match r.listen {
            Endpoint::Vsock { .. } => max_connections,
            _ => max_connections.div_ceil(DEFAULT_CLIENT_SHARE_DIVISOR),
        };
        let max_connections_per_client = pick(
            r.limits.max_connections_per_client,
            defaults.max_connections_per_client,
            default_per_client,
        );
        if !(1..=max_connections).contains(&max_connections_per_client) {
            return Err(invalid(
                place,
                format!(
                    "max_connections_per_client must be in 1..={max_connections} (the route's max_connections)"
                ),
            ));
        }
        let idle_timeout = pick_d(r.limits.idle_timeout, defaults.idle_timeout, DEFAULT_IDLE);
        let connect_timeout = pick_d(
            r.limits.connect_timeout,
            defaults.connect_timeout,
            DEFAULT_CONNECT,
        );
        let first_byte_timeout = pick_d(
            r.limits.first_byte_timeout,
            defaults.first_byte_timeout,
            DEFAULT_FIRST_BYTE,
        );
        let half_close_timeout = pick_d(
            r.limits.half_close_timeout,
            defaults.half_close_timeout,
            DEFAULT_HALF_CLOSE,
        );
        for (field, d) in [
            ("idle_timeout", idle_timeout),
            ("connect_timeout", connect_timeout),
            ("first_byte_timeout", first_byte_timeout),
            ("half_close_timeout", half_close_timeout),
        ] {
            if d.is_zero() {
                return Err(invalid(place, format!("{field} must be positive")));
            }
        }
        let buffer_size = pick(r.limits.buffer_size, defaults.buffer_size, DEFAULT_BUFFER);
        if !BUFFER_RANGE.contains(&buffer_size) {
            return Err(invalid(
                place,
                format!(
                    "buffer_size must be in {}..={} bytes",
                    BUFFER_RANGE.start(),
                    BUFFER_RANGE.end()
                ),
            ));
        }
        let zero_copy = r.limits.zero_copy.or(defaults.zero_copy).unwrap_or(false);
        routes.push(Route {
            name: r.name,
            listen: r.listen,
            connect: r.connect,
            policy,
            clients,
            max_connections,
            max_connections_per_client,
            idle_timeout,
            // Never longer than the idle timeout, which would close the connection first.
            first_byte_timeout: first_byte_timeout.min(idle_timeout),
            half_close_timeout: half_close_timeout.min(idle_timeout),
            connect_timeout,
            buffer_size,
            zero_copy,
        });
    }
    let admin_max_connections = raw
        .admin
        .as_ref()
        .and_then(|a| a.max_connections)
        .unwrap_or(DEFAULT_ADMIN_MAX_CONNECTIONS);
    if !(1..=ADMIN_MAX_CONNECTIONS_CAP).contains(&admin_max_connections) {
        return Err(invalid(
            "[admin]",
            format!("max_connections must be in 1..={ADMIN_MAX_CONNECTIONS_CAP}"),
        ));
    }
    let log_summary_interval = raw
        .log_summary_interval
        .map_or(DEFAULT_LOG_SUMMARY, |d| d.0);
    if log_summary_interval.is_zero() {
        return Err(invalid(
            "top level",
            "log_summary_interval must be positive",
        ));
    }
    Ok(Config {
        admin: raw.admin.map(|a| a.listen),
        admin_max_connections,
        drain_timeout: raw.drain_timeout.map_or(DEFAULT_DRAIN, |d| d.0),
        log_summary_interval,
        routes,
    })
}

/// A route's `clients`: IP networks for a `tcp:` listener, CIDs for a `vsock:` one.
fn client_policy(
    place: &str,
    listen: &Endpoint,
    raw: Option<Vec<RawClient>>,
) -> Result<ClientPolicy, ConfigError> {
    let Some(raw) = raw else {
        return Ok(ClientPolicy::Any);
    };
    if raw.is_empty() {
        return Err(invalid(
            place,
            "clients = [] would refuse every client; omit it to admit any",
        ));
    }
    match listen {
        Endpoint::Tcp { .. } => raw
            .into_iter()
            .map(|c| match c {
                RawClient::Net(s) => s
                    .parse::<IpNet>()
                    .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        invalid(
                            place,
                            format!(
                                "clients: `{s}` is not an IP network (`10.0.0.0/8`) or address"
                            ),
                        )
                    }),
                RawClient::Cid(cid) => Err(invalid(
                    place,
                    format!("clients: {cid} is a vsock CID, but this route listens on tcp:"),
                )),
            })
            .collect::<Result<_, _>>()
            .map(ClientPolicy::Networks),
        Endpoint::Vsock { .. } => raw
            .into_iter()
            .map(|c| match c {
                RawClient::Cid(cid) => Ok(cid),
                RawClient::Net(s) => Err(invalid(
                    place,
                    format!("clients: `{s}`: a vsock: listener takes CIDs (integers)"),
                )),
            })
            .collect::<Result<_, _>>()
            .map(ClientPolicy::Cids),
        _ => Err(invalid(
            place,
            "clients applies to tcp: and vsock: listeners (a unix: socket is guarded by its file permissions)",
        )),
    }
}

fn check_listen(place: &str, ep: &Endpoint) -> Result<(), ConfigError> {
    if matches!(ep, Endpoint::HybridVsock { .. }) {
        return Err(invalid(
            place,
            format!(
                "listen {ep}: hvsock: is a destination only; the guest's connections arrive on unix:PATH_PORT"
            ),
        ));
    }
    if let Endpoint::Tcp { host, .. } = ep
        && host.parse::<std::net::IpAddr>().is_err()
    {
        return Err(invalid(
            place,
            format!("listen {ep}: give an IP address, not a name"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
