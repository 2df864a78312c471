//! The proxy end to end over Unix and TCP sockets on 127.0.0.1 (never vsock here).

mod common;

use std::time::{Duration, Instant};

use common::*;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn route(name: &str, listen: &str, connect: &str, extra: &str) -> String {
    format!(
        "[[route]]\nname = \"{name}\"\nlisten = \"{listen}\"\nconnect = \"{connect}\"\n{extra}\n"
    )
}

const LOOPBACK: &str = "allow = [\"127.0.0.0/8\"]";

#[tokio::test]
async fn upstream_resolving_outside_the_allowed_set_is_refused_counted_and_never_dialled() {
    let upstream = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = upstream.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let cfg = format!(
        "{}{}",
        // Default policy: public addresses only, so `localhost` is refused.
        route(
            "public-only",
            &format!("unix:{}/a.sock", dir.path().display()),
            &format!("tcp:localhost:{port}"),
            ""
        ),
        route(
            "vpc-only",
            &format!("unix:{}/b.sock", dir.path().display()),
            &format!("tcp:127.0.0.1:{port}"),
            "allow = [\"10.0.0.0/8\"]"
        ),
    );
    let p = start(&cfg).await;
    for name in ["public-only", "vpc-only"] {
        let mut c = connect(&p.endpoint(name)).await.unwrap();
        let _ = c.write_all(b"GET / HTTP/1.1\r\n\r\n").await;
        assert!(
            ends_within(&mut c, BOUND).await,
            "{name}: refused connection is closed"
        );
        assert_eq!(
            p.metrics.refused_count(name, "destination_not_allowed"),
            1,
            "{name}"
        );
    }
    // The upstream never saw a connection.
    assert!(
        tokio::time::timeout(Duration::from_millis(200), upstream.accept())
            .await
            .is_err()
    );
    assert!(p.metrics.encode().contains(
        "host_proxy_refused_total{route=\"public-only\",reason=\"destination_not_allowed\"} 1"
    ));
    // An address with no route is not reachable at all.
    let unmapped = host_proxy::Endpoint::Unix(dir.path().join("unmapped.sock"));
    assert!(connect(&unmapped).await.is_err());
    assert_eq!(p.shutdown().await.cut, 0);
}

#[tokio::test]
async fn connection_limit_overflow_is_refused_at_once_and_counted() {
    let (port, _echo) = echo_server().await;
    let cfg = route(
        "r",
        "tcp:127.0.0.1:0",
        &format!("tcp:127.0.0.1:{port}"),
        &format!("{LOOPBACK}\nmax_connections = 2"),
    );
    let p = start(&cfg).await;
    let ep = p.endpoint("r");
    let mut a = connect(&ep).await.unwrap();
    let mut b = connect(&ep).await.unwrap();
    ping(&mut a, b"a").await;
    ping(&mut b, b"b").await;
    let mut over = connect(&ep).await.unwrap();
    let t = Instant::now();
    assert!(ends_within(&mut over, Duration::from_secs(5)).await);
    // Immediate: no dial, no idle timeout (the route's is 5 minutes); slack for loaded CI.
    assert!(t.elapsed() < Duration::from_secs(2), "refusal is immediate");
    assert_eq!(p.metrics.refused_count("r", "connection_limit"), 1);
    drop(a);
    // The slot frees once the proxy sees the close.
    let deadline = Instant::now() + BOUND;
    while p.metrics.active_count("r") > 1 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut c = connect(&ep).await.unwrap();
    ping(&mut c, b"c").await;
    ping(&mut b, b"still there").await;
    drop((b, c));
    assert_eq!(p.shutdown().await.cut, 0);
}

/// 8 MiB each way, hashed on both ends, through a spliced TCP path, a spliced Unix→TCP
/// path and a buffered TCP path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_streams_arrive_intact_both_ways() {
    streams_arrive_intact_both_ways(8 << 20).await;
}

/// The same with 1 GiB each way; `ci/test` runs it (`-- --ignored`) in its large-input step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "1 GiB each way on three paths: run explicitly"]
async fn gib_streams_arrive_intact_both_ways() {
    streams_arrive_intact_both_ways(1 << 30).await;
}

async fn streams_arrive_intact_both_ways(size: u64) {
    let dir = tempfile::tempdir().unwrap();
    for (listen, extra) in [
        ("tcp:127.0.0.1:0".to_owned(), "zero_copy = true".to_owned()),
        (
            format!("unix:{}/p.sock", dir.path().display()),
            "zero_copy = true".to_owned(),
        ),
        ("tcp:127.0.0.1:0".to_owned(), String::new()),
    ] {
        let up = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = up.local_addr().unwrap().port();
        let p = start(&route(
            "big",
            &listen,
            &format!("tcp:127.0.0.1:{port}"),
            &format!("{LOOPBACK}\n{extra}"),
        ))
        .await;
        // Upstream: hash what arrives while sending its own stream back.
        let server = tokio::spawn(async move {
            let (s, _) = up.accept().await.unwrap();
            let (mut r, mut w) = s.into_split();
            let send = tokio::spawn(async move { send_pattern(&mut w, 2, size).await });
            let got = hash_until_eof(&mut r).await;
            (got, send.await.unwrap())
        });
        let c = connect(&p.endpoint("big")).await.unwrap();
        let (mut r, mut w) = tokio::io::split(c);
        let started = Instant::now();
        let (sent, received) = tokio::time::timeout(Duration::from_secs(300), async {
            tokio::join!(send_pattern(&mut w, 1, size), hash_until_eof(&mut r))
        })
        .await
        .expect("transfer in time");
        let (server_got, server_sent) = server.await.unwrap();
        assert_eq!(sent, server_got, "{listen}: client→upstream bytes differ");
        assert_eq!(
            server_sent, received,
            "{listen}: upstream→client bytes differ"
        );
        assert_eq!(received.1, size);
        eprintln!(
            "{listen} {extra}: 2×{size} bytes in {:?}",
            started.elapsed()
        );
        assert_eq!(p.shutdown().await.cut, 0);
    }
}

/// A reader far slower than its writer: the direction fills its buffer (or, spliced, its
/// pipe), stalls on the full destination and resumes many times (the upstream reads 4 KiB
/// at a time and pauses every 512 KiB); every byte arrives, in order, in both copy modes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_behind_a_stream_loses_nothing() {
    for zero_copy in [true, false] {
        slow_reader_gets_every_byte(zero_copy).await;
    }
}

async fn slow_reader_gets_every_byte(zero_copy: bool) {
    let size: u64 = 48 << 20;
    let up = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = up.local_addr().unwrap().port();
    let p = start(&route(
        "slow",
        "tcp:127.0.0.1:0",
        &format!("tcp:127.0.0.1:{port}"),
        &format!("{LOOPBACK}\nzero_copy = {zero_copy}"),
    ))
    .await;
    let server = tokio::spawn(async move {
        let (mut s, _) = up.accept().await.unwrap();
        hash_paced(&mut s, 4 << 10, Some(512 << 10)).await
    });
    let mut c = connect(&p.endpoint("slow")).await.unwrap();
    let sent = tokio::time::timeout(Duration::from_secs(120), send_pattern(&mut c, 3, size))
        .await
        .expect("sent in time");
    let got = tokio::time::timeout(Duration::from_secs(120), server)
        .await
        .expect("received in time")
        .unwrap();
    assert_eq!(
        sent, got,
        "bytes differ behind a slow reader (zero_copy = {zero_copy})"
    );
    drop(c);
    assert_eq!(p.shutdown().await.cut, 0);
}

async fn send_pattern(
    w: &mut (impl AsyncWriteExt + Unpin),
    seed: u64,
    size: u64,
) -> ([u8; 32], u64) {
    let mut pat = Pattern::new(seed);
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 << 10];
    let mut left = size;
    while left > 0 {
        let n = buf.len().min(left as usize);
        pat.fill(&mut buf[..n]);
        h.update(&buf[..n]);
        w.write_all(&buf[..n]).await.unwrap();
        left -= n as u64;
    }
    w.shutdown().await.unwrap();
    (h.finalize().into(), size)
}

async fn hash_until_eof(r: &mut (impl AsyncReadExt + Unpin)) -> ([u8; 32], u64) {
    hash_paced(r, 256 << 10, None).await
}

/// Hashes `r` to EOF, reading at most `chunk` bytes at a time and, with `pause_every`,
/// sleeping 2 ms after each `pause_every` bytes (a slow reader).
async fn hash_paced(
    r: &mut (impl AsyncReadExt + Unpin),
    chunk: usize,
    pause_every: Option<u64>,
) -> ([u8; 32], u64) {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; chunk];
    let (mut total, mut since_pause) = (0u64, 0u64);
    loop {
        let n = r.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        total += n as u64;
        since_pause += n as u64;
        if pause_every.is_some_and(|every| since_pause >= every) {
            since_pause = 0;
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    (h.finalize().into(), total)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_connections_are_held() {
    const N: usize = 1000;
    // Four descriptors per connection in this process, plus pipes on the proxy side.
    let limit = raise_nofile(8 * N as u64 + 512);
    assert!(
        limit >= 6 * N as u64,
        "descriptor limit {limit} too low for the test"
    );
    let (port, _echo) = echo_server().await;
    let cfg = route(
        "many",
        "tcp:127.0.0.1:0",
        &format!("tcp:127.0.0.1:{port}"),
        &format!("{LOOPBACK}\nmax_connections = {N}"),
    );
    let p = start(&cfg).await;
    let ep = p.endpoint("many");
    let mut conns = Vec::with_capacity(N);
    for i in 0..N {
        let mut c = connect(&ep).await.unwrap();
        ping(&mut c, format!("hello {i}").as_bytes()).await;
        conns.push(c);
    }
    assert_eq!(p.metrics.active_count("many"), N as i64);
    // All of them still work, and one more is refused.
    for (i, c) in conns.iter_mut().enumerate() {
        ping(c, format!("again {i}").as_bytes()).await;
    }
    let mut over = connect(&ep).await.unwrap();
    assert!(ends_within(&mut over, BOUND).await);
    assert_eq!(p.metrics.refused_count("many", "connection_limit"), 1);
    drop(conns);
    assert_eq!(p.shutdown().await.cut, 0);
}

#[tokio::test]
async fn upstream_killed_mid_stream_closes_both_sides_and_the_next_connection_works() {
    let up = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = up.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        // First connection: send part of a response, then die with a reset.
        let (mut s, _) = up.accept().await.unwrap();
        let mut req = [0u8; 7];
        s.read_exact(&mut req).await.unwrap();
        s.write_all(&[7u8; 100_000]).await.unwrap();
        s.set_zero_linger().unwrap();
        drop(s);
        // Second connection: echo normally.
        let (mut s, _) = up.accept().await.unwrap();
        let (mut r, mut w) = s.split();
        let _ = tokio::io::copy(&mut r, &mut w).await;
    });
    let p = start(&route(
        "k",
        "tcp:127.0.0.1:0",
        &format!("tcp:127.0.0.1:{port}"),
        LOOPBACK,
    ))
    .await;
    let mut c = connect(&p.endpoint("k")).await.unwrap();
    c.write_all(b"request").await.unwrap();
    assert!(
        ends_within(&mut c, BOUND).await,
        "client side is closed after the upstream dies"
    );
    // Writing to the dead path fails rather than hanging.
    let mut write_failed = false;
    for _ in 0..100 {
        if c.write_all(&[0u8; 65536]).await.is_err() {
            write_failed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        write_failed,
        "client writes fail once the proxy closed its side"
    );
    let deadline = Instant::now() + BOUND;
    while p.metrics.active_count("k") != 0 {
        assert!(Instant::now() < deadline, "proxy released the connection");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        p.metrics.closed_count("k", "upstream_error") + p.metrics.closed_count("k", "eof"),
        1,
        "{}",
        p.metrics.encode()
    );
    let mut next = connect(&p.endpoint("k")).await.unwrap();
    ping(&mut next, b"next one works").await;
    drop(next);
    server.await.unwrap();
    assert_eq!(p.shutdown().await.cut, 0);
}

#[tokio::test]
async fn idle_and_slow_clients_time_out_but_busy_ones_do_not() {
    let (echo_port, _echo) = echo_server().await;
    // An upstream that streams without end, for a client that never reads.
    let firehose = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let fport = firehose.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = firehose.accept().await {
            tokio::spawn(async move { while s.write_all(&[1u8; 65536]).await.is_ok() {} });
        }
    });
    let idle = "idle_timeout = \"300ms\"";
    let cfg = format!(
        "{}{}",
        route(
            "echo",
            "tcp:127.0.0.1:0",
            &format!("tcp:127.0.0.1:{echo_port}"),
            &format!("{LOOPBACK}\n{idle}")
        ),
        route(
            "fire",
            "tcp:127.0.0.1:0",
            &format!("tcp:127.0.0.1:{fport}"),
            &format!("{LOOPBACK}\n{idle}")
        ),
    );
    let p = start(&cfg).await;

    // Busy: a message every 100 ms for 1.2 s, four times the idle timeout.
    let mut busy = connect(&p.endpoint("echo")).await.unwrap();
    for i in 0..12 {
        ping(&mut busy, format!("tick {i}").as_bytes()).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(p.metrics.closed_count("echo", "idle_timeout"), 0);
    drop(busy);

    // Idle: says nothing.
    let t = Instant::now();
    let mut quiet = connect(&p.endpoint("echo")).await.unwrap();
    assert!(ends_within(&mut quiet, Duration::from_secs(5)).await);
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(3),
        "idle close after {waited:?}"
    );
    assert_eq!(p.metrics.closed_count("echo", "idle_timeout"), 1);

    // Slow: never reads, so the proxy's writes stall, nothing moves, and it is cut.
    let slow = connect(&p.endpoint("fire")).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while p.metrics.closed_count("fire", "idle_timeout") == 0 {
        assert!(Instant::now() < deadline, "slow reader was never timed out");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(slow);
    assert_eq!(p.shutdown().await.cut, 0);
}

#[tokio::test]
async fn half_close_is_forwarded_on_every_transport_pair_and_copy_mode() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    for zero_copy in [true, false] {
        for (listen_unix, up_unix) in [(false, false), (true, false), (false, true), (true, true)] {
            n += 1;
            let up_path = dir.path().join(format!("up{n}.sock"));
            let (connect_ep, server) = if up_unix {
                let l = tokio::net::UnixListener::bind(&up_path).unwrap();
                let h = tokio::spawn(async move {
                    let (s, _) = l.accept().await.unwrap();
                    request_then_reply(s).await
                });
                (format!("unix:{}", up_path.display()), h)
            } else {
                let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let port = l.local_addr().unwrap().port();
                let h = tokio::spawn(async move {
                    let (s, _) = l.accept().await.unwrap();
                    request_then_reply(s).await
                });
                (format!("tcp:127.0.0.1:{port}"), h)
            };
            let listen = if listen_unix {
                format!("unix:{}/l{n}.sock", dir.path().display())
            } else {
                "tcp:127.0.0.1:0".into()
            };
            let allow = if up_unix { "" } else { LOOPBACK };
            let p = start(&route(
                "h",
                &listen,
                &connect_ep,
                &format!("{allow}\nzero_copy = {zero_copy}"),
            ))
            .await;
            let mut c = connect(&p.endpoint("h")).await.unwrap();
            c.write_all(b"question").await.unwrap();
            c.shutdown().await.unwrap(); // half-close: we still read
            let mut answer = Vec::new();
            tokio::time::timeout(BOUND, c.read_to_end(&mut answer))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                answer, b"answer to question",
                "listen unix={listen_unix} upstream unix={up_unix} zero_copy={zero_copy}"
            );
            server.await.unwrap();
            assert_eq!(p.shutdown().await.cut, 0);
        }
    }
}

/// Reads the whole request (until the client's half-close), then answers and closes.
async fn request_then_reply(mut s: impl AsyncReadExt + AsyncWriteExt + Unpin) {
    let mut q = Vec::new();
    s.read_to_end(&mut q).await.unwrap();
    let mut reply = b"answer to ".to_vec();
    reply.extend_from_slice(&q);
    s.write_all(&reply).await.unwrap();
    s.shutdown().await.unwrap();
}

#[tokio::test]
async fn drain_lets_open_connections_finish_and_cuts_them_at_the_deadline() {
    let (port, _echo) = echo_server().await;
    let cfg = format!(
        "drain_timeout = \"300ms\"\n[admin]\nlisten = \"tcp:127.0.0.1:0\"\n{}",
        route(
            "d",
            "tcp:127.0.0.1:0",
            &format!("tcp:127.0.0.1:{port}"),
            LOOPBACK
        )
    );
    // Finishing inside the drain period: no cut.
    let mut p = start(&cfg).await;
    let ep = p.endpoint("d");
    let admin = p.admin.clone().unwrap();
    assert!(
        http_get(&admin, "/healthz")
            .await
            .starts_with("HTTP/1.1 200")
    );
    let mut c = connect(&ep).await.unwrap();
    ping(&mut c, b"before").await;
    p.begin_shutdown();
    let deadline = Instant::now() + BOUND;
    while connect(&ep).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "listener closes when the drain starts"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        http_get(&admin, "/healthz")
            .await
            .starts_with("HTTP/1.1 503")
    );
    ping(&mut c, b"during drain").await;
    drop(c);
    assert_eq!(p.shutdown().await.cut, 0);

    // Still open at the deadline: cut, and the client sees the close.
    let p = start(&cfg).await;
    let mut c = connect(&p.endpoint("d")).await.unwrap();
    ping(&mut c, b"hold").await;
    let t = Instant::now();
    assert_eq!(p.shutdown().await.cut, 1);
    assert!(t.elapsed() >= Duration::from_millis(250));
    assert!(ends_within(&mut c, BOUND).await);
}

#[tokio::test]
async fn metrics_and_health_are_served() {
    let (port, _echo) = echo_server().await;
    let cfg = format!(
        "[admin]\nlisten = \"tcp:127.0.0.1:0\"\n{}",
        route(
            "m",
            "tcp:127.0.0.1:0",
            &format!("tcp:127.0.0.1:{port}"),
            &format!("{LOOPBACK}\nmax_connections = 1")
        )
    );
    let p = start(&cfg).await;
    let mut c = connect(&p.endpoint("m")).await.unwrap();
    ping(&mut c, b"12345").await;
    let mut over = connect(&p.endpoint("m")).await.unwrap();
    assert!(ends_within(&mut over, BOUND).await);
    drop(c);
    let admin = p.admin.clone().unwrap();
    let deadline = Instant::now() + BOUND;
    while p.metrics.active_count("m") != 0 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let body = http_get(&admin, "/metrics").await;
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    for line in [
        "host_proxy_connections_total{route=\"m\"} 1",
        "host_proxy_bytes_total{route=\"m\",direction=\"to_upstream\"} 5",
        "host_proxy_bytes_total{route=\"m\",direction=\"to_client\"} 5",
        "host_proxy_refused_total{route=\"m\",reason=\"connection_limit\"} 1",
        "host_proxy_closed_total{route=\"m\",reason=\"eof\"} 1",
        "host_proxy_active_connections{route=\"m\"} 0",
        "host_proxy_upstream_connect_seconds_count{route=\"m\"} 1",
        "# EOF",
    ] {
        assert!(body.contains(line), "missing `{line}` in:\n{body}");
    }
    assert!(http_get(&admin, "/healthz").await.ends_with("ok\n"));
    assert!(http_get(&admin, "/nope").await.starts_with("HTTP/1.1 404"));
    assert_eq!(p.shutdown().await.cut, 0);
}

#[tokio::test]
async fn unreachable_upstream_is_counted_and_the_client_closed() {
    // A port with nothing listening.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    let p = start(&route(
        "u",
        "tcp:127.0.0.1:0",
        &format!("tcp:127.0.0.1:{port}"),
        LOOPBACK,
    ))
    .await;
    let mut c = connect(&p.endpoint("u")).await.unwrap();
    assert!(ends_within(&mut c, BOUND).await);
    assert_eq!(p.metrics.upstream_error_count("u", "connect"), 1);
    assert_eq!(p.shutdown().await.cut, 0);
}

async fn http_get(ep: &host_proxy::Endpoint, path: &str) -> String {
    let mut s = connect(ep).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    tokio::time::timeout(BOUND, s.read_to_string(&mut out))
        .await
        .unwrap()
        .unwrap();
    out
}

/// Alternating bulk and tiny messages make each direction switch between spliced
/// and buffered copying many times; every echoed byte must come back in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_between_splice_and_buffered_copy_loses_nothing() {
    let (port, _echo) = echo_server().await;
    let p = start(&route(
        "mix",
        "tcp:127.0.0.1:0",
        &format!("tcp:127.0.0.1:{port}"),
        &format!("{LOOPBACK}\nzero_copy = true"),
    ))
    .await;
    let mut c = connect(&p.endpoint("mix")).await.unwrap();
    let mut pat = Pattern::new(9);
    for i in 0..60 {
        let len = match i % 3 {
            0 => 300_000,
            1 => 7,
            _ => 70_000,
        };
        let mut msg = vec![0u8; len];
        pat.fill(&mut msg);
        // Write and read concurrently: the bulk messages exceed the socket buffers.
        let (mut r, mut w) = tokio::io::split(&mut c);
        let sent = msg.clone();
        let (_, back) = tokio::time::timeout(BOUND, async {
            tokio::join!(async { w.write_all(&sent).await.unwrap() }, async {
                let mut back = vec![0u8; len];
                r.read_exact(&mut back).await.unwrap();
                back
            })
        })
        .await
        .expect("echo in time");
        assert!(back == msg, "message {i} ({len} bytes) corrupted");
    }
    drop(c);
    assert_eq!(p.shutdown().await.cut, 0);
}
