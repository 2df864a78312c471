//! The boot sequence and the supervision of the application.
//!
//! In order: mount `/dev`, put the console on stdio, load the kernel modules the bootstrap
//! ramdisk carries, send the Nitro boot heartbeat to nitro-cli ([`crate::heartbeat`]), read
//! `/cmd` and `/env`, enter `/rootfs`, mount the kernel file systems, bring up loopback, and
//! start the application once. Init then reaps every child until the application ends, and
//! returns [`BootError::ApplicationEnded`]: the application is the enclave (its signing keys
//! exist only in that process), so init never restarts it; main powers the enclave off.

use std::convert::Infallible;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::config::{self, ConfigError, Launch};
use crate::ended::Ended;
use crate::heartbeat::{self, HEARTBEAT, HEARTBEAT_PORT, HeartbeatError, PARENT_CID};
use crate::sys;

/// Kernel modules init loads when the bootstrap ramdisk carries them (the AWS kernel ships the
/// NSM driver as `nsm.ko`). This project's kernel has everything built in and ships none.
const MODULES: &[&str] = &["/nsm.ko"];
/// The application's root file system inside the customer ramdisk (nitro-cli layout).
const ROOTFS: &str = "/rootfs";

/// Why init ends the enclave: a step of the boot failed, or the application ended.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BootError {
    /// The Nitro boot heartbeat to nitro-cli failed (nitro-cli would kill the enclave anyway).
    #[error("heartbeat: FAILED: {0}")]
    Heartbeat(#[from] HeartbeatError),
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
    /// The application process ended, whichever way. It is the enclave: not restarted.
    #[error(
        "application ended: {} (pid {pid}) {ended} after {:.1} s: {ENDING}",
        program.display(),
        ran.as_secs_f64()
    )]
    ApplicationEnded {
        /// The program.
        program: PathBuf,
        /// Its pid.
        pid: u32,
        /// How it ended.
        ended: Ended,
        /// How long it ran.
        ran: Duration,
    },
    /// `waitpid` reports no child left although the application was never reaped.
    #[error(
        "application ended: {} (pid {pid}) is gone without being reaped (no child left): {ENDING}",
        program.display()
    )]
    ApplicationLost {
        /// The program.
        program: PathBuf,
        /// Its pid.
        pid: u32,
    },
}

/// What the application ending means, on its console line.
const ENDING: &str = "the application is the enclave, ending it (its keys die with it; the parent \
                      sees the enclave gone)";

impl BootError {
    /// The console line init prints before it ends the enclave. The application ending is not
    /// a failure of init, so its line stands alone; everything else is an unrecoverable error.
    pub(crate) fn console_line(&self) -> String {
        match self {
            BootError::ApplicationEnded { .. } | BootError::ApplicationLost { .. } => {
                self.to_string()
            }
            _ => format!("unrecoverable error: {self}"),
        }
    }
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

/// Tells nitro-cli that the enclave booted (see [`crate::heartbeat`]), unless this is a
/// `danger-skip-heartbeat` build.
fn heartbeat_step() -> Result<(), BootError> {
    if cfg!(feature = "danger-skip-heartbeat") {
        log!("heartbeat: SKIPPED (danger-skip-heartbeat build: nitro-cli would kill this enclave)");
        return Ok(());
    }
    heartbeat::with_parent()?;
    log!(
        "heartbeat: sent {HEARTBEAT:#04X} to the parent (vsock {PARENT_CID}:{HEARTBEAT_PORT}) and got it back"
    );
    Ok(())
}

/// Boots, then supervises the application until it ends; returns why the enclave must end.
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

    heartbeat_step()?;

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

/// Starts the application once and reaps every child until the application itself ends, then
/// returns [`BootError::ApplicationEnded`] (or [`BootError::ApplicationLost`]).
fn supervise(launch: &Launch) -> Result<Infallible, BootError> {
    let started = Instant::now();
    let pid = spawn(launch)?;
    log!("started {} (pid {pid})", launch.program.display());
    let program = launch.program.clone();
    match wait_for(pid) {
        Some(ended) => Err(BootError::ApplicationEnded {
            program,
            pid,
            ended,
            ran: started.elapsed(),
        }),
        None => Err(BootError::ApplicationLost { program, pid }),
    }
}

/// Reaps children until `pid` ends and returns how it ended, logging the orphans reaped
/// meanwhile; `None` if no child is left without `pid` having been reaped.
fn wait_for(pid: u32) -> Option<Ended> {
    loop {
        match sys::reap() {
            Ok(Some(r)) if u32::try_from(r.pid) == Ok(pid) => {
                return Some(Ended::from_wait_status(r.status));
            }
            Ok(Some(r)) => log!("reaped orphan pid {}", r.pid),
            Ok(None) => return None,
            Err(e) => {
                log!("warning: waitpid failed: {e}; retrying in 1 s");
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

#[cfg(test)]
mod tests;
