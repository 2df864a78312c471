//! The application's start as a process: without a working NSM it refuses to start (its own
//! exit status, one console line), `--check-config` never touches the NSM, and with the dev
//! NSM (builds with `danger-dev-nsm`) `STATUS` reports the configured PCRs.
//!
//! Everything runs on Unix sockets in a temporary directory; nothing opens AF_VSOCK.

use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// What the application exits with when it has no working NSM (`status::EXIT_NO_NSM`).
const EXIT_NO_NSM: i32 = 3;

/// The console line of a start on a machine without `/dev/nsm`.
const NO_NSM_LINE: &str = "enclave-app: error: no NSM device (/dev/nsm does not exist): \
                           this image runs only inside a Nitro enclave";

/// Writes a configuration (STATUS on a Unix socket in `dir`, a one-certificate CA bundle) with
/// `extra` JSON fields, and returns its path.
fn write_config(dir: &Path, extra: &str) -> std::path::PathBuf {
    let bundle = dir.join("roots.pem");
    std::fs::write(
        &bundle,
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let config = format!(
        r#"{{"vsock_port": 5005, "ca_roots": "{}", "status_listen": "unix:{}"{extra}}}"#,
        bundle.display(),
        dir.join("status.sock").display()
    );
    let path = dir.join("enclave-app.json");
    std::fs::write(&path, config).unwrap();
    path
}

/// Runs the application to its end (at most 60 s), returning its exit status and stderr.
fn run_to_end(args: &[&std::ffi::OsStr]) -> (ExitStatus, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_enclave-app"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("enclave-app did not exit within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    (status, stderr)
}

#[test]
fn without_an_nsm_the_application_does_not_start() {
    // Build machines have no Nitro hardware; inside an enclave this test has nothing to check.
    if Path::new("/dev/nsm").exists() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // No dev_nsm_pcrs: /dev/nsm, in the image's build and in a dev build alike.
    let config = write_config(dir.path(), "");
    let (status, stderr) = run_to_end(&["--config".as_ref(), config.as_os_str()]);
    assert_eq!(status.code(), Some(EXIT_NO_NSM), "stderr:\n{stderr}");
    assert_eq!(
        stderr.lines().last(),
        Some(NO_NSM_LINE),
        "stderr:\n{stderr}"
    );
    assert_eq!(
        stderr.lines().filter(|l| l.contains("error")).count(),
        1,
        "one error line; stderr:\n{stderr}"
    );
    // It ended before serving anything.
    assert!(!stderr.contains("listening"), "stderr:\n{stderr}");
    assert!(!dir.path().join("status.sock").exists());
}

#[test]
fn check_config_does_not_need_an_nsm() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "");
    let (status, stderr) = run_to_end(&[
        "--check-config".as_ref(),
        "--config".as_ref(),
        config.as_os_str(),
    ]);
    assert!(status.success(), "stderr:\n{stderr}");
    assert!(
        stderr.contains("is usable by this build"),
        "stderr:\n{stderr}"
    );
    assert!(!stderr.contains("NSM"), "stderr:\n{stderr}");
}

#[cfg(feature = "danger-dev-nsm")]
#[test]
fn with_the_dev_nsm_status_reports_the_configured_pcrs() {
    use std::io::{Read as _, Write as _};

    let dir = tempfile::tempdir().unwrap();
    let (pcr0, pcr1, pcr2) = ("a0".repeat(48), "b1".repeat(48), "c2".repeat(48));
    let config = write_config(
        dir.path(),
        &format!(r#", "dev_nsm_pcrs": {{"PCR0": "{pcr0}", "PCR1": "{pcr1}", "PCR2": "{pcr2}"}}"#),
    );
    let log = dir.path().join("app.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_enclave-app"))
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let socket = dir.path().join("status.sock");
    let start = Instant::now();
    let answer = loop {
        if let Ok(mut s) = std::os::unix::net::UnixStream::connect(&socket) {
            s.write_all(b"STATUS\n").unwrap();
            let mut answer = String::new();
            s.read_to_string(&mut answer).unwrap();
            break answer;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "enclave-app exited ({status}):\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no STATUS socket within 60 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = child.kill();
    let _ = child.wait();
    let console = std::fs::read_to_string(&log).unwrap();

    let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(v["nsm_present"], true);
    assert!(v["attestation_document"].is_string());
    assert_eq!(
        v["pcrs"],
        serde_json::json!({"PCR0": pcr0, "PCR1": pcr1, "PCR2": pcr2})
    );
    assert_eq!(
        v["pcrs_locked"],
        serde_json::json!({"PCR0": true, "PCR1": true, "PCR2": true})
    );
    let line = format!("enclave-app: PCR0 {pcr0} PCR1 {pcr1} PCR2 {pcr2}");
    assert!(console.lines().any(|l| l == line), "console:\n{console}");
}
