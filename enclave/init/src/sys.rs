//! The system calls init needs that the standard library does not wrap. This is the only module
//! with `unsafe` code; each block says why it is sound. Every function returns the OS error
//! (`io::Error::last_os_error`) rather than deciding what a failure means.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
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
    let sock: std::os::fd::OwnedFd = unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) };
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

/// One reaped child: its pid and raw wait status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reaped {
    pub(crate) pid: libc::pid_t,
    pub(crate) status: libc::c_int,
}

/// Reaps one child. `block` waits for one; otherwise returns `None` when no child has ended.
/// Also returns `None` when there are no children at all.
pub(crate) fn reap(block: bool) -> io::Result<Option<Reaped>> {
    let options = if block { 0 } else { libc::WNOHANG };
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: `status` is a valid, exclusively borrowed c_int for the duration of the call.
        let pid = unsafe { libc::waitpid(-1, &mut status, options) };
        if pid > 0 {
            return Ok(Some(Reaped { pid, status }));
        }
        if pid == 0 {
            return Ok(None);
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::ECHILD) => return Ok(None),
            _ => return Err(err),
        }
    }
}

/// Sleeps for `duration` while reaping any child that ends meanwhile (orphans re-parented to
/// init must not stay zombies while the application waits to be restarted).
pub(crate) fn sleep_reaping(duration: Duration) {
    let tick = Duration::from_millis(200);
    let deadline = std::time::Instant::now() + duration;
    loop {
        while let Ok(Some(_)) = reap(false) {}
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(tick));
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
