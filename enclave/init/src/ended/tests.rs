use super::*;

#[test]
fn decodes_and_words_wait_statuses() {
    // Layout of Linux wait statuses: exit code in bits 8..16, signal in bits 0..7, core 0x80.
    assert_eq!(Ended::from_wait_status(0), Ended::Exited(0));
    assert_eq!(Ended::from_wait_status(3 << 8), Ended::Exited(3));
    assert_eq!(
        Ended::from_wait_status(libc::SIGSEGV | 0x80),
        Ended::Signaled {
            signal: libc::SIGSEGV,
            core: true
        }
    );
    assert_eq!(
        Ended::from_wait_status(libc::SIGKILL),
        Ended::Signaled {
            signal: libc::SIGKILL,
            core: false
        }
    );
    assert_eq!(Ended::Exited(0).to_string(), "exited cleanly (status 0)");
    assert_eq!(Ended::Exited(101).to_string(), "exited with status 101");
    assert_eq!(
        Ended::Signaled {
            signal: libc::SIGSEGV,
            core: true
        }
        .to_string(),
        "was killed by signal 11 (SIGSEGV), core dumped"
    );
}
