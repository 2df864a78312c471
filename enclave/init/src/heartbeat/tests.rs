//! The protocol over Unix socket pairs standing in for the vsock connection (the tests never open
//! a vsock socket: the host's vsock belongs to its hypervisor).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::thread;
use std::time::Duration;

use super::*;

/// A connected pair: the enclave's end and the parent's end.
fn pair() -> (UnixStream, UnixStream) {
    UnixStream::pair().expect("socketpair")
}

/// Runs `parent` on its end in a thread while the enclave's end does the heartbeat; returns the
/// heartbeat's result and everything the parent received until the enclave closed its end.
fn with_parent_doing(
    parent: impl FnOnce(&mut UnixStream) + Send + 'static,
) -> (Result<(), HeartbeatError>, Vec<u8>) {
    let (mut enclave, mut parent_end) = pair();
    let peer = thread::spawn(move || {
        parent(&mut parent_end);
        let mut rest = Vec::new();
        // The parent may have closed its end already; then there is nothing more to read.
        let _ = parent_end.read_to_end(&mut rest);
        rest
    });
    let result = heartbeat(&mut enclave);
    drop(enclave);
    (result, peer.join().expect("parent thread"))
}

fn read_one(s: &mut UnixStream) -> u8 {
    let mut b = [0u8; 1];
    s.read_exact(&mut b).expect("the heartbeat byte");
    b[0]
}

#[test]
fn an_echoed_heartbeat_succeeds_and_exactly_one_byte_is_sent() {
    let (result, _) = with_parent_doing(|s| {
        let b = read_one(s);
        assert_eq!(b, HEARTBEAT);
        s.write_all(&[b]).unwrap();
    });
    result.expect("heartbeat");

    // Nothing but the one byte goes out, and the enclave's end is closed afterwards.
    let (result, received) = with_parent_doing(|s| s.write_all(&[HEARTBEAT]).unwrap());
    result.expect("heartbeat");
    assert_eq!(received, [HEARTBEAT]);
}

#[test]
fn a_wrong_byte_is_named() {
    let (result, _) = with_parent_doing(|s| {
        read_one(s);
        s.write_all(&[0x42]).unwrap();
    });
    let err = result.unwrap_err();
    assert!(matches!(err, HeartbeatError::WrongByte(0x42)), "{err:?}");
    assert_eq!(err.to_string(), "the parent answered 0x42 instead of 0xB7");
}

#[test]
fn a_parent_closing_without_answering_is_eof() {
    let (result, _) = with_parent_doing(|s| {
        read_one(s);
        s.shutdown(std::net::Shutdown::Write).unwrap();
    });
    let err = result.unwrap_err();
    assert!(matches!(err, HeartbeatError::Closed), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the parent closed the connection without answering (EOF)"
    );
}

#[test]
fn a_silent_parent_times_out() {
    let (mut enclave, _parent_keeps_its_end_open) = pair();
    enclave
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let err = heartbeat(&mut enclave).unwrap_err();
    assert!(matches!(err, HeartbeatError::NoAnswer(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the parent did not answer within the read timeout (30 s)"
    );
}

#[test]
fn writing_to_a_closed_parent_fails_the_write() {
    let (mut enclave, parent) = pair();
    drop(parent);
    // Rust programs ignore SIGPIPE, so the write fails with EPIPE instead of killing the process.
    let err = heartbeat(&mut enclave).unwrap_err();
    assert!(
        matches!(&err, HeartbeatError::Write(e) if e.kind() == io::ErrorKind::BrokenPipe),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("cannot send 0xB7 to the parent: "),
        "{err}"
    );
}

#[test]
fn other_read_errors_and_connect_errors_are_worded() {
    let read = read_error(io::Error::from_raw_os_error(libc::ECONNRESET));
    assert!(matches!(read, HeartbeatError::Read(_)), "{read:?}");
    assert!(
        read.to_string()
            .starts_with("cannot read the parent's answer: "),
        "{read}"
    );
    let connect = HeartbeatError::Connect {
        cid: PARENT_CID,
        port: HEARTBEAT_PORT,
        source: io::Error::from_raw_os_error(libc::ECONNRESET),
    };
    assert!(
        connect
            .to_string()
            .starts_with("cannot connect to the parent (vsock 3:9000): "),
        "{connect}"
    );
}
