use super::*;

const S: fn(u64) -> Duration = Duration::from_secs;

#[test]
fn quick_failures_double_the_delay_up_to_the_cap() {
    let mut b = Backoff::new(POLICY);
    let delays: Vec<u64> = (0..8).map(|_| b.on_exit(S(0)).as_secs()).collect();
    assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30, 30]);
    assert_eq!(b.quick_failures(), 8);
}

#[test]
fn a_stable_run_resets_the_delay() {
    let mut b = Backoff::new(POLICY);
    for _ in 0..5 {
        b.on_exit(S(1));
    }
    assert_eq!(b.on_exit(POLICY.stable_after), S(1));
    assert_eq!(b.quick_failures(), 1);
    assert_eq!(
        b.on_exit(S(59)),
        S(2),
        "a run just under the threshold is not stable"
    );
}

#[test]
fn never_overflows() {
    let policy = RestartPolicy {
        initial: Duration::MAX,
        max: Duration::MAX,
        stable_after: S(1),
    };
    let mut b = Backoff::new(policy);
    for _ in 0..3 {
        assert_eq!(b.on_exit(S(0)), Duration::MAX);
    }
}

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
