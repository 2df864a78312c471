//! The `host-proxy` binary as an operator runs it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_host-proxy");

#[test]
fn check_accepts_the_example_and_rejects_a_bad_config_with_exit_2() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/host-proxy.example.toml");
    let ok = Command::new(BIN)
        .args(["--check", "--config", example])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[route]]\nname = \"l2\"\nlisten = \"vsock:any:1\"\nconnect = \"tcp:h:1\"\nmax_connections = 0\n").unwrap();
    let out = Command::new(BIN)
        .arg("--check")
        .arg("--config")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("route \"l2\": max_connections"), "{err}");

    let missing = Command::new(BIN)
        .args(["--config", "/nonexistent/host-proxy.toml"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read"));
}

/// The proxy binary on a configuration with one route `r` listening on a free 127.0.0.1
/// port (`extra` is added to the route), and that port.
fn spawn_proxy(up_port: u16, extra: &str) -> (std::process::Child, u16, tempfile::TempDir) {
    let listen_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        format!(
            "drain_timeout = \"10s\"\n[[route]]\nname = \"r\"\nlisten = \"tcp:127.0.0.1:{listen_port}\"\nconnect = \"tcp:127.0.0.1:{up_port}\"\nallow = [\"127.0.0.1/32\"]\n{extra}\n"
        ),
    )
    .unwrap();
    let child = Command::new(BIN)
        .arg("--config")
        .arg(&cfg)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    (child, listen_port, dir)
}

fn connect_when_listening(port: u16) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(c) = TcpStream::connect(("127.0.0.1", port)) {
            c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            return c;
        }
        assert!(Instant::now() < deadline, "proxy never listened");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends SIGTERM, waits for the exit, and returns the exit code and the logs.
fn stop(mut child: std::process::Child) -> (Option<i32>, String) {
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let code = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.code();
        }
        assert!(
            Instant::now() < deadline,
            "proxy did not exit after the drain"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    (code, logs)
}

#[test]
fn sigterm_drains_an_open_connection_then_exits_0() {
    let upstream = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let up_port = upstream.local_addr().unwrap().port();
    let (child, listen_port, _dir) = spawn_proxy(up_port, "");
    let mut c = connect_when_listening(listen_port);
    let (mut s, _) = upstream.accept().unwrap();
    c.write_all(b"ping").unwrap();
    let mut got = [0u8; 4];
    s.read_exact(&mut got).unwrap();

    let pid = child.id();
    let drained = std::thread::spawn(move || stop(child));
    std::thread::sleep(Duration::from_millis(200));
    // Draining: the open connection still carries the reply, then the client closes.
    s.write_all(b"pong").unwrap();
    c.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"pong");
    drop(c);
    drop(s);
    let (code, logs) = drained.join().unwrap();
    assert_eq!(code, Some(0), "pid {pid}: {logs}");
    // Structured logs: one JSON object per line. At the default level a connection logs no
    // line of its own; the route's summary counts it (here the final one, at stop).
    assert!(logs.lines().all(|l| l.starts_with('{')), "{logs}");
    assert!(!logs.contains("\"message\":\"closed\""), "{logs}");
    let summary = logs
        .lines()
        .find(|l| l.contains("\"message\":\"connections\""))
        .unwrap_or_else(|| panic!("no summary line: {logs}"));
    assert!(
        summary.contains("\"route\":\"r\"")
            && summary.contains("\"forwarded\":1")
            && summary.contains("\"closed\":\"eof=1\""),
        "{summary}"
    );
}

#[test]
fn a_client_outside_the_route_s_client_list_is_refused_with_a_line_naming_the_route() {
    let upstream = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    upstream.set_nonblocking(true).unwrap();
    let up_port = upstream.local_addr().unwrap().port();
    // The test connects from 127.0.0.1, outside this list.
    let (child, listen_port, _dir) = spawn_proxy(up_port, "clients = [\"10.0.0.0/8\"]");
    let mut refused = 0;
    for _ in 0..5 {
        let mut c = connect_when_listening(listen_port);
        let _ = c.write_all(b"GET / HTTP/1.1\r\n\r\n");
        let mut buf = [0u8; 16];
        // Closed at once, nothing forwarded (EOF or a reset).
        if matches!(c.read(&mut buf), Ok(0) | Err(_)) {
            refused += 1;
        }
    }
    assert_eq!(refused, 5);
    assert!(
        upstream.accept().is_err(),
        "a refused client never reaches the upstream"
    );
    let (code, logs) = stop(child);
    assert_eq!(code, Some(0), "{logs}");
    // One warning names the route and the reason (later ones in the same 10 s are held back
    // and counted), and the summary counts all five.
    let warnings: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("\"reason\":\"client_not_allowed\""))
        .collect();
    assert_eq!(warnings.len(), 1, "{logs}");
    assert!(
        warnings[0].contains("\"route\":\"r\"") && warnings[0].contains("\"level\":\"WARN\""),
        "{logs}"
    );
    assert!(
        logs.contains("\"refused\":\"client_not_allowed=5\""),
        "{logs}"
    );
}
