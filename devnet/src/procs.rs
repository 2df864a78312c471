//! Every process the devnet starts, stopped on every exit path: [`Procs`] owns them and its
//! `Drop` stops them in reverse order (SIGTERM, up to 5 s, then SIGKILL), so a failed step, a
//! returned error or a signal (the run's future is dropped) all end the same way. Children get a
//! process group of their own: a Ctrl-C at the terminal reaches the devnet, which stops them.

use std::fs::File;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::error::{Error, Result};

/// How long a process may take to exit after SIGTERM.
const STOP_GRACE: Duration = Duration::from_secs(5);

enum Kind {
    Anvil(testkit::Anvil),
    Child(Child),
}

struct Entry {
    name: String,
    kind: Kind,
}

impl Entry {
    fn pid(&self) -> u32 {
        match &self.kind {
            Kind::Anvil(a) => a.pid(),
            Kind::Child(c) => c.id(),
        }
    }

    fn running(&mut self) -> bool {
        match &mut self.kind {
            Kind::Anvil(a) => a.is_running(),
            Kind::Child(c) => matches!(c.try_wait(), Ok(None)),
        }
    }
}

/// A chain started by [`Procs::anvil`].
#[derive(Clone, Debug)]
pub(crate) struct ChainNode {
    /// `http://127.0.0.1:PORT`.
    pub(crate) url: String,
    /// Its port.
    pub(crate) port: u16,
    /// Its chain id.
    pub(crate) chain_id: u64,
}

/// The processes of one run.
#[derive(Default)]
pub(crate) struct Procs {
    entries: Vec<Entry>,
}

impl std::fmt::Debug for Procs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.entries.iter().map(|e| e.name.as_str()).collect();
        f.debug_struct("Procs").field("names", &names).finish()
    }
}

fn log_line(name: &str, pid: u32, log: &Path, run: &Path) {
    let shown = log.strip_prefix(run.parent().unwrap_or(run)).unwrap_or(log);
    eprintln!("      started {name} (pid {pid}, log {})", shown.display());
}

impl Procs {
    /// Starts an anvil logging to `RUN/NAME.log`, on `port` when given (else a free one).
    pub(crate) fn anvil(
        &mut self,
        name: &str,
        chain_id: u64,
        port: Option<u16>,
        extra: &[&str],
        run: &Path,
    ) -> Result<ChainNode> {
        let log = run.join(format!("{name}.log"));
        let anvil = match port {
            Some(port) => testkit::Anvil::launch_on(port, chain_id, extra, Some(&log))?,
            None => testkit::Anvil::launch(chain_id, extra, Some(&log))?,
        };
        log_line(name, anvil.pid(), &log, run);
        let node = ChainNode {
            url: anvil.url.clone(),
            port: anvil.port,
            chain_id,
        };
        self.entries.push(Entry {
            name: name.into(),
            kind: Kind::Anvil(anvil),
        });
        Ok(node)
    }

    /// Starts `cmd` with its output in `RUN/NAME.log`.
    pub(crate) fn spawn(&mut self, name: &str, mut cmd: Command, run: &Path) -> Result<()> {
        let log = run.join(format!("{name}.log"));
        let file = File::create(&log).map_err(|e| Error::file(&log, e))?;
        let err = file.try_clone().map_err(|e| Error::file(&log, e))?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err)
            .process_group(0)
            .spawn()
            .map_err(|source| Error::Process {
                what: format!("starting {name}"),
                source,
            })?;
        log_line(name, child.id(), &log, run);
        self.entries.push(Entry {
            name: name.into(),
            kind: Kind::Child(child),
        });
        Ok(())
    }

    /// Whether process `name` is still running (false if unknown).
    pub(crate) fn running(&mut self, name: &str) -> bool {
        self.entries
            .iter_mut()
            .rev()
            .find(|e| e.name == name)
            .is_some_and(Entry::running)
    }

    /// The pid of process `name` (the latest started under that name), if it is known.
    pub(crate) fn pid(&self, name: &str) -> Option<u32> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.name == name)
            .map(Entry::pid)
    }

    /// Stops process `name` now (SIGTERM, then SIGKILL) and forgets it; returns its pid.
    pub(crate) fn stop(&mut self, name: &str) -> Option<u32> {
        let i = self.entries.iter().rposition(|e| e.name == name)?;
        let entry = self.entries.remove(i);
        let pid = entry.pid();
        stop(entry, true);
        Some(pid)
    }
}

/// Sends SIGTERM, waits up to [`STOP_GRACE`], then SIGKILL; reports what happened unless quiet.
fn stop(mut entry: Entry, quiet: bool) {
    let pid = entry.pid();
    if !entry.running() {
        if !quiet {
            eprintln!("      {} (pid {pid}) had already ended", entry.name);
        }
        return; // dropping reaps it
    }
    if let Ok(raw) = i32::try_from(pid) {
        let _ = kill(Pid::from_raw(raw), Signal::SIGTERM);
    }
    let deadline = Instant::now() + STOP_GRACE;
    while entry.running() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    match &mut entry.kind {
        Kind::Anvil(_) => {} // its Drop kills and reaps it
        Kind::Child(c) => {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
    if !quiet {
        eprintln!("      stopped {} (pid {pid})", entry.name);
    }
}

impl Drop for Procs {
    fn drop(&mut self) {
        while let Some(entry) = self.entries.pop() {
            stop(entry, false);
        }
    }
}

/// Polls `probe` every 200 ms until it answers `Some`, for at most `secs` seconds.
pub(crate) async fn wait_for<T, F, Fut>(
    secs: u64,
    what: &str,
    hint: &str,
    mut probe: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = probe().await {
            eprintln!("      {what} ready");
            return Ok(v);
        }
        if Instant::now() >= deadline {
            return Err(Error::Timeout {
                what: what.into(),
                secs,
                hint: hint.into(),
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_run_stops_its_processes() {
        let run = tempfile_dir();
        let mut procs = Procs::default();
        let mut cmd = Command::new("sleep");
        cmd.arg("60");
        procs.spawn("sleeper", cmd, &run).unwrap();
        let pid = procs.entries[0].pid();
        assert!(procs.running("sleeper"));
        drop(procs);
        // Reaped by the drop: the pid no longer names our child.
        let alive = kill(Pid::from_raw(i32::try_from(pid).unwrap()), None).is_ok();
        assert!(!alive, "pid {pid} still running");
        std::fs::remove_dir_all(&run).unwrap();
    }

    #[tokio::test]
    async fn wait_for_names_what_timed_out() {
        let err = wait_for(0, "nothing", " (see x.log)", || async { None::<()> })
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "nothing did not happen within 0 s (see x.log)"
        );
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("devnet-procs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
