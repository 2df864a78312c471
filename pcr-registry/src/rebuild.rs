//! `rebuild --rev REV`: clone the repository at REV into a fresh directory, run its reproducible
//! build, and read the PCRs it produced. Comparing them with the registry is the caller's job.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{BuildError, Error};
use crate::pcrs::ImagePcrs;

/// The build every rebuilder runs by default: the repository's own reproducible build.
pub const DEFAULT_BUILD_CMD: &str = "ci/build-eif";
/// Where that build writes the PCRs, relative to the checkout.
pub const DEFAULT_PCR_JSON: &str = "out/pcr.json";

/// What to rebuild.
#[derive(Clone, Debug)]
pub struct RebuildConfig {
    /// The repository to clone (a path or URL git understands).
    pub repo: String,
    /// The revision to check out.
    pub rev: String,
    /// The build command, run by `sh -c` in the checkout.
    pub build_cmd: String,
    /// The PCR file the build writes, relative to the checkout.
    pub pcr_json: PathBuf,
    /// Keep the checkout in this directory instead of a temporary one.
    pub workdir: Option<PathBuf>,
}

/// What the rebuild produced.
#[derive(Debug)]
pub struct Rebuilt {
    /// The full commit id checked out.
    pub commit: String,
    /// The PCRs the build wrote.
    pub pcrs: ImagePcrs,
    /// The checkout (kept only when a workdir was given).
    pub checkout: PathBuf,
}

fn run(step: &str, cmd: &mut Command) -> Result<(), BuildError> {
    // The build's own output goes to stderr: stdout is reserved for the answer.
    let status = cmd
        .stdin(Stdio::null())
        .stdout(std::io::stderr())
        .stderr(Stdio::inherit())
        .status()
        .map_err(|e| BuildError::Step {
            step: step.to_owned(),
            reason: e.to_string(),
        })?;
    if !status.success() {
        return Err(BuildError::Step {
            step: step.to_owned(),
            reason: status.to_string(),
        });
    }
    Ok(())
}

fn git_rev_parse(dir: &Path) -> Result<String, BuildError> {
    let out = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(dir)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| BuildError::Step {
            step: "git rev-parse".into(),
            reason: e.to_string(),
        })?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Clones, checks out, builds and reads the PCRs. `progress` receives one line per step.
pub fn rebuild(config: &RebuildConfig, progress: &mut dyn FnMut(&str)) -> Result<Rebuilt, Error> {
    let temp;
    let base = match &config.workdir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| crate::error::InputError::read(dir, e))?;
            dir.clone()
        }
        None => {
            temp = tempfile::tempdir().map_err(|e| BuildError::Step {
                step: "creating a temporary directory".into(),
                reason: e.to_string(),
            })?;
            temp.path().to_owned()
        }
    };
    let checkout = base.join("src");
    progress(&format!(
        "[1/4] cloning {} into {}",
        config.repo,
        checkout.display()
    ));
    run(
        "git clone",
        Command::new("git")
            .args(["clone", "--quiet", "--no-local", "--no-checkout", "--"])
            .arg(&config.repo)
            .arg(&checkout),
    )?;
    progress(&format!("[2/4] checking out {}", config.rev));
    run(
        "git checkout",
        Command::new("git")
            .args(["checkout", "--quiet", "--detach", &config.rev, "--"])
            .current_dir(&checkout),
    )?;
    let commit = git_rev_parse(&checkout)?;
    progress(&format!(
        "[3/4] building {commit} with `{}`",
        config.build_cmd
    ));
    run(
        "the build",
        Command::new("sh")
            .args(["-c", &config.build_cmd])
            .current_dir(&checkout),
    )?;
    let pcr_json = checkout.join(&config.pcr_json);
    progress(&format!("[4/4] reading {}", pcr_json.display()));
    if !pcr_json.exists() {
        return Err(BuildError::NoOutput(pcr_json).into());
    }
    let pcrs = crate::pcrs::read_pcr_json(&pcr_json)?;
    Ok(Rebuilt {
        commit,
        pcrs,
        checkout,
    })
}
