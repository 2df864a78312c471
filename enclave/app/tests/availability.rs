//! The engine API stays available under abuse, as a process (builds with `danger-dev-nsm`: the
//! dev NSM, made slow with `dev_nsm_delay_ms`; JSON-RPC from a fake node that answers what the
//! application asks before it serves):
//! - while 1,000 slowloris clients (a head byte every 2 s, reconnecting when closed) are held,
//!   `GET /status` answers within 100 ms at p99 over 60 probes;
//! - after 60 aborted attestation requests (connect, request `/attestation/raw`, reset) with a
//!   slow NSM, the application has fewer than 16 threads and less than 64 MiB resident.
//!
//! Everything runs on 127.0.0.1, bounded in time; nothing opens AF_VSOCK. The slowloris test
//! needs about 1,300 file descriptors in this process (it raises its soft limit to the hard
//! one, and fails with the numbers when that is too low).
#![cfg(feature = "danger-dev-nsm")]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

#[allow(dead_code)]
#[path = "../src/limits.rs"]
mod limits;

/// The two tests measure time and threads: one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A JSON-RPC node that knows the chain id and answers every `eth_call` with the word 1 (the
/// marketplace's staking module and engine family, all the application reads before it
/// serves); anything else is an error, which the application reports and retries later.
fn fake_node() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || answer_rpc(stream));
        }
    });
    addr
}

fn rpc_reply(request: &Value) -> Value {
    let id = request["id"].clone();
    match request["method"].as_str() {
        Some("eth_chainId") => json!({"jsonrpc": "2.0", "id": id, "result": "0x7a69"}),
        Some("eth_call") => json!({"jsonrpc": "2.0", "id": id,
            "result": format!("0x{}01", "00".repeat(31))}),
        _ => json!({"jsonrpc": "2.0", "id": id,
            "error": {"code": -32601, "message": "not in this fake node"}}),
    }
}

/// Answers HTTP JSON-RPC requests on one connection until it closes.
fn answer_rpc(stream: std::net::TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    loop {
        let mut length = None;
        let mut first = true;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            if line.trim().is_empty() && !first {
                break;
            }
            first = false;
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse::<usize>().ok();
            }
        }
        let mut body = vec![0; length.unwrap_or(0)];
        reader.read_exact(&mut body)?;
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let reply = match &request {
            Value::Array(batch) => Value::Array(batch.iter().map(rpc_reply).collect()),
            single => rpc_reply(single),
        }
        .to_string();
        write!(
            writer,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{reply}",
            reply.len()
        )?;
    }
}

/// One run of the application with the engine's HTTP API on 127.0.0.1, killed on drop.
struct App {
    child: Child,
    http: SocketAddr,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl App {
    fn start(nsm_delay_ms: u64) -> App {
        let dir = tempfile::tempdir().unwrap();
        let node = fake_node();
        let bundle = dir.path().join("roots.pem");
        std::fs::write(
            &bundle,
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let config = json!({
            "vsock_port": 5005,
            "ca_roots": bundle,
            "status_listen": format!("unix:{}", dir.path().join("status.sock").display()),
            "dev_nsm_pcrs": {"PCR0": "11".repeat(48), "PCR1": "22".repeat(48), "PCR2": "33".repeat(48)},
            "dev_nsm_delay_ms": nsm_delay_ms,
            "engine": {
                "chain_id": 31337,
                "marketplace": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
                "registry": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
                "start_block": 0,
                "poll_interval_ms": 60000,
                "head_check_ms": 0,
                "http_listen": "tcp:127.0.0.1:0",
                "rpc": {"url": format!("http://{node}")},
            },
        });
        let config_path = dir.path().join("enclave-app.json");
        std::fs::write(&config_path, config.to_string()).unwrap();
        let log = dir.path().join("app.log");
        let child = Command::new(env!("CARGO_BIN_EXE_enclave-app"))
            .arg("--config")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut app = App {
            child,
            http: SocketAddr::from(([127, 0, 0, 1], 0)),
            log,
            _dir: dir,
        };
        let start = Instant::now();
        app.http = loop {
            let console = app.console();
            let found = console.lines().find_map(|l| {
                l.strip_prefix("enclave-app: listening on tcp:")?
                    .strip_suffix(" (HTTP API)")?
                    .parse()
                    .ok()
            });
            if let Some(addr) = found {
                break addr;
            }
            if let Some(status) = app.child.try_wait().unwrap() {
                panic!("enclave-app exited ({status}):\n{console}");
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "no HTTP API within 60 s:\n{console}"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        app
    }

    fn console(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// (threads, resident KiB) from `/proc/PID/status`.
    fn usage(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
                .unwrap_or_else(|| panic!("no {name} in /proc status:\n{status}"))
        };
        (field("Threads:"), field("VmRSS:"))
    }

    fn assert_alive(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!("enclave-app exited ({status}):\n{}", self.console());
        }
    }
}

/// One GET with `Connection: close`: (status, body, time to the end of the answer); status 0
/// when the server closed without an answer or took more than 5 s.
async fn get(addr: SocketAddr, target: &str) -> (u16, Vec<u8>, Duration) {
    let started = Instant::now();
    let exchange = async {
        let mut s = TcpStream::connect(addr).await?;
        s.write_all(
            format!("GET {target} HTTP/1.1\r\nHost: e\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).await?;
        Ok::<_, std::io::Error>(raw)
    };
    let raw = match tokio::time::timeout(Duration::from_secs(5), exchange).await {
        Ok(Ok(raw)) => raw,
        _ => return (0, Vec::new(), started.elapsed()),
    };
    let elapsed = started.elapsed();
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return (0, Vec::new(), elapsed);
    };
    let status = String::from_utf8_lossy(&raw[..split])
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, raw[split + 4..].to_vec(), elapsed)
}

const SLOW_CLIENTS: usize = 1000;
const PROBES: usize = 60;
/// A slowloris client sends one head byte this often.
const SLOW_BYTE_EVERY: Duration = Duration::from_secs(2);

#[derive(Default)]
struct Slow {
    connects: AtomicUsize,
    closed_by_server: AtomicUsize,
    stop: AtomicBool,
}

/// Opens a connection and sends a head that never ends, a byte every [`SLOW_BYTE_EVERY`];
/// when the server closes it, opens another (after a short pause, as slowloris tools do).
async fn slow_client(addr: SocketAddr, slow: Arc<Slow>, pause: Duration) {
    const HEAD: &[u8] = b"GET /status HTTP/1.1\r\nHost: e\r\nX-Slow: ";
    while !slow.stop.load(Ordering::Relaxed) {
        let Ok(mut s) = TcpStream::connect(addr).await else {
            tokio::time::sleep(pause).await;
            continue;
        };
        slow.connects.fetch_add(1, Ordering::Relaxed);
        for i in 0.. {
            if slow.stop.load(Ordering::Relaxed) {
                return;
            }
            let byte = HEAD.get(i).copied().unwrap_or(b'a');
            if s.write_all(&[byte]).await.is_err() {
                break;
            }
            let mut answer = [0_u8; 256];
            match tokio::time::timeout(SLOW_BYTE_EVERY, s.read(&mut answer)).await {
                // Still open, nothing said: the next byte.
                Err(_) => {}
                // Closed, or answered (a timeout answer): the server let go.
                Ok(_) => break,
            }
        }
        slow.closed_by_server.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(pause).await;
    }
}

#[tokio::test]
async fn status_answers_within_100_ms_at_p99_while_1000_slowloris_clients_are_held() {
    let _serial = SERIAL.lock().await;
    let needed = (SLOW_CLIENTS + 300) as u64;
    let soft = rlimit::increase_nofile_limit(u64::MAX).unwrap();
    assert!(
        soft >= needed,
        "this test needs {needed} file descriptors; the hard limit allows {soft}"
    );
    const {
        assert!(
            SLOW_CLIENTS > limits::MAX_CONNECTIONS,
            "more slow clients than slots"
        )
    };
    let mut app = App::start(0);
    let slow = Arc::new(Slow::default());
    // The slow clients run on their own thread, so that the probes' times are the server's.
    let attack = {
        let (slow, addr) = (slow.clone(), app.http);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let clients: Vec<_> = (0..SLOW_CLIENTS)
                    .map(|i| {
                        // Pauses of 1 to 2 s before reconnecting, spread over the clients.
                        let pause = Duration::from_millis(1000 + (i % 5) as u64 * 250);
                        tokio::spawn(slow_client(addr, slow.clone(), pause))
                    })
                    .collect();
                for client in clients {
                    let _ = client.await;
                }
            });
        })
    };
    let start = Instant::now();
    while slow.connects.load(Ordering::Relaxed) < SLOW_CLIENTS {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "only {} slow clients connected in 30 s",
            slow.connects.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Past the first head deadline: the attack is in its steady state.
    tokio::time::sleep(limits::HEADER_TIMEOUT + Duration::from_millis(500)).await;

    let mut times = Vec::with_capacity(PROBES);
    for _ in 0..PROBES {
        let (status, body, elapsed) = get(app.http, "/status").await;
        assert_eq!(
            status,
            200,
            "a probe got no answer: {}",
            String::from_utf8_lossy(&body)
        );
        times.push(elapsed);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    slow.stop.store(true, Ordering::Relaxed);
    times.sort();
    // Every client ends within one byte interval (or one pause) of the stop.
    attack.join().unwrap();
    let p99 = times[(PROBES * 99).div_ceil(100) - 1];
    let (connects, closed) = (
        slow.connects.load(Ordering::Relaxed),
        slow.closed_by_server.load(Ordering::Relaxed),
    );
    eprintln!(
        "probes: median {:?}, p99 {p99:?}, max {:?}; slow connections opened {connects}, \
         closed by the server {closed}",
        times[PROBES / 2],
        times[PROBES - 1]
    );
    assert!(
        p99 < Duration::from_millis(100),
        "p99 {p99:?}; all: {times:?}"
    );
    // The excess slow clients lost their slots, and heads that never end were cut.
    assert!(
        closed >= SLOW_CLIENTS - limits::MAX_CONNECTIONS,
        "only {closed} slow connections closed by the server"
    );
    app.assert_alive();
}

#[tokio::test]
async fn aborted_attestation_requests_leave_no_threads_or_memory_behind() {
    let _serial = SERIAL.lock().await;
    // A slow NSM: each call takes 200 ms.
    let mut app = App::start(200);
    let (threads_before, _) = app.usage();
    let mut peak_threads = threads_before;
    for i in 0..60_u32 {
        let mut s = TcpStream::connect(app.http).await.unwrap();
        s.write_all(
            format!("GET /attestation/raw?nonce={i:08x} HTTP/1.1\r\nHost: e\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
        // Let the server read the request, then reset the connection.
        tokio::time::sleep(Duration::from_millis(10)).await;
        s.set_zero_linger().unwrap();
        drop(s);
        peak_threads = peak_threads.max(app.usage().0);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (threads, rss_kib) = app.usage();
    peak_threads = peak_threads.max(threads);
    eprintln!(
        "threads: {threads_before} before, peak {peak_threads}, {threads} after; \
         resident {rss_kib} KiB"
    );
    assert!(peak_threads < 16, "{peak_threads} threads");
    assert!(rss_kib < 64 * 1024, "{rss_kib} KiB resident");
    // Still serving, documents too.
    assert_eq!(get(app.http, "/status").await.0, 200);
    let (status, document, _) = get(app.http, "/attestation/raw?nonce=c0ffee").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&document));
    assert!(document.len() > 1000, "a COSE_Sign1 document");
    app.assert_alive();
}

#[test]
fn the_fake_node_answers_what_the_application_asks() {
    let node = fake_node();
    let mut s = std::net::TcpStream::connect(node).unwrap();
    let body = r#"[{"jsonrpc":"2.0","id":1,"method":"eth_chainId"},{"jsonrpc":"2.0","id":2,"method":"eth_blockNumber"}]"#;
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: n\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reader = BufReader::new(s);
    let mut line = String::new();
    let mut length = 0;
    while reader.read_line(&mut line).unwrap() > 0 && line != "\r\n" {
        if let Some(v) = line.strip_prefix("content-length: ") {
            length = v.trim().parse().unwrap();
        }
        line.clear();
    }
    let mut reply = vec![0; length];
    reader.read_exact(&mut reply).unwrap();
    let reply: Value = serde_json::from_slice(&reply).unwrap();
    assert_eq!(reply[0]["result"], "0x7a69");
    assert_eq!(reply[1]["error"]["code"], -32601);
}
