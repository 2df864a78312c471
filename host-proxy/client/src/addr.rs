//! The proxy's enclave-facing address: `vsock:CID:PORT`, `unix:PATH` or `tcp:HOST:PORT`,
//! the same syntax as the proxy's configuration.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Where the proxy listens for the enclave. A destination, so `vsock:any` is refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProxyAddr {
    /// AF_VSOCK: the parent instance is CID 3.
    Vsock {
        /// Context id.
        cid: u32,
        /// vsock port (one per upstream route).
        port: u32,
    },
    /// A Unix stream socket (tests, or a sidecar).
    Unix(PathBuf),
    /// TCP host (name or IP literal, IPv6 without brackets) and port (tests).
    Tcp {
        /// Host.
        host: String,
        /// Port.
        port: u16,
    },
}

/// Why a proxy address does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddrError {
    /// Not `vsock:`, `unix:` or `tcp:`.
    #[error("`{0}`: expected `vsock:CID:PORT`, `unix:PATH` or `tcp:HOST:PORT`")]
    UnknownScheme(String),
    /// No `:PORT`.
    #[error("`{0}`: missing `:PORT`")]
    MissingPort(String),
    /// The port is not a number in range.
    #[error("`{0}`: port is not a number in range")]
    BadPort(String),
    /// The CID is not a number (`any` is for listeners, not destinations).
    #[error("`{0}`: CID must be a number (`any` only makes sense for a listener)")]
    BadCid(String),
    /// Empty host or path.
    #[error("`{0}`: empty host or path")]
    Empty(String),
}

impl FromStr for ProxyAddr {
    type Err = AddrError;

    fn from_str(s: &str) -> Result<Self, AddrError> {
        let err = |f: fn(String) -> AddrError| f(s.to_owned());
        let (scheme, rest) = s
            .split_once(':')
            .ok_or_else(|| err(AddrError::UnknownScheme))?;
        match scheme {
            "unix" if rest.is_empty() => Err(err(AddrError::Empty)),
            "unix" => Ok(ProxyAddr::Unix(PathBuf::from(rest))),
            "vsock" => {
                let (cid, port) = rest
                    .rsplit_once(':')
                    .ok_or_else(|| err(AddrError::MissingPort))?;
                Ok(ProxyAddr::Vsock {
                    cid: cid.parse().map_err(|_| err(AddrError::BadCid))?,
                    port: port.parse().map_err(|_| err(AddrError::BadPort))?,
                })
            }
            "tcp" => {
                let (host, port) = rest
                    .rsplit_once(':')
                    .ok_or_else(|| err(AddrError::MissingPort))?;
                let host = host
                    .strip_prefix('[')
                    .and_then(|h| h.strip_suffix(']'))
                    .unwrap_or(host);
                if host.is_empty() {
                    return Err(err(AddrError::Empty));
                }
                Ok(ProxyAddr::Tcp {
                    host: host.to_owned(),
                    port: port.parse().map_err(|_| err(AddrError::BadPort))?,
                })
            }
            _ => Err(err(AddrError::UnknownScheme)),
        }
    }
}

impl fmt::Display for ProxyAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyAddr::Vsock { cid, port } => write!(f, "vsock:{cid}:{port}"),
            ProxyAddr::Unix(p) => write!(f, "unix:{}", p.display()),
            ProxyAddr::Tcp { host, port } if host.contains(':') => write!(f, "tcp:[{host}]:{port}"),
            ProxyAddr::Tcp { host, port } => write!(f, "tcp:{host}:{port}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The proxy and the client must read every destination address the same way.
    #[test]
    fn agrees_with_the_proxy_parser() {
        for text in [
            "vsock:3:8001",
            "vsock:4294967294:1",
            "unix:/run/host-proxy/l2.sock",
            "unix:relative/path",
            "tcp:127.0.0.1:8545",
            "tcp:[::1]:443",
            "tcp:rpc.example.org:443",
        ] {
            let ours: ProxyAddr = text.parse().expect(text);
            let theirs: host_proxy::Endpoint = text.parse().expect(text);
            assert_eq!(ours.to_string(), theirs.to_string(), "{text}");
        }
        for bad in [
            "vsock:3",
            "vsock:x:1",
            "vsock:3:4294967296",
            "tcp:host",
            "tcp::1",
            "tcp:h:65536",
            "unix:",
            "http://x",
            "",
        ] {
            assert!(bad.parse::<ProxyAddr>().is_err(), "{bad} parsed");
            assert!(
                bad.parse::<host_proxy::Endpoint>().is_err(),
                "{bad} parsed by proxy"
            );
        }
    }

    #[test]
    fn refuses_the_any_cid_as_a_destination() {
        assert_eq!(
            "vsock:any:5000".parse::<ProxyAddr>(),
            Err(AddrError::BadCid("vsock:any:5000".into()))
        );
    }
}
