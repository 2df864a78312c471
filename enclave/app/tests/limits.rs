//! The host proxy's example configuration passes the engine API no more connections than the
//! application holds (`src/limits.rs`, included here so that both read the same constant).

use std::path::Path;

#[allow(dead_code)]
#[path = "../src/limits.rs"]
mod limits;

#[test]
fn the_example_proxy_route_to_the_engine_api_fits_the_applications_connection_cap() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../host-proxy/host-proxy.example.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let config: toml::Table = toml::from_str(&text).unwrap();
    let routes = config["route"].as_array().expect("[[route]] entries");
    let engine_api = routes
        .iter()
        .find(|r| r.get("name").and_then(toml::Value::as_str) == Some("engine-api"))
        .expect("an `engine-api` route");
    let cap = engine_api
        .get("max_connections")
        .or_else(|| config.get("defaults")?.get("max_connections"))
        .and_then(toml::Value::as_integer)
        .expect("the engine-api route's max_connections, or [defaults].max_connections");
    assert!(
        usize::try_from(cap).is_ok_and(|cap| cap <= limits::MAX_CONNECTIONS),
        "{}: the engine-api route passes up to {cap} connections; the application holds {}",
        path.display(),
        limits::MAX_CONNECTIONS
    );
}
