//! The console log: one line per event, prefixed with `init` and the seconds since init started,
//! written to stderr (the serial console, which `nitro-cli console` shows for debug enclaves).

use std::sync::OnceLock;
use std::time::Instant;

static START: OnceLock<Instant> = OnceLock::new();

/// Seconds since the first log line (PID 1 starts within a second of the kernel).
pub(crate) fn elapsed_secs() -> f64 {
    START.get_or_init(Instant::now).elapsed().as_secs_f64()
}

/// Writes one console line: `init[  1.234]: message`.
macro_rules! log {
    ($($arg:tt)*) => {
        eprintln!("init[{:8.3}]: {}", $crate::console::elapsed_secs(), format_args!($($arg)*))
    };
}
