//! One listener thread: its sockets (one per `--bind`), its own receiver, its own output
//! buffer. With `--threads N` the kernel spreads senders over the threads' sockets by address
//! (`SO_REUSEPORT`), so one sender's datagrams always reach the same thread and its records
//! keep their order; threads share nothing on the per-datagram path.

use std::io::Write as _;
use std::os::fd::AsFd as _;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use netconsole::receive::{Config, Message, Receiver, SenderEntry, Stream};
use nix::poll::{PollFd, PollFlags, PollTimeout};

use super::forward::Output;
use super::report::{cause, Limiter, Totals, OVERSIZED};
use super::socket::{self, Batch, Socket, BATCH};
use crate::output::Writer;

/// Streams the listener can tell apart: twice a fleet of 65,536 senders, so that hashing
/// forgets none of them (about 28 MiB). With `--threads N` each thread gets an Nth of the table,
/// since the kernel spreads senders evenly over the threads' sockets.
const SENDERS: usize = 1 << 17;

/// The fewest streams one thread's table holds, however many threads there are.
const MIN_SENDERS_PER_THREAD: usize = 4096;

/// Entries of one thread's sender table when `threads` share the fleet.
pub fn senders_per_thread(threads: usize) -> usize {
    (SENDERS / threads.max(1)).max(MIN_SENDERS_PER_THREAD)
}

/// The receiver each thread owns: its share of [`SENDERS`] streams in a table on the heap, 64 lines and
/// records pending at once, each up to 8 KiB.
pub type ListenReceiver = Receiver<0, 64, 8192, Box<[SenderEntry]>>;

/// Output is written when this much has gathered, and at the end of every round.
const OUT_FLUSH: usize = 64 * 1024;
/// Batches read from one socket before the others get their turn.
const ROUNDS: usize = 8;
/// The longest a thread sleeps without looking at the stop flag (a safety net: a stop also
/// wakes it through the wake-up socket).
const MAX_SLEEP_MS: u64 = 1000;

/// What the threads share: rare writes only.
pub struct Shared {
    /// Set by SIGINT or SIGTERM, by `--count`, by a closed stdout, or by the main thread.
    pub stop: Arc<AtomicBool>,
    /// Readable once anything asks the threads to stop (a signal handler writes to it).
    pub wake: UnixStream,
    /// Its other end, for stops that are not signals.
    pub waker: UnixStream,
    /// Messages still to print, for `--count`.
    pub left: Option<AtomicU64>,
    pub start: Instant,
    /// When the last datagram arrived, in ms since `start`.
    pub last_datagram_ms: AtomicU64,
    pub limiter: Limiter,
    /// Each thread's totals, published after every round.
    pub totals: Vec<Mutex<Totals>>,
    /// Every socket's inode, to read its drop count from `/proc/net/udp`.
    pub inodes: Vec<u64>,
}

impl Shared {
    /// Milliseconds since start.
    pub fn millis(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Asks every thread to stop and wakes them.
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = (&self.waker).write(b"s");
    }
}

/// One thread's state.
pub struct Worker {
    pub index: usize,
    pub sockets: Vec<Socket>,
    pub shared: Arc<Shared>,
    pub writer: Writer,
    pub config: Config,
    pub out: Output,
    /// Entries of this thread's sender table.
    pub senders: usize,
}

/// The parts of a worker that handle a datagram, apart from the sockets being read.
struct Sink<'a> {
    receiver: &'a mut ListenReceiver,
    writer: &'a mut Writer,
    out: &'a mut Output,
    shared: &'a Shared,
    oversized: &'a mut u64,
}

impl Sink<'_> {
    fn datagram(&mut self, now_ms: u64, stream: Stream, bytes: &[u8], oversized: bool) {
        if oversized {
            *self.oversized += 1;
            let why = format_args!("longer than {} bytes", super::socket::DATAGRAM_ROOM);
            if let Some(line) = self.shared.limiter.report(now_ms, OVERSIZED, stream.src, &why) {
                eprintln!("{line}");
            }
            return;
        }
        let (writer, out, shared) = (&mut *self.writer, &mut *self.out, self.shared);
        let result = self
            .receiver
            .receive_on(now_ms, stream, bytes, &mut |m| print(writer, out, shared, &m));
        if let Err(error) = result {
            if let Some(line) = shared.limiter.report(now_ms, cause(&error), stream.src, &error) {
                eprintln!("{line}");
            }
        }
    }
}

/// Writes `message` unless `--count` is reached; reaching it stops every thread.
fn print(writer: &mut Writer, out: &mut Output, shared: &Shared, message: &Message<'_>) {
    if let Some(left) = &shared.left {
        let taken = left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        match taken {
            Ok(1) => shared.request_stop(),
            Ok(_) => {}
            Err(_) => return,
        }
    }
    writer.write(&mut out.buf, message);
    out.end_message();
}

impl Worker {
    /// Receives until asked to stop, then hands out what is pending (incomplete) and returns.
    /// Says on `ready` when its receiver is set up.
    pub fn run(self, ready: std::sync::mpsc::Sender<()>) -> Result<(), String> {
        let Worker { index, mut sockets, shared, mut writer, config, mut out, senders } = self;
        // Allocated in place: built on the stack and moved, the table would cost its size twice
        // more in resident memory.
        let table = vec![SenderEntry::EMPTY; senders].into_boxed_slice();
        let mut receiver: Box<ListenReceiver> = Box::new(Receiver::with_senders(config, table));
        let _ = ready.send(());
        drop(ready);
        let mut batch = Batch::new();
        let mut oversized = 0u64;
        let mut result = Ok(());
        while !shared.stop.load(Ordering::Relaxed) {
            let now_ms = shared.millis();
            let mut got = 0;
            let mut sink = Sink {
                receiver: &mut receiver,
                writer: &mut writer,
                out: &mut out,
                shared: &shared,
                oversized: &mut oversized,
            };
            for socket in &mut sockets {
                let local = socket.local;
                for _ in 0..ROUNDS {
                    let read = batch.read(socket, &mut |d| {
                        sink.datagram(now_ms, Stream::new(d.src, local), d.bytes, d.oversized);
                    });
                    let n = match read {
                        Ok(n) => n,
                        Err(e) => {
                            result = Err(format!("receiving on {local}: {e}"));
                            break;
                        }
                    };
                    got += n;
                    if n < BATCH {
                        break;
                    }
                    if sink.out.buf.len() >= OUT_FLUSH && !sink.out.flush(&sink.shared.stop) {
                        shared.request_stop();
                    }
                }
            }
            if result.is_err() {
                shared.request_stop();
                break;
            }
            if got > 0 {
                shared.last_datagram_ms.store(now_ms, Ordering::Relaxed);
            }
            receiver.expire(shared.millis(), &mut |m| print(&mut writer, &mut out, &shared, &m));
            if !out.flush(&shared.stop) {
                shared.request_stop();
            }
            publish(&shared, index, &receiver, &sockets, oversized, out.unsent);
            if got == 0 {
                let wait = receiver
                    .next_deadline()
                    .map_or(MAX_SLEEP_MS, |at| at.saturating_sub(shared.millis()))
                    .min(MAX_SLEEP_MS);
                sleep(&sockets, &shared.wake, wait);
            }
        }
        receiver.flush(&mut |m| print(&mut writer, &mut out, &shared, &m));
        out.flush(&shared.stop);
        publish(&shared, index, &receiver, &sockets, oversized, out.unsent);
        // The count the sockets' last datagrams brought may be behind: read it while they are
        // still open.
        let inodes: Vec<u64> = sockets.iter().filter_map(|s| socket::inode(&s.udp)).collect();
        if let (Some(drops), Some(Ok(mut totals))) =
            (socket::proc_drops(&inodes), shared.totals.get(index).map(Mutex::lock))
        {
            totals.kernel_drops = totals.kernel_drops.max(drops);
        }
        result
    }
}

/// This thread's totals, for the stats line and the summary.
fn publish(
    shared: &Shared,
    index: usize,
    receiver: &ListenReceiver,
    sockets: &[Socket],
    oversized: u64,
    unsent: u64,
) {
    let totals = Totals {
        counters: receiver.counters(),
        kernel_drops: sockets.iter().map(|s| u64::from(s.drops)).sum(),
        oversized,
        unsent,
        senders: receiver.senders() as u64,
    };
    if let Some(slot) = shared.totals.get(index) {
        if let Ok(mut slot) = slot.lock() {
            *slot = totals;
        }
    }
}

/// Waits up to `ms` for a datagram on any socket or a stop.
fn sleep(sockets: &[Socket], wake: &UnixStream, ms: u64) {
    let mut fds: Vec<PollFd<'_>> =
        sockets.iter().map(|s| PollFd::new(s.udp.as_fd(), PollFlags::POLLIN)).collect();
    fds.push(PollFd::new(wake.as_fd(), PollFlags::POLLIN));
    let timeout = PollTimeout::try_from(ms).unwrap_or(PollTimeout::ZERO);
    let _ = nix::poll::poll(&mut fds, timeout);
}

#[cfg(test)]
mod senders_test {
    use super::*;

    #[test]
    fn threads_share_the_fleets_table_down_to_a_floor() {
        assert_eq!(senders_per_thread(1), SENDERS);
        assert_eq!(senders_per_thread(0), SENDERS);
        assert_eq!(senders_per_thread(4), SENDERS / 4);
        assert_eq!(senders_per_thread(64), MIN_SENDERS_PER_THREAD);
    }
}
