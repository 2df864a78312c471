//! What the processes cost while the load runs: CPU time and peak RSS from `/proc/PID/stat`
//! and `/proc/PID/status`, and the engine's pending assignments from its `/status`, sampled
//! once a second.

use std::time::{Duration, Instant};

use crate::enclave;

/// CPU seconds (user + system) and peak resident memory of one process at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct ProcUse {
    /// User + system CPU seconds since it started.
    pub(crate) cpu_s: f64,
    /// Peak resident set (`VmHWM`), KiB.
    pub(crate) peak_rss_kib: u64,
}

/// utime and stime (fields 14 and 15, clock ticks) of a `/proc/PID/stat` line. The command
/// name (field 2) may hold spaces and parentheses: fields are counted after its last `)`.
pub(crate) fn parse_stat(line: &str) -> Option<(u64, u64)> {
    let rest = &line[line.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // After the name: state (3), ppid (4), … utime is field 14, the 12th from here.
    let utime = fields.nth(11)?.parse().ok()?;
    let stime = fields.next()?.parse().ok()?;
    Some((utime, stime))
}

/// `VmHWM` of a `/proc/PID/status` text, KiB.
pub(crate) fn parse_hwm(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// The one-minute load average (`/proc/loadavg`).
pub(crate) fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn ticks_per_second() -> f64 {
    match nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK) {
        Ok(Some(t)) if t > 0 => t as f64,
        _ => 100.0,
    }
}

/// A process's CPU and peak RSS now; `None` once it is gone.
pub(crate) fn proc_use(pid: u32) -> Option<ProcUse> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (utime, stime) = parse_stat(&stat)?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(ProcUse {
        cpu_s: (utime + stime) as f64 / ticks_per_second(),
        peak_rss_kib: parse_hwm(&status).unwrap_or(0),
    })
}

/// One sample of the run.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Sample {
    /// Seconds since sampling began.
    pub(crate) at_s: f64,
    pub(crate) engine: Option<ProcUse>,
    pub(crate) anvil: Option<ProcUse>,
    /// This program (the load generator and the prover it serves).
    pub(crate) load: Option<ProcUse>,
    /// The generator nodes, summed.
    pub(crate) generators: Option<ProcUse>,
    /// The engine's pending assignments and its synced block (`None`: `/status` did not answer).
    pub(crate) pending: Option<u64>,
    pub(crate) synced_block: Option<u64>,
}

/// Which processes to sample (a restarted one under its new id).
#[derive(Clone, Debug)]
pub(crate) struct Watched {
    pub(crate) engine: Option<u32>,
    pub(crate) anvil: Option<u32>,
    pub(crate) generators: Vec<u32>,
    /// The engine API's port (through the host proxy).
    pub(crate) api: u16,
}

fn sum(uses: impl Iterator<Item = Option<ProcUse>>) -> Option<ProcUse> {
    uses.flatten().fold(None, |acc: Option<ProcUse>, u| {
        let a = acc.unwrap_or_default();
        Some(ProcUse {
            cpu_s: a.cpu_s + u.cpu_s,
            peak_rss_kib: a.peak_rss_kib.max(u.peak_rss_kib),
        })
    })
}

/// Samples `watched` every second until `stop` resolves; returns the samples, timed from `started`.
pub(crate) async fn sample_until(
    watched: std::sync::Arc<std::sync::Mutex<Watched>>,
    started: Instant,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> Vec<Sample> {
    let mut samples = Vec::new();
    tokio::pin!(stop);
    loop {
        let watched = watched
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let api = watched.api;
        let status = tokio::task::spawn_blocking(move || enclave::status(api).ok())
            .await
            .ok()
            .flatten();
        let engine = &status.as_ref().map(|s| s["engine"].clone());
        samples.push(Sample {
            at_s: started.elapsed().as_secs_f64(),
            engine: watched.engine.and_then(proc_use),
            anvil: watched.anvil.and_then(proc_use),
            load: proc_use(std::process::id()),
            generators: sum(watched.generators.iter().map(|p| proc_use(*p))),
            pending: engine
                .as_ref()
                .and_then(|e| e["pending_assignments"].as_u64()),
            synced_block: engine.as_ref().and_then(|e| e["synced_block"].as_u64()),
        });
        tokio::select! {
            _ = &mut stop => break,
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
    samples
}

/// CPU seconds a process used between two samples and the share of one core that is, over
/// the wall time between them; `None` when either sample misses it.
pub(crate) fn cpu_between(
    a: &Sample,
    b: &Sample,
    pick: impl Fn(&Sample) -> Option<ProcUse>,
) -> Option<(f64, f64)> {
    let (x, y) = (pick(a)?, pick(b)?);
    let wall = b.at_s - a.at_s;
    let cpu = (y.cpu_s - x.cpu_s).max(0.0);
    (wall > 0.0).then(|| (cpu, cpu / wall * 100.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_count_from_the_last_parenthesis() {
        // A name with a space and a parenthesis; utime 1234, stime 56.
        let line = "4242 (enclave (app) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 56 0 0 20 0 9 0 777 1000 200";
        assert_eq!(parse_stat(line), Some((1234, 56)));
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (x) S 1"), None);
    }

    #[test]
    fn peak_rss_is_vm_hwm() {
        let status = "Name:\tanvil\nVmPeak:\t  900 kB\nVmHWM:\t   45678 kB\nVmRSS:\t 40000 kB\n";
        assert_eq!(parse_hwm(status), Some(45_678));
        assert_eq!(parse_hwm("Name: x\n"), None);
    }

    #[test]
    fn cpu_share_between_samples() {
        let at = |s: f64, cpu: f64| Sample {
            at_s: s,
            engine: Some(ProcUse {
                cpu_s: cpu,
                peak_rss_kib: 1,
            }),
            ..Sample::default()
        };
        let (cpu, pct) = cpu_between(&at(10.0, 3.0), &at(20.0, 8.0), |s| s.engine).unwrap();
        assert!((cpu - 5.0).abs() < 1e-9 && (pct - 50.0).abs() < 1e-9);
        assert!(cpu_between(&at(1.0, 0.0), &Sample::default(), |s| s.engine).is_none());
    }

    #[test]
    fn this_process_can_be_measured() {
        let me = proc_use(std::process::id()).unwrap();
        assert!(me.peak_rss_kib > 0);
        assert!(load_average().is_some_and(|l| l >= 0.0));
    }
}
