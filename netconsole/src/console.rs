//! The console: one NIC, several targets, a write path that never waits for another.
//!
//! The write path (who sends, in which order, for how long) is in `delivery`, the datagrams of
//! one message to one target in `framing`, the targets' configuration in `configure`, the link
//! (carrier, MAC resolution) in `link`, and the state writers share in `state`.

use embedded_hal::delay::DelayNs;
use managed::ManagedSlice;
use netpoll_core::{NetPoll, NicEngine, NoDelay};

use crate::lock::{PanicTakeover, TryLock};
use crate::message::Message;
use crate::record::ExtendedRecord;
use crate::state::{Numbering, Shared};
use crate::storage::{no_targets, TargetStorage};
use crate::sysdata::{NoSystemInfo, SystemInfo};
use crate::target::Target;
use crate::{Counters, TargetCounters};

/// Most targets one console serves: the backlog keeps a 32-bit mask of targets per message.
pub const MAX_TARGETS: usize = 32;

/// The level of console text sent as a record (to a console whose enabled targets are all
/// extended), as printk gives a line without one: `CONFIG_MESSAGE_LOGLEVEL_DEFAULT`.
pub const DEFAULT_LEVEL: u8 = 4;

/// What only the write that holds the console touches.
pub(crate) struct Engine<D: NetPoll, W: DelayNs, const U: usize, const B: usize, TS> {
    pub(crate) nic: Option<NicEngine<D, W>>,
    pub(crate) targets: TS,
    /// Occupied slots, newest target first: the order Linux walks its target list in.
    pub(crate) order: heapless::Vec<u8, MAX_TARGETS>,
    /// A backlog entry being sent, copied out so the backlog stays open to nested writes.
    pub(crate) scratch: heapless::Vec<u8, B>,
    /// How long `enable` waits for carrier.
    pub(crate) carrier_timeout: CarrierTimeout,
    /// Polls since the last ARP request for a target left on broadcast.
    pub(crate) polls_since_request: u32,
    /// The slot whose resolution is retried next (round robin).
    pub(crate) next_resolve: usize,
}

/// A netconsole: a NIC, targets with up to `U` userdata entries each kept in `TS` (by default
/// an array of two; see [`TargetStorage`]), and a `B`-byte backlog.
///
/// Six parameters, five of them with defaults; the aliases name the common cases:
/// [`ConsoleWith`] (the sizes by name), [`SmallConsole`] (one target, no userdata, 1 KiB),
/// [`LentConsole`] (targets in a slice the firmware lends).
///
/// ```
/// use netconsole::{Netconsole, NoSystemInfo, Target};
/// use netpoll_core::{Endpoint, MacAddr, NicEngine, ResolvePolicy};
/// use netpoll_drivers::sim::SimNic;
///
/// static CONSOLE: Netconsole<SimNic> = Netconsole::new(NoSystemInfo);
///
/// assert!(CONSOLE.attach(NicEngine::new(SimNic::new(MacAddr([0x02, 0, 0, 0, 0, 1])))).is_ok());
/// let options = netconsole_options::parse_target("@10.0.0.1/,@10.0.0.2/02:00:00:00:00:02")
///     .unwrap()
///     .target;
/// let target = CONSOLE.add_target(Target::from_options(&options, None).unwrap()).unwrap();
/// CONSOLE.enable(target, ResolvePolicy { polls: 10, wait_us: 0, requests: 1 }).unwrap();
///
/// CONSOLE.log(6, b"hello");
/// let frame = CONSOLE.with_nic(|nic| nic.driver_mut().pop_sent().unwrap()).unwrap();
/// assert!(frame[42..].starts_with(b"hello\n"));
/// ```
///
/// # Re-entry, interrupts, panics
///
/// A write takes the console with a try-lock: it never waits. A write that finds it taken (from
/// inside the driver, an interrupt handler that preempted a write, a panic during a write)
/// appends its message to the backlog, in a short critical section, and returns. The write that
/// holds the console sends the backlog in order, its own message in its place, and what nested
/// writes added meanwhile, and looks again after letting go: while the NIC takes frames, a write
/// returns with the backlog empty. A full backlog drops the message and counts it.
///
/// A panic handler never returns, so a panic that strikes while a write holds the console
/// cannot wait for that write: by default the panic message stays in the backlog, counted as
/// *stranded*. A panic handler that knows the interrupted write never runs again (one core, or
/// the others stopped) says so with [`PanicTakeover`] and calls [`take_over`](Self::take_over)
/// first: the message then goes out, and [`flush_for_panic`](Self::flush_for_panic) waits,
/// bounded, for the NIC to send it before the handler resets the chip.
///
/// A fault handler (HardFault, NMI) that logs while the backlog is being changed, which a
/// single-core critical section does not prevent, is refused and counted (`refused`), never a
/// panic. Reading counters never waits, never sends and never fails.
///
/// # Interrupt latency
///
/// The console itself only disables interrupts for its critical sections: a copy of at most one
/// backlog entry into or out of the backlog (a message and, for one stopped partway, the
/// release, userdata and sysdata it was cut with), the move of the backlog's bytes when an
/// entry leaves (at most `B`), and a copy of the counters (a few hundred bytes). The NIC is
/// driven outside any critical section. Linux sends with interrupts off; firmware that wants the
/// same (so that no interrupt handler can defer its message) wraps the write in its own
/// critical section, and then the worst case below is its interrupt latency.
///
/// # Worst-case work of one write
///
/// Every datagram costs at most `T` transmit calls (the
/// [`RetryPolicy`](netpoll_core::RetryPolicy)'s `tries`, with a reclaim and a `wait_us` wait
/// between them), and the first datagram whose `T` tries all find the ring full ends the write
/// (the rest waits in the backlog). So one write makes at most
///
/// ```text
/// xmit calls ≤ T × (1 + Σ over the messages it sends, Σ over the enabled targets, D(m, t))
/// waits      ≤ (T − 1) × the same count, each `wait_us`
/// ```
///
/// where `D(m, t)` is the datagrams of message `m` to target `t`:
///
/// - basic target: `⌈(n + 1) / 1000⌉` for `n` bytes of text (raw chunks, and a newline for a
///   record);
/// - extended target: `1` if the whole record fits 1000 bytes, else `⌈S / (1000 − P)⌉`, where
///   the data stream `S ≤ 4·n + 1 + 4·d + 21 + X` (every byte may be escaped to four: text `n`
///   and dictionary `d` bytes; 21 bytes of `SUBSYSTEM=`/`DEVICE=` keys and newlines; `X` the
///   target's userdata and sysdata, at most `U × 255 + 134` bytes) and the prefix of each
///   datagram `P ≤ 65 + 73 + 10 + 2·digits(S)` bytes (release and comma, header,
///   `,ncfrag=<offset>/<total>;`): `P ≤ 160` while `S` has at most 6 digits.
///
/// The messages a write sends are its own (of any length) and backlog entries, in which each
/// message takes 34 bytes of header plus its text and dictionary (plus, for a message stopped
/// partway, 9 bytes, its release and its extras per target). The entries one write sends add up
/// to at most `Q` = the bytes waiting when it began plus `B` (nested writes add to the backlog,
/// not to this budget), so `Q ≤ 2·B`, at most `Q / 34` messages. Summed over them, per target:
///
/// ```text
/// basic:    ≤ ⌈Q / 34⌉ + ⌈Q / 1000⌉
/// extended: ≤ ⌈Q · (862 + X) / (34 · 840)⌉ + ⌈4·Q / 840⌉
/// ```
///
/// The bound is the same for [`flush`](Self::flush) and [`poll`](Self::poll), without an own
/// message. Bound it by choosing `B`, the retry policy and the message size.
/// `tests/worst_case.rs` drives adversarial input (every byte escaped, a full backlog, a nested
/// write on every transmit, a ring that takes a datagram only on its last try, then one that
/// takes none) and checks the transmit calls of one write against this formula.
///
/// A message stopped partway resumes where it stopped, with the same datagrams (its sysdata,
/// msgid included, its userdata and its release prefix are fixed at its first try, as Linux
/// fixes them in the skb) and before anything written since, so a receiver sees each datagram
/// once and in order. Unlike Linux, a retried datagram gets a new IPv4 ID.
///
/// Targets get each message newest first, as Linux walks its target list.
pub struct Netconsole<
    D: NetPoll,
    W: DelayNs = NoDelay,
    S: SystemInfo = NoSystemInfo,
    const U: usize = 4,
    const B: usize = 4096,
    TS: TargetStorage<U> = [Option<Target<U>>; 2],
> {
    pub(crate) engine: TryLock<Engine<D, W, U, B, TS>>,
    pub(crate) shared: Shared<B, TS::Counters>,
    pub(crate) info: S,
}

/// A console with its sizes named: `TARGETS` targets of `USERDATA` userdata entries each, and a
/// `BACKLOG`-byte backlog.
pub type ConsoleWith<D, W, S, const TARGETS: usize, const USERDATA: usize, const BACKLOG: usize> =
    Netconsole<D, W, S, USERDATA, BACKLOG, [Option<Target<USERDATA>>; TARGETS]>;

/// The small console for a Cortex-M0 with a few KiB of RAM: one target, no userdata, a 1 KiB
/// backlog.
pub type SmallConsole<D, W = NoDelay, S = NoSystemInfo> = ConsoleWith<D, W, S, 1, 0, 1024>;

/// A console whose targets live in a slice the firmware lends
/// ([`Netconsole::with_storage`]).
pub type LentConsole<
    'a,
    D,
    W = NoDelay,
    S = NoSystemInfo,
    const USERDATA: usize = 4,
    const BACKLOG: usize = 4096,
> = Netconsole<D, W, S, USERDATA, BACKLOG, ManagedSlice<'a, Option<Target<USERDATA>>>>;

/// What a panic handler's flush left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StillQueued {
    /// Bytes still in the backlog: the NIC did not take them. [`BACKLOG_BUSY`](Self::BACKLOG_BUSY)
    /// when a fault handler flushed while the code it interrupted was changing the backlog.
    pub backlog_bytes: usize,
    /// Frames the NIC had not finished when the wait ended (0: drained), or
    /// [`NIC_HELD`](Self::NIC_HELD) when a write the panic interrupted holds the NIC.
    pub tx_in_flight: usize,
}

impl StillQueued {
    /// `tx_in_flight` when the NIC could not be asked (a write holds it, and no
    /// [`take_over`](Netconsole::take_over) freed it): as far as the handler knows, the NIC has
    /// not drained.
    pub const NIC_HELD: usize = usize::MAX;
    /// `backlog_bytes` when the backlog could not be looked at: as far as the handler knows,
    /// something waits.
    pub const BACKLOG_BUSY: usize = usize::MAX;
}

/// Default for how long `enable` waits for carrier: Linux's `netpoll.carrier_timeout`, 4 s.
pub const CARRIER_TIMEOUT_MS: u32 = 4000;

/// How long `enable` waits for carrier, kept as its difference from [`CARRIER_TIMEOUT_MS`]
/// (any `u32` of milliseconds still fits): the default is then zero bytes, and a console in a
/// `static` starts in `.bss` (zeroed at boot) instead of `.data` (a copy of its image in flash,
/// as large as the backlog).
#[derive(Clone, Copy)]
pub(crate) struct CarrierTimeout(u32);

impl CarrierTimeout {
    pub(crate) const DEFAULT: Self = CarrierTimeout(0);

    pub(crate) fn new(ms: u32) -> Self {
        CarrierTimeout(ms ^ CARRIER_TIMEOUT_MS)
    }

    pub(crate) fn ms(self) -> u32 {
        self.0 ^ CARRIER_TIMEOUT_MS
    }
}

impl<D: NetPoll, W: DelayNs, S: SystemInfo, const U: usize, const B: usize, const N: usize>
    Netconsole<D, W, S, U, B, [Option<Target<U>>; N]>
{
    /// A console with no NIC and room for `N` targets, usable in a `static`. Messages written
    /// before the first target is enabled wait in the backlog, as Linux replays its log buffer
    /// to a new console.
    pub const fn new(info: S) -> Self {
        const { assert!(N <= MAX_TARGETS, "at most 32 targets") };
        Self::with_storage(info, no_targets())
    }
}

impl<D, W, S, const U: usize, const B: usize, TS> Netconsole<D, W, S, U, B, TS>
where
    D: NetPoll,
    W: DelayNs,
    S: SystemInfo,
    TS: TargetStorage<U>,
{
    /// A console whose targets live in `targets` (a `managed` slice the caller lends, say);
    /// slots past [`MAX_TARGETS`] are not used.
    pub const fn with_storage(info: S, targets: TS) -> Self {
        Netconsole {
            engine: TryLock::new(Engine {
                nic: None,
                targets,
                order: heapless::Vec::new(),
                scratch: heapless::Vec::new(),
                carrier_timeout: CarrierTimeout::DEFAULT,
                polls_since_request: 0,
                next_resolve: 0,
            }),
            shared: Shared::new(TS::COUNTERS),
            info,
        }
    }

    /// Writes console text: basic targets get it as raw chunks of at most 1000 bytes. If every
    /// target it goes to is extended (checked as it is written, and again as it is sent, for
    /// text that waited for its targets), it goes as a record at [`DEFAULT_LEVEL`] (its trailing
    /// newline dropped), as printk stores a line without a level. Extended targets next to basic
    /// ones get records only.
    pub fn write(&self, text: &[u8]) {
        let (routing, seq) = self.shared.admit(Numbering::Text);
        if routing.all_extended() {
            let text = text.strip_suffix(b"\n").unwrap_or(text);
            let record = ExtendedRecord::new(DEFAULT_LEVEL, seq, self.info.timestamp_us(), text);
            self.submit(Message::Record(record), routing, false);
        } else {
            self.submit(Message::Basic(text), routing, false);
        }
    }

    /// Logs `text` at `level` (0 emergency .. 7 debug) as one record, numbered by the console
    /// and stamped by its [`SystemInfo`]: extended targets get the record (newlines escaped),
    /// basic ones `text\n`.
    pub fn log(&self, level: u8, text: &[u8]) {
        self.log_record(level, text, false);
    }

    /// [`log`](Self::log) and [`log_panic`](Self::log_panic), once: a firmware links both.
    #[inline(never)]
    fn log_record(&self, level: u8, text: &[u8], panicking: bool) {
        let (routing, seq) = self.shared.admit(Numbering::Record);
        let record = ExtendedRecord::new(level, seq, self.info.timestamp_us(), text);
        self.submit(Message::Record(record), routing, panicking);
    }

    /// Sends a record made elsewhere (a kernel's own log buffer, with its own sequence numbers).
    pub fn write_record(&self, record: &ExtendedRecord<'_>) {
        let (routing, _) = self.shared.admit(Numbering::Foreign);
        self.submit(Message::Record(*record), routing, false);
    }

    /// [`log`](Self::log) for a panic handler: if a write holds the console (and no
    /// [`take_over`](Self::take_over) freed it), the message is left in the backlog and counted
    /// as stranded, since the handler cannot wait.
    pub fn log_panic(&self, level: u8, text: &[u8]) {
        self.log_record(level, text, true);
    }

    /// For a panic handler, before it logs: frees the console from a write the panic
    /// interrupted, which `proof` says never runs again. `true` if a write held it. The
    /// interrupted message may then be lost, or sent again in part; the NIC may hold a frame the
    /// interrupted driver call left half built. Linux's nbcon consoles take the same last resort.
    /// The driver's TX batch the write was in is ended, so the frames it queued are notified.
    pub fn take_over(&self, proof: &PanicTakeover) -> bool {
        let taken = self.engine.take_over(proof);
        if taken {
            self.shared.count(&|c| c.takeovers += 1);
            // The interrupted write may have been inside a TX batch (between two frames of a
            // message): its end, which would have notified the device, never comes. End it
            // here, or the frames it queued wait for the next message's batch, which a panic
            // handler that only flushes never starts.
            if let Some(mut engine) = self.engine.try_lock() {
                if let Some(np) = engine.nic.as_mut() {
                    np.driver_mut().end_tx_batch();
                }
            }
        }
        taken
    }

    /// For a panic handler, after it logs: sends the backlog, then waits until the NIC reports
    /// its TX ring drained, reclaiming at most `polls` times 1 ms apart (with the NIC's delay;
    /// without one, back to back). Says what is still queued, so the handler knows whether
    /// resetting the chip now loses frames.
    pub fn flush_for_panic(&self, polls: u32) -> StillQueued {
        self.flush();
        let tx_in_flight = match self.engine.try_lock() {
            Some(mut engine) => engine.nic.as_mut().map_or(0, |np| np.wait_tx_drained(polls, 1000)),
            None => StillQueued::NIC_HELD,
        };
        let backlog_bytes = self.shared.backlog(|b| b.used()).unwrap_or(StillQueued::BACKLOG_BUSY);
        StillQueued { backlog_bytes, tx_in_flight }
    }

    /// Sends what waits in the backlog, as far as the NIC takes it. Call it from an idle loop or
    /// a timer so that deferred messages leave even when nothing new is written. `true` when the
    /// backlog is empty afterwards.
    pub fn flush(&self) -> bool {
        self.settle(&mut self.run());
        self.shared.backlog(|b| b.is_empty()).unwrap_or(false)
    }

    /// The idle loop's call: reclaims TX slots, receives (ARP for our addresses is answered,
    /// every other frame goes to the NIC's receive handler), retries the MAC resolution of
    /// targets left on broadcast, and flushes. The only place besides `enable` where the
    /// console touches received frames.
    pub fn poll(&self) -> bool {
        if let Some(mut engine) = self.engine.try_lock() {
            if let Some(np) = engine.nic.as_mut() {
                np.poll();
            }
            self.retry_resolution(&mut engine);
        }
        self.flush()
    }

    /// A snapshot of the counters, `targets` summed over the targets. Never waits, never fails.
    pub fn counters(&self) -> Counters {
        self.shared.counters()
    }

    /// A snapshot of the counters of the target in slot `index` (zero for a free slot). Never
    /// waits, never sends, never fails for a slot the console has.
    pub fn target_counters(&self, index: usize) -> Result<TargetCounters, crate::ConsoleError> {
        self.shared.target_counters(index).ok_or(crate::ConsoleError::NoSuchTarget)
    }

    /// Bytes waiting in the backlog.
    pub fn backlog_len(&self) -> usize {
        self.shared.used()
    }

    /// Counts a message a writer had to cut.
    pub(crate) fn count_truncated(&self) {
        self.shared.count(&|c| c.truncated += 1);
    }
}
