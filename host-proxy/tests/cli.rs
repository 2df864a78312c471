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

#[test]
fn sigterm_drains_an_open_connection_then_exits_0() {
    let upstream = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let up_port = upstream.local_addr().unwrap().port();
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
            "drain_timeout = \"10s\"\n[[route]]\nname = \"r\"\nlisten = \"tcp:127.0.0.1:{listen_port}\"\nconnect = \"tcp:127.0.0.1:{up_port}\"\nallow = [\"127.0.0.1/32\"]\n"
        ),
    )
    .unwrap();
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(&cfg)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut c = loop {
        if let Ok(c) = TcpStream::connect(("127.0.0.1", listen_port)) {
            break c;
        }
        assert!(Instant::now() < deadline, "proxy never listened");
        std::thread::sleep(Duration::from_millis(20));
    };
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let (mut s, _) = upstream.accept().unwrap();
    c.write_all(b"ping").unwrap();
    let mut got = [0u8; 4];
    s.read_exact(&mut got).unwrap();

    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    std::thread::sleep(Duration::from_millis(200));
    // Draining: the open connection still carries the reply, then the client closes.
    s.write_all(b"pong").unwrap();
    c.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"pong");
    drop(c);
    drop(s);
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
    assert_eq!(code, Some(0), "{logs}");
    // Structured logs: one JSON object per line, with the close event.
    assert!(logs.lines().all(|l| l.starts_with('{')), "{logs}");
    assert!(
        logs.contains("\"message\":\"closed\"") && logs.contains("\"to_client\":4"),
        "{logs}"
    );
}
