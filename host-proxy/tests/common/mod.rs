//! Shared fixtures: a proxy started from TOML text, and small upstream servers.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration;

use host_proxy::busy_poll::DEFAULT_WINDOW_US;
use host_proxy::{BusyPoll, Config, DrainReport, Endpoint, Metrics, Proxy, Timers};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UnixStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Every network wait in these tests is bounded by this.
pub const BOUND: Duration = Duration::from_secs(20);

pub struct Running {
    pub proxy_endpoints: Vec<(String, Endpoint)>,
    pub admin: Option<Endpoint>,
    pub metrics: Arc<Metrics>,
    stop: Option<oneshot::Sender<()>>,
    pub task: JoinHandle<DrainReport>,
}

impl Running {
    pub fn endpoint(&self, route: &str) -> Endpoint {
        self.proxy_endpoints
            .iter()
            .find(|(n, _)| n == route)
            .map(|(_, e)| e.clone())
            .expect("route exists in the test config")
    }

    /// Sends the shutdown signal (the drain starts) without waiting for it.
    pub fn begin_shutdown(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }

    pub async fn shutdown(mut self) -> DrainReport {
        self.begin_shutdown();
        tokio::time::timeout(BOUND, self.task)
            .await
            .expect("drain finished in time")
            .expect("serve task")
    }
}

/// How the proxy under test is run.
#[derive(Debug, Clone, Copy)]
pub enum Serving {
    /// On the test's runtime, timers included.
    InTestRuntime,
    /// As the binary runs it by default: on a thread of its own with an I/O-only runtime,
    /// its timers on a second thread ([`Timers::on_own_thread`]), busy polling for the
    /// default window ([`BusyPoll`]).
    IoOnlyTimersOnOwnThread,
}

pub async fn start(toml: &str) -> Running {
    start_serving(toml, Serving::InTestRuntime).await
}

pub async fn start_serving(toml: &str, serving: Serving) -> Running {
    let config = Config::parse(toml).expect("test config is valid");
    let names: Vec<String> = config.routes.iter().map(|r| r.name.clone()).collect();
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let (proxy_endpoints, admin, metrics, task) = match serving {
        Serving::InTestRuntime => {
            let proxy = Proxy::bind(config).await.expect("bind");
            let (endpoints, admin, metrics) = described(&proxy, names);
            (
                endpoints,
                admin,
                metrics,
                tokio::spawn(proxy.serve(shutdown)),
            )
        }
        Serving::IoOnlyTimersOnOwnThread => {
            let (bound, on_bound) = oneshot::channel();
            let (report, on_report) = oneshot::channel();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_io()
                    .build()
                    .expect("I/O runtime");
                let timers = Timers::on_own_thread().expect("timer thread");
                rt.block_on(async move {
                    let proxy = Proxy::bind(config)
                        .await
                        .expect("bind")
                        .with_timers(timers)
                        .with_busy_poll(BusyPoll::new(Duration::from_micros(DEFAULT_WINDOW_US)));
                    let _ = bound.send(described(&proxy, names));
                    let _ = report.send(proxy.serve(shutdown).await);
                });
            });
            let (endpoints, admin, metrics) = on_bound.await.expect("proxy thread bound");
            let task = tokio::spawn(async move { on_report.await.expect("proxy thread served") });
            (endpoints, admin, metrics, task)
        }
    };
    Running {
        proxy_endpoints,
        admin,
        metrics,
        stop: Some(stop),
        task,
    }
}

/// Each named route's bound endpoint, the admin endpoint and the metrics of a bound proxy.
fn described(
    proxy: &Proxy,
    names: Vec<String>,
) -> (Vec<(String, Endpoint)>, Option<Endpoint>, Arc<Metrics>) {
    let endpoints = names
        .into_iter()
        .map(|n| {
            let e = proxy.local_endpoint(&n).expect("bound");
            (n, e)
        })
        .collect();
    (endpoints, proxy.admin_endpoint(), proxy.metrics())
}

pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Connects to a proxy listener as the enclave (or an outside client) would.
pub async fn connect(ep: &Endpoint) -> std::io::Result<Box<dyn Io>> {
    match ep {
        Endpoint::Tcp { host, port } => {
            let s = TcpStream::connect((host.as_str(), *port)).await?;
            s.set_nodelay(true)?;
            Ok(Box::new(s))
        }
        Endpoint::Unix(p) => Ok(Box::new(UnixStream::connect(p).await?)),
        other => panic!("tests never open {other}"),
    }
}

/// A TCP echo server on 127.0.0.1; returns its port.
pub async fn echo_server() -> (u16, JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let h = tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
                let _ = w.shutdown().await;
            });
        }
    });
    (port, h)
}

/// Writes `[u32 len][payload]`, reads the echo back and checks it.
pub async fn ping(s: &mut (impl AsyncRead + AsyncWrite + Unpin + ?Sized), payload: &[u8]) {
    tokio::time::timeout(BOUND, async {
        s.write_all(payload).await.unwrap();
        let mut back = vec![0; payload.len()];
        s.read_exact(&mut back).await.unwrap();
        assert_eq!(back, payload);
    })
    .await
    .expect("echo within bound");
}

/// Reads until EOF or error; returns whether the stream ended within `within`.
pub async fn ends_within(s: &mut (impl AsyncRead + Unpin + ?Sized), within: Duration) -> bool {
    let mut buf = [0u8; 4096];
    tokio::time::timeout(within, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

/// Deterministic pseudo-random bytes (xorshift64*), so both ends can agree without storing them.
pub struct Pattern(u64);

impl Pattern {
    pub fn new(seed: u64) -> Self {
        Pattern(seed | 1)
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let v = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

/// Raises the soft descriptor limit to at least `want` (bounded by the hard limit).
pub fn raise_nofile(want: u64) -> u64 {
    let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
    if soft >= want {
        return soft;
    }
    let new = want.min(hard);
    rlimit::setrlimit(rlimit::Resource::NOFILE, new, hard).unwrap();
    new
}

/// Connects to a TCP proxy listener from the loopback source address `from` (127.0.0.0/8:
/// every such address is this host), so tests can play several clients.
pub async fn connect_from(from: [u8; 4], ep: &Endpoint) -> std::io::Result<TcpStream> {
    let Endpoint::Tcp { host, port } = ep else {
        panic!("connect_from takes a tcp: listener, not {ep}");
    };
    let to = std::net::SocketAddr::new(host.parse().expect("an IP listener"), *port);
    let s = tokio::net::TcpSocket::new_v4()?;
    s.bind((std::net::Ipv4Addr::from(from), 0).into())?;
    let s = s.connect(to).await?;
    s.set_nodelay(true)?;
    Ok(s)
}
