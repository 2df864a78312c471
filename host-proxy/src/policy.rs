//! Which resolved upstream addresses a route may dial.
//!
//! The enclave never names a destination: each listener maps to one configured
//! upstream. What remains to check is the address the *host's* DNS returns for
//! that upstream. By default only public unicast addresses are dialled, so a
//! poisoned or misconfigured resolver cannot turn a route into a path to the
//! instance metadata service, the VPC or loopback. A route may instead list the
//! networks it allows (`allow = ["127.0.0.0/8"]` for a local node, for instance).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use crate::transport::Peer;

/// The set of addresses a route may connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AddressPolicy {
    /// Public unicast only: every special-purpose range (RFC 6890 and successors) is refused.
    PublicOnly,
    /// Exactly these networks (an IPv4-mapped IPv6 address is matched as IPv4).
    Networks(Vec<IpNet>),
}

impl AddressPolicy {
    /// Whether `ip` may be dialled under this policy.
    pub fn permits(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match self {
            AddressPolicy::PublicOnly => !is_special_purpose(ip),
            AddressPolicy::Networks(nets) => nets.iter().any(|n| n.contains(&ip)),
        }
    }
}

/// Which clients may use a route: the route's `clients` list, distinct from the upstream
/// policy (`allow`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientPolicy {
    /// Every client the listener accepts (no `clients` list).
    Any,
    /// TCP clients whose source address is in one of these networks (an IPv4-mapped IPv6
    /// address is matched as IPv4).
    Networks(Vec<IpNet>),
    /// vsock clients with one of these CIDs.
    Cids(Vec<u32>),
}

impl ClientPolicy {
    /// Whether `peer` may use the route. A peer of another transport than the list's is refused.
    pub fn permits(&self, peer: &Peer) -> bool {
        match (self, peer) {
            (ClientPolicy::Any, _) => true,
            (ClientPolicy::Networks(nets), Peer::Tcp(a)) => {
                let ip = canonical(a.ip());
                nets.iter().any(|n| n.contains(&ip))
            }
            (ClientPolicy::Cids(cids), Peer::Vsock { cid, .. }) => cids.contains(cid),
            _ => false,
        }
    }
}

pub(crate) fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Loopback, private, link-local (incl. 169.254.169.254), CGNAT, documentation,
/// benchmarking, multicast, reserved and unspecified ranges, IPv4 and IPv6.
pub fn is_special_purpose(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => is_special_v4(v4),
        IpAddr::V6(v6) => is_special_v6(v6),
    }
}

fn is_special_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (b & 0xc0) == 64) // 100.64/10 shared address space
        || (a == 192 && b == 0 && c == 0) // 192.0.0/24 IETF protocol assignments
        || (a == 198 && (b & 0xfe) == 18) // 198.18/15 benchmarking
        || a >= 240 // 240/4 reserved
}

fn is_special_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // fc00::/7 unique local
        || (s[0] & 0xffc0) == 0xfe80 // fe80::/10 link-local
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64, could reach IPv4 special ranges
        || (s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0) // discard-only
        || (s[0] == 0x2002) // 6to4, embeds an arbitrary IPv4 address
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn public_only_refuses_metadata_vpc_loopback_and_mapped_forms() {
        let p = AddressPolicy::PublicOnly;
        for bad in [
            "169.254.169.254",
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "198.18.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:169.254.169.254",
            "::ffff:127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:a9fe:a9fe::1",
        ] {
            assert!(!p.permits(ip(bad)), "{bad} must be refused");
        }
        for good in ["1.1.1.1", "104.16.0.1", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(p.permits(ip(good)), "{good} must be allowed");
        }
    }

    #[test]
    fn client_lists_match_source_networks_and_cids_only() {
        let tcp = |s: &str| Peer::Tcp(s.parse().unwrap());
        let nets = ClientPolicy::Networks(vec!["10.0.0.0/8".parse().unwrap()]);
        assert!(nets.permits(&tcp("10.1.2.3:5000")));
        assert!(nets.permits(&tcp("[::ffff:10.1.2.3]:5000")));
        assert!(!nets.permits(&tcp("127.0.0.1:5000")));
        assert!(!nets.permits(&Peer::Vsock { cid: 10, port: 1 }));
        assert!(!nets.permits(&Peer::Unix));
        let cids = ClientPolicy::Cids(vec![16]);
        assert!(cids.permits(&Peer::Vsock { cid: 16, port: 9 }));
        assert!(!cids.permits(&Peer::Vsock { cid: 17, port: 9 }));
        assert!(!cids.permits(&tcp("16.0.0.1:1")));
        assert!(ClientPolicy::Any.permits(&Peer::Unix));
    }

    #[test]
    fn explicit_networks_are_exact() {
        let p = AddressPolicy::Networks(vec![
            "127.0.0.0/8".parse().unwrap(),
            "2001:db8::/32".parse().unwrap(),
        ]);
        assert!(p.permits(ip("127.0.0.1")));
        assert!(p.permits(ip("::ffff:127.0.0.2")));
        assert!(p.permits(ip("2001:db8::5")));
        assert!(!p.permits(ip("::1")));
        assert!(!p.permits(ip("1.1.1.1")));
        assert!(!AddressPolicy::Networks(vec![]).permits(ip("1.1.1.1")));
    }
}
