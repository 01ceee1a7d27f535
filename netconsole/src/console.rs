//! The console: one NIC, several targets, a write path that never deadlocks.
//!
//! # Re-entry, interrupts, panics
//!
//! A write takes the NIC with a try-lock (`spin::Mutex::try_lock`): it never waits. A write that
//! finds the NIC taken (it came from inside the driver, from an interrupt handler that preempted a
//! write, from a panic during a write) does not touch the NIC: it appends its message to the
//! backlog, in a short critical section, and returns. The write that holds the NIC sends the
//! backlog, in order, before it lets go, and looks again after letting go, so a message added in
//! that gap is not left behind. A full backlog drops the message and counts it.
//!
//! A panic handler never returns, so a panic that strikes while a write holds the console cannot
//! wait for that write to flush its message: the message stays in the backlog, counted as
//! *stranded*. It leaves with the next write or [`Netconsole::flush`], if there is one.
//!
//! # Interrupt latency
//!
//! The console itself only disables interrupts for the backlog's critical sections: a copy of at
//! most one message (and the move of the backlog's bytes when an entry leaves). The NIC is driven
//! outside any critical section. Linux sends with interrupts off; firmware that wants the same
//! (so that no interrupt handler can defer its message) wraps the write in its own critical
//! section, and then the worst case below is its interrupt latency.
//!
//! # Worst-case time of one write
//!
//! Every datagram costs at most one [`RetryPolicy`](netpoll_core::RetryPolicy) budget: `tries`
//! transmit attempts, each followed by a poll and a `wait_us` wait. A write sends the backlog
//! first and then its own message, so it sends at most `(B + message bytes) / 950 + entries`
//! datagrams per enabled target, and it stops at the first datagram whose budget runs out (the
//! rest waits in the backlog). Bound it by choosing `B`, the retry policy and the message size.
//!
//! A message stopped partway resumes where it stopped, with the same datagrams (its sysdata,
//! msgid included, is fixed at its first try, as Linux fixes it in the skb) and before anything
//! written since, so a receiver sees each datagram once and in order. Unlike Linux, a retried
//! datagram gets a new IPv4 ID.
//!
//! Targets get each message newest first, as Linux walks its target list.

use core::cell::RefCell;
use core::net::IpAddr;

use critical_section::Mutex as CsMutex;
use embedded_hal::delay::DelayNs;
use netpoll_core::wire::Payload;
use netpoll_core::{NetPoll, NicEngine, NoDelay, ResolvePolicy, SendError};

use crate::backlog::{self, Backlog};
use crate::counters::{Counters, TargetCounters};
use crate::message::Message;
use crate::record::ExtendedRecord;
use crate::storage::{no_targets, TargetStorage};
use crate::stream::{for_each_packet, DataStream, MAX_PRINT_CHUNK};
use crate::sysdata::{self, NoSystemInfo, SystemInfo, MAX_RELEASE_LEN};
use crate::target::{MacSource, Pending, Target};

/// Why a console operation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ConsoleError {
    /// A write holds the console (this was called from inside one, or from an interrupt).
    Busy,
    /// No NIC attached.
    NoNic,
    /// No room for another target.
    TooManyTargets,
    /// No target at this index.
    NoSuchTarget,
    /// `release` set without `extended`.
    ReleaseWithoutExtended,
}

impl core::fmt::Display for ConsoleError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ConsoleError::Busy => "console busy (called from inside a write)",
            ConsoleError::NoNic => "no NIC attached",
            ConsoleError::TooManyTargets => "no room for another target",
            ConsoleError::NoSuchTarget => "no such target",
            ConsoleError::ReleaseWithoutExtended => "Release feature requires extended log message",
        })
    }
}

impl core::error::Error for ConsoleError {}

/// What only the write that holds the NIC touches.
struct Engine<D: NetPoll, W: DelayNs, const U: usize, const B: usize, TS> {
    netpoll: Option<NicEngine<D, W>>,
    targets: TS,
    /// A backlog entry being sent, copied out so the backlog stays open to nested writes.
    scratch: heapless::Vec<u8, B>,
}

/// What every writer may touch, in a short critical section.
struct Shared<const B: usize> {
    backlog: Backlog<B>,
    /// The console's counts; `counters.targets` is kept equal to the sum of the targets' own.
    counters: Counters,
    seq: u64,
}

/// Most targets one console serves: the backlog keeps a 32-bit mask of targets per message.
pub const MAX_TARGETS: usize = 32;

/// The mask of a message for every target, those added later included (early-boot replay).
const ALL_TARGETS: u32 = u32::MAX;

impl<const B: usize> Shared<B> {
    /// Appends to the backlog, keeping the deferral counters; `false` if there is no room.
    fn push_backlog(&mut self, message: &Message<'_>, mask: u32, front: bool) -> bool {
        let kept = if front {
            self.backlog.push_front(message, mask)
        } else {
            self.backlog.push(message, mask)
        };
        if kept {
            self.counters.deferred += 1;
            self.counters.backlog_high_water =
                self.counters.backlog_high_water.max(self.backlog.used());
        }
        kept
    }
}

/// A netconsole: a NIC, targets with up to `U` userdata entries each kept in `TS` (by default
/// an array of two; see [`TargetStorage`]), and a `B`-byte backlog.
///
/// ```
/// use netconsole::{Netconsole, NoSystemInfo, Target};
/// use netpoll_core::{Endpoint, MacAddr, NicEngine, ResolvePolicy};
/// use netpoll_drivers::sim::SimNic;
///
/// static CONSOLE: Netconsole<SimNic> = Netconsole::new(NoSystemInfo);
///
/// assert!(CONSOLE.attach(NicEngine::new(SimNic::new(MacAddr([0x02, 0, 0, 0, 0, 1])))).is_ok());
/// let options = netconsole_options::parse_target("+@10.0.0.1/,@10.0.0.2/02:00:00:00:00:02")
///     .unwrap()
///     .target;
/// let target = CONSOLE.add_target(Target::from_options(&options, None).unwrap()).unwrap();
/// CONSOLE.enable(target, ResolvePolicy { polls: 10, wait_us: 0, requests: 1 }).unwrap();
///
/// CONSOLE.log(6, b"hello");
/// let frame = CONSOLE.with_nic(|nic| nic.driver_mut().pop_sent().unwrap()).unwrap();
/// assert!(frame[42..].starts_with(b"6,0,0,-;hello\n"));
/// ```
pub struct Netconsole<
    D: NetPoll,
    W: DelayNs = NoDelay,
    S: SystemInfo = NoSystemInfo,
    const U: usize = 4,
    const B: usize = 4096,
    TS: TargetStorage<U> = [Option<Target<U>>; 2],
> {
    engine: spin::Mutex<Engine<D, W, U, B, TS>>,
    shared: CsMutex<RefCell<Shared<B>>>,
    info: S,
}

/// Rounds of "flush again after letting go" before the rest is left for the next write.
const SETTLE_ROUNDS: usize = 4;

impl<D: NetPoll, W: DelayNs, S: SystemInfo, const U: usize, const B: usize, const N: usize>
    Netconsole<D, W, S, U, B, [Option<Target<U>>; N]>
{
    /// A console with no NIC and room for `N` targets, usable in a `static`. Messages written
    /// before a NIC is attached wait in the backlog, as Linux replays its log buffer to a new
    /// console.
    pub const fn new(info: S) -> Self {
        const { assert!(N <= MAX_TARGETS, "at most 32 targets") };
        Self::with_storage(info, no_targets())
    }
}

impl<
        D: NetPoll,
        W: DelayNs,
        S: SystemInfo,
        const U: usize,
        const B: usize,
        TS: TargetStorage<U>,
    > Netconsole<D, W, S, U, B, TS>
{
    /// A console whose targets live in `targets` (a `managed` slice the caller lends, say);
    /// slots past [`MAX_TARGETS`] are not used.
    pub const fn with_storage(info: S, targets: TS) -> Self {
        Netconsole {
            engine: spin::Mutex::new(Engine {
                netpoll: None,
                targets,
                scratch: heapless::Vec::new(),
            }),
            shared: CsMutex::new(RefCell::new(Shared {
                backlog: Backlog::new(),
                counters: Counters::ZERO,
                seq: 0,
            })),
            info,
        }
    }

    /// Gives the console its NIC. Fails with the NIC handed back if one is attached already or
    /// a write holds the console.
    // The NIC is handed back rather than dropped, and there is no heap to box it in.
    #[allow(clippy::result_large_err)]
    pub fn attach(&self, netpoll: NicEngine<D, W>) -> Result<(), NicEngine<D, W>> {
        let Some(mut engine) = self.engine.try_lock() else { return Err(netpoll) };
        if engine.netpoll.is_some() {
            return Err(netpoll);
        }
        let mut netpoll = netpoll;
        for target in engine.targets.slots().iter().flatten() {
            if let IpAddr::V4(ip) = target.endpoint.local_ip {
                netpoll.add_local_ipv4(ip);
            }
        }
        engine.netpoll = Some(netpoll);
        Ok(())
    }

    /// Takes the NIC back.
    pub fn detach(&self) -> Result<Option<NicEngine<D, W>>, ConsoleError> {
        self.locked(|engine| Ok(engine.netpoll.take()))
    }

    /// Runs `f` on the NIC's engine (to inspect the driver, answer ARP, read its counters).
    pub fn with_nic<R>(
        &self,
        f: impl FnOnce(&mut NicEngine<D, W>) -> R,
    ) -> Result<R, ConsoleError> {
        self.locked(|engine| engine.netpoll.as_mut().map(f).ok_or(ConsoleError::NoNic))
    }

    /// Adds a target, disabled; returns its index.
    pub fn add_target(&self, target: Target<U>) -> Result<usize, ConsoleError> {
        if target.release && !target.extended {
            return Err(ConsoleError::ReleaseWithoutExtended);
        }
        self.locked(|engine| {
            let local_ip = target.endpoint.local_ip;
            let slots = engine.targets.slots_mut();
            let usable = slots.len().min(MAX_TARGETS);
            let index = slots[..usable]
                .iter()
                .position(Option::is_none)
                .ok_or(ConsoleError::TooManyTargets)?;
            slots[index] = Some(target);
            if let (Some(np), IpAddr::V4(ip)) = (engine.netpoll.as_mut(), local_ip) {
                np.add_local_ipv4(ip);
            }
            Ok(index)
        })
    }

    /// Runs `f` on a target (to change its userdata or sysdata, as configfs allows while it is
    /// enabled).
    pub fn with_target<R>(
        &self,
        index: usize,
        f: impl FnOnce(&mut Target<U>) -> R,
    ) -> Result<R, ConsoleError> {
        self.locked(|engine| Self::slot(&mut engine.targets, index).map(f))
    }

    /// Enables a target. Without a configured MAC, an IPv4 target's next hop is resolved by ARP
    /// within `resolve`'s bound; if that fails, or for IPv6, frames go to broadcast as in Linux.
    /// Says which happened.
    pub fn enable(&self, index: usize, resolve: ResolvePolicy) -> Result<MacSource, ConsoleError> {
        self.locked(|engine| {
            let target = Self::slot(&mut engine.targets, index)?;
            if target.release && !target.extended {
                return Err(ConsoleError::ReleaseWithoutExtended);
            }
            let np = engine.netpoll.as_mut().ok_or(ConsoleError::NoNic)?;
            let source = match target.endpoint.remote_mac {
                Some(mac) => MacSource::Configured(mac),
                None => match np.resolve(&mut target.endpoint, resolve) {
                    Ok(mac) => MacSource::Resolved(mac),
                    Err(_) => MacSource::Broadcast,
                },
            };
            target.enabled = true;
            target.msgid = 0;
            Ok(source)
        })
    }

    /// Disables a target; its messages stop at once.
    pub fn disable(&self, index: usize) -> Result<(), ConsoleError> {
        self.with_target(index, |t| t.enabled = false)
    }

    /// Writes console text: basic targets get it as raw chunks of at most 1000 bytes.
    pub fn write(&self, text: &[u8]) {
        self.submit(Message::Basic(text), false);
    }

    /// Logs `text` at `level` (0 emergency .. 7 debug) as a record numbered by the console and
    /// stamped by its [`SystemInfo`]: extended targets get the record, basic ones `text\n`.
    pub fn log(&self, level: u8, text: &[u8]) {
        let seq = self.next_seq();
        let record = ExtendedRecord::new(level, seq, self.info.timestamp_us(), text);
        self.submit(Message::Record(record), false);
    }

    /// Sends a record made elsewhere (a kernel's own log buffer, with its own sequence numbers).
    pub fn write_record(&self, record: &ExtendedRecord<'_>) {
        self.submit(Message::Record(*record), false);
    }

    /// [`log`](Self::log) for a panic handler: if a write holds the console, the message is left
    /// in the backlog and counted as stranded, since the handler cannot wait.
    pub fn log_panic(&self, level: u8, text: &[u8]) {
        let seq = self.next_seq();
        let record = ExtendedRecord::new(level, seq, self.info.timestamp_us(), text);
        self.submit(Message::Record(record), true);
    }

    /// Sends what waits in the backlog, as far as the NIC takes it. Call it from an idle loop or
    /// a timer so that deferred messages leave even when nothing new is written. `true` when the
    /// backlog is empty afterwards.
    pub fn flush(&self) -> bool {
        if let Some(mut engine) = self.engine.try_lock() {
            self.flush_backlog(&mut engine);
            let left = self.shared(|s| s.backlog.entries());
            drop(engine);
            self.settle(left);
        }
        self.shared(|s| s.backlog.is_empty())
    }

    /// Polls the NIC (reclaims TX slots, answers ARP for our addresses) and flushes.
    pub fn poll(&self) -> bool {
        if let Some(mut engine) = self.engine.try_lock() {
            if let Some(np) = engine.netpoll.as_mut() {
                np.poll();
            }
        }
        self.flush()
    }

    /// A snapshot of the counters, `targets` summed over the targets. Never blocks.
    pub fn counters(&self) -> Counters {
        self.shared(|s| s.counters)
    }

    /// A snapshot of one target's counters.
    pub fn target_counters(&self, index: usize) -> Result<TargetCounters, ConsoleError> {
        self.with_target(index, |t| t.counters)
    }

    /// Removes a target and gives it back; messages still waiting for it are not sent to it.
    pub fn remove_target(&self, index: usize) -> Result<Target<U>, ConsoleError> {
        self.locked(|engine| {
            let slot =
                engine.targets.slots_mut().get_mut(index).ok_or(ConsoleError::NoSuchTarget)?;
            let target = slot.take().ok_or(ConsoleError::NoSuchTarget)?;
            self.shared(|s| s.backlog.clear_target(index));
            Ok(target)
        })
    }

    /// Runs `f` with the NIC and targets taken; afterwards sends what writes nested in `f`
    /// (from inside the driver, an interrupt) deferred meanwhile.
    fn locked<R>(
        &self,
        f: impl FnOnce(&mut Engine<D, W, U, B, TS>) -> Result<R, ConsoleError>,
    ) -> Result<R, ConsoleError> {
        let before = self.shared(|s| s.backlog.entries());
        let mut engine = self.engine.try_lock().ok_or(ConsoleError::Busy)?;
        let result = f(&mut engine);
        drop(engine);
        self.settle(before);
        result
    }

    fn slot(targets: &mut TS, index: usize) -> Result<&mut Target<U>, ConsoleError> {
        match targets.slots_mut().get_mut(index) {
            Some(Some(target)) => Ok(target),
            _ => Err(ConsoleError::NoSuchTarget),
        }
    }

    /// Bytes waiting in the backlog.
    pub fn backlog_len(&self) -> usize {
        self.shared(|s| s.backlog.used())
    }

    /// Counts a message a writer had to cut.
    pub(crate) fn count_truncated(&self) {
        self.shared(|s| s.counters.truncated += 1);
    }

    fn next_seq(&self) -> u64 {
        self.shared(|s| {
            let seq = s.seq;
            s.seq += 1;
            seq
        })
    }

    fn shared<R>(&self, f: impl FnOnce(&mut Shared<B>) -> R) -> R {
        critical_section::with(|cs| f(&mut self.shared.borrow_ref_mut(cs)))
    }

    /// Keeps `message` for the targets in `mask`; if there is no room it is dropped and counted
    /// as `backlog_full`. `true` if it was kept.
    fn defer(&self, message: &Message<'_>, mask: u32) -> bool {
        self.shared(|s| {
            let kept = s.push_backlog(message, mask, false);
            if !kept {
                s.counters.backlog_full.add(message.text_len());
            }
            kept
        })
    }

    /// Puts `message` back at the front of the backlog for the targets in `mask`, whose TX ring
    /// stayed full partway: it was being sent, so whatever nested writes deferred meanwhile comes
    /// after it, and each target's `pending` says where to resume. If there is no room it is
    /// dropped and counted as `ring_stuck` for each of them.
    fn defer_stuck(&self, engine: &mut Engine<D, W, U, B, TS>, message: &Message<'_>, mask: u32) {
        if self.shared(|s| s.push_backlog(message, mask, true)) {
            return;
        }
        for (i, slot) in engine.targets.slots_mut().iter_mut().enumerate().take(MAX_TARGETS) {
            if let (Some(target), true) = (slot, mask & (1 << i) != 0) {
                target.pending = None;
                target.counters.ring_stuck.add(message.text_len());
                self.shared(|s| s.counters.targets.ring_stuck.add(message.text_len()));
            }
        }
    }

    fn submit(&self, message: Message<'_>, panicking: bool) {
        self.shared(|s| s.counters.messages += 1);
        let Some(mut engine) = self.engine.try_lock() else {
            // Re-entered: never touch the NIC from here.
            if self.defer(&message, ALL_TARGETS) && panicking {
                self.shared(|s| s.counters.stranded += 1);
            }
            return;
        };
        if engine.netpoll.is_none() || !self.flush_backlog(&mut engine) {
            // Keep the order: nothing overtakes what is waiting.
            self.defer(&message, ALL_TARGETS);
        } else {
            let Engine { netpoll, targets, .. } = &mut *engine;
            let failed = self.send(netpoll, targets, &message, ALL_TARGETS);
            if failed != 0 {
                self.defer_stuck(&mut engine, &message, failed);
            } else {
                // What nested writes deferred while we sent: theirs follow ours.
                self.flush_backlog(&mut engine);
            }
        }
        let left = self.shared(|s| s.backlog.entries());
        drop(engine);
        self.settle(left);
    }

    /// After letting go of the NIC with `left` messages waiting (which the NIC would not take):
    /// a nested write may have added one after our last look. If so, take the NIC again and
    /// send, a bounded number of times; if not, leave the rest for the next write.
    fn settle(&self, mut left: usize) {
        for _ in 0..SETTLE_ROUNDS {
            if self.shared(|s| s.backlog.entries()) <= left {
                return;
            }
            let Some(mut engine) = self.engine.try_lock() else { return };
            if engine.netpoll.is_none() || !self.flush_backlog(&mut engine) {
                return;
            }
            left = 0;
        }
    }

    /// Sends the backlog in order; `true` if it is empty afterwards. Sends at most the entries
    /// that were there when it began, so a driver that logs on every transmit cannot keep it
    /// busy forever: what such nested writes add waits for the next round.
    fn flush_backlog(&self, engine: &mut Engine<D, W, U, B, TS>) -> bool {
        if engine.netpoll.is_none() {
            return self.shared(|s| s.backlog.is_empty());
        }
        let waiting = self.shared(|s| s.backlog.entries());
        let Engine { netpoll, targets, scratch } = engine;
        for _ in 0..waiting {
            let Some(mask) = self.shared(|s| s.backlog.copy_front(scratch)) else {
                return true;
            };
            let failed = match backlog::decode(scratch) {
                Some(message) => self.send(netpoll, targets, &message, mask),
                // Cannot happen: the backlog wrote it. Drop the entry rather than loop.
                None => {
                    targets.slots_mut().iter_mut().flatten().for_each(|t| t.pending = None);
                    0
                }
            };
            if failed != 0 {
                self.shared(|s| s.backlog.set_front_mask(failed));
                return false;
            }
            self.shared(|s| s.backlog.pop_front());
        }
        self.shared(|s| s.backlog.is_empty())
    }

    /// Sends `message` to the enabled targets in `mask`. Returns the mask of targets whose TX
    /// ring stayed full (to be kept in the backlog); other failures are counted as dropped.
    fn send(
        &self,
        netpoll: &mut Option<NicEngine<D, W>>,
        targets: &mut TS,
        message: &Message<'_>,
        mask: u32,
    ) -> u32 {
        let Some(np) = netpoll.as_mut() else { return mask };
        let release_text = sysdata::cut(self.info.release(), MAX_RELEASE_LEN);
        let mut stuck = 0u32;
        // Newest target first, as Linux walks its target list (each target is added at its
        // head): the last `;` piece of an option string gets the first IPv4 ID.
        for (i, slot) in targets.slots_mut().iter_mut().enumerate().take(MAX_TARGETS).rev() {
            let Some(target) = slot else { continue };
            if mask & (1 << i) == 0 {
                continue;
            }
            // Where an earlier try of this message stopped for this target, if it did.
            let resume = target.pending.take();
            if !target.enabled {
                continue;
            }
            let skip = resume.as_ref().map_or(0, |p| p.sent);
            let endpoint = target.endpoint;
            let (mut index, mut frames, mut bytes) = (0u32, 0u64, 0u64);
            let mut send = |payload: &dyn Payload| -> Result<(), SendError> {
                if index >= skip {
                    np.send_payload(&endpoint, payload)?;
                    frames += 1;
                    bytes += payload.len() as u64;
                }
                index += 1;
                Ok(())
            };
            let mut sysdata = None;
            let result = match (target.extended, message) {
                (false, Message::Basic(text)) => send_basic(text, &[], &mut send),
                (false, Message::Record(r)) => send_basic(r.text, b"\n", &mut send),
                (true, Message::Basic(_)) => continue,
                (true, Message::Record(r)) => {
                    // The sysdata of a message is fixed at its first try (Linux builds it into
                    // the skb once): msgid counts messages, not tries, and a resumed message
                    // is cut into the same datagrams.
                    let rendered = match resume {
                        Some(p) => p.sysdata,
                        None => {
                            if target.sysdata.msgid {
                                target.msgid = target.msgid.wrapping_add(1);
                            }
                            sysdata::render(target.sysdata, &self.info, target.msgid)
                        }
                    };
                    let data = DataStream::new(
                        r.text,
                        r.subsystem,
                        r.device,
                        target.userdata.entries(),
                        &rendered,
                    );
                    let header = r.header();
                    let release = target.release.then_some(release_text);
                    let result =
                        for_each_packet(release, header.as_bytes(), &data, &mut |p| send(p));
                    sysdata = Some(rendered);
                    result
                }
            };
            if result == Err(SendError::RingFull) {
                stuck |= 1 << i;
                // `index` counts the datagrams done: the skipped ones and those sent now.
                target.pending =
                    Some(Pending { sent: index, sysdata: sysdata.unwrap_or_default() });
            }
            let text_len = message.text_len();
            let count = |c: &mut TargetCounters| {
                c.frames += frames;
                c.bytes += bytes;
                match result {
                    Ok(()) => c.messages += 1,
                    Err(SendError::LinkDown) => c.link_down.add(text_len),
                    Err(SendError::RingFull) => {}
                    Err(_) => c.errors.add(text_len),
                }
            };
            count(&mut target.counters);
            self.shared(|s| count(&mut s.counters.targets));
        }
        stuck
    }
}

/// Sends `text` followed by `tail` in raw chunks of at most [`MAX_PRINT_CHUNK`] bytes.
fn send_basic(
    text: &[u8],
    tail: &'static [u8],
    send: &mut dyn FnMut(&dyn Payload) -> Result<(), SendError>,
) -> Result<(), SendError> {
    let total = text.len() + tail.len();
    let mut at = 0;
    while at < total {
        let end = (at + MAX_PRINT_CHUNK).min(total);
        send(&Chunk { text, tail, from: at, to: end })?;
        at = end;
    }
    Ok(())
}

/// A window `from..to` of `text ++ tail`.
struct Chunk<'a> {
    text: &'a [u8],
    tail: &'a [u8],
    from: usize,
    to: usize,
}

impl Payload for Chunk<'_> {
    fn len(&self) -> usize {
        self.to - self.from
    }

    fn for_each_slice(&self, f: &mut dyn FnMut(&[u8])) {
        let n = self.text.len();
        if self.from < n {
            f(&self.text[self.from..self.to.min(n)]);
        }
        if self.to > n {
            f(&self.tail[self.from.max(n) - n..self.to - n]);
        }
    }
}
