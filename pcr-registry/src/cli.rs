//! Command-line surface: clap types, and their translation into library configs.

use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use nitro_attestation::{DEFAULT_MAX_AGE_MS, Pcr, Policy, TrustedRoot};
use pcr_registry::offline::parse_pcr_requirement;
use pcr_registry::{
    Clock, ExitStatus, OfflineConfig, Outcome, render_human, render_json, verify_offline,
};

const EXIT_CODES: &str = "\
Exit status:
  0  the answer is yes (attestation verified)
  1  the answer is no (attestation rejected; the reason is printed with its error name)
  2  error (bad arguments, unreadable input)";

/// Registry of enclave image PCRs and verifier of Nitro attestation documents.
#[derive(Debug, Parser)]
#[command(name = "pcr-registry", version, after_help = EXIT_CODES)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Verify a Nitro attestation document: ES384 signature, certificate chain to the pinned AWS
    /// root, validity, freshness, debug mode and the given expectations.
    #[command(after_help = EXIT_CODES)]
    VerifyAttestation(VerifyAttestationArgs),
}

#[derive(Debug, Args)]
pub(crate) struct VerifyAttestationArgs {
    /// Verify without the on-chain registry (required: registry checks are not available yet).
    #[arg(long, required = true)]
    offline: bool,

    /// The document: raw COSE_Sign1 bytes or base64 text ("-" reads standard input).
    #[arg(long, value_name = "FILE")]
    doc: PathBuf,

    /// Check certificates at the document's own timestamp (archived documents).
    #[arg(long, conflicts_with = "at")]
    at_doc_time: bool,

    /// Check certificates and freshness at this time, ms since the epoch (default: now).
    #[arg(long, value_name = "MS")]
    at: Option<u64>,

    /// Maximum document age, ms.
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_MAX_AGE_MS)]
    max_age_ms: u64,

    /// Require PCR INDEX to equal HEX (96 hex digits); repeatable.
    #[arg(long = "expect-pcr", value_name = "INDEX=HEX", value_parser = parse_pcr_requirement)]
    expect_pcr: Vec<(u8, Pcr)>,

    /// Require this nonce (hex).
    #[arg(long, value_name = "HEX")]
    nonce: Option<String>,

    /// Require public_key to be a 65-byte uncompressed secp256k1 key and print its address.
    #[arg(long)]
    require_secp256k1_key: bool,

    /// DANGER: accept debug-mode enclaves (all-zero PCR0/1/2), whose memory the host can read.
    #[arg(long)]
    allow_debug: bool,

    /// DANGER: trust this root certificate (DER) instead of the AWS Nitro root, e.g. a dev NSM's.
    #[arg(long, value_name = "FILE")]
    danger_trust_root: Option<PathBuf>,

    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

fn read_input(path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .take(1 << 20)
            .read_to_end(&mut bytes)
            .context("reading standard input")?;
    } else {
        bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    }
    Ok(bytes)
}

impl VerifyAttestationArgs {
    fn config(&self) -> anyhow::Result<OfflineConfig> {
        debug_assert!(self.offline, "clap requires --offline");
        let root = match &self.danger_trust_root {
            Some(path) => TrustedRoot::from_der(
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
            ),
            None => TrustedRoot::aws_nitro_g1(),
        };
        let clock = match (self.at_doc_time, self.at) {
            (true, _) => Clock::DocumentTime,
            (false, Some(ms)) => Clock::At(ms),
            (false, None) => Clock::System,
        };
        let mut policy = Policy::default().max_age_ms(self.max_age_ms);
        for (index, value) in &self.expect_pcr {
            policy = policy.expect_pcr(*index, *value);
        }
        if let Some(nonce) = &self.nonce {
            let nonce =
                hex::decode(nonce.trim_start_matches("0x")).context("--nonce is not hex")?;
            policy = policy.expect_nonce(nonce);
        }
        if self.require_secp256k1_key {
            policy = policy.require_secp256k1_key();
        }
        if self.allow_debug {
            policy = policy.danger_allow_debug();
        }
        Ok(OfflineConfig {
            root,
            clock,
            policy,
        })
    }
}

/// Runs the parsed command; errors are "could not answer" (exit 2).
pub(crate) fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::VerifyAttestation(args) => {
            let config = args.config()?;
            let input = read_input(&args.doc)?;
            let outcome = verify_offline(&input, &config);
            let text = if args.json {
                render_json(&outcome) + "\n"
            } else {
                render_human(&outcome)
            };
            std::io::stdout()
                .lock()
                .write_all(text.as_bytes())
                .context("writing to standard output")?;
            Ok(match outcome {
                Outcome::Verified { .. } => ExitStatus::Success,
                Outcome::Rejected { .. } => ExitStatus::Rejected,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
