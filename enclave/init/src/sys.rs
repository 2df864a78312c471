//! The system calls init needs that the standard library does not wrap. This is the only module
//! with `unsafe` code; each block says why it is sound. Every function returns the OS error
//! (`io::Error::last_os_error`) rather than deciding what a failure means.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::Duration;

fn cstring(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
}

fn check(ret: libc::c_int) -> io::Result<()> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// `mount(2)`. `fstype` and `data` may be empty (a bind or move mount).
pub(crate) fn mount(
    source: &str,
    target: &Path,
    fstype: &str,
    flags: libc::c_ulong,
    data: &str,
) -> io::Result<()> {
    let source = CString::new(source)?;
    let target = cstring(target)?;
    let fstype = CString::new(fstype)?;
    let data = CString::new(data)?;
    // SAFETY: all four pointers come from live CStrings (NUL-terminated, valid for the whole
    // call); the kernel only reads them. An empty fstype/data string is accepted by the kernel
    // for bind and move mounts, where they are ignored.
    let ret = unsafe {
        libc::mount(
            source.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            flags,
            data.as_ptr().cast::<libc::c_void>(),
        )
    };
    check(ret)
}

/// Makes `new_root` the root directory of init and of everything it starts: bind-mounts it onto
/// itself, moves that mount over `/` and chroots into it (the initramfs root itself cannot be
/// pivoted away, so this is the standard switch-root for an initramfs).
pub(crate) fn switch_root(new_root: &Path) -> io::Result<()> {
    mount(
        &new_root.to_string_lossy(),
        new_root,
        "",
        libc::MS_BIND | libc::MS_REC,
        "",
    )?;
    std::env::set_current_dir(new_root)?;
    mount(".", Path::new("/"), "", libc::MS_MOVE, "")?;
    std::os::unix::fs::chroot(".")?;
    std::env::set_current_dir("/")
}

/// Loads a kernel module from a file (`finit_module(2)`, no parameters).
pub(crate) fn load_module(path: &Path) -> io::Result<()> {
    let file = File::open(path)?;
    // SAFETY: `file` is an open descriptor for the whole call; the parameter string is a static
    // NUL-terminated empty C string; flags 0. finit_module reads only through these.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_finit_module,
            file.as_raw_fd(),
            c"".as_ptr(),
            0 as libc::c_int,
        )
    };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Sets the `IFF_UP` flag of the loopback interface `lo` (the kernel then assigns 127.0.0.1/8).
pub(crate) fn loopback_up() -> io::Result<()> {
    // SAFETY: plain socket(2) call with constant arguments; the result is checked below and then
    // owned by `sock`, which closes it.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor that nothing else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: ifreq is plain old data (integers, arrays and a union of those); all-zero is a
    // valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS reads the NUL-terminated name and writes ifru_flags inside `req`,
    // which is a valid, exclusively borrowed ifreq for the duration of the call.
    check(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) })?;
    // SAFETY: the kernel just filled ifru_flags, the union member SIOCGIFFLAGS defines.
    let flags = unsafe { req.ifr_ifru.ifru_flags };
    req.ifr_ifru.ifru_flags = flags | libc::IFF_UP as libc::c_short;
    // SAFETY: as above; SIOCSIFFLAGS only reads `req`.
    check(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) })
}

/// Points stdin, stdout and stderr at `/dev/console`, whatever the kernel left there.
pub(crate) fn console_on_stdio() -> io::Result<()> {
    let console = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/console")?;
    for target in 0..=2 {
        // SAFETY: dup2 on a descriptor we own (kept open by `console` for the whole loop) onto
        // the standard descriptors, which std never caches or closes behind our back.
        check(unsafe { libc::dup2(console.as_raw_fd(), target) })?;
    }
    Ok(())
}

/// `SO_VM_SOCKETS_CONNECT_TIMEOUT` of `linux/vm_sockets.h` on 64-bit targets, where it is
/// `SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD` (6) and takes a `struct __kernel_old_timeval`: two
/// `long`s, the layout of `libc::timeval` there (asserted below). The libc crate lacks it. Its
/// level is `AF_VSOCK`; the kernel's default connect timeout is 2 s.
const SO_VM_SOCKETS_CONNECT_TIMEOUT: libc::c_int = 6;
const _: () = assert!(
    size_of::<libc::timeval>() == 2 * size_of::<libc::c_long>()
        && size_of::<libc::time_t>() == size_of::<libc::c_long>(),
    "SO_VM_SOCKETS_CONNECT_TIMEOUT is option 6 with a timeval of two longs only on 64-bit targets"
);

/// A connected stream socket; reads and writes go straight to its descriptor, which is closed
/// on drop.
#[derive(Debug)]
pub(crate) struct Stream(File);

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Connects a vsock stream socket to `cid:port`. `connect_timeout` bounds the connect;
/// `io_timeout` bounds each read and each write afterwards (`SO_RCVTIMEO`, `SO_SNDTIMEO`: a
/// read that times out fails with `WouldBlock`). Only meaningful inside the enclave (or a guest).
pub(crate) fn vsock_connect(
    cid: u32,
    port: u32,
    connect_timeout: Duration,
    io_timeout: Duration,
) -> io::Result<Stream> {
    // SAFETY: plain socket(2) call with constant arguments; the result is checked below and then
    // owned by `sock`, which closes it.
    let fd = unsafe { libc::socket(libc::AF_VSOCK, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor that nothing else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    set_timeval(
        &sock,
        libc::AF_VSOCK,
        SO_VM_SOCKETS_CONNECT_TIMEOUT,
        connect_timeout,
    )?;
    set_timeval(&sock, libc::SOL_SOCKET, libc::SO_RCVTIMEO, io_timeout)?;
    set_timeval(&sock, libc::SOL_SOCKET, libc::SO_SNDTIMEO, io_timeout)?;
    let addr = libc::sockaddr_vm {
        svm_family: libc::AF_VSOCK as libc::sa_family_t,
        svm_reserved1: 0,
        svm_port: port,
        svm_cid: cid,
        svm_zero: [0; 4],
    };
    // One attempt, not retried on EINTR: a blocking connect is interrupted only by a caught
    // signal, and init installs no signal handlers.
    // SAFETY: `addr` is a fully initialised sockaddr_vm that lives for the whole call, and the
    // length passed is exactly its size, so the kernel reads only inside it.
    check(unsafe {
        libc::connect(
            sock.as_raw_fd(),
            (&raw const addr).cast::<libc::sockaddr>(),
            socklen_of::<libc::sockaddr_vm>(),
        )
    })?;
    Ok(Stream(File::from(sock)))
}

/// Sets a socket option whose value is a `struct timeval`.
fn set_timeval(
    sock: &OwnedFd,
    level: libc::c_int,
    name: libc::c_int,
    value: Duration,
) -> io::Result<()> {
    let tv = timeval(value);
    // SAFETY: `tv` is an initialised timeval that lives for the whole call and the length passed
    // is exactly its size; setsockopt only reads it. `sock` is an open descriptor.
    check(unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            level,
            name,
            (&raw const tv).cast::<libc::c_void>(),
            socklen_of::<libc::timeval>(),
        )
    })
}

/// `value` as a timeval. The kernel reads a zero timeout as "wait forever", so zero becomes
/// 1 µs; a value beyond `time_t` saturates (the kernel then refuses it with ERANGE).
fn timeval(value: Duration) -> libc::timeval {
    let value = value.max(Duration::from_micros(1));
    libc::timeval {
        tv_sec: libc::time_t::try_from(value.as_secs()).unwrap_or(libc::time_t::MAX),
        // Below 1_000_000, so it fits any suseconds_t.
        tv_usec: value.subsec_micros() as libc::suseconds_t,
    }
}

/// The size of `T` as a socklen_t (socket structures are a few bytes).
const fn socklen_of<T>() -> libc::socklen_t {
    size_of::<T>() as libc::socklen_t
}

/// One reaped child: its pid and raw wait status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reaped {
    pub(crate) pid: libc::pid_t,
    pub(crate) status: libc::c_int,
}

/// Waits for one child to end and reaps it; returns `None` when there are no children at all.
pub(crate) fn reap() -> io::Result<Option<Reaped>> {
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: `status` is a valid, exclusively borrowed c_int for the duration of the call.
        let pid = unsafe { libc::waitpid(-1, &mut status, 0) };
        if pid > 0 {
            return Ok(Some(Reaped { pid, status }));
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::ECHILD) => return Ok(None),
            _ => return Err(err),
        }
    }
}

/// Ends the enclave. On Nitro a reboot request terminates the enclave (there is nothing to
/// reboot into); under qemu `-no-reboot` it makes qemu exit. Never returns.
pub(crate) fn power_off() -> ! {
    // SAFETY: sync(2) takes no arguments and cannot fail.
    unsafe { libc::sync() };
    // SAFETY: reboot(2) with a valid command constant; as PID 1 we hold CAP_SYS_BOOT. It only
    // returns on failure, which the loop below handles.
    unsafe { libc::reboot(libc::RB_AUTOBOOT) };
    loop {
        // Should reboot fail, stay alive: PID 1 exiting would panic the kernel, which on the
        // `panic=30` command line reboots (that is, ends the enclave) 30 s later anyway.
        std::thread::sleep(Duration::from_secs(3600));
    }
}

#[cfg(test)]
mod tests;
