//! Running the configured prover: a command with file placeholders, or an HTTP endpoint.

use std::path::{Path, PathBuf};
use std::time::Duration;

use alloy::primitives::{Bytes, U256};
use serde::Deserialize;

use super::config::ProverConfig;
use crate::error::{Error, Result};

/// The exit code by which a prover command says the inputs cannot be proven.
pub const INVALID_INPUTS_EXIT: i32 = 3;

/// What the prover answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A proof.
    Proof(Bytes),
    /// The inputs cannot be proven (they do not satisfy the statement).
    InvalidInputs,
}

/// One job for the prover.
#[derive(Debug)]
pub struct Job<'a> {
    /// The ask.
    pub ask: U256,
    /// The slot.
    pub slot: u8,
    /// The statement (`proverData`).
    pub statement: &'a [u8],
    /// The secret inputs of a private ask (empty for a public one).
    pub secret: &'a [u8],
}

/// Deletes the job's files when dropped (the secret never outlives the job).
struct WorkFiles {
    paths: Vec<PathBuf>,
}

impl Drop for WorkFiles {
    fn drop(&mut self) {
        for p in &self.paths {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Writes `bytes` to a fresh file readable by its owner only (replacing a leftover one).
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let _ = std::fs::remove_file(path);
    super::create_private(path, bytes)
}

/// Runs the prover for `job` within `timeout`.
///
/// # Errors
/// [`Error::Prover`] when it fails, times out, or answers nothing usable; [`Error::Io`] when the
/// work files cannot be written.
pub async fn run(
    config: &ProverConfig,
    work_dir: &Path,
    job: &Job<'_>,
    timeout: Duration,
) -> Result<Verdict> {
    let outcome = match (&config.command, &config.url) {
        (Some(command), _) => {
            tokio::time::timeout(timeout, run_command(command, work_dir, job)).await
        }
        (None, Some(url)) => tokio::time::timeout(timeout, run_http(url, job)).await,
        (None, None) => return Err(Error::Prover("no prover configured".into())),
    };
    outcome.map_err(|_| Error::Prover(format!("timed out after {} s", timeout.as_secs())))?
}

async fn run_command(command: &[String], work_dir: &Path, job: &Job<'_>) -> Result<Verdict> {
    let stem = format!("{}-{}", job.ask, job.slot);
    let statement_file = work_dir.join(format!("{stem}.statement"));
    let secret_file = work_dir.join(format!("{stem}.secret"));
    let proof_file = work_dir.join(format!("{stem}.proof"));
    let _cleanup = WorkFiles {
        paths: vec![
            statement_file.clone(),
            secret_file.clone(),
            proof_file.clone(),
        ],
    };
    write_private(&statement_file, job.statement)?;
    write_private(&secret_file, job.secret)?;
    let _ = std::fs::remove_file(&proof_file);
    let fill = |arg: &String| {
        arg.replace("{statement_file}", &statement_file.to_string_lossy())
            .replace("{secret_file}", &secret_file.to_string_lossy())
            .replace("{proof_file}", &proof_file.to_string_lossy())
    };
    let (program, args) = command
        .split_first()
        .ok_or_else(|| Error::Prover("empty command".into()))?;
    let status = tokio::process::Command::new(fill(program))
        .args(args.iter().map(fill))
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .status()
        .await
        .map_err(|e| Error::Prover(format!("starting {program}: {e}")))?;
    match status.code() {
        Some(0) => {
            let proof = std::fs::read(&proof_file).map_err(|e| Error::io(&proof_file, e))?;
            if proof.is_empty() {
                return Err(Error::Prover("the proof file is empty".into()));
            }
            Ok(Verdict::Proof(Bytes::from(proof)))
        }
        Some(INVALID_INPUTS_EXIT) => Ok(Verdict::InvalidInputs),
        _ => Err(Error::Prover(format!("{program} exited with {status}"))),
    }
}

/// The HTTP prover's answer.
#[derive(Deserialize)]
struct HttpAnswer {
    #[serde(default)]
    proof: Option<Bytes>,
    #[serde(default)]
    invalid_inputs: bool,
}

/// One HTTP client for every job: building one sets up its TLS configuration (the CA roots),
/// which costs more than a proof request to a local prover.
fn http_client() -> &'static reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(reqwest::Client::new)
}

async fn run_http(url: &str, job: &Job<'_>) -> Result<Verdict> {
    let body = serde_json::json!({
        "ask": job.ask.to_string(),
        "slot": job.slot,
        "statement": Bytes::copy_from_slice(job.statement),
        "secret": Bytes::copy_from_slice(job.secret),
    });
    let response = http_client()
        .post(url)
        .json(&body)
        .send()
        .await
        .map_err(|e| Error::Prover(format!("POST {url}: {e}")))?;
    if !response.status().is_success() {
        return Err(Error::Prover(format!(
            "POST {url}: status {}",
            response.status()
        )));
    }
    let answer: HttpAnswer = response
        .json()
        .await
        .map_err(|e| Error::Prover(format!("POST {url}: {e}")))?;
    match (answer.invalid_inputs, answer.proof) {
        (true, _) => Ok(Verdict::InvalidInputs),
        (false, Some(proof)) if !proof.is_empty() => Ok(Verdict::Proof(proof)),
        _ => Err(Error::Prover(format!("POST {url}: no proof in the answer"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(command: &[&str]) -> ProverConfig {
        ProverConfig {
            command: Some(command.iter().map(|s| (*s).to_string()).collect()),
            url: None,
            timeout_secs: 5,
        }
    }

    #[tokio::test]
    async fn command_verdicts_and_cleanup() {
        let dir = tempfile::tempdir().unwrap();
        let job = Job {
            ask: U256::from(3),
            slot: 1,
            statement: b"stmt",
            secret: b"x",
        };
        let t = Duration::from_secs(5);
        // Copies statement ‖ secret into the proof, and checks the secret file's mode.
        let ok = config(&[
            "sh",
            "-c",
            "test \"$(stat -c %a {secret_file})\" = 600 && cat {statement_file} {secret_file} > {proof_file}",
        ]);
        assert_eq!(
            run(&ok, dir.path(), &job, t).await.unwrap(),
            Verdict::Proof(Bytes::from_static(b"stmtx"))
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let invalid = config(&["sh", "-c", "exit 3"]);
        assert_eq!(
            run(&invalid, dir.path(), &job, t).await.unwrap(),
            Verdict::InvalidInputs
        );
        let failed = config(&["sh", "-c", "exit 1"]);
        assert!(matches!(
            run(&failed, dir.path(), &job, t).await,
            Err(Error::Prover(_))
        ));
        let slow = config(&["sleep", "5"]);
        let err = run(&slow, dir.path(), &job, Duration::from_millis(200))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("timed out"), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
