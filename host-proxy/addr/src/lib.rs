#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;

/// The vsock CID meaning "any local CID" (`VMADDR_CID_ANY`); written `any`.
pub const VSOCK_CID_ANY: u32 = u32::MAX;

/// Where to listen or where to connect. Exhaustive on purpose: a new scheme must be handled (or
/// refused) by every user.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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

/// Why an address does not parse, or is not one its user supports.
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
    /// A TCP host with a bracket inside: brackets enclose a whole IPv6 literal, once. (Such a
    /// host is no name or address, and would not print back as the same address.)
    #[error(
        "`{input}`: host `{host}` has a `[` or `]` inside (brackets enclose a whole IPv6 address)"
    )]
    BadHost {
        /// Whole input.
        input: String,
        /// The host, without its enclosing brackets.
        host: String,
    },
    /// `vsock:any:PORT` where a destination is needed.
    #[error("`{0}`: CID must be a number (`any` only makes sense for a listener)")]
    AnyCid(String),
    /// A TCP host that is not an IP literal where an address to bind is needed.
    #[error("`{input}`: `{host}` is not an IP address (a listener binds an address, not a name)")]
    NotAnIp {
        /// Whole input.
        input: String,
        /// The host.
        host: String,
    },
    /// A well-formed address of a kind this user does not support.
    #[error("`{input}`: {scheme} addresses are not supported here (expected {expected})")]
    NotHere {
        /// Whole input.
        input: String,
        /// The scheme, e.g. `hvsock`.
        scheme: &'static str,
        /// What is supported, e.g. `` `vsock:CID:PORT`, `unix:PATH` or `tcp:HOST:PORT` ``.
        expected: &'static str,
    },
}

/// Splits `rest` at its last `:` into the part before and a port no larger than `max`.
fn split_port<P: FromStr>(input: &str, rest: &str, max: u32) -> Result<(String, P), AddrError> {
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
                if host.contains(['[', ']']) {
                    return Err(AddrError::BadHost {
                        input: s.to_owned(),
                        host: host.to_owned(),
                    });
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

impl Endpoint {
    /// The scheme: `vsock`, `unix`, `tcp` or `hvsock`.
    pub fn scheme(&self) -> &'static str {
        match self {
            Endpoint::Vsock { .. } => "vsock",
            Endpoint::Unix(_) => "unix",
            Endpoint::Tcp { .. } => "tcp",
            Endpoint::HybridVsock { .. } => "hvsock",
        }
    }

    /// `self` as an address to connect to: refuses `vsock:any:PORT`.
    pub fn destination(self) -> Result<Self, AddrError> {
        match self {
            Endpoint::Vsock { cid, .. } if cid == VSOCK_CID_ANY => {
                Err(AddrError::AnyCid(self.to_string()))
            }
            other => Ok(other),
        }
    }

    /// The socket address of a `tcp:` endpoint whose host is an IP literal, for a listener:
    /// [`AddrError::NotAnIp`] for a DNS name. `None` for other schemes.
    pub fn ip_socket_addr(&self) -> Option<Result<SocketAddr, AddrError>> {
        let Endpoint::Tcp { host, port } = self else {
            return None;
        };
        Some(
            host.parse::<IpAddr>()
                .map(|ip| SocketAddr::new(ip, *port))
                .map_err(|_| AddrError::NotAnIp {
                    input: self.to_string(),
                    host: host.clone(),
                }),
        )
    }

    /// [`AddrError::NotHere`] for this endpoint, whose scheme its user does not support.
    pub fn not_here(&self, expected: &'static str) -> AddrError {
        AddrError::NotHere {
            input: self.to_string(),
            scheme: self.scheme(),
            expected,
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
            (
                "vsock:4294967294:1",
                Endpoint::Vsock {
                    cid: 4_294_967_294,
                    port: 1,
                },
            ),
            ("unix:/run/p.sock", Endpoint::Unix("/run/p.sock".into())),
            ("unix:relative/path", Endpoint::Unix("relative/path".into())),
            ("unix:/odd:name", Endpoint::Unix("/odd:name".into())),
            (
                "tcp:rpc.example.org:443",
                Endpoint::Tcp {
                    host: "rpc.example.org".into(),
                    port: 443,
                },
            ),
            (
                "tcp:127.0.0.1:0",
                Endpoint::Tcp {
                    host: "127.0.0.1".into(),
                    port: 0,
                },
            ),
            (
                "tcp:[::1]:8545",
                Endpoint::Tcp {
                    host: "::1".into(),
                    port: 8545,
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
        ] {
            let got: Endpoint = text.parse().unwrap();
            assert_eq!(got, want, "{text}");
            assert_eq!(got.to_string(), text);
        }
    }

    #[test]
    fn rejects_malformed_addresses_with_named_errors() {
        let bad_port = |input: &str, port: &str, max: u32| AddrError::BadPort {
            input: input.into(),
            port: port.into(),
            max,
        };
        for (text, want) in [
            ("", AddrError::UnknownScheme("".into())),
            ("noscheme", AddrError::UnknownScheme("noscheme".into())),
            ("http://x", AddrError::UnknownScheme("http://x".into())),
            ("VSOCK:3:1", AddrError::UnknownScheme("VSOCK:3:1".into())),
            ("tcp:host", AddrError::MissingPort("tcp:host".into())),
            ("vsock:3", AddrError::MissingPort("vsock:3".into())),
            ("vsock:any", AddrError::MissingPort("vsock:any".into())),
            (
                "hvsock:v.sock",
                AddrError::MissingPort("hvsock:v.sock".into()),
            ),
            ("tcp:h:65536", bad_port("tcp:h:65536", "65536", 65_535)),
            ("tcp:h:", bad_port("tcp:h:", "", 65_535)),
            ("tcp:h:-1", bad_port("tcp:h:-1", "-1", 65_535)),
            (
                "vsock:3:4294967296",
                bad_port("vsock:3:4294967296", "4294967296", u32::MAX),
            ),
            (
                "hvsock:/v.sock:port",
                bad_port("hvsock:/v.sock:port", "port", u32::MAX),
            ),
            (
                "vsock:x:1",
                AddrError::BadCid {
                    input: "vsock:x:1".into(),
                    cid: "x".into(),
                },
            ),
            (
                "vsock::1",
                AddrError::BadCid {
                    input: "vsock::1".into(),
                    cid: "".into(),
                },
            ),
            ("tcp::80", AddrError::Empty("tcp::80".into())),
            // Found by the `addr` fuzz target: `[]` printed as `tcp:[]:4`, which is empty.
            (
                "tcp:[[]]:4",
                AddrError::BadHost {
                    input: "tcp:[[]]:4".into(),
                    host: "[]".into(),
                },
            ),
            (
                "tcp:[::1:80",
                AddrError::BadHost {
                    input: "tcp:[::1:80".into(),
                    host: "[::1".into(),
                },
            ),
            (
                "tcp:h]:80",
                AddrError::BadHost {
                    input: "tcp:h]:80".into(),
                    host: "h]".into(),
                },
            ),
            ("tcp:[]:80", AddrError::Empty("tcp:[]:80".into())),
            ("unix:", AddrError::Empty("unix:".into())),
            ("hvsock::5005", AddrError::Empty("hvsock::5005".into())),
        ] {
            assert_eq!(text.parse::<Endpoint>(), Err(want), "{text}");
        }
    }

    #[test]
    fn errors_quote_the_input() {
        let e = "tcp:h:70000".parse::<Endpoint>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "`tcp:h:70000`: port `70000` is not a number in 0..=65535"
        );
    }

    #[test]
    fn a_destination_has_a_concrete_cid() {
        let any: Endpoint = "vsock:any:5000".parse().unwrap();
        assert_eq!(
            any.destination(),
            Err(AddrError::AnyCid("vsock:any:5000".into()))
        );
        let three: Endpoint = "vsock:3:5000".parse().unwrap();
        assert_eq!(three.clone().destination(), Ok(three));
    }

    #[test]
    fn a_listener_binds_an_ip_literal() {
        let v6: Endpoint = "tcp:[::1]:8".parse().unwrap();
        assert_eq!(v6.ip_socket_addr(), Some(Ok("[::1]:8".parse().unwrap())));
        let name: Endpoint = "tcp:localhost:8".parse().unwrap();
        assert_eq!(
            name.ip_socket_addr(),
            Some(Err(AddrError::NotAnIp {
                input: "tcp:localhost:8".into(),
                host: "localhost".into(),
            }))
        );
        let unix: Endpoint = "unix:/x".parse().unwrap();
        assert_eq!(unix.ip_socket_addr(), None);
    }

    #[test]
    fn unsupported_schemes_are_named() {
        let hv: Endpoint = "hvsock:/v.sock:1".parse().unwrap();
        assert_eq!(
            hv.not_here("`unix:PATH`").to_string(),
            "`hvsock:/v.sock:1`: hvsock addresses are not supported here (expected `unix:PATH`)"
        );
    }

    #[test]
    fn deserializes_from_a_string() {
        use serde::Deserialize as _;
        use serde::de::IntoDeserializer as _;
        use serde::de::value::{Error, StrDeserializer};
        let ok: StrDeserializer<'_, Error> = "vsock:3:1".into_deserializer();
        assert_eq!(
            Endpoint::deserialize(ok),
            Ok(Endpoint::Vsock { cid: 3, port: 1 })
        );
        let bad: StrDeserializer<'_, Error> = "vsock:3".into_deserializer();
        let e = Endpoint::deserialize(bad).unwrap_err();
        assert_eq!(e.to_string(), "`vsock:3`: missing `:PORT`");
    }
}
