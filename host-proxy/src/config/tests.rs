use super::*;

const GOOD: &str = r#"
drain_timeout = "20s"
[admin]
listen = "tcp:127.0.0.1:9102"
[defaults]
max_connections = 100
idle_timeout = "2m"
[[route]]
name = "arbitrum-rpc"
listen = "vsock:any:8001"
connect = "tcp:arb1.example.org:443"
max_connections = 8
[[route]]
name = "local-anvil"
listen = "vsock:any:8002"
connect = "tcp:localhost:8545"
allow = ["127.0.0.0/8", "::1/128"]
idle_timeout = "250ms"
[[route]]
name = "engine-api"
listen = "tcp:0.0.0.0:8443"
connect = "vsock:88:8443"
"#;

fn err(text: &str) -> String {
    Config::parse(text).unwrap_err().to_string()
}

#[test]
fn resolves_defaults_and_overrides() {
    let c = Config::parse(GOOD).unwrap();
    assert_eq!(c.drain_timeout, Duration::from_secs(20));
    assert_eq!(c.routes.len(), 3);
    let [a, b, e] = &c.routes[..] else { panic!() };
    assert_eq!(
        (a.max_connections, a.idle_timeout),
        (8, Duration::from_secs(120))
    );
    assert_eq!(a.policy, AddressPolicy::PublicOnly);
    assert_eq!(
        (b.max_connections, b.idle_timeout),
        (100, Duration::from_millis(250))
    );
    assert!(matches!(&b.policy, AddressPolicy::Networks(n) if n.len() == 2));
    assert_eq!(
        e.connect,
        Endpoint::Vsock {
            cid: 88,
            port: 8443
        }
    );
    assert_eq!(e.buffer_size, DEFAULT_BUFFER);
    assert!(!e.zero_copy, "splice is opt-in");
    // Unless configured, one TCP client gets a quarter of a route, and the enclave (a vsock
    // listener's client) the whole of its outbound routes; timeouts never exceed the idle one.
    assert_eq!(
        [a, b, e].map(|r| r.max_connections_per_client),
        [8, 100, 25]
    );
    assert_eq!(e.clients, ClientPolicy::Any);
    assert_eq!(
        (e.first_byte_timeout, e.half_close_timeout),
        (DEFAULT_FIRST_BYTE, DEFAULT_HALF_CLOSE)
    );
    assert_eq!(
        (b.first_byte_timeout, b.half_close_timeout),
        (Duration::from_millis(250), Duration::from_millis(250))
    );
    assert_eq!(c.admin_max_connections, DEFAULT_ADMIN_MAX_CONNECTIONS);
    assert_eq!(c.log_summary_interval, DEFAULT_LOG_SUMMARY);
}

#[test]
fn client_lists_and_per_client_limits_are_checked_against_the_listener() {
    let tcp = |extra: &str| {
        format!(
            "[[route]]\nname = \"t\"\nlisten = \"tcp:0.0.0.0:1\"\nconnect = \"vsock:88:1\"\n{extra}"
        )
    };
    let vsock = |extra: &str| {
        format!("[[route]]\nname = \"v\"\nlisten = \"vsock:any:1\"\nconnect = \"tcp:h:1\"\n{extra}")
    };
    let c = Config::parse(&tcp(
        "clients = [\"10.0.0.0/8\", \"192.0.2.7\", \"2001:db8::/32\"]\nmax_connections = 10\nmax_connections_per_client = 10",
    ))
    .unwrap();
    let ClientPolicy::Networks(nets) = &c.routes[0].clients else {
        panic!("{:?}", c.routes[0].clients)
    };
    assert_eq!(nets.len(), 3);
    assert_eq!(nets[1], "192.0.2.7/32".parse::<IpNet>().unwrap());
    assert_eq!(c.routes[0].max_connections_per_client, 10);
    let c = Config::parse(&vsock("clients = [16, 17]")).unwrap();
    assert_eq!(c.routes[0].clients, ClientPolicy::Cids(vec![16, 17]));

    assert!(err(&tcp("clients = []")).contains("route \"t\": clients = []"));
    assert!(err(&tcp("clients = [16]")).contains("route \"t\": clients: 16 is a vsock CID"));
    assert!(err(&tcp("clients = [\"10.0.0.0/33\"]")).contains("not an IP network"));
    assert!(
        err(&vsock("clients = [\"10.0.0.0/8\"]")).contains("route \"v\": clients: `10.0.0.0/8`")
    );
    let unix =
        "[[route]]\nname = \"u\"\nlisten = \"unix:/a\"\nconnect = \"unix:/b\"\nclients = [1]";
    assert!(err(unix).contains("route \"u\": clients applies to tcp: and vsock:"));
    assert!(
        err(&tcp("max_connections = 4\nmax_connections_per_client = 5"))
            .contains("route \"t\": max_connections_per_client must be in 1..=4")
    );
    assert!(err(&tcp("max_connections_per_client = 0")).contains("max_connections_per_client"));
    assert!(
        err(&tcp("first_byte_timeout = \"0s\"")).contains("first_byte_timeout must be positive")
    );
    assert!(
        err(&tcp("half_close_timeout = \"0ms\"")).contains("half_close_timeout must be positive")
    );
    assert!(
        err(&format!(
            "[admin]\nlisten = \"tcp:127.0.0.1:1\"\nmax_connections = 0\n{}",
            tcp("")
        ))
        .contains("[admin]: max_connections")
    );
    assert!(
        err(&format!("log_summary_interval = \"0s\"\n{}", tcp("")))
            .contains("log_summary_interval must be positive")
    );
    // The new keys also work from [defaults].
    let c = Config::parse(&format!(
        "[defaults]\nmax_connections_per_client = 3\nfirst_byte_timeout = \"2s\"\nhalf_close_timeout = \"4s\"\n{}",
        tcp("")
    ))
    .unwrap();
    let r = &c.routes[0];
    assert_eq!(
        (
            r.max_connections_per_client,
            r.first_byte_timeout,
            r.half_close_timeout
        ),
        (3, Duration::from_secs(2), Duration::from_secs(4))
    );
}

#[test]
fn rejects_bad_configs_with_the_route_and_field_named() {
    let route = |extra: &str| {
        format!("[[route]]\nname = \"r\"\nlisten = \"unix:/tmp/a\"\nconnect = \"tcp:h:1\"\n{extra}")
    };
    assert!(err("").contains("no [[route]]"));
    assert!(err(&route("bogus = 1")).contains("unknown field `bogus`"));
    assert!(err(&route("max_connections = 0")).contains("route \"r\": max_connections"));
    assert!(err(&route("idle_timeout = \"5 minutes\"")).contains("unit must be"));
    assert!(err(&route("idle_timeout = \"0s\"")).contains("must be positive"));
    assert!(err(&route("buffer_size = 10")).contains("buffer_size"));
    assert!(err(&route("allow = []")).contains("allow = []"));
    assert!(err(&route("allow = [\"10.0.0.0/33\"]")).contains("invalid"));
    let twice = format!("{}{}", route(""), route(""));
    assert!(err(&twice).contains("duplicate route name"));
    let same_listen = format!(
        "{}{}",
        route(""),
        route("").replace("name = \"r\"", "name = \"s\"")
    );
    assert!(err(&same_listen).contains("already used"));
    assert!(
        err("[[route]]\nname=\"x\"\nlisten=\"tcp:example.org:1\"\nconnect=\"tcp:h:1\"")
            .contains("not a name")
    );
    assert!(
        err("[[route]]\nname=\"x\"\nlisten=\"unix:/a\"\nconnect=\"vsock:any:1\"")
            .contains("enclave's CID")
    );
    assert!(
        err(
            "[[route]]\nname=\"x\"\nlisten=\"unix:/a\"\nconnect=\"unix:/b\"\nallow=[\"0.0.0.0/0\"]"
        )
        .contains("only applies")
    );
    assert!(
        err("[[route]]\nname=\"a b\"\nlisten=\"unix:/a\"\nconnect=\"unix:/b\"")
            .contains("name must be")
    );
    assert!(
        err("[[route]]\nname=\"x\"\nlisten=\"ftp:/a\"\nconnect=\"unix:/b\"")
            .contains("expected `vsock:CID:PORT`")
    );
    assert!(
        err("[[route]]\nname=\"x\"\nlisten=\"hvsock:/v.sock:5005\"\nconnect=\"unix:/b\"")
            .contains("route \"x\": listen hvsock:/v.sock:5005: hvsock: is a destination only")
    );
    assert!(
        err("[[route]]\nname=\"x\"\nlisten=\"unix:/a\"\nconnect=\"hvsock:/v.sock:5005\"\nallow=[\"127.0.0.1/32\"]")
            .contains("only applies")
    );
    let inbound = Config::parse(
        "[[route]]\nname=\"status\"\nlisten=\"tcp:127.0.0.1:0\"\nconnect=\"hvsock:/run/vm/v.sock:5005\"",
    )
    .unwrap();
    assert_eq!(
        inbound.routes[0].connect,
        Endpoint::HybridVsock {
            path: "/run/vm/v.sock".into(),
            port: 5005
        }
    );
    assert!(err("[admin]\nlisten=\"vsock:any:9\"\n[[route]]\nname=\"x\"\nlisten=\"unix:/a\"\nconnect=\"unix:/b\"").contains("[admin]"));
}

#[test]
fn example_config_in_the_repository_is_valid() {
    let text = include_str!("../../host-proxy.example.toml");
    let c = Config::parse(text).unwrap();
    assert!(c.routes.len() >= 5);
}
