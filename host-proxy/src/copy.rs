//! The bidirectional copy at the heart of every connection.
//!
//! Each direction is copied independently: EOF from one side shuts down the write
//! half of the other (half-close), and the connection ends when both directions
//! have finished or either side fails. Backpressure is the sockets' own: a
//! direction reads again only once its buffer has been written out, so a slow
//! reader stalls its writer instead of growing memory. Memory per connection is
//! bounded by two buffers of at most `buffer_size` (they start at 4 KiB, grow
//! only while reads fill them, and shrink back while the connection waits after
//! small messages; the idle timeout closes a connection that waits too long), or
//! two pipes when zero-copy is used.
//!
//! Deadlines ([`Timeouts`]) are measured per direction from the last byte it moved: the
//! client's first byte, no byte either way, a direction whose reader takes nothing, and the
//! remaining direction once the other has ended (half-close).
//!
//! With zero-copy on (the route's `zero_copy`, off by default) and both sides TCP
//! or Unix sockets, a direction that is streaming (its reads fill a 64 KiB buffer)
//! switches to splice(2) through a pipe, so bulk bytes never enter user space; it
//! switches back when chunks get small again, because for small messages splice
//! costs more latency than a plain read and write.

use std::future::Future;
use std::io;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::task::{Context, Poll, Waker, ready};
use std::time::Duration;

use nix::fcntl::{OFlag, SpliceFFlags, splice};
use prometheus_client::metrics::counter::Counter;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::time::{Instant, Sleep};

use crate::busy_poll::BusyPoll;
use crate::error::TransferError;
use crate::timers::Timers;
use crate::transport::Stream;

/// Buffers start (and stay, while idle) this small; most RPC messages fit.
const INITIAL_BUFFER: usize = 4 << 10;
/// The pipe capacity asked for (splice(2) moves up to the room left). Pipes exist
/// only while a direction is splicing bulk data, so capacity costs no idle memory;
/// past the per-user pipe budget the kernel keeps its default size (only slower).
const PIPE_CAPACITY: usize = 1 << 20;
/// A direction whose last read brought at least this many bytes is streaming: it keeps
/// its grown buffer while it waits for more.
const KEEP_GROWN_ABOVE: usize = 64 << 10;
/// A full buffered read of at least this many bytes switches a direction to splice.
const SPLICE_ABOVE: usize = 64 << 10;
/// A spliced chunk smaller than this switches a direction back to buffered copying.
const BUFFER_BELOW: usize = 16 << 10;

/// Bytes moved by one connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Transferred {
    /// Client to upstream.
    pub to_upstream: u64,
    /// Upstream to client.
    pub to_client: u64,
}

/// Which stream of a direction failed.
enum Fault {
    Src(io::Error),
    Dst(io::Error),
}

/// Which way a direction copies.
#[derive(Clone, Copy)]
enum Way {
    ToUpstream,
    ToClient,
}

impl Fault {
    /// Names the side that failed: the source of the upstream-bound direction is
    /// the client, the source of the client-bound direction is the upstream.
    fn into_error(self, way: Way) -> TransferError {
        match (self, way) {
            (Fault::Src(e), Way::ToUpstream) | (Fault::Dst(e), Way::ToClient) => {
                TransferError::Client(e)
            }
            (Fault::Dst(e), Way::ToUpstream) | (Fault::Src(e), Way::ToClient) => {
                TransferError::Upstream(e)
            }
        }
    }
}

/// The deadlines of one connection (each measured from the last byte that moved).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    /// No byte either way, or a direction holding bytes its reader does not take.
    pub(crate) idle: Duration,
    /// The client's first byte.
    pub(crate) first_byte: Duration,
    /// The remaining direction once the other has ended.
    pub(crate) half_close: Duration,
}

/// How a route copies: its buffer size, whether it may splice, and its deadlines.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CopyOptions {
    /// The most a direction's buffer grows to.
    pub(crate) buffer_size: usize,
    /// Splice bulk data when both streams allow it.
    pub(crate) zero_copy: bool,
    pub(crate) timeouts: Timeouts,
}

/// Names of the directions, in `Transfer`'s order, for errors.
const WAYS: [(Way, &str); 2] = [
    (Way::ToUpstream, "to_upstream"),
    (Way::ToClient, "to_client"),
];

/// Copies both ways between `client` and `upstream` until both directions reach
/// EOF, either side fails, or a deadline of [`Timeouts`] passes.
///
/// Time is read only when a poll moved bytes, and one timer per connection is re-armed only
/// when it fires (to the earliest deadline then pending), never per message. The timer is
/// polled (which registers the task's waker with it) only when it has fired or the task's
/// waker changed: on other wake-ups the waker it holds is still the one to wake.
pub(crate) struct Transfer<'a> {
    client: &'a mut Stream,
    upstream: &'a mut Stream,
    dirs: [Direction; 2],
    done: [bool; 2],
    counters: [&'a Counter; 2],
    busy_poll: &'a BusyPoll,
    moved: Transferred,
    timeouts: Timeouts,
    started: Instant,
    /// When each direction last read or wrote a byte.
    last: [Instant; 2],
    /// When the first direction ended.
    half_closed_at: Option<Instant>,
    timer: Pin<Box<Sleep>>,
    /// The waker the timer was last polled with.
    timer_waker: Option<Waker>,
}

impl<'a> Transfer<'a> {
    pub(crate) fn new(
        client: &'a mut Stream,
        upstream: &'a mut Stream,
        options: CopyOptions,
        timers: &Timers,
        busy_poll: &'a BusyPoll,
        counters: [&'a Counter; 2],
    ) -> Self {
        let CopyOptions {
            buffer_size,
            zero_copy,
            timeouts,
        } = options;
        let splice = zero_copy && client.spliceable() && upstream.spliceable();
        let now = Instant::now();
        Transfer {
            client,
            upstream,
            dirs: [
                Direction::new(splice, buffer_size),
                Direction::new(splice, buffer_size),
            ],
            done: [false; 2],
            counters,
            busy_poll,
            moved: Transferred::default(),
            timeouts,
            started: now,
            last: [now; 2],
            half_closed_at: None,
            timer: Box::pin(timers.sleep_until(now + timeouts.first_byte.min(timeouts.idle))),
            timer_waker: None,
        }
    }

    /// Bytes moved so far.
    pub(crate) fn moved(&self) -> Transferred {
        self.moved
    }

    /// The earliest pending deadline, and the error it ends the transfer with.
    fn next_deadline(&self) -> (Instant, TransferError) {
        let t = self.timeouts;
        let mut next = match self.done {
            [false, false] => (
                self.last[0].max(self.last[1]) + t.idle,
                TransferError::Idle(t.idle),
            ),
            [up_done, _] => {
                let open = usize::from(up_done);
                let since = self
                    .half_closed_at
                    .map_or(self.last[open], |h| h.max(self.last[open]));
                (
                    since + t.half_close,
                    TransferError::HalfClosed(t.half_close),
                )
            }
        };
        let mut consider = |at: Instant, err: TransferError| {
            if at < next.0 {
                next = (at, err);
            }
        };
        if !self.done[0] && self.dirs[0].read == 0 {
            consider(
                self.started + t.first_byte,
                TransferError::FirstByte(t.first_byte),
            );
        }
        let written = [self.moved.to_upstream, self.moved.to_client];
        for (i, (_, name)) in WAYS.iter().enumerate() {
            if !self.done[i] && self.dirs[i].read > written[i] {
                consider(self.last[i] + t.idle, TransferError::Stalled(name, t.idle));
            }
        }
        next
    }
}

impl Future for Transfer<'_> {
    type Output = Result<Transferred, TransferError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let activity = |t: &Transfer<'_>| {
            [
                t.dirs[0].read + t.moved.to_upstream,
                t.dirs[1].read + t.moved.to_client,
            ]
        };
        let before = activity(this);
        let was_done = this.done;
        for (i, (way, _)) in WAYS.into_iter().enumerate() {
            if this.done[i] {
                continue;
            }
            let (src, dst, total) = match way {
                Way::ToUpstream => (
                    &mut *this.client,
                    &mut *this.upstream,
                    &mut this.moved.to_upstream,
                ),
                Way::ToClient => (
                    &mut *this.upstream,
                    &mut *this.client,
                    &mut this.moved.to_client,
                ),
            };
            match this.dirs[i].poll(cx, src, dst, this.counters[i], total) {
                Poll::Ready(Ok(())) => this.done[i] = true,
                Poll::Ready(Err(fault)) => return Poll::Ready(Err(fault.into_error(way))),
                Poll::Pending => {}
            }
        }
        if this.done == [true, true] {
            return Poll::Ready(Ok(this.moved));
        }
        let after = activity(this);
        if after != before || this.done != was_done {
            this.busy_poll.moved();
            let now = Instant::now();
            for i in 0..2 {
                if after[i] != before[i] {
                    this.last[i] = now;
                }
            }
            let half_closed = this.done != was_done;
            if half_closed {
                this.half_closed_at = Some(now);
            }
            // Twice per connection at most, never per message: the half-close deadline may be
            // nearer than the armed one, and after the first byte the armed first-byte
            // deadline would only wake the connection for nothing.
            if half_closed || (before[0] == 0 && after[0] > 0) {
                let (deadline, _) = this.next_deadline();
                this.timer.as_mut().reset(deadline);
            }
        }
        let registered = this
            .timer_waker
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()));
        if registered && !this.timer.is_elapsed() {
            return Poll::Pending;
        }
        // The timer is only re-armed when it fires, not on every byte.
        while this.timer.as_mut().poll(cx).is_ready() {
            let (deadline, err) = this.next_deadline();
            if deadline <= Instant::now() {
                return Poll::Ready(Err(err));
            }
            this.timer.as_mut().reset(deadline);
        }
        if !registered {
            this.timer_waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// One direction: buffered copying, switching to splice while bulk data flows
/// (only if both streams support it and the route allows it).
struct Direction {
    buffered: Buffered,
    spliced: Option<Spliced>,
    splicing: bool,
    /// Bytes read from the source (more than were written while some wait for the reader).
    read: u64,
}

/// What a copy mode reports when it returns without error.
enum Step {
    /// EOF was forwarded (the destination's write half is shut down).
    Done,
    /// The mode's buffer is empty and the other mode suits the traffic better.
    Switch,
}

impl Direction {
    fn new(splice: bool, max: usize) -> Self {
        Direction {
            buffered: Buffered {
                buf: Vec::new(),
                size: INITIAL_BUFFER.min(max),
                max,
                pos: 0,
                cap: 0,
                read_done: false,
                may_switch: splice,
            },
            spliced: splice.then(|| Spliced {
                pipe: None,
                capacity: 0,
                in_pipe: 0,
                read_stalled: false,
                last_chunk: 0,
                read_done: false,
            }),
            splicing: false,
            read: 0,
        }
    }

    fn poll(
        &mut self,
        cx: &mut Context<'_>,
        src: &mut Stream,
        dst: &mut Stream,
        counter: &Counter,
        total: &mut u64,
    ) -> Poll<Result<(), Fault>> {
        loop {
            let step = match (&mut self.spliced, self.splicing) {
                (Some(s), true) => ready!(s.poll(cx, src, dst, counter, total, &mut self.read))?,
                _ => ready!(
                    self.buffered
                        .poll(cx, src, dst, counter, total, &mut self.read)
                )?,
            };
            match step {
                Step::Done => return Poll::Ready(Ok(())),
                Step::Switch => self.splicing = !self.splicing && self.spliced.is_some(),
            }
        }
    }
}

struct Buffered {
    /// Empty while the direction waits for data, so idle connections hold no buffer.
    buf: Vec<u8>,
    /// The size the next buffer gets (grows while reads fill it, up to `max`).
    size: usize,
    max: usize,
    pos: usize,
    cap: usize,
    read_done: bool,
    /// Splicing is possible for this direction.
    may_switch: bool,
}

impl Buffered {
    fn poll(
        &mut self,
        cx: &mut Context<'_>,
        src: &mut Stream,
        dst: &mut Stream,
        counter: &Counter,
        total: &mut u64,
        read_total: &mut u64,
    ) -> Poll<Result<Step, Fault>> {
        loop {
            if self.pos == self.cap && !self.read_done {
                if self.may_switch && self.cap >= SPLICE_ABOVE && self.cap == self.buf.len() {
                    self.cap = 0;
                    self.pos = 0;
                    self.buf = Vec::new();
                    return Poll::Ready(Ok(Step::Switch));
                }
                if self.buf.len() != self.size {
                    self.buf = vec![0; self.size];
                }
                let mut rb = ReadBuf::new(&mut self.buf);
                let read = Pin::new(&mut *src).poll_read(cx, &mut rb);
                let Poll::Ready(read) = read else {
                    // Nothing to forward. A stream in flow keeps its grown buffer when
                    // the proxy catches up with the sender (regrowing from 4 KiB each
                    // time would cost a dozen small reads); after a read of small
                    // messages the buffer goes back, so a waiting connection holds
                    // the initial 4 KiB per direction.
                    if self.cap < KEEP_GROWN_ABOVE && self.buf.len() > INITIAL_BUFFER {
                        self.buf = Vec::new();
                        self.size = INITIAL_BUFFER.min(self.max);
                    }
                    return Poll::Pending;
                };
                read.map_err(Fault::Src)?;
                let n = rb.filled().len();
                *read_total += n as u64;
                if n == self.buf.len() && self.size < self.max {
                    // The read filled the buffer: the peer is streaming, grow.
                    self.size = (self.size * 2).min(self.max);
                }
                self.pos = 0;
                self.cap = n;
                if n == 0 {
                    self.read_done = true;
                }
            }
            while self.pos < self.cap {
                let n = ready!(Pin::new(&mut *dst).poll_write(cx, &self.buf[self.pos..self.cap]))
                    .map_err(Fault::Dst)?;
                if n == 0 {
                    return Poll::Ready(Err(Fault::Dst(io::ErrorKind::WriteZero.into())));
                }
                self.pos += n;
                counter.inc_by(n as u64);
                *total += n as u64;
            }
            if self.read_done {
                ready!(Pin::new(&mut *dst).poll_shutdown(cx)).map_err(Fault::Dst)?;
                return Poll::Ready(Ok(Step::Done));
            }
        }
    }
}

struct Spliced {
    /// (read end, write end), created on the first readable event so idle
    /// connections hold no pipe.
    pipe: Option<(OwnedFd, OwnedFd)>,
    /// Pipe capacity the kernel granted, in bytes.
    capacity: usize,
    in_pipe: usize,
    /// Size of the last chunk spliced in.
    last_chunk: usize,
    /// A splice into the non-empty pipe met EAGAIN: the socket may be empty or the
    /// pipe's slots full (socket pages can be partly filled), so neither side's
    /// readiness is known. Reads wait until a write frees room.
    read_stalled: bool,
    read_done: bool,
}

/// Non-blocking, and pages are moved rather than copied where the kernel can.
const SPLICE_FLAGS: SpliceFFlags =
    SpliceFFlags::SPLICE_F_MOVE.union(SpliceFFlags::SPLICE_F_NONBLOCK);

fn nix_err(e: nix::Error) -> io::Error {
    io::Error::from(e)
}

/// A non-blocking pipe of `PIPE_CAPACITY` bytes if the kernel grants it, and the
/// capacity it has (the kernel keeps its default past the per-user pipe budget).
fn new_pipe() -> io::Result<((OwnedFd, OwnedFd), usize)> {
    use nix::fcntl::{FcntlArg, fcntl};
    let p = nix::unistd::pipe2(OFlag::O_NONBLOCK | OFlag::O_CLOEXEC).map_err(nix_err)?;
    let want = i32::try_from(PIPE_CAPACITY).unwrap_or(i32::MAX);
    let _ = fcntl(&p.1, FcntlArg::F_SETPIPE_SZ(want));
    let capacity = fcntl(&p.1, FcntlArg::F_GETPIPE_SZ)
        .ok()
        .and_then(|c| usize::try_from(c).ok())
        .unwrap_or(64 << 10);
    Ok((p, capacity))
}

/// What one attempt on one side of the pipe did.
#[derive(PartialEq, Eq)]
enum Attempt {
    /// Bytes moved (or EOF was seen): try both sides again.
    Moved,
    /// The side is not ready; its waker is registered.
    Waiting,
    /// Nothing to do on this side until the other moves.
    Idle,
}

impl Spliced {
    fn poll(
        &mut self,
        cx: &mut Context<'_>,
        src: &mut Stream,
        dst: &mut Stream,
        counter: &Counter,
        total: &mut u64,
        read_total: &mut u64,
    ) -> Poll<Result<Step, Fault>> {
        loop {
            if self.in_pipe == 0 && self.last_chunk > 0 && self.last_chunk < BUFFER_BELOW {
                self.last_chunk = 0;
                self.pipe = None;
                return Poll::Ready(Ok(Step::Switch));
            }
            // Both sides in one pass: the pipe keeps filling from the source while
            // the destination drains it, so neither peer waits on the other's turn.
            let read = self.fill(cx, src, read_total)?;
            let write = self.drain(cx, dst, counter, total)?;
            if self.read_done && self.in_pipe == 0 {
                self.pipe = None;
                ready!(Pin::new(&mut *dst).poll_shutdown(cx)).map_err(Fault::Dst)?;
                return Poll::Ready(Ok(Step::Done));
            }
            if read != Attempt::Moved && write != Attempt::Moved {
                // Every side that has work is Waiting (wakers registered), and a
                // side that is Idle waits on one that is.
                return Poll::Pending;
            }
        }
    }

    /// Splices from the source into the pipe while it has room.
    fn fill(
        &mut self,
        cx: &mut Context<'_>,
        src: &mut Stream,
        read_total: &mut u64,
    ) -> Result<Attempt, Fault> {
        if self.read_done || self.read_stalled || self.in_pipe >= self.capacity.max(1) {
            return Ok(Attempt::Idle);
        }
        if src
            .poll_ready(cx, Interest::READABLE)
            .map_err(Fault::Src)?
            .is_pending()
        {
            return Ok(Attempt::Waiting);
        }
        let w = match &self.pipe {
            Some((_, w)) => w,
            None => {
                let (p, capacity) = new_pipe().map_err(Fault::Src)?;
                self.capacity = capacity;
                &self.pipe.insert(p).1
            }
        };
        let room = self.capacity.saturating_sub(self.in_pipe).max(1);
        let splice_in = || splice(src.fd(), None, w, None, room, SPLICE_FLAGS).map_err(nix_err);
        // Only with an empty pipe does EAGAIN surely mean "socket empty", so only
        // then may the source's readiness be cleared (try_io does that).
        let got = if self.in_pipe == 0 {
            src.try_io(Interest::READABLE, splice_in)
        } else {
            splice_in()
        };
        match got {
            Ok(0) => self.read_done = true,
            Ok(n) => {
                self.in_pipe += n;
                *read_total += n as u64;
                // A chunk cut short by the pipe's room says nothing about the traffic.
                self.last_chunk = if n < room { n } else { n.max(BUFFER_BELOW) };
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if self.in_pipe > 0 {
                    self.read_stalled = true;
                    return Ok(Attempt::Idle);
                }
                // Readiness cleared: the next poll_ready registers the waker.
            }
            Err(e) => return Err(Fault::Src(e)),
        }
        Ok(Attempt::Moved)
    }

    /// Splices from the pipe into the destination while the pipe holds bytes.
    fn drain(
        &mut self,
        cx: &mut Context<'_>,
        dst: &mut Stream,
        counter: &Counter,
        total: &mut u64,
    ) -> Result<Attempt, Fault> {
        let Some((r, _)) = &self.pipe else {
            return Ok(Attempt::Idle);
        };
        if self.in_pipe == 0 {
            return Ok(Attempt::Idle);
        }
        if dst
            .poll_ready(cx, Interest::WRITABLE)
            .map_err(Fault::Dst)?
            .is_pending()
        {
            return Ok(Attempt::Waiting);
        }
        match dst.try_io(Interest::WRITABLE, || {
            splice(r, None, dst.fd(), None, self.in_pipe, SPLICE_FLAGS).map_err(nix_err)
        }) {
            Ok(0) => Err(Fault::Dst(io::ErrorKind::WriteZero.into())),
            Ok(n) => {
                self.in_pipe -= n;
                self.read_stalled = false;
                counter.inc_by(n as u64);
                *total += n as u64;
                Ok(Attempt::Moved)
            }
            // Readiness cleared: the next poll_ready registers the waker.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Attempt::Moved),
            Err(e) => Err(Fault::Dst(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(fault: Fault, way: Way) -> &'static str {
        match fault.into_error(way) {
            TransferError::Client(_) => "client",
            TransferError::Upstream(_) => "upstream",
            _ => "other",
        }
    }

    #[test]
    fn faults_name_the_failing_side_in_both_directions() {
        let e = || io::Error::from(io::ErrorKind::BrokenPipe);
        assert_eq!(side(Fault::Src(e()), Way::ToUpstream), "client");
        assert_eq!(side(Fault::Dst(e()), Way::ToUpstream), "upstream");
        assert_eq!(side(Fault::Src(e()), Way::ToClient), "upstream");
        assert_eq!(side(Fault::Dst(e()), Way::ToClient), "client");
    }
}
