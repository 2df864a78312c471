//! How a child process ended, decoded from its `waitpid` status and worded for the console.
//!
//! Init uses it for the line it prints when the application ends (which ends the enclave: see
//! [`crate::boot`]).

use std::fmt;

/// How a child process ended, decoded from a `waitpid` status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    /// `exit(code)`.
    Exited(i32),
    /// Killed by a signal.
    Signaled {
        /// The signal number.
        signal: i32,
        /// Whether it dumped core.
        core: bool,
    },
    /// Anything else (stopped/continued: init does not ask for those).
    Other(i32),
}

impl Ended {
    /// Decodes a raw `waitpid` status.
    pub(crate) fn from_wait_status(status: i32) -> Self {
        if libc::WIFEXITED(status) {
            Ended::Exited(libc::WEXITSTATUS(status))
        } else if libc::WIFSIGNALED(status) {
            Ended::Signaled {
                signal: libc::WTERMSIG(status),
                core: libc::WCOREDUMP(status),
            }
        } else {
            Ended::Other(status)
        }
    }
}

impl fmt::Display for Ended {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Ended::Exited(0) => f.write_str("exited cleanly (status 0)"),
            Ended::Exited(code) => write!(f, "exited with status {code}"),
            Ended::Signaled { signal, core } => {
                let name = signal_name(signal);
                write!(f, "was killed by signal {signal} ({name})")?;
                if core {
                    f.write_str(", core dumped")
                } else {
                    Ok(())
                }
            }
            Ended::Other(raw) => write!(f, "changed state (raw wait status {raw:#x})"),
        }
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGILL => "SIGILL",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGPIPE => "SIGPIPE",
        _ => "other",
    }
}

#[cfg(test)]
mod tests;
