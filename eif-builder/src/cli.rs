//! Command-line interface: clap types, resolution into library inputs, and output.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use eif_builder::{
    BuildSpec, Description, ExitStatus, ImageIdentity, Provenance, Recipe, Signer, cpio, extract,
    hash, reader,
};

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  negative answer: the image was read but fails a check (CRC mismatch, bad signature)
  2  error: bad arguments, unreadable or malformed input, I/O failure";

/// Deterministic AWS Nitro Enclave image (EIF) builder, reader and PCR calculator.
#[derive(Debug, Parser)]
#[command(name = "eif-builder", version, after_help = EXIT_CODES)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build a deterministic cpio (newc) ramdisk from a directory tree.
    #[command(after_help = EXIT_CODES)]
    Ramdisk(RamdiskArgs),
    /// Build an EIF and print its description (JSON, as `describe --json`).
    #[command(after_help = EXIT_CODES)]
    Build(Box<BuildArgs>),
    /// Build the image a recipe declares from its named inputs: write its ramdisks, then the EIF,
    /// and print its description (as `build`).
    #[command(after_help = EXIT_CODES)]
    Image(Box<RecipeArgs>),
    /// Read an EIF, check its CRC and signature, and print its measurements and layout.
    #[command(after_help = EXIT_CODES)]
    Describe(DescribeArgs),
    /// Print only the PCR JSON of an EIF (the `pcr.json` to publish).
    #[command(after_help = EXIT_CODES)]
    Pcrs(FileArg),
    /// Write an EIF's sections to files: kernel, cmdline, ramdisk-N, metadata.json, signature.cbor.
    #[command(after_help = EXIT_CODES)]
    Extract(ExtractArgs),
}

#[derive(Debug, Args)]
struct RamdiskArgs {
    /// Directory whose contents become the ramdisk root.
    #[arg(long)]
    root: PathBuf,
    /// Output archive.
    #[arg(short, long)]
    output: PathBuf,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("cmd").required(true).args(["cmdline", "cmdline_file"]))]
struct BuildArgs {
    /// Kernel image (bzImage or arm64 Image).
    #[arg(long)]
    kernel: PathBuf,
    /// Kernel command line.
    #[arg(long)]
    cmdline: Option<String>,
    /// File holding the kernel command line (surrounding whitespace is trimmed, as nitro-cli does).
    #[arg(long)]
    cmdline_file: Option<PathBuf>,
    /// Ramdisk, repeatable: the first is the boot ramdisk (PCR1), the others the application (PCR2).
    #[arg(long, required = true)]
    ramdisk: Vec<PathBuf>,
    /// Image name (metadata only).
    #[arg(long, default_value = "enclave")]
    name: String,
    #[command(flatten)]
    common: ImageArgs,
}

/// What `build` and `image` share: signing, metadata, provenance and the output.
#[derive(Debug, Args)]
struct ImageArgs {
    /// PEM certificate of the signing key (PCR8).
    #[arg(long, requires = "sign_key")]
    sign_cert: Option<PathBuf>,
    /// PEM P-384 private key that signs PCR0.
    #[arg(long, requires = "sign_cert")]
    sign_key: Option<PathBuf>,
    /// Image version (metadata only).
    #[arg(long = "version", default_value = "0.0.0")]
    image_version: String,
    /// Target architecture (header flag).
    #[arg(long, value_parser = ["x86_64", "aarch64"], default_value = "x86_64")]
    arch: String,
    /// Source revision recorded in the provenance manifest.
    #[arg(long)]
    source_revision: Option<String>,
    /// Cargo.lock whose SHA-384 is recorded in the provenance manifest.
    #[arg(long)]
    cargo_lock: Option<PathBuf>,
    /// Toolchain recorded in the provenance manifest, NAME=VERSION, repeatable.
    #[arg(long, value_parser = parse_kv)]
    toolchain: Vec<(String, String)>,
    /// Kernel version recorded in the metadata.
    #[arg(long)]
    kernel_version: Option<String>,
    /// Mark the image as not for registration, with the reason (recorded in the manifest): a
    /// build from other toolchains than the pinned ones.
    #[arg(long, value_name = "REASON")]
    unregistrable: Option<String>,
    /// Output EIF.
    #[arg(short, long)]
    output: PathBuf,
}

#[derive(Debug, Args)]
struct RecipeArgs {
    /// The image recipe (JSON, see `eif_builder::recipe`).
    #[arg(long)]
    recipe: PathBuf,
    /// The directory the recipe's `file` entries and `cmdline_file` are relative to.
    #[arg(long, default_value = ".")]
    source_root: PathBuf,
    /// A built input the recipe names, NAME=PATH, repeatable (the kernel is one).
    #[arg(long = "input", value_parser = parse_input)]
    inputs: Vec<(String, PathBuf)>,
    /// Where the ramdisk archives (NAME.cpio) are written.
    #[arg(long)]
    ramdisk_dir: PathBuf,
    #[command(flatten)]
    common: ImageArgs,
}

#[derive(Debug, Args)]
struct DescribeArgs {
    /// The EIF.
    file: PathBuf,
    /// Print JSON (nitro-cli describe-eif keys plus Sections and Cmdline).
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct FileArg {
    /// The EIF.
    file: PathBuf,
}

#[derive(Debug, Args)]
struct ExtractArgs {
    /// The EIF.
    file: PathBuf,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
}

fn parse_input(s: &str) -> Result<(String, PathBuf), String> {
    parse_kv(s).map(|(k, v)| (k, PathBuf::from(v)))
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    let (k, v) = s.split_once('=').ok_or("expected NAME=VERSION")?;
    if k.is_empty() {
        return Err("empty NAME".into());
    }
    Ok((k.to_owned(), v.to_owned()))
}

/// The only place that writes to stdout.
#[allow(clippy::print_stdout)]
fn emit(text: &str) {
    println!("{text}");
}

#[allow(clippy::print_stderr)]
fn warn(text: &str) {
    eprintln!("error: {text}");
}

fn source_date_epoch() -> anyhow::Result<Option<u64>> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(s) if !s.is_empty() => Ok(Some(
            s.trim()
                .parse()
                .context("SOURCE_DATE_EPOCH is not an integer")?,
        )),
        _ => Ok(None),
    }
}

/// A byte progress bar on stderr, only when stderr is a terminal.
fn progress_bar(label: &'static str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(0);
    let style = indicatif::ProgressStyle::with_template(
        "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
    )
    .ok()?;
    bar.set_style(style);
    bar.set_message(label);
    Some(bar)
}

fn with_progress<T>(label: &'static str, f: impl FnOnce(Option<reader::Progress<'_>>) -> T) -> T {
    let bar = progress_bar(label);
    let mut tick = |done: u64, total: u64| {
        if let Some(b) = &bar {
            b.set_length(total);
            b.set_position(done);
        }
    };
    let r = f(bar.is_some().then_some(&mut tick as reader::Progress<'_>));
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    r
}

/// Report a failed check as exit 1 (the description was printed already).
fn verdict(d: &Description) -> ExitStatus {
    match d.ensure_valid() {
        Ok(()) => ExitStatus::Success,
        Err(e) => {
            warn(&e.to_string());
            ExitStatus::Rejected
        }
    }
}

fn pretty(v: &serde_json::Value) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(v)?)
}

fn human(d: &Description) -> String {
    let mut s = String::new();
    let h = &d.layout.header;
    s.push_str(&format!(
        "EIF version {}, flags {:#06x}, {} bytes\n",
        h.version, h.flags, d.layout.len
    ));
    s.push_str(&format!(
        "CRC-32: {:#010x} ({})\n",
        h.crc32,
        if d.crc_ok() { "ok" } else { "MISMATCH" }
    ));
    let m = &d.measurements;
    s.push_str(&format!(
        "PCR0: {}\nPCR1: {}\nPCR2: {}\n",
        m.pcr0, m.pcr1, m.pcr2
    ));
    match (&m.pcr8, d.signature_ok()) {
        (Some(p), Some(ok)) => s.push_str(&format!(
            "PCR8: {p}\nSignature: {}\n",
            if ok { "ok" } else { "INVALID" }
        )),
        _ => s.push_str("Signed: no\n"),
    }
    if let Some(md) = &d.metadata {
        s.push_str(&format!("Image: {} {}\n", md.image_name, md.image_version));
    }
    s.push_str(&format!("Cmdline: {}\nSections:\n", d.cmdline));
    for sec in &d.layout.sections {
        s.push_str(&format!(
            "  {:>2} {:<9} offset {:>12} size {:>12}\n",
            sec.index,
            format!("{:?}", sec.kind),
            sec.offset,
            sec.size
        ));
    }
    s.trim_end().to_owned()
}

fn build(a: &BuildArgs) -> anyhow::Result<ExitStatus> {
    let cmdline = match (&a.cmdline, &a.cmdline_file) {
        (Some(c), None) => c.clone(),
        (None, Some(f)) => std::fs::read_to_string(f)
            .with_context(|| format!("reading {}", f.display()))?
            .trim()
            .to_owned(),
        _ => bail!("give exactly one of --cmdline and --cmdline-file"),
    };
    write_image(
        &a.common,
        a.kernel.clone(),
        cmdline,
        a.ramdisk.clone(),
        a.name.clone(),
    )
}

fn image(a: &RecipeArgs) -> anyhow::Result<ExitStatus> {
    let bytes =
        std::fs::read(&a.recipe).with_context(|| format!("reading {}", a.recipe.display()))?;
    let recipe =
        Recipe::from_json(&bytes).with_context(|| format!("recipe {}", a.recipe.display()))?;
    let mut inputs = BTreeMap::new();
    for (name, path) in &a.inputs {
        if inputs.insert(name.clone(), path.clone()).is_some() {
            bail!("input {name:?} given twice");
        }
    }
    let assembled = recipe.assemble(&a.source_root, &inputs, &a.ramdisk_dir)?;
    write_image(
        &a.common,
        assembled.kernel,
        assembled.cmdline,
        assembled.ramdisks,
        recipe.name,
    )
}

fn write_image(
    a: &ImageArgs,
    kernel: PathBuf,
    cmdline: String,
    ramdisks: Vec<PathBuf>,
    name: String,
) -> anyhow::Result<ExitStatus> {
    let signer = match (&a.sign_cert, &a.sign_key) {
        (Some(c), Some(k)) => {
            let cert = std::fs::read(c).with_context(|| format!("reading {}", c.display()))?;
            let key = std::fs::read(k).with_context(|| format!("reading {}", k.display()))?;
            Some(Signer::from_pem(&cert, &key)?)
        }
        _ => None,
    };
    let cargo_lock_sha384 = a
        .cargo_lock
        .as_ref()
        .map(|p| {
            std::fs::read(p)
                .map(|b| hash::sha384(&b))
                .with_context(|| format!("reading {}", p.display()))
        })
        .transpose()?;
    let spec = BuildSpec {
        kernel,
        cmdline,
        ramdisks,
        signer,
        identity: ImageIdentity {
            name,
            version: a.image_version.clone(),
        },
        provenance: Provenance {
            source_revision: a.source_revision.clone(),
            cargo_lock_sha384,
            toolchains: a.toolchain.iter().cloned().collect(),
            kernel_version: a.kernel_version.clone(),
            source_date_epoch: source_date_epoch()?,
            unregistrable: a.unregistrable.clone(),
        },
        flags: u16::from(a.arch == "aarch64"),
    };
    let d = with_progress("building", |p| eif_builder::build(&spec, &a.output, p))?;
    emit(&pretty(&d.to_json())?);
    Ok(ExitStatus::Success)
}

/// Run one verb.
pub(crate) fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Ramdisk(a) => {
            let mtime = source_date_epoch()?.unwrap_or(0);
            cpio::write_tree_file(&a.root, mtime, &a.output)?;
            Ok(ExitStatus::Success)
        }
        Command::Build(a) => build(&a),
        Command::Image(a) => image(&a),
        Command::Describe(a) => {
            let d = with_progress("reading", |p| eif_builder::describe_file(&a.file, None, p))?;
            emit(&if a.json {
                pretty(&d.to_json())?
            } else {
                human(&d)
            });
            Ok(verdict(&d))
        }
        Command::Pcrs(a) => {
            let d = with_progress("reading", |p| eif_builder::describe_file(&a.file, None, p))?;
            if let Err(e) = d.ensure_valid() {
                warn(&e.to_string());
                return Ok(ExitStatus::Rejected);
            }
            emit(&pretty(&d.measurements.to_json())?);
            Ok(ExitStatus::Success)
        }
        Command::Extract(a) => {
            let (d, files) = with_progress("extracting", |p| extract::extract(&a.file, &a.out, p))?;
            for f in files {
                emit(&f.display().to_string());
            }
            Ok(verdict(&d))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
