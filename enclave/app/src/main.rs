//! `enclave-app`: the matching engine's enclave application.
//!
//! At start it asks the NSM for an attestation document and PCR0/1/2, and serves them with the
//! `STATUS` line protocol (`protocol.rs`). Without a working NSM it does not start: it prints
//! `enclave-app: error: …` and exits with [`status::EXIT_NO_NSM`] (see `status.rs`). With an
//! `engine` section in its configuration it also generates the engine key and the bid key (see
//! `identity.rs`), follows the marketplace through JSON-RPC (`chain/ingest.rs`), relays signed
//! assignment batches (`chain/relay.rs`) and serves the HTTP API (`http.rs`); with a `bridge`
//! section too, it runs the Symbiotic bridge job with the same key (`bridge.rs`). Builds with
//! `danger-dev-nsm` can run on a host with the dev NSM and a plain-HTTP RPC (local simulation);
//! see `enclave/README.md`.
#![forbid(unsafe_code)]

mod admission;
mod attest;
mod bridge;
mod chain;
mod config;
mod http;
mod identity;
mod limits;
mod listen;
mod protocol;
mod service;
mod status;
#[cfg(test)]
mod test_nsm;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr as _;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::primitives::{Address as ChainAddress, B256};
use alloy::providers::{DynProvider, Provider as _, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use anyhow::Context as _;
use clap::Parser;
use matching_engine::{Address, BidContext, Engine};
use nitro_attestation::nsm::Nsm;

use crate::bridge::BridgeState;
use crate::chain::abi::IProofMarketplace;
use crate::chain::decode::Sources;
use crate::chain::ingest::{Ingest, IngestConfig};
use crate::chain::relay::{Relay, RelayConfig};
use crate::config::{BridgeConfig, Build, Config, EngineConfig, RpcConfig};
use crate::identity::Identity;
use crate::listen::{ListenAddr, Listener};
use crate::service::{Facts, Service, Shared};
use crate::status::{EXIT_NO_NSM, NsmStartError, Status};

/// Default location of the configuration inside the root file system.
const DEFAULT_CONFIG: &str = "/etc/enclave-app.json";
/// A `STATUS` client that does not send its request within this time is dropped.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
/// Environment variable holding the relayer's private key (hex). Without it a relayer key is
/// generated at start and its address shown by `/status`, to be funded.
const RELAYER_KEY_ENV: &str = "ENCLAVE_APP_RELAYER_KEY";
/// Exit status of a failed start other than [`EXIT_NO_NSM`] (configuration, CA roots,
/// listening) and of an unusable configuration under `--check-config`.
const EXIT_ERROR: u8 = 2;

/// The matching engine's enclave application.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// Configuration file (JSON).
    #[arg(long, default_value = DEFAULT_CONFIG)]
    config: PathBuf,
    /// Check the configuration as this build would run it, say what it runs, and exit
    /// (0: usable; 2: not, with the field and the reason). Starts nothing and reads nothing
    /// else, the NSM neither: `ci/build-eif` runs the image's own binary on the image's
    /// configuration, on the build host.
    #[arg(long)]
    check_config: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("enclave-app: error: starting the runtime: {err}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{}", error_line(&err));
            ExitCode::from(exit_status(&err))
        }
    }
}

/// The console line of a failed start.
fn error_line(err: &anyhow::Error) -> String {
    format!("enclave-app: error: {err:#}")
}

/// The exit status of a failed start: [`EXIT_NO_NSM`] without a working NSM, else
/// [`EXIT_ERROR`].
fn exit_status(err: &anyhow::Error) -> u8 {
    if err.downcast_ref::<NsmStartError>().is_some() {
        EXIT_NO_NSM
    } else {
        EXIT_ERROR
    }
}

/// The NSM: the dev NSM when the configuration asks for it (dev builds only), else `/dev/nsm`,
/// which must exist and open ([`NsmStartError`] otherwise).
fn open_nsm(config: &Config) -> anyhow::Result<Arc<dyn Nsm>> {
    match &config.dev_nsm_pcrs {
        None => Ok(Arc::new(
            nitro_attestation::nsm::NsmDevice::open().map_err(NsmStartError::opening)?,
        )),
        #[cfg(feature = "danger-dev-nsm")]
        Some(pcrs) => {
            use nitro_attestation::dev::{DevNsm, DevNsmConfig};
            let pcr = |name: &str, hex_value: &str| -> anyhow::Result<[u8; 48]> {
                let bytes = hex::decode(hex_value.trim_start_matches("0x"))
                    .with_context(|| format!("dev_nsm_pcrs.{name} is not hex"))?;
                bytes
                    .try_into()
                    .map_err(|_| anyhow::anyhow!("dev_nsm_pcrs.{name} is not 48 bytes"))
            };
            let nsm = DevNsm::new(DevNsmConfig::image(
                pcr("PCR0", &pcrs.pcr0)?,
                pcr("PCR1", &pcrs.pcr1)?,
                pcr("PCR2", &pcrs.pcr2)?,
            ))
            .context("starting the dev NSM")?;
            eprintln!(
                "enclave-app: DEV NSM (dev CA): documents are rejected by production verifiers"
            );
            match config.dev_nsm_delay_ms {
                None => Ok(Arc::new(nsm)),
                Some(ms) => Ok(Arc::new(SlowNsm {
                    inner: nsm,
                    delay: Duration::from_millis(ms),
                })),
            }
        }
        #[cfg(not(feature = "danger-dev-nsm"))]
        Some(_) => anyhow::bail!(
            "the configuration asks for the dev NSM (dev_nsm_pcrs), which this build does not have"
        ),
    }
}

/// Local simulation of a slow NSM: the dev NSM, each attestation `delay` late.
#[cfg(feature = "danger-dev-nsm")]
struct SlowNsm {
    inner: nitro_attestation::dev::DevNsm,
    delay: Duration,
}

#[cfg(feature = "danger-dev-nsm")]
impl Nsm for SlowNsm {
    fn attestation(
        &self,
        request: &nitro_attestation::nsm::AttestationRequest,
    ) -> Result<Vec<u8>, nitro_attestation::NsmError> {
        std::thread::sleep(self.delay);
        self.inner.attestation(request)
    }
    fn describe_pcr(
        &self,
        index: u16,
    ) -> Result<nitro_attestation::nsm::PcrDescription, nitro_attestation::NsmError> {
        self.inner.describe_pcr(index)
    }
    fn extend_pcr(&self, index: u16, data: &[u8]) -> Result<Vec<u8>, nitro_attestation::NsmError> {
        self.inner.extend_pcr(index, data)
    }
    fn lock_pcr(&self, index: u16) -> Result<(), nitro_attestation::NsmError> {
        self.inner.lock_pcr(index)
    }
    fn get_random(&self) -> Result<Vec<u8>, nitro_attestation::NsmError> {
        self.inner.get_random()
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let path = cli.config;
    let config = Config::load(&path)
        .and_then(|config| config.check_build(Build::CURRENT).map(|()| config))
        .with_context(|| format!("configuration {}", path.display()))?;
    if cli.check_config {
        eprintln!(
            "enclave-app: configuration {} is usable by this build ({:?}): {}",
            path.display(),
            Build::CURRENT,
            config.summary()
        );
        return Ok(());
    }
    eprintln!(
        "enclave-app {} starting (config {}): {}",
        env!("CARGO_PKG_VERSION"),
        path.display(),
        config.summary()
    );
    let ca_roots = status::count_certificates(&config.ca_roots)
        .with_context(|| format!("reading CA roots {}", config.ca_roots.display()))?;
    // Without a working NSM the application does not start (the image runs only in Nitro).
    let nsm = open_nsm(&config)?;
    let status = Status::collect(nsm.as_ref(), ca_roots)?;
    // CI compares this line with the booted EIF's PCRs.
    eprintln!("enclave-app: {}", status.pcr_line());
    eprintln!("enclave-app: {}", status.summary());
    let status_addr = config.status_listen()?;
    let status_listener = Listener::bind(&status_addr)
        .await
        .with_context(|| format!("listening on {status_addr}"))?;
    eprintln!(
        "enclave-app: listening on {} (STATUS)",
        status_listener.local_addr(&status_addr)
    );
    // The boot test waits for this line.
    if let ListenAddr::Vsock { port } = status_addr {
        eprintln!("enclave-app: listening on vsock port {port}");
    }
    let status_task = tokio::spawn(serve_status(status_listener, status.to_json_line()));

    let Some(engine) = config.engine.clone() else {
        status_task.await.context("STATUS server")?;
        return Ok(());
    };
    // Keys only for the engine: a STATUS-only image draws nothing from the kernel's generator.
    let identity = Identity::generate(nsm);
    eprintln!(
        "enclave-app: engine key {}",
        service::engine_address(&identity)
    );
    let service = start_engine(&config, &engine, identity).await?;
    let http_addr = ListenAddr::from_str(&engine.http_listen)?;
    let http_listener = Listener::bind(&http_addr)
        .await
        .with_context(|| format!("listening on {http_addr}"))?;
    eprintln!(
        "enclave-app: listening on {} (HTTP API)",
        http_listener.local_addr(&http_addr)
    );
    let owner = service.shared.clone();
    let attester = attest::Attester::start(
        move |nonce| owner.identity.attest(nonce),
        limits::ATTESTATION_WORKERS,
        limits::ATTESTATION_QUEUE,
    )
    .context("starting the attestation workers")?;
    tokio::spawn(http::serve(
        http_listener,
        service.shared.clone(),
        attester,
        http::Limits::default(),
    ));
    service.run().await;
    Ok(())
}

/// Serves `STATUS`, holding at most [`limits::MAX_STATUS_CONNECTIONS`] clients: when full, a
/// new one takes the place of the oldest.
async fn serve_status(listener: Listener, answer: String) {
    let admission = admission::Admission::new(limits::MAX_STATUS_CONNECTIONS, 0);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                // Transient (descriptor exhaustion, aborted connection): log and keep serving.
                eprintln!("enclave-app: accept failed: {err}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let answer = answer.clone();
        let admission = admission.clone();
        tokio::spawn(async move {
            // No client is ever marked as being answered, so a place is always made.
            let Ok((slot, _)) = admission.admit(peer.peer(), Duration::ZERO).await else {
                return;
            };
            tokio::select! {
                served = protocol::serve_async(stream, &answer, CLIENT_TIMEOUT) => match served {
                    Ok(request) => eprintln!("enclave-app: answered {request:?} from {peer}"),
                    Err(err) => eprintln!("enclave-app: client {peer}: {err}"),
                },
                () = slot.evicted() => {
                    eprintln!("enclave-app: client {peer}: closed for a newer client");
                }
            }
        });
    }
}

/// The reader and the relayer providers over one configured RPC route (`field`: the route's
/// place in the configuration, for errors). The relayer asks the node for its nonce before every
/// transaction (no cached nonce): a reorg that drops a relayed batch must not leave the relayer
/// sending with a nonce the chain never reaches.
fn providers(
    ca_roots: &Path,
    rpc: &RpcConfig,
    field: &str,
    chain_id: u64,
    relayer: PrivateKeySigner,
) -> anyhow::Result<(DynProvider, DynProvider)> {
    let wallet = EthereumWallet::from(relayer);
    match &rpc.proxy {
        Some(proxy) => {
            let roots = std::fs::read(ca_roots)
                .with_context(|| format!("reading {}", ca_roots.display()))?;
            let upstream = host_proxy_client::Upstream::new(&rpc.url, &roots)
                .with_context(|| format!("{field}.url"))?;
            let dialer = host_proxy_client::Dialer::new(
                host_proxy_client::ProxyAddr::from_str(proxy)
                    .with_context(|| format!("{field}.proxy"))?,
            );
            let transport = host_proxy_client::ProxyTransport::new(dialer, upstream);
            let client = alloy::rpc::client::RpcClient::new(transport, false);
            let reader = ProviderBuilder::new()
                .connect_client(client.clone())
                .erased();
            let relayer = ProviderBuilder::new()
                .disable_recommended_fillers()
                .with_gas_estimation()
                .with_simple_nonce_management()
                .with_chain_id(chain_id)
                .wallet(wallet)
                .connect_client(client)
                .erased();
            Ok((reader, relayer))
        }
        #[cfg(feature = "danger-dev-nsm")]
        None => {
            let url: alloy::transports::http::reqwest::Url =
                rpc.url.parse().with_context(|| format!("{field}.url"))?;
            let reader = ProviderBuilder::new().connect_http(url.clone()).erased();
            let relayer = ProviderBuilder::new()
                .disable_recommended_fillers()
                .with_gas_estimation()
                .with_simple_nonce_management()
                .with_chain_id(chain_id)
                .wallet(wallet)
                .connect_http(url)
                .erased();
            Ok((reader, relayer))
        }
        #[cfg(not(feature = "danger-dev-nsm"))]
        None => anyhow::bail!(
            "{field}.proxy is required: this build reaches JSON-RPC only through the host proxy"
        ),
    }
}

/// The bridge job over the engine's L2 providers and the configured L1 routes, with the same
/// relayer account.
fn bridge_job(
    config: &Config,
    bridge: &BridgeConfig,
    l2_chain_id: u64,
    l2: (&DynProvider, &DynProvider),
    relayer: &PrivateKeySigner,
    shared: Arc<Shared>,
) -> anyhow::Result<bridge::Job> {
    let mut readers = Vec::with_capacity(bridge.l1.rpc.len());
    let mut sender = None;
    for (i, rpc) in bridge.l1.rpc.iter().enumerate() {
        let (reader, relay) = providers(
            &config.ca_roots,
            rpc,
            &format!("bridge.l1.rpc[{i}]"),
            bridge.l1.chain_id,
            relayer.clone(),
        )?;
        readers.push(reader);
        sender.get_or_insert(relay);
    }
    let sender = sender.context("bridge.l1.rpc lists no endpoint")?;
    Ok(bridge::Job {
        config: bridge.clone(),
        l1: bridge::Endpoints {
            chain_id: bridge.l1.chain_id,
            readers,
            sender,
        },
        l2: bridge::Endpoints {
            chain_id: l2_chain_id,
            readers: vec![l2.0.clone()],
            sender: l2.1.clone(),
        },
        relayer: relayer.address(),
        shared,
    })
}

fn relayer_key() -> anyhow::Result<PrivateKeySigner> {
    match std::env::var(RELAYER_KEY_ENV) {
        Ok(hex_key) => hex_key
            .trim()
            .parse::<PrivateKeySigner>()
            .map_err(|_| anyhow::anyhow!("{RELAYER_KEY_ENV} is not a private key")),
        Err(_) => Ok(PrivateKeySigner::random()),
    }
}

/// Reads the staking module and the engine family from the marketplace (retrying until the RPC
/// answers), and assembles the service.
async fn start_engine(
    config: &Config,
    engine: &EngineConfig,
    identity: Identity,
) -> anyhow::Result<Service> {
    let relayer = relayer_key()?;
    let relayer_address = relayer.address();
    eprintln!("enclave-app: relayer {relayer_address} (pays gas)");
    let (reader, relayer_provider) = providers(
        &config.ca_roots,
        &engine.rpc,
        "engine.rpc",
        engine.chain_id,
        relayer.clone(),
    )?;
    let marketplace = IProofMarketplace::new(engine.marketplace, reader.clone());
    let (staking, family) = loop {
        let answer: Result<(ChainAddress, B256), String> = async {
            let chain = reader.get_chain_id().await.map_err(|e| e.to_string())?;
            if chain != engine.chain_id {
                return Err(format!(
                    "the RPC serves chain {chain}, the configuration says {}",
                    engine.chain_id
                ));
            }
            let staking = marketplace
                .STAKING()
                .call()
                .await
                .map_err(|e| e.to_string())?;
            let family = marketplace
                .MATCHING_ENGINE_FAMILY()
                .call()
                .await
                .map_err(|e| e.to_string())?;
            Ok((staking, family))
        }
        .await;
        match answer {
            Ok(found) => break found,
            Err(e) => {
                eprintln!("enclave-app: waiting for the marketplace: {e}");
                tokio::time::sleep(Duration::from_millis(engine.poll_interval_ms)).await;
            }
        }
    };
    let sources = Sources {
        marketplace: engine.marketplace,
        staking,
    };
    let opener = identity.bid_opener(BidContext {
        chain_id: engine.chain_id,
        marketplace: Address(engine.marketplace.into_array()),
    });
    let empty = Engine::new(
        matching_engine::Config {
            expiry_margin: engine.expiry_margin_s,
        },
        Some(opener),
    );
    let ingest = Ingest::new(
        sources,
        IngestConfig {
            start_block: engine.start_block,
            confirmations: engine.confirmations,
            max_range: engine.max_block_range,
            reorg_window: engine.reorg_window,
        },
        empty.clone(),
    );
    let relay = Relay::new(
        engine.chain_id,
        engine.marketplace,
        RelayConfig {
            batch_size: engine.batch_size,
            validity: engine.batch_validity_s,
        },
    );
    let shared = Arc::new(Shared {
        identity,
        facts: Some(Facts {
            chain_id: engine.chain_id,
            marketplace: engine.marketplace,
            staking,
            registry: engine.registry,
            family,
            relayer: relayer_address,
            start_block: engine.start_block,
            confirmations: engine.confirmations,
        }),
        snapshot: RwLock::new(Arc::new(service::initial(empty))),
        bridge: RwLock::new(config.bridge.as_ref().map(BridgeState::new)),
        l2_send: tokio::sync::Mutex::new(()),
    });
    if let Some(b) = &config.bridge {
        // The bridge never stops the engine: a route it cannot build is its reported error.
        match bridge_job(
            config,
            b,
            engine.chain_id,
            (&reader, &relayer_provider),
            &relayer,
            shared.clone(),
        ) {
            Ok(job) => {
                eprintln!(
                    "enclave-app: bridge job: L1 chain {}, middleware {}, staking module {}, every {} s",
                    b.l1.chain_id, b.middleware, b.staking_module, b.interval_s
                );
                tokio::spawn(job.run());
            }
            Err(e) => {
                eprintln!("enclave-app: bridge job not started: {e:#}");
                shared.fail_bridge(format!("not started: {e:#}"));
            }
        }
    }
    Ok(Service {
        shared,
        reader,
        relayer: relayer_provider,
        ingest,
        relay,
        poll_interval: Duration::from_millis(engine.poll_interval_ms),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> Config {
        Config::parse(
            format!(r#"{{"vsock_port": 5005, "ca_roots": "/nonexistent"{extra}}}"#).as_bytes(),
        )
        .unwrap()
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn without_the_dev_nsm_a_missing_device_is_a_failed_start() {
        // Build machines have no Nitro hardware; inside an enclave this test has nothing to check.
        if Path::new(nitro_attestation::nsm::NSM_DEVICE_PATH).exists() {
            return;
        }
        let Err(err) = open_nsm(&config("")) else {
            panic!("no /dev/nsm here, yet the NSM opened");
        };
        assert_eq!(
            err.downcast_ref::<NsmStartError>(),
            Some(&NsmStartError::NoDevice("/dev/nsm".into()))
        );
        assert_eq!(
            error_line(&err),
            "enclave-app: error: no NSM device (/dev/nsm does not exist): \
             this image runs only inside a Nitro enclave"
        );
        assert_eq!(exit_status(&err), EXIT_NO_NSM);
    }

    #[tokio::test]
    async fn status_clients_that_say_nothing_give_way_to_a_new_one() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("status.sock");
        let listener = Listener::bind(&ListenAddr::Unix(path.clone()))
            .await
            .unwrap();
        tokio::spawn(serve_status(listener, r#"{"ok":true}"#.to_owned()));
        let mut silent = Vec::new();
        for _ in 0..limits::MAX_STATUS_CONNECTIONS {
            silent.push(tokio::net::UnixStream::connect(&path).await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        // Well within the silent clients' 5 s.
        let mut client = tokio::net::UnixStream::connect(&path).await.unwrap();
        client.write_all(b"STATUS\n").await.unwrap();
        let mut answer = String::new();
        tokio::time::timeout(Duration::from_secs(2), client.read_to_string(&mut answer))
            .await
            .expect("an answer within 2 s")
            .unwrap();
        assert!(answer.contains(r#"{"ok":true}"#), "{answer}");
        let mut nothing = [0_u8; 1];
        let oldest = tokio::time::timeout(Duration::from_secs(2), silent[0].read(&mut nothing));
        assert_eq!(oldest.await.expect("the oldest is closed").unwrap(), 0);
    }

    #[test]
    fn nsm_failures_have_their_own_exit_status() {
        let refused = anyhow::Error::from(NsmStartError::Attestation(
            nitro_attestation::NsmError::Device("InternalError".into()),
        ));
        assert_eq!(exit_status(&refused), EXIT_NO_NSM);
        assert_eq!(
            error_line(&refused),
            "enclave-app: error: NSM refused the start-up attestation request: \
             NSM returned error InternalError"
        );
        let other = anyhow::anyhow!("no certificates").context("reading CA roots /x");
        assert_eq!(exit_status(&other), EXIT_ERROR);
        assert_eq!(
            error_line(&other),
            "enclave-app: error: reading CA roots /x: no certificates"
        );
        assert_ne!(EXIT_NO_NSM, EXIT_ERROR);
    }

    #[cfg(feature = "danger-dev-nsm")]
    #[test]
    fn the_dev_nsm_reports_the_configured_pcrs() {
        let pcrs = r#", "dev_nsm_pcrs": {"PCR0": "0x"#.to_owned()
            + &"11".repeat(48)
            + r#"", "PCR1": ""#
            + &"22".repeat(48)
            + r#"", "PCR2": ""#
            + &"33".repeat(48)
            + r#""}"#;
        let nsm = open_nsm(&config(&pcrs)).unwrap();
        let status = Status::collect(nsm.as_ref(), 1).unwrap();
        assert_eq!(
            status.pcr_line(),
            format!(
                "PCR0 {} PCR1 {} PCR2 {}",
                "11".repeat(48),
                "22".repeat(48),
                "33".repeat(48)
            )
        );
        assert!(status.pcrs.iter().all(|p| p.locked));
    }

    #[cfg(not(feature = "danger-dev-nsm"))]
    #[test]
    fn the_image_build_has_no_dev_nsm() {
        let pcrs = r#", "dev_nsm_pcrs": {"PCR0": "00", "PCR1": "00", "PCR2": "00"}"#;
        let Err(err) = open_nsm(&config(pcrs)) else {
            panic!("the image's build opened a dev NSM");
        };
        assert_eq!(exit_status(&err), EXIT_ERROR);
    }
}
