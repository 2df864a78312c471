//! `requester`: create asks (public or private), follow them, fetch their proofs, cancel,
//! refund and withdraw. `--json` prints one JSON object per line on every verb.
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use alloy::primitives::{Address, Bytes, U256};
use clap::{Args, Parser, Subcommand};
use market_client::ask::{AskStatus, Marketplace, NewAsk};
use market_client::engine::{EngineApi, EngineTrust};
use market_client::private::{Delivery, create_private_ask};
use market_client::{Error, Result, chain};
use serde_json::{Value, json};

#[derive(Parser)]
#[command(
    name = "requester",
    about = "Create and follow proof asks on the ProofMarketplace"
)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    verb: Verb,
}

#[derive(Args)]
struct Common {
    /// JSON-RPC URL of the chain.
    #[arg(long, global = true, default_value = "http://127.0.0.1:8545")]
    rpc: String,
    /// The ProofMarketplace's address.
    #[arg(long, global = true)]
    marketplace: Option<Address>,
    /// File holding the requester's hex private key (else the REQUESTER_KEY variable).
    #[arg(long, global = true)]
    key_file: Option<PathBuf>,
    /// The matching engine's API URL (private asks).
    #[arg(long, global = true)]
    engine: Option<String>,
    /// One JSON object per line instead of text.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Subcommand)]
enum Verb {
    /// Create an ask (escrowing reward × redundancy; approves the token first if needed).
    Create(CreateArgs),
    /// Print an ask's state and slots.
    Status {
        /// The ask id.
        ask: U256,
    },
    /// Print progress until the ask is proven, expired, refunded, cancelled or failed.
    Wait {
        /// The ask id.
        ask: U256,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 3600)]
        timeout: u64,
        /// Milliseconds between polls.
        #[arg(long, default_value_t = 2000)]
        poll_ms: u64,
    },
    /// Write a submitted proof's bytes to a file.
    Proof {
        /// The ask id.
        ask: U256,
        /// The slot (the first proof when absent).
        #[arg(long)]
        slot: Option<u8>,
        /// Where to write the proof.
        #[arg(long)]
        out: PathBuf,
        /// The first block to search (the marketplace's creation block is enough).
        #[arg(long, default_value_t = 0)]
        from_block: u64,
    },
    /// Cancel an ask none of whose slots was assigned.
    Cancel {
        /// The ask id.
        ask: U256,
    },
    /// Refund the never-assigned slots of an expired ask.
    Refund {
        /// The ask id.
        ask: U256,
    },
    /// Withdraw the credited refunds.
    Withdraw,
}

#[derive(Args)]
struct CreateArgs {
    /// The market id.
    #[arg(long)]
    market: U256,
    /// The statement (proverData): a file, or 0x-hex.
    #[arg(long)]
    statement: String,
    /// Largest price per slot (token units).
    #[arg(long)]
    reward: U256,
    /// Seconds from now until the ask is no longer assignable.
    #[arg(long, default_value_t = 3600)]
    expiry_in: u64,
    /// Seconds a generator has for its proof.
    #[arg(long, default_value_t = 600)]
    proving_time: u32,
    /// Distinct generators asked for.
    #[arg(long, default_value_t = 1)]
    redundancy: u8,
    /// Receives unspent reward (the sender when absent).
    #[arg(long)]
    refund_address: Option<Address>,
    /// A private ask: the file holding the secret inputs, sealed to the engine's attested key.
    #[arg(long)]
    private: Option<PathBuf>,
    /// Private asks: put the sealed inputs in the transaction instead of uploading them.
    #[arg(long, requires = "private")]
    inline: bool,
    /// Named dev mode: accept the engine's dev-NSM attestation rooted in this DER certificate
    /// (production documents are rooted in the AWS Nitro root; never use this against one).
    #[arg(long, requires = "private")]
    dev_engine_key: Option<PathBuf>,
}

/// Prints a result as text or as one JSON line.
struct Out {
    json: bool,
}

impl Out {
    fn emit(&self, value: &Value, text: &str) {
        if self.json {
            println!("{value}");
        } else {
            println!("{text}");
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// A file's bytes, else the argument as 0x-hex.
fn statement(arg: &str) -> Result<Bytes> {
    let path = Path::new(arg);
    if path.is_file() {
        return read(path).map(Bytes::from);
    }
    match arg.strip_prefix("0x") {
        Some(digits) => hex::decode(digits)
            .map(Bytes::from)
            .map_err(|e| Error::invalid("--statement", e)),
        None => Err(Error::invalid(
            "--statement",
            format!("{arg} is neither a file nor 0x-hex"),
        )),
    }
}

fn signer(common: &Common) -> Result<Option<alloy::signers::local::PrivateKeySigner>> {
    if let Some(path) = &common.key_file {
        return chain::read_key_file(path).map(Some);
    }
    match std::env::var("REQUESTER_KEY") {
        Ok(key) => chain::parse_key(&key).map(Some),
        Err(_) => Ok(None),
    }
}

fn status_text(s: &AskStatus) -> String {
    let slots: Vec<String> = s
        .slots
        .iter()
        .map(|slot| format!("slot {} {} {}", slot.slot, slot.state, slot.generator))
        .collect();
    format!(
        "ask {} market {} {:?} (expiry {}, now {}): {}",
        s.ask,
        s.market_id,
        s.phase,
        s.expiry,
        s.now,
        slots.join("; ")
    )
}

fn to_json(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

async fn run(cli: Cli, out: &Out) -> Result<ExitCode> {
    let signer = signer(&cli.common)?;
    let sender = signer
        .as_ref()
        .map(alloy::signers::local::PrivateKeySigner::address);
    let provider = chain::provider(&cli.common.rpc, signer)?;
    let address = cli
        .common
        .marketplace
        .ok_or_else(|| Error::invalid("--marketplace", "required"))?;
    let market = Marketplace::new(provider, address, sender);
    match cli.verb {
        Verb::Create(args) => {
            let ask = NewAsk {
                market_id: args.market,
                reward: args.reward,
                expiry_in: args.expiry_in,
                proving_time: args.proving_time,
                redundancy: args.redundancy,
                refund_address: args.refund_address,
                statement: statement(&args.statement)?,
            };
            let created = match &args.private {
                None => market.create_public(&ask).await?,
                Some(secret_file) => {
                    let engine_url = cli.common.engine.as_deref().ok_or_else(|| {
                        Error::invalid("--engine", "a private ask needs the engine's API URL")
                    })?;
                    let trust = match &args.dev_engine_key {
                        Some(root) => EngineTrust::DangerDevRoot(read(root)?),
                        None => EngineTrust::Aws,
                    };
                    let secret = secret_bytes(read(secret_file)?);
                    let delivery = if args.inline {
                        Delivery::Inline
                    } else {
                        Delivery::Upload
                    };
                    let requester =
                        sender.ok_or_else(|| Error::invalid("key", "create needs a key"))?;
                    create_private_ask(
                        &market,
                        &EngineApi::new(engine_url)?,
                        &trust,
                        requester,
                        &ask,
                        &secret,
                        delivery,
                    )
                    .await?
                }
            };
            let mut value = to_json(&created);
            value["private"] = json!(args.private.is_some());
            out.emit(
                &value,
                &format!(
                    "created ask {} (tx {}, block {})",
                    created.ask, created.tx, created.block
                ),
            );
        }
        Verb::Status { ask } => {
            let status = market.status(ask).await?;
            out.emit(&to_json(&status), &status_text(&status));
        }
        Verb::Wait {
            ask,
            timeout,
            poll_ms,
        } => {
            let status = market
                .wait(
                    ask,
                    Duration::from_secs(timeout),
                    Duration::from_millis(poll_ms),
                    |s| out.emit(&to_json(s), &status_text(s)),
                )
                .await?;
            if !matches!(status.phase, market_client::ask::Phase::Proven) {
                return Ok(ExitCode::from(4));
            }
        }
        Verb::Proof {
            ask,
            slot,
            out: path,
            from_block,
        } => {
            let proofs = market.proofs(ask, from_block).await?;
            let proof = proofs
                .into_iter()
                .find(|p| slot.is_none_or(|s| s == p.slot))
                .ok_or_else(|| Error::NotFound(format!("a proof of ask {ask}")))?;
            std::fs::write(&path, &proof.proof).map_err(|e| Error::io(&path, e))?;
            let mut value = to_json(&proof);
            value["out"] = json!(path);
            out.emit(
                &value,
                &format!(
                    "wrote the {}-byte proof of ask {ask} slot {} (by {}) to {}",
                    proof.proof.len(),
                    proof.slot,
                    proof.generator,
                    path.display()
                ),
            );
        }
        Verb::Cancel { ask } => {
            let tx = market.cancel(ask).await?;
            out.emit(
                &json!({"cancelled": ask, "tx": tx}),
                &format!("cancelled ask {ask} (tx {tx})"),
            );
        }
        Verb::Refund { ask } => {
            let tx = market.refund(ask).await?;
            out.emit(
                &json!({"refunded": ask, "tx": tx}),
                &format!("refunded ask {ask} (tx {tx})"),
            );
        }
        Verb::Withdraw => {
            let (amount, tx) = market.withdraw().await?;
            out.emit(
                &json!({"withdrawn": amount, "tx": tx}),
                &format!("withdrew {amount} (tx {tx})"),
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The secret as given: raw bytes, or 0x-hex text decoded.
fn secret_bytes(raw: Vec<u8>) -> Vec<u8> {
    let text = String::from_utf8_lossy(&raw);
    text.trim()
        .strip_prefix("0x")
        .and_then(|digits| hex::decode(digits).ok())
        .unwrap_or(raw)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Out {
        json: cli.common.json,
    };
    match run(cli, &out).await {
        Ok(code) => code,
        Err(e) => {
            if out.json {
                println!("{}", json!({"error": e.code(), "message": e.to_string()}));
            } else {
                eprintln!("requester: {e}");
            }
            ExitCode::from(1)
        }
    }
}
