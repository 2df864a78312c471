//! The transport address parser (`transport-addr`, every route's `listen` and `connect`, the
//! enclave's proxy and API addresses) on any text:
//! - it returns an `Endpoint` or a named `AddrError`, never panics;
//! - an error's message starts with the input, quoted;
//! - an address prints as text that parses back to the same address (so every address the
//!   proxy logs or the enclave reports can be pasted back into a configuration);
//! - `destination()` refuses exactly `vsock:any`, and a `tcp:` listener's socket address
//!   keeps the port and is the host parsed as an IP literal.
#![no_main]

use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use transport_addr::{AddrError, Endpoint, VSOCK_CID_ANY};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match text.parse::<Endpoint>() {
        Err(e) => {
            let quoted = format!("`{text}`");
            assert!(e.to_string().starts_with(&quoted), "{text:?}: {e}");
        }
        Ok(endpoint) => {
            let printed = endpoint.to_string();
            assert_eq!(
                printed.parse::<Endpoint>().as_ref(),
                Ok(&endpoint),
                "{text:?} printed as {printed:?}"
            );
            let any = matches!(
                endpoint,
                Endpoint::Vsock {
                    cid: VSOCK_CID_ANY,
                    ..
                }
            );
            match endpoint.clone().destination() {
                Ok(d) => assert!(!any && d == endpoint, "{text:?}"),
                Err(e) => assert!(any && e == AddrError::AnyCid(printed.clone()), "{text:?}"),
            }
            if let Endpoint::Tcp { host, port } = &endpoint {
                match endpoint.ip_socket_addr() {
                    Some(Ok(sa)) => {
                        assert_eq!(sa.port(), *port);
                        assert_eq!(Ok(sa.ip()), host.parse::<IpAddr>());
                    }
                    Some(Err(e)) => assert!(host.parse::<IpAddr>().is_err(), "{text:?}: {e}"),
                    None => panic!("{text:?}: a tcp endpoint has a socket address or an error"),
                }
            } else {
                assert!(endpoint.ip_socket_addr().is_none(), "{text:?}");
            }
        }
    }
});
