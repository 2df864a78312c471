//! `enclave-init`: PID 1 of the enclave image.
//!
//! It mounts the kernel file systems, loads the kernel modules shipped in the bootstrap ramdisk
//! (none with this project's kernel, where everything is built in), sends the Nitro boot
//! heartbeat to nitro-cli on the parent (vsock 3:9000, see [`heartbeat`]), reads the
//! application's command line and environment from the customer ramdisk (`/cmd`, `/env`, one
//! entry per line: the nitro-cli convention), enters `/rootfs`, brings up loopback, then starts
//! the application once and reaps every child. The application is the enclave: when it ends,
//! whichever way, init ends the enclave instead of restarting it (a restarted application would
//! hold new keys while the registered ones were gone). A failed step ends the enclave too (see
//! `sys::power_off`).
//!
//! All `unsafe` code lives in [`sys`]; the decisions (parsing, the heartbeat protocol, exit-status
//! wording) are pure functions with unit tests.
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::print_stdout)]

#[macro_use]
mod console;
mod boot;
mod config;
mod ended;
mod heartbeat;
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
    log!("{}", error.console_line());
    log!("ending the enclave");
    sys::power_off()
}
