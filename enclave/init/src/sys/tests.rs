//! Only the pure helpers: the system calls themselves run inside the enclave, never on the host.

use super::*;

#[test]
fn timeouts_become_timevals_and_zero_never_means_forever() {
    let tv = timeval(Duration::from_secs(30));
    assert_eq!((tv.tv_sec, tv.tv_usec), (30, 0));
    let tv = timeval(Duration::from_millis(1500));
    assert_eq!((tv.tv_sec, tv.tv_usec), (1, 500_000));
    let tv = timeval(Duration::ZERO);
    assert_eq!((tv.tv_sec, tv.tv_usec), (0, 1));
    let tv = timeval(Duration::MAX);
    assert_eq!((tv.tv_sec, tv.tv_usec), (libc::time_t::MAX, 999_999));
}

#[test]
fn socket_structure_sizes() {
    assert_eq!(socklen_of::<libc::sockaddr_vm>(), 16);
    assert_eq!(socklen_of::<libc::timeval>(), 16);
}
