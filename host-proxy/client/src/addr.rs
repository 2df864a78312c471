//! The proxy's enclave-facing address: `vsock:CID:PORT`, `unix:PATH` or `tcp:HOST:PORT`,
//! parsed by `transport-addr`, the parser of the proxy's configuration.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

pub use transport_addr::AddrError;
use transport_addr::Endpoint;

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

/// What a proxy address can be: `vsock:CID:PORT`, `unix:PATH` or `tcp:HOST:PORT`.
const EXPECTED: &str = "`vsock:CID:PORT`, `unix:PATH` or `tcp:HOST:PORT`";

impl TryFrom<Endpoint> for ProxyAddr {
    type Error = AddrError;

    fn try_from(endpoint: Endpoint) -> Result<Self, AddrError> {
        match endpoint.destination()? {
            Endpoint::Vsock { cid, port } => Ok(ProxyAddr::Vsock { cid, port }),
            Endpoint::Unix(path) => Ok(ProxyAddr::Unix(path)),
            Endpoint::Tcp { host, port } => Ok(ProxyAddr::Tcp { host, port }),
            hv @ Endpoint::HybridVsock { .. } => Err(hv.not_here(EXPECTED)),
        }
    }
}

impl FromStr for ProxyAddr {
    type Err = AddrError;

    fn from_str(s: &str) -> Result<Self, AddrError> {
        s.parse::<Endpoint>()?.try_into()
    }
}

impl From<&ProxyAddr> for Endpoint {
    fn from(addr: &ProxyAddr) -> Self {
        match addr {
            ProxyAddr::Vsock { cid, port } => Endpoint::Vsock {
                cid: *cid,
                port: *port,
            },
            ProxyAddr::Unix(path) => Endpoint::Unix(path.clone()),
            ProxyAddr::Tcp { host, port } => Endpoint::Tcp {
                host: host.clone(),
                port: *port,
            },
        }
    }
}

impl fmt::Display for ProxyAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Endpoint::from(self).fmt(f)
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
    fn refuses_the_any_cid_and_hybrid_vsock_as_a_destination() {
        assert_eq!(
            "vsock:any:5000".parse::<ProxyAddr>(),
            Err(AddrError::AnyCid("vsock:any:5000".into()))
        );
        assert!(matches!(
            "hvsock:/v.sock:5000".parse::<ProxyAddr>(),
            Err(AddrError::NotHere {
                scheme: "hvsock",
                ..
            })
        ));
    }
}
