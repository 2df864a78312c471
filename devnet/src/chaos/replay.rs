//! The engine's state against a fresh replay of the chain: a second enclave app, started after
//! the load from the marketplace's deployment block straight on anvil (no proxy, no fault box,
//! a key nobody registered, so it only reads), and the two `/status` digests compared at one
//! block.

use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::procs::Procs;

/// How long the fresh engine may take to catch up with the running one.
const CATCH_UP: Duration = Duration::from_secs(300);

/// The fresh engine's configuration: the running engine's, reading `rpc` directly, listening
/// on sockets of its own.
#[must_use]
pub(crate) fn fresh_config(running: &Value, rpc: &str, run: &Path) -> Value {
    let mut config = running.clone();
    config["status_listen"] =
        Value::from(format!("unix:{}", run.join("replay-status.sock").display()));
    config["engine"]["http_listen"] =
        Value::from(format!("unix:{}", run.join("replay-api.sock").display()));
    config["engine"]["rpc"] = json!({ "url": rpc });
    config
}

/// `/status` of the app listening on `socket`.
fn status_at(socket: &Path) -> Option<Value> {
    let stream = UnixStream::connect(socket).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    match testkit::http::get(stream, "/status") {
        Ok((200, body)) => serde_json::from_slice(&body).ok(),
        _ => None,
    }
}

/// `engine.state` of a status: (block, digest).
fn state(status: &Value) -> Option<(u64, String)> {
    let s = &status["engine"]["state"];
    Some((s["block"].as_u64()?, s["digest"].as_str()?.to_owned()))
}

/// The two engines' digests at the first block both report, as JSON (`equal` says whether they
/// agree), with the first read of the running engine and the fresh one's counters.
fn compare(
    mut running: impl FnMut() -> Option<Value>,
    fresh: impl Fn() -> Option<Value>,
) -> Option<Value> {
    let a = running().as_ref().and_then(state)?;
    let fresh_status = fresh()?;
    let b = state(&fresh_status)?;
    let again = running().as_ref().and_then(state)?;
    // Both reads of the running engine at the fresh one's block: the three describe one block.
    (a.0 == b.0 && again.0 == b.0).then(|| {
        json!({
            "block": b.0,
            "running": again.1,
            "replay": b.1,
            "equal": again.1 == b.1,
            "replay_rebuilds": fresh_status["engine"]["rebuilds"],
            "replay_decode_errors": fresh_status["engine"]["decode_errors"],
        })
    })
}

/// Starts the fresh engine (stopped with `procs`), waits until it reports the block the running
/// one reports (read with `running`), and compares their digests there.
///
/// # Errors
/// When the fresh engine does not start, or the two never report one block within
/// [`CATCH_UP`].
pub(crate) async fn against_fresh_replay(
    procs: &mut Procs,
    app_bin: &Path,
    config: &Value,
    run: &Path,
    running: impl Fn() -> Option<Value>,
) -> Result<Value> {
    let path = run.join("replay.json");
    std::fs::write(&path, config.to_string()).map_err(|e| Error::file(&path, e))?;
    let mut cmd = Command::new(app_bin);
    cmd.arg("--config").arg(&path);
    // A relayer nobody funded; its engine key is not registered either, so it never sends.
    cmd.env(
        "ENCLAVE_APP_RELAYER_KEY",
        alloy::signers::local::PrivateKeySigner::random()
            .to_bytes()
            .to_string(),
    );
    procs.spawn("replay", cmd, run)?;
    let socket = run.join("replay-api.sock");
    let started = Instant::now();
    loop {
        if let Some(found) = compare(&running, || status_at(&socket)) {
            return Ok(found);
        }
        if started.elapsed() > CATCH_UP {
            return Err(Error::Timeout {
                what: "the fresh engine and the running one at one block".into(),
                secs: CATCH_UP.as_secs(),
                hint: " (see replay.log)".into(),
            });
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(block: u64, digest: &str) -> Option<Value> {
        Some(
            json!({"engine": {"state": {"block": block, "digest": digest}, "rebuilds": 0, "decode_errors": 0}}),
        )
    }

    #[test]
    fn digests_are_compared_only_at_one_block() {
        // The running engine moves on between its two reads: no comparison.
        let mut reads = vec![at(11, "0xb"), at(10, "0xa")];
        assert_eq!(compare(|| reads.pop().flatten(), || at(10, "0xa")), None);
        // Both at block 10: equal or not.
        let same = compare(|| at(10, "0xa"), || at(10, "0xa")).unwrap();
        assert_eq!(
            (same["block"].as_u64(), same["equal"].as_bool()),
            (Some(10), Some(true))
        );
        let differ = compare(|| at(10, "0xa"), || at(10, "0xc")).unwrap();
        assert_eq!(differ["equal"], false);
        assert_eq!(
            (differ["running"].as_str(), differ["replay"].as_str()),
            (Some("0xa"), Some("0xc"))
        );
        // A fresh engine behind, or not answering yet.
        assert_eq!(compare(|| at(10, "0xa"), || at(4, "0xd")), None);
        assert_eq!(compare(|| at(10, "0xa"), || None), None);
    }

    #[test]
    fn the_fresh_engine_reads_the_chain_directly_on_its_own_sockets() {
        let running = json!({
            "status_listen": "unix:/r/status.sock",
            "dev_nsm_pcrs": {"PCR0": "11"},
            "engine": {"http_listen": "unix:/r/engine-api.sock", "start_block": 7,
                "rpc": {"url": "http://127.0.0.1:1"}},
        });
        let fresh = fresh_config(&running, "http://127.0.0.1:8545", Path::new("/r"));
        assert_eq!(
            fresh["engine"]["rpc"],
            json!({"url": "http://127.0.0.1:8545"})
        );
        assert_eq!(fresh["engine"]["http_listen"], "unix:/r/replay-api.sock");
        assert_eq!(fresh["status_listen"], "unix:/r/replay-status.sock");
        assert_eq!(fresh["engine"]["start_block"], 7);
        assert_eq!(fresh["dev_nsm_pcrs"], running["dev_nsm_pcrs"]);
    }
}
