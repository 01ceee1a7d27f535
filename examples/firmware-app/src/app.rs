//! The scripted run: bring-up, the log, the throughput mode, the deliberate panic.

use netconsole::decimal::Decimal;

use netconsole::{BroadcastReason, Counters, MacSource, Netconsole, Target};
use netpoll_core::{Endpoint, NetPoll, NicEngine, ResolvePolicy};

use crate::clock::{spin_us, Clock, Delay};
use crate::expected::{
    self, Banner, Line, Numbered, Record, LONG_LINE_LEN, NUMBERED_LINES, TIMER_LINES,
};
use crate::panic::{note_errors, panic_now};
use crate::serial::say;
use crate::text::{mac_text, Text};
use crate::timer;
use crate::{ExitCode, Platform, TARGETS};

// `OPTIONS`, the option string compiled in, and `COMPILED_IN`, its targets as build.rs made them.
include!(concat!(env!("OUT_DIR"), "/options.rs"));

/// A target of the option string compiled in, as build.rs made it with
/// `Target::from_options` (which refuses what Linux refuses, so a bad one fails the build).
struct CompiledIn {
    endpoint: Endpoint,
    extended: bool,
    release: bool,
}

/// Bytes of the console's backlog: room for the timer's lines while the main loop holds the
/// console, and for a long line held back by a full ring.
pub const BACKLOG: usize = 8192;

/// The console every example puts in a `static`: up to [`TARGETS`] targets, no userdata, the
/// platform's clock and delay.
pub type AppConsole<D, P> =
    Netconsole<D, Delay<P>, Clock<P>, 0, BACKLOG, [Option<Target<0>>; TARGETS]>;

/// What the banner says about the NIC.
#[derive(Debug, Clone, Copy)]
pub struct DriverInfo {
    /// The driver's name (`virtio-net`, `lan9118`).
    pub name: &'static str,
    /// The register layout or bus mode in use (`legacy`, `modern`, `32-bit PIO`).
    pub layout: &'static str,
}

/// Milliseconds to wait for carrier before giving up.
const CARRIER_TIMEOUT_MS: u32 = 2000;
/// Waits of 1 ms the panic handler gives the NIC to send the message before QEMU exits.
pub(crate) const DRAIN_POLLS: u32 = 100;
/// ARP: 4 requests over 2000 polls, 500 µs apart: one second at most.
const RESOLVE: ResolvePolicy = ResolvePolicy { polls: 2000, wait_us: 500, requests: 4 };
/// Timer period: fast enough that ticks fall while the main loop logs.
const TIMER_PERIOD_US: u32 = 1000;
/// Pause between numbered lines, so the 100 lines span the timer's ticks.
const LINE_GAP_US: u64 = 300;
/// Longest wait for the timer's last tick and for the backlog to empty.
const SETTLE_US: u64 = 3_000_000;

/// Runs the example on `driver` with the console in `console`; never returns (it ends with
/// the deliberate panic, or exits on a bring-up failure).
pub fn run<D, P>(console: &'static AppConsole<D, P>, driver: D, info: DriverInfo) -> !
where
    D: NetPoll + Send + 'static,
    P: Platform,
{
    // The banner, on the serial port now with the NIC's MAC, to the console once it has targets.
    let mut banner = Text::<256>::new();
    Banner { driver: info.name, layout: info.layout }.write_to(&mut banner);
    say::<P>(&[banner.as_bytes(), b", mac ", &mac_text(driver.mac_address())]);
    say::<P>(&[b"netconsole=", OPTIONS.as_bytes()]);
    let mut targets = 0;
    for compiled in COMPILED_IN {
        let mut target = Target::new(compiled.endpoint);
        target.extended = compiled.extended;
        target.release = compiled.release;
        if console.add_target(target).is_err() {
            bring_up_failed::<P>(b"target refused", b"");
        }
        targets += 1;
    }
    if console.attach(NicEngine::with_delay(driver, Delay::new())).is_err() {
        bring_up_failed::<P>(b"NIC not attached", b"");
    }
    if !wait_holding_console(console, Holding::Carrier) {
        bring_up_failed::<P>(b"no carrier", b"");
    }
    for index in 0..targets {
        // One line per target, put together from what `enable` said: one `say` for all.
        let enabled = console.enable(index, RESOLVE);
        let (how, next_hop): (&[u8], _) = match enabled {
            Ok(MacSource::Broadcast(why)) => {
                note_errors();
                let why: &[u8] = match why {
                    BroadcastReason::NoCarrier => b"broadcast: no carrier",
                    BroadcastReason::NoReply => b"broadcast: ARP unanswered",
                    BroadcastReason::NotIpv4 => b"broadcast: not IPv4",
                };
                (why, None)
            }
            Ok(MacSource::Resolved(resolved)) => (b"ARP", Some(resolved)),
            Ok(MacSource::Configured(configured)) => (b"configured", Some(configured)),
            // Its `Display`'s words without `core::fmt`, which this crate never links: a
            // refusal says why, as it would in a firmware built on this one.
            Err(e) => (e.as_str().as_bytes(), None),
        };
        let mac = next_hop.map_or([b'-'; 17], mac_text);
        // One digit: at most `TARGETS` of them.
        const _: () = assert!(TARGETS <= 10);
        say::<P>(&[b"target ", &[b'0' + index as u8], b", next hop ", &mac, b" (", how, b")"]);
        if enabled.is_err() {
            bring_up_failed::<P>(b"target not enabled", b"");
        }
    }

    console.log(6, banner.as_bytes());
    P::start_timer(TIMER_PERIOD_US);
    // The first tick comes while the main loop holds the console, so its line waits in the
    // backlog and leaves when the console is let go: the re-entry this example shows, whatever
    // the timing of the writes below (fast ones may see no tick of their own).
    if !wait_holding_console(console, Holding::TimerTick) {
        say::<P>(&[b"no timer line waited for the console"]);
        note_errors();
    }
    for i in 1..=NUMBERED_LINES {
        log_line(console, &Numbered(i));
        spin_us::<P>(LINE_GAP_US);
    }
    let mut long = [0u8; LONG_LINE_LEN];
    for (i, byte) in long.iter_mut().enumerate() {
        *byte = expected::long_line_byte(i);
    }
    console.log(6, &long);
    let start = P::now_us();
    while timer::ticks() < TIMER_LINES && P::now_us().wrapping_sub(start) < SETTLE_US {
        console.poll();
    }
    P::stop_timer();
    let ticks = timer::ticks();
    if ticks < TIMER_LINES {
        say::<P>(&[b"timer ticks: only ", Decimal::new(ticks.into()).as_bytes()]);
        note_errors();
    }
    settle::<D, P>(console);

    if let Some(records) = option_env!("NETCONSOLE_RECORDS") {
        throughput::<D, P>(console, records);
    }

    let counters = console.counters();
    let mut line = Text::new();
    let lost = counters_line(&counters, &mut line);
    console.log(6, line.as_bytes());
    say::<P>(&[line.as_bytes()]);
    if lost {
        note_errors();
    }
    settle::<D, P>(console);
    if option_env!("NETCONSOLE_PANIC_IN_TICK").is_some() {
        // The panic path from inside the timer's interrupt handler, where that interrupt is
        // active: a platform's wait must not sleep until an interrupt that cannot come.
        timer::PANIC_IN_TICK.store(true, core::sync::atomic::Ordering::Release);
        P::start_timer(TIMER_PERIOD_US);
        spin_us::<P>(SETTLE_US);
        P::stop_timer();
        say::<P>(&[b"no timer tick came to panic in"]);
        note_errors();
    }
    panic_now()
}

/// Logs `line` as one record at level 6 (info), put together on the stack.
fn log_line<D: NetPoll, P: Platform>(console: &AppConsole<D, P>, line: &dyn Line) {
    // Every line the app logs is far shorter than 256 bytes.
    let mut text = Text::<256>::new();
    line.write_to(&mut text);
    console.log(6, text.as_bytes());
}

/// What [`wait_holding_console`] waits for, holding the console.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Holding {
    /// The link, as Linux's netpoll waits for carrier, bounded.
    Carrier,
    /// The NIC done with every frame, bounded (the panic handler, before QEMU exits).
    TxDrained,
    /// The timer's first tick, bounded: its line, logged while this holds the console, waits
    /// in the backlog; `true` if it did.
    TimerTick,
}

/// Waits for `what` while holding the console (its NIC lent to the wait); `false` if it did not
/// come, or the console could not be taken. One function for the three waits: each `with_nic`
/// is a lock and a flush of what nested meanwhile, inlined where it is called.
#[inline(never)]
pub(crate) fn wait_holding_console<D: NetPoll, P: Platform>(
    console: &AppConsole<D, P>,
    what: Holding,
) -> bool {
    console.with_nic(|nic| match what {
        Holding::Carrier => nic.wait_for_carrier(CARRIER_TIMEOUT_MS),
        Holding::TxDrained => nic.wait_tx_drained(DRAIN_POLLS, 1000) == 0,
        Holding::TimerTick => {
            let start = P::now_us();
            while timer::ticks() == 0 && P::now_us().wrapping_sub(start) < SETTLE_US {}
            console.backlog_len() > 0
        }
    }) == Ok(true)
}

/// Flushes the backlog until it is empty, bounded in time.
fn settle<D: NetPoll, P: Platform>(console: &AppConsole<D, P>) {
    let start = P::now_us();
    while !console.poll() && P::now_us().wrapping_sub(start) < SETTLE_US {}
}

/// Logs `records` records as fast as the console takes them and says on the serial port how
/// long that took.
fn throughput<D: NetPoll, P: Platform>(console: &AppConsole<D, P>, records: &str) {
    let Ok(count) = records.trim().parse::<u32>() else {
        say::<P>(&[b"NETCONSOLE_RECORDS=", records.as_bytes(), b": not a whole number"]);
        note_errors();
        return;
    };
    let engine =
        |console: &AppConsole<D, P>| console.with_nic(|e| e.counters()).unwrap_or_default();
    let before = engine(console);
    let start = P::now_us();
    for i in 1..=count {
        log_line(console, &Record(i));
    }
    settle::<D, P>(console);
    let elapsed = P::now_us().wrapping_sub(start).max(1);
    let after = engine(console);
    let rate = u64::from(count) * 1_000_000 / elapsed;
    say::<P>(&[
        b"throughput: ",
        Decimal::new(count.into()).as_bytes(),
        b" records in ",
        Decimal::new(elapsed).as_bytes(),
        b" us (",
        Decimal::new(rate).as_bytes(),
        b" records/s sent)",
    ]);
    // Where a send waited: attempts that found the TX ring full (each then reclaims and waits
    // the engine's retry delay).
    say::<P>(&[
        b"throughput: frames=",
        Decimal::new(after.frames_sent - before.frames_sent).as_bytes(),
        b" busy_retries=",
        Decimal::new(after.busy_retries - before.busy_retries).as_bytes(),
        b" gave_up=",
        Decimal::new(after.gave_up - before.gave_up).as_bytes(),
    ]);
}

/// The counters line: `counters: messages=.. deferred=..`, into `line`; says whether a message
/// was lost (a counter after `frames=` is not zero). The prefix and the names are one string,
/// each name ending at its `=`, and the values one array: a (name, value) pair per counter was
/// 0.4 KB of code and literal pool. Into the caller's line, not returned: the copy of a
/// returned `Text` was a call and its arguments. The losses last, so that one test in the loop
/// tells them, where a test of their own reloaded six 64-bit counters.
fn counters_line(c: &Counters, line: &mut Text<256>) -> bool {
    const NAMES: &[u8] = b"counters: messages= deferred= backlog_high_water= frames= \
        backlog_full= stranded= truncated= link_down= ring_stuck= errors=";
    /// Values before the first loss.
    const NOT_LOSSES: usize = 4;
    // The checker knows the line by its prefix.
    const _: () = assert!(starts_with(NAMES, expected::COUNTERS_PREFIX.as_bytes()));
    let t = &c.targets;
    // As many values as names, or this does not build: a counter added to one list and not
    // the other would otherwise print a 0 or lose its value without a word.
    let values: [u64; equals(NAMES)] = [
        c.messages,
        c.deferred,
        c.backlog_high_water as u64,
        t.frames,
        c.backlog_full.messages,
        c.stranded,
        c.truncated,
        t.link_down.messages,
        t.ring_stuck.messages,
        t.errors.messages,
    ];
    // The names byte by byte, the next value after each `=`.
    let mut lost = false;
    let mut index = 0;
    for &b in NAMES {
        line.bytes(&[b]);
        if b == b'=' {
            let value = values.get(index).copied().unwrap_or_default();
            line.dec(value);
            lost |= index >= NOT_LOSSES && value != 0;
            index += 1;
        }
    }
    lost
}

/// Whether `text` starts with `prefix`, when this crate compiles.
const fn starts_with(text: &[u8], prefix: &[u8]) -> bool {
    if prefix.len() > text.len() {
        return false;
    }
    let mut i = 0;
    while i < prefix.len() {
        if text[i] != prefix[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// How many `=` `names` holds: the counters line's count of names.
const fn equals(names: &[u8]) -> usize {
    let (mut i, mut n) = (0, 0);
    while i < names.len() {
        if names[i] == b'=' {
            n += 1;
        }
        i += 1;
    }
    n
}

/// Says on the serial port that bring-up failed, `why` and `detail` after each other, and
/// exits with [`ExitCode::BringUp`]. Public for the glue's own failures (its NIC's init): one
/// copy of the words and the exit.
pub fn bring_up_failed<P: Platform>(why: &[u8], detail: &[u8]) -> ! {
    say::<P>(&[b"bring-up failed: ", why, detail]);
    P::exit(ExitCode::BringUp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(c: &Counters) -> (std::string::String, bool) {
        let mut text = Text::new();
        let lost = counters_line(c, &mut text);
        (std::string::String::from_utf8(text.as_bytes().to_vec()).unwrap(), lost)
    }

    #[test]
    fn counters_line_names_each_value_and_tells_losses() {
        let mut c = Counters { messages: 122, deferred: 6, ..Counters::default() };
        c.targets.frames = 250;
        let (text, lost) = line(&c);
        assert_eq!(
            text,
            "counters: messages=122 deferred=6 backlog_high_water=0 frames=250 backlog_full=0 \
             stranded=0 truncated=0 link_down=0 ring_stuck=0 errors=0"
        );
        assert!(!lost, "sent frames are not losses");
        let mut each = [Counters::default(); 6];
        each[0].backlog_full.messages = 1;
        each[1].stranded = 1;
        each[2].truncated = 1;
        each[3].targets.link_down.messages = 1;
        each[4].targets.ring_stuck.messages = 1;
        each[5].targets.errors.messages = 1;
        for (i, c) in each.iter().enumerate() {
            assert!(line(c).1, "loss {i} not told");
        }
    }
}
