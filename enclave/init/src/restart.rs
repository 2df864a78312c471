//! When to restart the application, and how to describe how it ended.
//!
//! The application is a service: whatever way it ends (crash, signal, or a clean exit), init
//! starts it again. Quick successive failures wait longer each time (doubling from
//! [`RestartPolicy::initial`] up to [`RestartPolicy::max`]); a run that lasted at least
//! [`RestartPolicy::stable_after`] counts as healthy and resets the delay.

use std::fmt;
use std::time::Duration;

/// The restart back-off parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RestartPolicy {
    /// Delay after the first failure (and after any failure following a stable run).
    pub(crate) initial: Duration,
    /// Upper bound of the delay.
    pub(crate) max: Duration,
    /// A run at least this long resets the delay to `initial`.
    pub(crate) stable_after: Duration,
}

/// The policy the image uses: 1 s, 2 s, 4 s, … capped at 30 s; reset after a minute of uptime.
pub(crate) const POLICY: RestartPolicy = RestartPolicy {
    initial: Duration::from_secs(1),
    max: Duration::from_secs(30),
    stable_after: Duration::from_secs(60),
};

/// Back-off state across restarts.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    policy: RestartPolicy,
    next: Duration,
    quick_failures: u32,
}

impl Backoff {
    pub(crate) fn new(policy: RestartPolicy) -> Self {
        Self {
            policy,
            next: policy.initial,
            quick_failures: 0,
        }
    }

    /// Records that the application ended after running for `ran`; returns how long to wait
    /// before starting it again.
    pub(crate) fn on_exit(&mut self, ran: Duration) -> Duration {
        if ran >= self.policy.stable_after {
            self.next = self.policy.initial;
            self.quick_failures = 0;
        }
        let delay = self.next.min(self.policy.max);
        self.next = self.next.saturating_mul(2).min(self.policy.max);
        self.quick_failures = self.quick_failures.saturating_add(1);
        delay
    }

    /// Failures since the last stable run (including the one just recorded).
    pub(crate) fn quick_failures(&self) -> u32 {
        self.quick_failures
    }
}

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
