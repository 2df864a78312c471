//! The console lines init prints before it ends the enclave (test scripts grep for them).

use super::*;

fn app_ended(ended: Ended, ran: Duration) -> BootError {
    BootError::ApplicationEnded {
        program: PathBuf::from("/app/enclave-app"),
        pid: 37,
        ended,
        ran,
    }
}

#[test]
fn the_application_ending_is_one_line_of_its_own() {
    assert_eq!(
        app_ended(Ended::Exited(3), Duration::from_millis(1234)).console_line(),
        "application ended: /app/enclave-app (pid 37) exited with status 3 after 1.2 s: the \
         application is the enclave, ending it (its keys die with it; the parent sees the \
         enclave gone)"
    );
    assert_eq!(
        app_ended(Ended::Exited(0), Duration::from_secs(3600)).console_line(),
        "application ended: /app/enclave-app (pid 37) exited cleanly (status 0) after 3600.0 s: \
         the application is the enclave, ending it (its keys die with it; the parent sees the \
         enclave gone)"
    );
    let killed = Ended::Signaled {
        signal: libc::SIGKILL,
        core: false,
    };
    assert!(
        app_ended(killed, Duration::ZERO)
            .console_line()
            .starts_with("application ended: /app/enclave-app (pid 37) was killed by signal 9 (SIGKILL) after 0.0 s: the application is the enclave, ending it")
    );
    let lost = BootError::ApplicationLost {
        program: PathBuf::from("/app/enclave-app"),
        pid: 37,
    };
    assert!(
        lost.console_line().starts_with(
            "application ended: /app/enclave-app (pid 37) is gone without being reaped"
        ),
        "{}",
        lost.console_line()
    );
}

#[test]
fn a_failed_heartbeat_is_an_unrecoverable_error() {
    let line = BootError::from(HeartbeatError::WrongByte(0)).console_line();
    assert_eq!(
        line,
        "unrecoverable error: heartbeat: FAILED: the parent answered 0x00 instead of 0xB7"
    );
    let line = BootError::from(HeartbeatError::Closed).console_line();
    assert_eq!(
        line,
        "unrecoverable error: heartbeat: FAILED: the parent closed the connection without \
         answering (EOF)"
    );
}

#[test]
fn other_boot_failures_are_unrecoverable_errors() {
    let line = BootError::from(ConfigError::EmptyCmd).console_line();
    assert_eq!(
        line,
        "unrecoverable error: the cmd file is empty: there is no program to start"
    );
}
