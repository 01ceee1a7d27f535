//! The scripted run: bring-up, the log, the throughput mode, the deliberate panic.

use core::fmt::Write as _;

use netconsole::{Counters, MacSource, Netconsole, Target};
use netpoll_core::{NetPoll, NicEngine, ResolvePolicy};

use crate::clock::{spin_us, Clock, Delay};
use crate::expected::{self, Banner, Numbered, Record, LONG_LINE_LEN, NUMBERED_LINES, TIMER_LINES};
use crate::panic::{note_errors, panic_now};
use crate::serial::say;
use crate::timer::{self, ARMED};
use crate::{ExitCode, Platform, DEFAULT_OPTIONS};

/// Bytes of the console's backlog: room for the timer's lines while the main loop holds the
/// console, and for a long line held back by a full ring.
pub const BACKLOG: usize = 8192;

/// The console every example puts in a `static`: two targets, no userdata, the platform's
/// clock and delay.
pub type AppConsole<D, P> = Netconsole<D, Delay<P>, Clock<P>, 0, BACKLOG, [Option<Target<0>>; 2]>;

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
    let mac = driver.mac_address();
    say!(P, "firmware-app: {} ({} register layout), mac {}", info.name, info.layout, mac);
    if !netconsole::global::set(console) {
        bring_up_failed::<P>("a global console is set already");
    }
    let options = option_env!("NETCONSOLE_OPTIONS").unwrap_or(DEFAULT_OPTIONS);
    say!(P, "firmware-app: netconsole={options}");
    let mut targets = 0;
    for piece in netconsole_options::targets(options) {
        let parsed = match piece {
            Ok(parsed) => parsed,
            Err(e) => {
                say!(P, "firmware-app: netconsole={options}: {e}");
                bring_up_failed::<P>("bad option string");
            }
        };
        let added = Target::from_options(&parsed.target, None)
            .map_err(|_| ())
            .and_then(|t| console.add_target(t).map_err(|_| ()));
        if added.is_err() {
            bring_up_failed::<P>("target refused");
        }
        targets += 1;
    }
    if console.attach(NicEngine::with_delay(driver, Delay::new())).is_err() {
        bring_up_failed::<P>("NIC not attached");
    }
    if !wait_for_carrier::<D, P>(console) {
        bring_up_failed::<P>("no carrier");
    }
    for index in 0..targets {
        match console.enable(index, RESOLVE) {
            Ok(MacSource::Broadcast(why)) => {
                say!(P, "firmware-app: target {index}: broadcasting ({why:?})");
                note_errors();
            }
            Ok(MacSource::Resolved(mac)) => {
                say!(P, "firmware-app: target {index} enabled, next hop {mac} (ARP)");
            }
            Ok(MacSource::Configured(mac)) => {
                say!(P, "firmware-app: target {index} enabled, next hop {mac} (configured)");
            }
            Err(e) => {
                say!(P, "firmware-app: target {index}: {e}");
                bring_up_failed::<P>("target not enabled");
            }
        }
    }

    log_fmt(console, format_args!("{}", Banner { driver: info.name, layout: info.layout }));
    ARMED.store(true, core::sync::atomic::Ordering::Release);
    P::start_timer(TIMER_PERIOD_US);
    for i in 1..=NUMBERED_LINES {
        log_fmt(console, format_args!("{}", Numbered(i)));
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
    if timer::ticks() < TIMER_LINES {
        say!(P, "firmware-app: only {} of {TIMER_LINES} timer ticks", timer::ticks());
        note_errors();
    }
    settle::<D, P>(console);

    if let Some(records) = option_env!("NETCONSOLE_RECORDS") {
        throughput::<D, P>(console, records);
    }

    let counters = console.counters();
    log_fmt(console, format_args!("{}", CountersLine(&counters)));
    say!(P, "firmware-app: {}", CountersLine(&counters));
    if lost(&counters) {
        note_errors();
    }
    settle::<D, P>(console);
    panic_now()
}

/// Logs `args` as one record at level 6 (info), formatted on the stack.
fn log_fmt<D: NetPoll, P: Platform>(console: &AppConsole<D, P>, args: core::fmt::Arguments<'_>) {
    let mut line: heapless::String<256> = heapless::String::new();
    // Every line the app formats is far shorter than 256 bytes.
    let _ = line.write_fmt(args);
    console.log(6, line.as_bytes());
}

/// Waits for the link as Linux's netpoll waits for carrier, bounded.
fn wait_for_carrier<D: NetPoll, P: Platform>(console: &AppConsole<D, P>) -> bool {
    console.with_nic(|nic| nic.wait_for_carrier(CARRIER_TIMEOUT_MS)) == Ok(true)
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
        say!(P, "firmware-app: NETCONSOLE_RECORDS={records}: not a whole number");
        note_errors();
        return;
    };
    let start = P::now_us();
    for i in 1..=count {
        log_fmt(console, format_args!("{}", Record(i)));
    }
    settle::<D, P>(console);
    let elapsed = P::now_us().wrapping_sub(start).max(1);
    let rate = u64::from(count) * 1_000_000 / elapsed;
    say!(P, "firmware-app: throughput: {count} records in {elapsed} us ({rate} records/s sent)");
}

/// Whether the counters say a message was lost.
fn lost(c: &Counters) -> bool {
    let t = &c.targets;
    c.backlog_full.messages
        + c.stranded
        + c.truncated
        + t.link_down.messages
        + t.ring_stuck.messages
        + t.errors.messages
        != 0
}

/// The counters line.
struct CountersLine<'a>(&'a Counters);

impl core::fmt::Display for CountersLine<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let c = self.0;
        let t = &c.targets;
        write!(
            f,
            "{} messages={} deferred={} backlog_high_water={} backlog_full={} stranded={} \
             truncated={} frames={} link_down={} ring_stuck={} errors={}",
            expected::COUNTERS_PREFIX,
            c.messages,
            c.deferred,
            c.backlog_high_water,
            c.backlog_full.messages,
            c.stranded,
            c.truncated,
            t.frames,
            t.link_down.messages,
            t.ring_stuck.messages,
            t.errors.messages
        )
    }
}

fn bring_up_failed<P: Platform>(why: &str) -> ! {
    say!(P, "firmware-app: bring-up failed: {why}");
    P::exit(ExitCode::BringUp)
}
