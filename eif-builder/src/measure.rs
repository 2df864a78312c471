//! The one-pass measuring pipeline shared by the writer, the reader and `extract`.
//!
//! The caller's thread reads each input once, in chunks from a bounded pool, and does the cheap
//! per-byte work itself (CRC, progress); every chunk is then shared with two hashing threads
//! and, when building, with an output thread that writes it (and keeps the output's CRC), so the
//! copy into the output file overlaps the reads and the hashing:
//!
//! * chain A: SHA-384 over kernel ‖ cmdline ‖ ramdisk 0 ‖ … (PCR0); its state is cloned at the end
//!   of ramdisk 0 (PCR1 is a prefix of PCR0's chain);
//! * chain B: SHA-384 over ramdisks 1.. (PCR2), plus per-section digests for the manifest
//!   (kernel and ramdisk 0 while chain B would otherwise idle; with exactly one application ramdisk
//!   its digest is the PCR2 chain's inner digest, so it costs nothing).
//!
//! Memory is bounded by `POOL × CHUNK` whatever the input size. A chunk's buffer goes back to the
//! pool when the last of its consumers drops it.

use std::io::Read;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use crate::error::Error;
use crate::hash::{Digest48, Pcr, Sha384, pcr_of_digest};

/// Bytes per chunk.
pub(crate) const CHUNK: usize = 1 << 20;
/// Chunks in flight at most.
const POOL: usize = 12;

/// Which measured section the following chunks belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Kernel,
    Cmdline,
    Ramdisk(usize),
}

/// What the two chains produce.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub(crate) pcr0: Pcr,
    pub(crate) pcr1: Pcr,
    pub(crate) pcr2: Pcr,
    pub(crate) kernel_sha384: Digest48,
    pub(crate) ramdisk_sha384: Vec<Digest48>,
}

/// A pooled buffer that returns home when the last consumer thread drops it.
struct Pooled {
    buf: Vec<u8>,
    len: usize,
    home: SyncSender<Vec<u8>>,
}

impl Pooled {
    fn data(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        // The pool receiver lives as long as the feeder; after it is gone nobody needs buffers.
        let _ = self.home.try_send(std::mem::take(&mut self.buf));
    }
}

enum Msg {
    Begin(Part),
    Data(Arc<Pooled>),
    End(Part),
}

/// What the output thread writes, in order.
enum Out {
    Data(Arc<Pooled>),
    Bytes(Vec<u8>),
}

/// The output thread's work on each piece.
type WriteFn<'a> = dyn FnMut(&[u8]) -> Result<(), Error> + Send + 'a;

/// Stands for the output thread's own error, which [`run_with_output`] returns instead.
fn output_stopped() -> Error {
    Error::io("writing", "output")(std::io::Error::other("the output thread stopped"))
}

/// The caller's handle: take a buffer, fill it, push it.
pub(crate) struct Feeder {
    a: SyncSender<Msg>,
    b: SyncSender<Msg>,
    out: Option<SyncSender<Out>>,
    pool_rx: Receiver<Vec<u8>>,
    pool_tx: SyncSender<Vec<u8>>,
    /// Buffers created so far (at most `POOL`).
    allocated: usize,
}

impl Feeder {
    /// A buffer of at least `want` bytes: a returned one, a new one while fewer than `POOL`
    /// exist (sized to the need, so small images stay cheap), else wait for one to come back.
    fn take_buffer(&mut self, want: usize) -> Vec<u8> {
        let mut buf = match self.pool_rx.try_recv() {
            Ok(b) => b,
            Err(_) if self.allocated < POOL => {
                self.allocated += 1;
                Vec::new()
            }
            // The feeder holds a sender, so the channel cannot be disconnected.
            Err(_) => self.pool_rx.recv().unwrap_or_default(),
        };
        if buf.len() < want {
            buf.resize(want, 0);
        }
        buf
    }

    fn send(&self, to_b_only: bool, msg: impl Fn() -> Msg) {
        // A send fails only if a hashing thread is gone, i.e. it panicked; the scope re-raises that.
        if !to_b_only {
            let _ = self.a.send(msg());
        }
        let _ = self.b.send(msg());
    }

    /// Start a measured section.
    pub(crate) fn begin(&mut self, part: Part) {
        self.send(true, || Msg::Begin(part));
    }

    /// End a measured section.
    pub(crate) fn end(&mut self, part: Part) {
        self.send(false, || Msg::End(part));
    }

    /// Hand unmeasured bytes (section headers, placeholders) to the output, in stream order.
    pub(crate) fn emit(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.to_output(|| Out::Bytes(bytes.to_vec()))
    }

    fn to_output(&self, msg: impl FnOnce() -> Out) -> Result<(), Error> {
        match &self.out {
            Some(out) => out.send(msg()).map_err(|_| output_stopped()),
            None => Ok(()),
        }
    }

    /// Measure `len` bytes read from `src` as the data of the current section, and pass them on
    /// to the output if there is one. `sink` sees each chunk first (CRC, progress). Fails with
    /// `short()` if `src` ends early.
    pub(crate) fn feed(
        &mut self,
        src: &mut dyn Read,
        len: u64,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), Error>,
        read_err: &dyn Fn(std::io::Error) -> Error,
        short: &dyn Fn() -> Error,
    ) -> Result<(), Error> {
        let mut left = len;
        while left > 0 {
            let want = usize::try_from(left).map_or(CHUNK, |l| l.min(CHUNK));
            let mut buf = self.take_buffer(want);
            let mut got = 0;
            while got < want {
                match src.read(&mut buf[got..want]) {
                    Ok(0) => return Err(short()),
                    Ok(n) => got += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(read_err(e)),
                }
            }
            sink(&buf[..got])?;
            left -= got as u64;
            let chunk = Arc::new(Pooled {
                buf,
                len: got,
                home: self.pool_tx.clone(),
            });
            self.to_output(|| Out::Data(Arc::clone(&chunk)))?;
            let _ = self.a.send(Msg::Data(Arc::clone(&chunk)));
            let _ = self.b.send(Msg::Data(chunk));
        }
        Ok(())
    }
}

/// The output thread: `write` each piece until the stream ends or `write` fails (then its
/// receiver drops, and the feeder's next send fails with [`output_stopped`]).
fn output(rx: Receiver<Out>, write: &mut WriteFn<'_>) -> Result<(), Error> {
    for msg in rx {
        match msg {
            Out::Data(c) => write(c.data())?,
            Out::Bytes(b) => write(&b)?,
        }
    }
    Ok(())
}

fn chain_a(rx: Receiver<Msg>) -> (Digest48, Option<Digest48>) {
    let mut h = Sha384::new();
    let mut prefix = None;
    for msg in rx {
        match msg {
            Msg::Data(c) => h.update(c.data()),
            Msg::End(Part::Ramdisk(0)) => prefix = Some(h.clone().finish()),
            Msg::Begin(_) | Msg::End(_) => {}
        }
    }
    (h.finish(), prefix)
}

fn chain_b(rx: Receiver<Msg>, app_ramdisks: usize) -> (Digest48, Digest48, Vec<Digest48>) {
    let mut pcr2 = Sha384::new();
    let mut section: Option<Sha384> = None;
    let mut in_app = false;
    let mut kernel = [0u8; 48];
    let mut ramdisks = Vec::new();
    for msg in rx {
        match msg {
            Msg::Begin(part) => {
                in_app = matches!(part, Part::Ramdisk(i) if i > 0);
                section = match part {
                    Part::Kernel | Part::Ramdisk(0) => Some(Sha384::new()),
                    Part::Ramdisk(_) if app_ramdisks > 1 => Some(Sha384::new()),
                    Part::Ramdisk(_) | Part::Cmdline => None,
                };
            }
            Msg::Data(c) => {
                if in_app {
                    pcr2.update(c.data());
                }
                if let Some(s) = section.as_mut() {
                    s.update(c.data());
                }
            }
            Msg::End(part) => {
                let digest = match section.take() {
                    Some(s) => s.finish(),
                    // The only application ramdisk: its digest is the PCR2 chain's so far.
                    None => pcr2.clone().finish(),
                };
                match part {
                    Part::Kernel => kernel = digest,
                    Part::Ramdisk(_) => ramdisks.push(digest),
                    Part::Cmdline => {}
                }
                in_app = false;
            }
        }
    }
    (pcr2.finish(), kernel, ramdisks)
}

/// Run `body` with a [`Feeder`] while two threads hash what it pushes.
/// `ramdisks` is the total number of ramdisk sections that will be fed.
pub(crate) fn run<R>(
    ramdisks: usize,
    body: impl FnOnce(&mut Feeder) -> Result<R, Error>,
) -> Result<(Outcome, R), Error> {
    run_inner(ramdisks, None, body)
}

/// [`run`], and a third thread calls `write` with every byte fed or emitted, in order. An error
/// from `write` stops the feeding and is returned (before any error of `body`'s).
pub(crate) fn run_with_output<R>(
    ramdisks: usize,
    mut write: impl FnMut(&[u8]) -> Result<(), Error> + Send,
    body: impl FnOnce(&mut Feeder) -> Result<R, Error>,
) -> Result<(Outcome, R), Error> {
    run_inner(ramdisks, Some(&mut write), body)
}

fn run_inner<R>(
    ramdisks: usize,
    write: Option<&mut WriteFn<'_>>,
    body: impl FnOnce(&mut Feeder) -> Result<R, Error>,
) -> Result<(Outcome, R), Error> {
    let app = ramdisks.saturating_sub(1);
    std::thread::scope(|s| {
        let (a_tx, a_rx) = sync_channel(POOL);
        let (b_tx, b_rx) = sync_channel(POOL);
        let (pool_tx, pool_rx) = sync_channel(POOL);
        let ha = s.spawn(move || chain_a(a_rx));
        let hb = s.spawn(move || chain_b(b_rx, app));
        let (out, hw) = match write {
            Some(write) => {
                let (tx, rx) = sync_channel(POOL);
                (Some(tx), Some(s.spawn(move || output(rx, write))))
            }
            None => (None, None),
        };
        let mut feeder = Feeder {
            a: a_tx,
            b: b_tx,
            out,
            pool_rx,
            pool_tx,
            allocated: 0,
        };
        let result = body(&mut feeder);
        drop(feeder);
        let (pcr0_inner, pcr1_inner) = join(ha);
        let (pcr2_inner, kernel_sha384, ramdisk_sha384) = join(hb);
        hw.map(join).transpose()?;
        let r = result?;
        Ok((
            Outcome {
                pcr0: pcr_of_digest(&pcr0_inner),
                pcr1: pcr_of_digest(&pcr1_inner.unwrap_or(pcr0_inner)),
                pcr2: pcr_of_digest(&pcr2_inner),
                kernel_sha384,
                ramdisk_sha384,
            },
            r,
        ))
    })
}

fn join<T>(h: std::thread::ScopedJoinHandle<'_, T>) -> T {
    match h.join() {
        Ok(v) => v,
        // The threads report failures by value; a panic is a bug: re-raise it unchanged.
        Err(p) => std::panic::resume_unwind(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::sha384;

    fn feed_from(f: &mut Feeder, part: Part, src: &mut dyn Read, len: u64) -> Result<(), Error> {
        f.begin(part);
        f.feed(
            src,
            len,
            &mut |_| Ok(()),
            &|e| Error::io("reading", "mem")(e),
            &|| crate::error::InvalidEif::Changed.into(),
        )?;
        f.end(part);
        Ok(())
    }

    fn feed_all(f: &mut Feeder, part: Part, data: &[u8]) -> Result<(), Error> {
        feed_from(f, part, &mut &data[..], data.len() as u64)
    }

    #[test]
    fn chains_match_one_shot_definitions() {
        let kernel = vec![1u8; 3 * CHUNK + 5];
        let cmdline = b"console=ttyS0".to_vec();
        let rds: Vec<Vec<u8>> = vec![vec![2u8; 10], vec![3u8; CHUNK], vec![], vec![4u8; 7]];
        for n in 1..=rds.len() {
            let (out, ()) = run(n, |f| {
                feed_all(f, Part::Kernel, &kernel)?;
                feed_all(f, Part::Cmdline, &cmdline)?;
                for (i, r) in rds[..n].iter().enumerate() {
                    feed_all(f, Part::Ramdisk(i), r)?;
                }
                Ok(())
            })
            .unwrap();
            let all: Vec<u8> = [kernel.clone(), cmdline.clone()]
                .into_iter()
                .chain(rds[..n].iter().cloned())
                .flatten()
                .collect();
            let boot: Vec<u8> = [kernel.clone(), cmdline.clone(), rds[0].clone()].concat();
            let app: Vec<u8> = rds[1..n].concat();
            assert_eq!(out.pcr0, crate::hash::pcr_of(&all), "n={n}");
            assert_eq!(out.pcr1, crate::hash::pcr_of(&boot), "n={n}");
            assert_eq!(out.pcr2, crate::hash::pcr_of(&app), "n={n}");
            assert_eq!(out.kernel_sha384, sha384(&kernel));
            let want: Vec<_> = rds[..n].iter().map(|r| sha384(r)).collect();
            assert_eq!(out.ramdisk_sha384, want, "n={n}");
        }
    }

    #[test]
    fn short_source_is_an_error_not_a_hang() {
        let r = run(1, |f| feed_from(f, Part::Kernel, &mut &b"abc"[..], 10));
        assert!(matches!(
            r,
            Err(Error::InvalidEif(crate::error::InvalidEif::Changed))
        ));
    }

    #[test]
    fn output_gets_every_byte_in_order_and_hashes_are_unchanged() {
        let kernel: Vec<u8> = (0..3 * CHUNK + 17).map(|i| (i % 251) as u8).collect();
        let ramdisk = vec![9u8; CHUNK + 1];
        let mut written = Vec::new();
        let (out, ()) = run_with_output(
            1,
            |b: &[u8]| {
                written.extend_from_slice(b);
                Ok(())
            },
            |f| {
                f.emit(b"head")?;
                feed_all(f, Part::Kernel, &kernel)?;
                f.emit(b"")?;
                f.emit(b"mid")?;
                feed_all(f, Part::Ramdisk(0), &ramdisk)
            },
        )
        .unwrap();
        let want = [&b"head"[..], &kernel, b"mid", &ramdisk].concat();
        assert_eq!(written.len(), want.len());
        assert!(written == want, "output stream differs from what was fed");
        assert_eq!(
            out.pcr0,
            crate::hash::pcr_of(&[&kernel[..], &ramdisk].concat())
        );
        assert_eq!(out.kernel_sha384, sha384(&kernel));
    }

    #[test]
    fn output_error_stops_the_feed_and_is_returned() {
        /// Counts what is read, so the test can see the feed stopped early.
        struct Counting<'a>(&'a [u8], usize);
        impl Read for Counting<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.read(buf)?;
                self.1 += n;
                Ok(n)
            }
        }
        let data = vec![1u8; 64 * CHUNK];
        let mut src = Counting(&data, 0);
        let mut calls = 0;
        let r = run_with_output(
            1,
            |_: &[u8]| {
                calls += 1;
                if calls == 2 {
                    Err(Error::io("writing", "out")(std::io::Error::other(
                        "disk full",
                    )))
                } else {
                    Ok(())
                }
            },
            |f| feed_from(f, Part::Kernel, &mut src, data.len() as u64),
        );
        match r {
            Err(Error::Io { path, source, .. }) => {
                assert_eq!(path, std::path::Path::new("out"));
                assert_eq!(source.to_string(), "disk full");
            }
            other => panic!("expected the output's error, got {other:?}"),
        }
        // Stopped within a pool's worth of chunks of the failure, not after reading everything.
        assert!(src.1 <= (2 * POOL + 4) * CHUNK, "read {} bytes", src.1);
    }
}
