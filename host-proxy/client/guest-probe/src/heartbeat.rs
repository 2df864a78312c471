//! The parent's side of the Nitro boot heartbeat, as nitro-cli 1.5.2 plays it
//! (`aws-nitro-enclaves-eif-loader` `enclave_ready`): accept one connection on port 9000,
//! read exactly one byte, require `0xB7`, write the same byte back. Here the port is a Unix
//! socket (vhost-device-vsock's `UDS_PATH_9000`), so the boot tests can play nitro-cli's part
//! without opening AF_VSOCK on the host.

use std::io::{self, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

/// The byte the enclave sends and the parent echoes.
pub const HEARTBEAT: u8 = 0xB7;

/// How often a non-blocking accept is retried while waiting for the enclave.
const ACCEPT_POLL: Duration = Duration::from_millis(20);

/// How the heartbeat went; every outcome but [`Verdict::Received`] makes nitro-cli terminate
/// the enclave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// `0xB7` arrived and was echoed.
    Received,
    /// Nobody connected before the deadline.
    NoConnection,
    /// The enclave connected but sent nothing before the deadline.
    NoByte,
    /// The enclave closed the connection without sending a byte.
    ClosedEarly,
    /// The enclave sent another byte.
    WrongByte(u8),
    /// The socket failed.
    Io(String),
}

impl Verdict {
    /// A stable name for logs and scripts.
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Received => "received",
            Verdict::NoConnection => "no_connection",
            Verdict::NoByte => "no_byte",
            Verdict::ClosedEarly => "closed_early",
            Verdict::WrongByte(_) => "wrong_byte",
            Verdict::Io(_) => "io_error",
        }
    }

    /// One JSON line: the verdict, a detail, and the seconds since the parent started waiting.
    pub fn to_json(&self, elapsed: Duration) -> String {
        let detail = match self {
            Verdict::Received => format!("0x{HEARTBEAT:02X} received and echoed"),
            Verdict::NoConnection => "no connection before the deadline".to_owned(),
            Verdict::NoByte => "connected, but no byte before the deadline".to_owned(),
            Verdict::ClosedEarly => "connection closed before a byte arrived".to_owned(),
            Verdict::WrongByte(b) => format!("got 0x{b:02X}, expected 0x{HEARTBEAT:02X}"),
            Verdict::Io(e) => e.clone(),
        };
        json!({
            "heartbeat": self.name(),
            "detail": detail,
            "elapsed_s": (elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        })
        .to_string()
    }
}

/// Binds the parent's port (a Unix socket path that must not exist yet).
pub fn bind(path: &Path) -> io::Result<UnixListener> {
    let listener = UnixListener::bind(path)?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Waits for one connection until `deadline` and plays the heartbeat on it. Like nitro-cli,
/// it takes one connection only: whatever happens on it is the verdict.
pub fn answer(listener: &UnixListener, deadline: Instant) -> Verdict {
    let stream = loop {
        match listener.accept() {
            Ok((stream, _)) => break stream,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    return Verdict::NoConnection;
                }
                std::thread::sleep(ACCEPT_POLL);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Verdict::Io(format!("accept: {e}")),
        }
    };
    match echo(stream, deadline) {
        Ok(verdict) => verdict,
        Err(e) => Verdict::Io(e.to_string()),
    }
}

fn echo(mut stream: UnixStream, deadline: Instant) -> io::Result<Verdict> {
    stream.set_nonblocking(false)?;
    // A zero timeout means "block for ever" to the socket layer: keep at least a millisecond.
    let left = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1));
    stream.set_read_timeout(Some(left))?;
    stream.set_write_timeout(Some(left))?;
    let mut byte = [0u8; 1];
    loop {
        match stream.read(&mut byte) {
            Ok(0) => return Ok(Verdict::ClosedEarly),
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(Verdict::NoByte);
            }
            Err(e) => return Err(e),
        }
    }
    if byte[0] != HEARTBEAT {
        return Ok(Verdict::WrongByte(byte[0]));
    }
    stream.write_all(&byte)?;
    stream.flush()?;
    Ok(Verdict::Received)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    fn socket_path(name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(name);
        (dir, path)
    }

    /// Runs `client` against a parent listening with `wait` to go; returns the verdict and what
    /// the client got back.
    fn play(
        wait: Duration,
        client: impl FnOnce(&Path) -> Option<u8> + Send + 'static,
    ) -> (Verdict, Option<u8>) {
        let (_dir, path) = socket_path("vsock.sock_9000");
        let listener = bind(&path).expect("bind");
        let deadline = Instant::now() + wait;
        let client_path = path.clone();
        let client = thread::spawn(move || client(&client_path));
        let verdict = answer(&listener, deadline);
        drop(listener);
        (verdict, client.join().expect("client thread"))
    }

    fn send(path: &Path, byte: u8) -> Option<u8> {
        let mut s = UnixStream::connect(path).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(&[byte]).expect("write");
        let mut back = [0u8; 1];
        match s.read(&mut back) {
            Ok(1) => Some(back[0]),
            _ => None,
        }
    }

    #[test]
    fn the_heartbeat_is_echoed() {
        let (verdict, back) = play(Duration::from_secs(5), |p| send(p, HEARTBEAT));
        assert_eq!(verdict, Verdict::Received);
        assert_eq!(back, Some(HEARTBEAT), "the enclave must read 0xB7 back");
    }

    #[test]
    fn a_wrong_byte_is_named_and_not_echoed() {
        let (verdict, back) = play(Duration::from_secs(5), |p| send(p, 0x00));
        assert_eq!(verdict, Verdict::WrongByte(0x00));
        assert_eq!(back, None, "nothing is echoed to a wrong byte");
        assert!(
            verdict
                .to_json(Duration::ZERO)
                .contains("got 0x00, expected 0xB7")
        );
    }

    #[test]
    fn no_connection_before_the_deadline() {
        let started = Instant::now();
        let (verdict, _) = play(Duration::from_millis(200), |_| None);
        assert_eq!(verdict, Verdict::NoConnection);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the wait is bounded"
        );
    }

    #[test]
    fn a_connection_that_sends_nothing_times_out() {
        let (verdict, _) = play(Duration::from_millis(300), |p| {
            let s = UnixStream::connect(p).expect("connect");
            thread::sleep(Duration::from_millis(800));
            drop(s);
            None
        });
        assert_eq!(verdict, Verdict::NoByte);
    }

    #[test]
    fn a_connection_closed_without_a_byte() {
        let (verdict, _) = play(Duration::from_secs(5), |p| {
            drop(UnixStream::connect(p).expect("connect"));
            None
        });
        assert_eq!(verdict, Verdict::ClosedEarly);
    }

    #[test]
    fn the_json_line_names_the_verdict() {
        let line = Verdict::Received.to_json(Duration::from_millis(1234));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["heartbeat"], "received");
        assert_eq!(v["elapsed_s"], 1.234);
    }
}
