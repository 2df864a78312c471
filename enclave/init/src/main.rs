//! `enclave-init`: PID 1 of the enclave image.
//!
//! It mounts the kernel file systems, loads the kernel modules shipped in the bootstrap ramdisk
//! (none with this project's kernel, where everything is built in), reads the application's
//! command line and environment from the customer ramdisk (`/cmd`, `/env`, one entry per line:
//! the nitro-cli convention), enters `/rootfs`, brings up loopback, then starts the application
//! and supervises it: every child is reaped, the application is restarted with back-off when it
//! exits, and any step that cannot be retried ends the enclave (see `sys::power_off`).
//!
//! All `unsafe` code lives in [`sys`]; the decisions (parsing, restart policy, exit-status
//! wording) are pure functions with unit tests.
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::print_stdout)]

#[macro_use]
mod console;
mod boot;
mod config;
mod restart;
mod sys;

fn main() {
    if std::process::id() != 1 {
        eprintln!(
            "enclave-init: this is the enclave's PID 1 and refuses to run as another process"
        );
        std::process::exit(2);
    }
    let error = match boot::run() {
        Ok(never) => match never {},
        Err(error) => error,
    };
    log!("unrecoverable error: {error}");
    log!("ending the enclave");
    sys::power_off()
}
