//! Endpoint addresses: `vsock:CID:PORT`, `unix:PATH`, `tcp:HOST:PORT` and
//! `hvsock:PATH:PORT`.
//!
//! One syntax names both sides of every route, so the same configuration (and the
//! same proxy code) runs over vsock in production and over Unix or TCP sockets in
//! tests.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// The vsock CID meaning "any local CID" (`VMADDR_CID_ANY`); written `any`.
pub const VSOCK_CID_ANY: u32 = u32::MAX;

/// Where to listen or where to connect.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// An AF_VSOCK address. `cid` is [`VSOCK_CID_ANY`] for `vsock:any:PORT`.
    Vsock {
        /// Context id (3 is the parent instance, the enclave's is set at launch).
        cid: u32,
        /// vsock port.
        port: u32,
    },
    /// A Unix stream socket path.
    Unix(PathBuf),
    /// A TCP host (name or IP literal; IPv6 in brackets) and port.
    Tcp {
        /// DNS name or IP literal, without brackets.
        host: String,
        /// TCP port.
        port: u16,
    },
    /// A guest's vsock port behind a hybrid vsock socket (Firecracker, vhost-device-vsock):
    /// the host connects to the Unix socket `path` and asks for `port` with
    /// `CONNECT <port>\n`. A destination only.
    HybridVsock {
        /// The device's host-side Unix socket.
        path: PathBuf,
        /// The guest's vsock port.
        port: u32,
    },
}

/// Why an endpoint string does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddrError {
    /// The string does not start with `vsock:`, `unix:`, `tcp:` or `hvsock:`.
    #[error("`{0}`: expected `vsock:CID:PORT`, `unix:PATH`, `tcp:HOST:PORT` or `hvsock:PATH:PORT`")]
    UnknownScheme(String),
    /// The part after the scheme lacks a `:PORT`.
    #[error("`{0}`: missing `:PORT`")]
    MissingPort(String),
    /// The port is not a number in range.
    #[error("`{input}`: port `{port}` is not a number in 0..={max}")]
    BadPort {
        /// Whole input.
        input: String,
        /// The offending text.
        port: String,
        /// Largest allowed value.
        max: u32,
    },
    /// The vsock CID is neither a number nor `any`.
    #[error("`{input}`: CID `{cid}` is not a number or `any`")]
    BadCid {
        /// Whole input.
        input: String,
        /// The offending text.
        cid: String,
    },
    /// Empty host or path.
    #[error("`{0}`: empty host or path")]
    Empty(String),
}

/// Splits `rest` at its last `:` into the part before and a port no larger than `max`.
fn split_port<P>(input: &str, rest: &str, max: u32) -> Result<(String, P), AddrError>
where
    P: FromStr,
{
    let (head, port) = rest
        .rsplit_once(':')
        .ok_or_else(|| AddrError::MissingPort(input.to_owned()))?;
    let port = port.parse().map_err(|_| AddrError::BadPort {
        input: input.to_owned(),
        port: port.to_owned(),
        max,
    })?;
    Ok((head.to_owned(), port))
}

impl FromStr for Endpoint {
    type Err = AddrError;

    fn from_str(s: &str) -> Result<Self, AddrError> {
        let (scheme, rest) = s
            .split_once(':')
            .ok_or_else(|| AddrError::UnknownScheme(s.to_owned()))?;
        let empty = || AddrError::Empty(s.to_owned());
        match scheme {
            "unix" if rest.is_empty() => Err(empty()),
            "unix" => Ok(Endpoint::Unix(PathBuf::from(rest))),
            "vsock" => {
                let (cid, port) = split_port(s, rest, u32::MAX)?;
                let cid = match cid.as_str() {
                    "any" => VSOCK_CID_ANY,
                    c => c.parse().map_err(|_| AddrError::BadCid {
                        input: s.to_owned(),
                        cid: cid.clone(),
                    })?,
                };
                Ok(Endpoint::Vsock { cid, port })
            }
            "tcp" => {
                let (host, port) = split_port(s, rest, u16::MAX.into())?;
                let host = host
                    .strip_prefix('[')
                    .and_then(|h| h.strip_suffix(']'))
                    .unwrap_or(&host);
                if host.is_empty() {
                    return Err(empty());
                }
                Ok(Endpoint::Tcp {
                    host: host.to_owned(),
                    port,
                })
            }
            "hvsock" => {
                let (path, port) = split_port(s, rest, u32::MAX)?;
                if path.is_empty() {
                    return Err(empty());
                }
                Ok(Endpoint::HybridVsock {
                    path: PathBuf::from(path),
                    port,
                })
            }
            _ => Err(AddrError::UnknownScheme(s.to_owned())),
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Vsock { cid, port } if *cid == VSOCK_CID_ANY => write!(f, "vsock:any:{port}"),
            Endpoint::Vsock { cid, port } => write!(f, "vsock:{cid}:{port}"),
            Endpoint::Unix(p) => write!(f, "unix:{}", p.display()),
            Endpoint::Tcp { host, port } if host.contains(':') => write!(f, "tcp:[{host}]:{port}"),
            Endpoint::Tcp { host, port } => write!(f, "tcp:{host}:{port}"),
            Endpoint::HybridVsock { path, port } => write!(f, "hvsock:{}:{port}", path.display()),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Endpoint {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_scheme_and_round_trips() {
        for (text, want) in [
            (
                "vsock:88:5000",
                Endpoint::Vsock {
                    cid: 88,
                    port: 5000,
                },
            ),
            (
                "vsock:any:8001",
                Endpoint::Vsock {
                    cid: VSOCK_CID_ANY,
                    port: 8001,
                },
            ),
            ("unix:/run/p.sock", Endpoint::Unix("/run/p.sock".into())),
            (
                "tcp:rpc.example.org:443",
                Endpoint::Tcp {
                    host: "rpc.example.org".into(),
                    port: 443,
                },
            ),
            (
                "hvsock:/run/vm/v.sock:5005",
                Endpoint::HybridVsock {
                    path: "/run/vm/v.sock".into(),
                    port: 5005,
                },
            ),
            (
                "hvsock:rel:ative.sock:1",
                Endpoint::HybridVsock {
                    path: "rel:ative.sock".into(),
                    port: 1,
                },
            ),
            (
                "tcp:[::1]:8545",
                Endpoint::Tcp {
                    host: "::1".into(),
                    port: 8545,
                },
            ),
        ] {
            let got: Endpoint = text.parse().unwrap();
            assert_eq!(got, want, "{text}");
            assert_eq!(got.to_string(), text);
        }
    }

    #[test]
    fn rejects_malformed_addresses_with_named_errors() {
        assert!(matches!(
            "http://x".parse::<Endpoint>(),
            Err(AddrError::UnknownScheme(_))
        ));
        assert!(matches!(
            "noscheme".parse::<Endpoint>(),
            Err(AddrError::UnknownScheme(_))
        ));
        assert!(matches!(
            "tcp:host".parse::<Endpoint>(),
            Err(AddrError::MissingPort(_))
        ));
        assert!(matches!(
            "tcp:host:70000".parse::<Endpoint>(),
            Err(AddrError::BadPort { .. })
        ));
        assert!(matches!(
            "tcp::80".parse::<Endpoint>(),
            Err(AddrError::Empty(_))
        ));
        assert!(matches!(
            "vsock:x:1".parse::<Endpoint>(),
            Err(AddrError::BadCid { .. })
        ));
        assert!(matches!(
            "vsock:3".parse::<Endpoint>(),
            Err(AddrError::MissingPort(_))
        ));
        assert!(matches!(
            "unix:".parse::<Endpoint>(),
            Err(AddrError::Empty(_))
        ));
        assert!(matches!(
            "hvsock:/v.sock:port".parse::<Endpoint>(),
            Err(AddrError::BadPort { .. })
        ));
        assert!(matches!(
            "hvsock:v.sock".parse::<Endpoint>(),
            Err(AddrError::MissingPort(_))
        ));
        assert!(matches!(
            "hvsock::5005".parse::<Endpoint>(),
            Err(AddrError::Empty(_))
        ));
        assert!(matches!(
            "hvsock:/v.sock:-1".parse::<Endpoint>(),
            Err(AddrError::BadPort { .. })
        ));
    }
}
