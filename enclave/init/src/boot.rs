//! The boot sequence and the supervision loop.

use std::convert::Infallible;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::config::{self, ConfigError, Launch};
use crate::restart::{Backoff, Ended, POLICY};
use crate::sys;

/// Kernel modules init loads when the bootstrap ramdisk carries them (the AWS kernel ships the
/// NSM driver as `nsm.ko`). This project's kernel has everything built in and ships none.
const MODULES: &[&str] = &["/nsm.ko"];
/// The application's root file system inside the customer ramdisk (nitro-cli layout).
const ROOTFS: &str = "/rootfs";

/// A step of the boot that failed; every one of them ends the enclave.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BootError {
    /// A file system could not be mounted.
    #[error("mounting {fstype} on {target}: {source}")]
    Mount {
        /// File system type.
        fstype: &'static str,
        /// Mount point.
        target: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// A module shipped in the ramdisk could not be loaded.
    #[error("loading kernel module {path}: {source}")]
    Module {
        /// The module file.
        path: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// `cmd`, `env` or the root file system could not be read or entered.
    #[error("{what}: {source}")]
    Io {
        /// What init was doing.
        what: String,
        /// The OS error.
        source: io::Error,
    },
    /// The `cmd` or `env` file is malformed.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The application could not be started at all (missing, not executable, …).
    #[error("starting {program}: {source}")]
    Spawn {
        /// The program.
        program: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> BootError {
    let what = what.into();
    move |source| BootError::Io { what, source }
}

struct Mount {
    fstype: &'static str,
    target: &'static str,
    flags: libc::c_ulong,
    data: &'static str,
}

const DEV: Mount = Mount {
    fstype: "devtmpfs",
    target: "/dev",
    flags: libc::MS_NOSUID | libc::MS_NOEXEC,
    data: "mode=0755",
};
/// The kernel file systems the application gets inside its root.
const MOUNTS: &[Mount] = &[
    Mount {
        fstype: "proc",
        target: "/proc",
        flags: NOSUID_NODEV_NOEXEC,
        data: "",
    },
    Mount {
        fstype: "sysfs",
        target: "/sys",
        flags: NOSUID_NODEV_NOEXEC,
        data: "",
    },
    DEV,
    Mount {
        fstype: "tmpfs",
        target: "/tmp",
        flags: libc::MS_NOSUID | libc::MS_NODEV,
        data: "mode=1777",
    },
];
const NOSUID_NODEV_NOEXEC: libc::c_ulong = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;

fn mount(m: &Mount) -> Result<(), BootError> {
    let target = Path::new(m.target);
    let err = |source| BootError::Mount {
        fstype: m.fstype,
        target: target.to_owned(),
        source,
    };
    match fs::create_dir(target) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(err(e)),
    }
    sys::mount(m.fstype, target, m.fstype, m.flags, m.data).map_err(err)?;
    log!("mounted {} on {}", m.fstype, m.target);
    Ok(())
}

/// Boots and then supervises the application forever; returns only an unrecoverable error.
pub(crate) fn run() -> Result<Infallible, BootError> {
    log!("enclave-init {} starting", env!("CARGO_PKG_VERSION"));

    // The initramfs root: /dev for the console and for module loading.
    mount(&DEV)?;
    if let Err(e) = sys::console_on_stdio() {
        log!("warning: cannot attach /dev/console to stdio: {e}");
    }

    for &path in MODULES {
        if Path::new(path).exists() {
            sys::load_module(Path::new(path))
                .map_err(|source| BootError::Module { path, source })?;
            log!("loaded kernel module {path}");
        }
    }

    let cmd = fs::read("/cmd").map_err(io_err("reading /cmd"))?;
    let env = match fs::read("/env") {
        Ok(env) => env,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io_err("reading /env")(e)),
    };
    let launch = config::parse(&cmd, &env)?;
    log!(
        "application: {} with {} argument(s) and {} environment variable(s)",
        launch.program.display(),
        launch.args.len(),
        launch.env.len()
    );

    sys::switch_root(Path::new(ROOTFS)).map_err(io_err(format!("entering {ROOTFS}")))?;
    log!("switched root to {ROOTFS}");
    for m in MOUNTS {
        mount(m)?;
    }
    sys::loopback_up().map_err(io_err("bringing up loopback (lo)"))?;
    log!("loopback lo is up");

    supervise(&launch)
}

fn spawn(launch: &Launch) -> Result<u32, BootError> {
    let child = Command::new(&launch.program)
        .args(&launch.args)
        .env_clear()
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .current_dir("/")
        .stdin(Stdio::null())
        .spawn()
        .map_err(|source| BootError::Spawn {
            program: launch.program.clone(),
            source,
        })?;
    // The child is reaped through waitpid(-1) below, never through `Child`.
    Ok(child.id())
}

/// Starts the application, reaps every child, and restarts the application when it ends.
fn supervise(launch: &Launch) -> Result<Infallible, BootError> {
    let mut backoff = Backoff::new(POLICY);
    let program = launch.program.display();
    loop {
        let started = Instant::now();
        let pid = spawn(launch)?;
        log!("started {program} (pid {pid})");
        let ended = loop {
            match sys::reap(true) {
                Ok(Some(r)) if u32::try_from(r.pid) == Ok(pid) => {
                    break Ended::from_wait_status(r.status);
                }
                Ok(Some(r)) => log!("reaped orphan pid {}", r.pid),
                Ok(None) => {
                    log!("warning: no child left although {program} (pid {pid}) was not reaped");
                    break Ended::Other(-1);
                }
                Err(e) => {
                    log!("warning: waitpid failed: {e}");
                    sys::sleep_reaping(std::time::Duration::from_secs(1));
                }
            }
        };
        let ran = started.elapsed();
        let delay = backoff.on_exit(ran);
        log!(
            "{program} (pid {pid}) {ended} after {:.1} s; restarting in {} s (failure {} since the last stable run)",
            ran.as_secs_f64(),
            delay.as_secs(),
            backoff.quick_failures()
        );
        sys::sleep_reaping(delay);
    }
}
