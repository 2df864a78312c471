//! Command-line surface: clap types, and their translation into library configs.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use alloy::primitives::B256;
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use nitro_attestation::{DEFAULT_MAX_AGE_MS, Pcr, Policy, TrustedRoot};
use pcr_registry::client::{Registry, chain_id, http_provider};
use pcr_registry::commands::{self, RegisterConfig};
use pcr_registry::deployment::Deployment;
use pcr_registry::error::InputError;
use pcr_registry::inspect;
use pcr_registry::keys::KeySource;
use pcr_registry::offline::parse_pcr_requirement;
use pcr_registry::pcrs::measure_eif;
use pcr_registry::rebuild::{DEFAULT_BUILD_CMD, DEFAULT_PCR_JSON, RebuildConfig};
use pcr_registry::{
    Clock, ExitStatus, OfflineConfig, Outcome, Report, enclave, render_human, verify_offline,
};
use serde_json::json;

const EXIT_CODES: &str = "\
Exit status:
  0  yes: done, or the answer is yes (registered and live, attestation verified, PCRs match)
  1  no: a negative answer (not registered, revoked, PCR mismatch, attestation rejected)
  2  error: the command could not answer (bad arguments or input, RPC unreachable, wrong
     chain, reverted transaction, missing role); nothing was sent";

/// Registry of enclave image PCRs: publish images, and let anyone check images, rebuilds and
/// attestation documents against it.
#[derive(Debug, Parser)]
#[command(name = "pcr-registry", version, after_help = EXIT_CODES)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,

    #[command(flatten)]
    chain: ChainArgs,

    /// Print one JSON object instead of text.
    #[arg(long, global = true)]
    json: bool,
}

/// Chain access (ignored by offline commands).
#[derive(Debug, Args)]
struct ChainArgs {
    /// JSON-RPC endpoint.
    #[arg(long, global = true, env = "PCR_REGISTRY_RPC_URL", value_name = "URL")]
    rpc: Option<String>,

    /// Deployment file (`contracts/deployments/<chainid>.json`); default: that path under the
    /// current directory for the RPC's chain id.
    #[arg(
        long,
        global = true,
        env = "PCR_REGISTRY_DEPLOYMENT",
        value_name = "FILE"
    )]
    deployment: Option<PathBuf>,

    /// Sign with the hex private key held in this environment variable (never printed).
    #[arg(long, global = true, value_name = "VAR", conflicts_with = "keystore")]
    private_key_env: Option<String>,

    /// Sign with this encrypted JSON keystore.
    #[arg(long, global = true, value_name = "FILE")]
    keystore: Option<PathBuf>,

    /// Environment variable holding the keystore password (default: prompt on the terminal).
    #[arg(long, global = true, value_name = "VAR", requires = "keystore")]
    password_env: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Register an image (REGISTRAR_ROLE): its PCRs measured from an EIF or read from a pcr.json.
    #[command(after_help = EXIT_CODES)]
    Register(RegisterArgs),
    /// Revoke an image, immediately and for ever (REVOKER_ROLE).
    #[command(after_help = EXIT_CODES)]
    Revoke(RevokeArgs),
    /// List the images of a family (default: every family of the deployment).
    #[command(after_help = EXIT_CODES)]
    List(ListArgs),
    /// Show one image (exit 1 if it was never registered).
    #[command(after_help = EXIT_CODES)]
    Show(ShowArgs),
    /// Measure an EIF locally and say whether it is registered, in which family, and whether it
    /// is revoked (exit 0 only when registered and live).
    #[command(after_help = EXIT_CODES)]
    VerifyEif(VerifyEifArgs),
    /// Check out a revision into a fresh directory, run the reproducible build, and compare the
    /// PCRs with the registry (exit 0 only when they form a registered, live image).
    #[command(after_help = EXIT_CODES)]
    Rebuild(RebuildArgs),
    /// Verify a Nitro attestation document (ES384 signature, certificate chain to the pinned AWS
    /// root, validity, freshness, debug mode, expectations), then check its image against the
    /// registry, or against a pcr.json with --offline.
    #[command(after_help = EXIT_CODES)]
    VerifyAttestation(VerifyAttestationArgs),
    /// Show what an attestation document claims, verifying nothing (no signature, certificate
    /// chain, freshness or PCR check).
    ///
    /// Prints one JSON object (indented; one line with --json): "authenticated": false, a warning,
    /// module_id, timestamp_ms, digest, pcrs {"PCR0": hex, ...}, public_key, user_data and nonce
    /// (lowercase hex or null), certificate_len (bytes), cabundle_len (entries), cose_alg and
    /// signature_len. Exit 0 when the document parses, 2 when it does not: whether it is genuine
    /// is verify-attestation's question.
    #[command(after_help = EXIT_CODES)]
    InspectAttestation(InspectAttestationArgs),
    /// Register the enclave key of an attestation document with the enclave registry, through the
    /// family's verifier (full on-chain verification, or an optimistic bonded claim).
    #[command(after_help = EXIT_CODES)]
    RegisterEnclave(RegisterEnclaveArgs),
    /// Follow optimistic claims, verify each document off-chain, challenge the bad ones.
    #[command(after_help = EXIT_CODES)]
    Watch(WatchArgs),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["eif", "pcrs"])))]
pub(crate) struct RegisterArgs {
    /// The EIF to measure (its SHA-256 is published too).
    #[arg(long, value_name = "FILE")]
    eif: Option<PathBuf>,
    /// A pcr.json (`eif-builder pcrs` output) instead of an EIF.
    #[arg(long, value_name = "FILE")]
    pcrs: Option<PathBuf>,
    /// Family name, e.g. matching-engine (id = keccak256(name)).
    #[arg(long)]
    family: String,
    /// Release version.
    #[arg(long)]
    version: String,
    /// Source revision the image was built from (a git commit).
    #[arg(long, value_name = "REV", default_value = "")]
    source_rev: String,
    /// Image name (default: the family name).
    #[arg(long)]
    name: Option<String>,
    /// Where the build provenance is published.
    #[arg(long, value_name = "URI", default_value = "")]
    provenance_uri: String,
}

#[derive(Debug, Args)]
pub(crate) struct RevokeArgs {
    /// The image id (0x + 64 hex digits).
    #[arg(value_parser = parse_b256)]
    image_id: B256,
    /// Reason, published in the event.
    #[arg(long, default_value = "revoked")]
    reason: String,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Only this family.
    #[arg(long)]
    family: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// The image id.
    #[arg(value_parser = parse_b256)]
    image_id: B256,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyEifArgs {
    /// The EIF.
    file: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct RebuildArgs {
    /// The revision to rebuild (commit, tag or branch).
    #[arg(long)]
    rev: String,
    /// The repository to clone.
    #[arg(long, default_value = ".")]
    repo: String,
    /// The build command, run with `sh -c` in the checkout.
    #[arg(long, default_value = DEFAULT_BUILD_CMD)]
    build_cmd: String,
    /// The PCR file the build writes, relative to the checkout.
    #[arg(long, default_value = DEFAULT_PCR_JSON)]
    pcr_json: PathBuf,
    /// Keep the checkout in this directory (default: a temporary directory, removed).
    #[arg(long, value_name = "DIR")]
    workdir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyAttestationArgs {
    /// Do not use the chain: check authenticity, and the PCRs against --pcrs when given.
    #[arg(long)]
    offline: bool,

    /// With --offline: require PCR0/1/2 (and PCR8 if present) to equal this pcr.json.
    #[arg(long, value_name = "FILE", requires = "offline")]
    pcrs: Option<PathBuf>,

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
}

#[derive(Debug, Args)]
pub(crate) struct InspectAttestationArgs {
    /// The document: raw COSE_Sign1 bytes or base64 text ("-" reads standard input).
    #[arg(long, value_name = "FILE")]
    doc: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct RegisterEnclaveArgs {
    /// The attestation document (raw COSE or base64).
    #[arg(long, value_name = "FILE")]
    doc: PathBuf,
    /// The family the image belongs to.
    #[arg(long)]
    family: String,
}

#[derive(Debug, Args)]
pub(crate) struct WatchArgs {
    /// The family whose verifier to watch.
    #[arg(long)]
    family: String,
    /// Seconds between polls.
    #[arg(long, default_value_t = 12)]
    interval: u64,
    /// Stop after this many polls (default: run until interrupted).
    #[arg(long)]
    polls: Option<u64>,
}

fn parse_b256(s: &str) -> Result<B256, String> {
    s.parse::<B256>()
        .map_err(|_| format!("`{s}` is not a 32-byte hex id (0x + 64 hex digits)"))
}

fn read_input(path: &Path) -> anyhow::Result<Vec<u8>> {
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

impl ChainArgs {
    fn key(&self) -> Option<KeySource> {
        match (&self.private_key_env, &self.keystore) {
            (Some(var), _) => Some(KeySource::Env(var.clone())),
            (None, Some(path)) => Some(KeySource::Keystore {
                path: path.clone(),
                password_env: self.password_env.clone(),
            }),
            (None, None) => None,
        }
    }

    /// Connects: provider, chain id, deployment file, registry code.
    async fn connect(&self, with_key: bool) -> anyhow::Result<Registry> {
        let url = self
            .rpc
            .as_deref()
            .context("no RPC endpoint: pass --rpc URL or set PCR_REGISTRY_RPC_URL")?;
        let signer = match (with_key, self.key()) {
            (true, Some(source)) => Some(source.load()?),
            (true, None) => anyhow::bail!(
                "this command sends a transaction: pass --private-key-env VAR or --keystore FILE"
            ),
            (false, _) => None,
        };
        let sender = signer.as_ref().map(|s| s.address());
        let provider = http_provider(url, signer)?;
        let deployment = match &self.deployment {
            Some(path) => Deployment::read(path)?,
            None => {
                let id = chain_id(&provider, url).await?;
                let cwd = std::env::current_dir().context("current directory")?;
                Deployment::read(&Deployment::default_path(&cwd, id))?
            }
        };
        Ok(Registry::connect(provider, deployment, sender, url).await?)
    }
}

fn out(text: &str) -> anyhow::Result<()> {
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .context("writing to standard output")
}

fn progress(line: &str) {
    // Progress goes to stderr; if stderr is gone there is nobody to show it to.
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Runs the parsed command; errors are "could not answer" (exit 2).
pub(crate) fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let json = cli.json;
    let report = runtime.block_on(run_command(cli))?;
    out(&report.render(json))?;
    Ok(report.status)
}

async fn run_command(cli: Cli) -> anyhow::Result<Report> {
    let chain = &cli.chain;
    Ok(match cli.command {
        Command::Register(args) => {
            // Local input first: a bad file never reaches the chain.
            let (pcrs, eif_sha256) = match (&args.eif, &args.pcrs) {
                (Some(eif), _) => {
                    let m = measure_eif(eif)?;
                    (m.pcrs, m.sha256)
                }
                (None, path) => {
                    let path = path.as_deref().context("pass --eif FILE or --pcrs FILE")?;
                    (pcr_registry::pcrs::read_pcr_json(path)?, B256::ZERO)
                }
            };
            if let Some(i) = pcrs.debug_pcr() {
                return Err(InputError::DebugPcr(i).into());
            }
            let registry = chain.connect(true).await?;
            commands::register(
                &registry,
                RegisterConfig {
                    pcrs,
                    name: args.name.unwrap_or_else(|| args.family.clone()),
                    family: args.family,
                    version: args.version,
                    source_revision: args.source_rev,
                    eif_sha256,
                    provenance_uri: args.provenance_uri,
                },
            )
            .await?
        }
        Command::Revoke(args) => {
            let registry = chain.connect(true).await?;
            commands::revoke(&registry, args.image_id, &args.reason).await?
        }
        Command::List(args) => {
            let registry = chain.connect(false).await?;
            commands::list(&registry, args.family.as_deref()).await?
        }
        Command::Show(args) => {
            let registry = chain.connect(false).await?;
            commands::show(&registry, args.image_id).await?
        }
        Command::VerifyEif(args) => {
            let measured = measure_eif(&args.file)?;
            let registry = chain.connect(false).await?;
            let mut report = commands::verify_measured(&registry, &measured.pcrs).await?;
            report.json["eif"] = json!(args.file.display().to_string());
            report.json["eif_sha256"] = json!(measured.sha256.to_string());
            report
        }
        Command::Rebuild(args) => {
            // Connect first: an unreachable registry should not cost a build.
            let registry = chain.connect(false).await?;
            let config = RebuildConfig {
                repo: args.repo,
                rev: args.rev,
                build_cmd: args.build_cmd,
                pcr_json: args.pcr_json,
                workdir: args.workdir,
            };
            // The runtime is single-threaded and has nothing else to run while the build runs.
            let rebuilt = pcr_registry::rebuild::rebuild(&config, &mut |l| progress(l))?;
            let mut report = commands::verify_measured(&registry, &rebuilt.pcrs).await?;
            report.human = format!(
                "rebuilt {} ({})\n{}",
                config.rev, rebuilt.commit, report.human
            );
            report.json["rev"] = json!(config.rev);
            report.json["commit"] = json!(rebuilt.commit);
            report
        }
        Command::VerifyAttestation(args) => verify_attestation(chain, args).await?,
        Command::InspectAttestation(args) => {
            let input = read_input(&args.doc)?;
            let document = inspect::inspect(&input).map_err(|e| {
                let code = nitro_attestation::Error::from(e.clone()).code();
                InputError::Invalid(format!(
                    "{}: not an attestation document: {e} [{code}]",
                    args.doc.display()
                ))
            })?;
            inspect::inspect_report(&document)
        }
        Command::RegisterEnclave(args) => {
            let input = read_input(&args.doc)?;
            let document = nitro_attestation::decode_input(&input)
                .map_err(|e| InputError::Invalid(format!("{}: {e}", args.doc.display())))?;
            let registry = chain.connect(true).await?;
            enclave::register_enclave(&registry, &args.family, document.to_vec()).await?
        }
        Command::Watch(args) => {
            let registry = chain.connect(true).await?;
            enclave::watch(
                &registry,
                &args.family,
                std::time::Duration::from_secs(args.interval),
                args.polls,
                &mut |l| progress(l),
            )
            .await?
        }
    })
}

async fn verify_attestation(
    chain: &ChainArgs,
    args: VerifyAttestationArgs,
) -> anyhow::Result<Report> {
    let config = args.config()?;
    let expected = match &args.pcrs {
        Some(path) => Some(pcr_registry::pcrs::read_pcr_json(path)?),
        None => None,
    };
    let input = read_input(&args.doc)?;
    let outcome = verify_offline(&input, &config);
    let mut json = pcr_registry::report_json(&outcome);
    let mut human = render_human(&outcome);
    let Outcome::Verified { document, .. } = &outcome else {
        if let Outcome::Rejected { error, .. } = &outcome
            && not_authentic(error)
        {
            human += &format!(
                "not authenticated under {}; `pcr-registry inspect-attestation --doc {}` shows what \
                 the document claims, unverified\n",
                root_name(&config.root),
                args.doc.display()
            );
        }
        return Ok(Report {
            status: ExitStatus::Rejected,
            human,
            json,
        });
    };
    let measured = document
        .document()
        .image_pcrs()
        .context("the verified document lacks PCR0/1/2")?;
    let status = if args.offline {
        match expected {
            None => ExitStatus::Success,
            Some(expected) => {
                let bad = measured.mismatches(&expected);
                json["pcrs_match"] = json!(bad.is_empty());
                json["pcr_mismatches"] = json!(bad);
                if bad.is_empty() {
                    human += "PCRs match the given pcr.json\n";
                    ExitStatus::Success
                } else {
                    human += &format!("PCR MISMATCH with the given pcr.json at PCR {bad:?}\n");
                    ExitStatus::Rejected
                }
            }
        }
    } else {
        let registry = chain.connect(false).await?;
        let found = commands::lookup(&registry, &measured).await?;
        human += &format!("{}\n", found.sentence());
        json["registry"] = found.json();
        found.exit_status()
    };
    Ok(Report {
        status,
        human,
        json,
    })
}

/// True for rejections of a well-formed document that is not signed under the trusted root
/// (`inspect-attestation` can still read it).
fn not_authentic(error: &nitro_attestation::Error) -> bool {
    use nitro_attestation::{Error, Malformed};
    matches!(
        error,
        Error::Chain(_)
            | Error::Signature(_)
            | Error::Malformed(
                Malformed::UnsupportedAlgorithm
                    | Malformed::SignatureLength(_)
                    | Malformed::Certificate { .. }
            )
    )
}

fn root_name(root: &TrustedRoot) -> String {
    if root.is_aws() {
        "the AWS Nitro Enclaves Root-G1".into()
    } else {
        format!(
            "the --danger-trust-root root (DER SHA-256 {})",
            hex::encode(root.sha256())
        )
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
