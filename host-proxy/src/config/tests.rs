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
