//! Issue 10 item 11: the documented worst-case work of one write, checked against adversarial
//! input: every byte escaped, a full backlog, a nested write on every transmit, and a ring that
//! frees a slot only on the last of a datagram's tries (then one that never frees one).

mod common;

use std::sync::atomic::{AtomicBool, Ordering};

use common::quirky_nic::{Quirks, QuirkyNic};
use common::{OUR_MAC, PEER_MAC};
use netconsole::{Netconsole, Sysdata, SystemInfo, Target};
use netpoll_core::XmitError;
use netpoll_core::{Endpoint, NicEngine, NoDelay, ResolvePolicy, RetryPolicy};
use netpoll_drivers::sim::{SimCounters, SimNic};

/// Transmit attempts per datagram.
const T: u32 = 5;
/// Backlog bytes.
const B: usize = 4096;

struct Info;
impl SystemInfo for Info {
    fn cpu(&self) -> u32 {
        u32::MAX
    }
    fn task_name(&self) -> &str {
        "worst-case-task"
    }
    fn release(&self) -> &str {
        "6.18.0-a-release-string-as-long-as-linux-allows-it-is-64-bytes!!"
    }
}

/// The sim's ring, once armed, takes a datagram only on its last try: after each frame it
/// stays full for T - 2 reclaims, and the engine reclaims T - 1 times between a datagram's tries.
struct LastTry;

static ARMED: AtomicBool = AtomicBool::new(false);

impl Quirks<SimNic<1, 4>> for LastTry {
    fn after_xmit(&mut self, sim: &mut SimNic<1, 4>, result: Result<(), XmitError>) {
        if result.is_ok() && ARMED.load(Ordering::SeqCst) {
            sim.fill_ring_for(u64::from(T) - 2);
        }
    }
}

type Nic = QuirkyNic<SimNic<1, 4>, LastTry>;
type Console = Netconsole<Nic, NoDelay, Info, 2, B, [Option<Target<2>>; 2]>;
static CONSOLE: Console = Console::new(Info);

/// A short message of bytes that are all escaped, written from inside every transmit.
fn nested_write() {
    CONSOLE.log(7, &[0x01; 32]);
}

fn sim() -> SimCounters {
    CONSOLE.with_nic(|np| np.driver().inner.counters()).unwrap()
}

fn ceil(a: u64, b: u64) -> u64 {
    a.div_ceil(b)
}

/// The documented bound on the datagrams of one `n`-byte message (no dictionary) to an extended
/// target with `x` bytes of userdata and sysdata: S = 4n + 1 + 21 + x, over 1000 - 160 bytes.
fn extended(n: u64, x: u64) -> u64 {
    ceil(4 * n + 22 + x, 840)
}

/// ... and to a basic target: the text and a newline in 1000-byte chunks.
fn basic(n: u64) -> u64 {
    ceil(n + 1, 1000)
}

/// The documented bound on the datagrams of the backlog entries one write sends, which add up to
/// at most `q` bytes, 34 of header each: (q/34)(1 + (22 + x)/840) + 4q/840 for an extended
/// target, q/34 + q/1000 for a basic one (rounded up).
fn entries(q: u64, x: u64) -> u64 {
    ceil(q * (840 + 22 + x), 34 * 840) + ceil(4 * q, 840) + ceil(q, 34) + ceil(q, 1000)
}

#[test]
fn one_write_stays_within_the_documented_worst_case() {
    let mut np = NicEngine::new(QuirkyNic::new(SimNic::new(OUR_MAC), LastTry));
    np.set_retry_policy(RetryPolicy { tries: T, wait_us: 0 });
    assert!(CONSOLE.attach(np).is_ok());
    let mut endpoint = Endpoint::new("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    endpoint.remote_mac = Some(PEER_MAC);
    let mut ext = Target::new(endpoint);
    ext.extended = true;
    ext.release = true;
    ext.sysdata = Sysdata::ALL;
    ext.userdata.set(b"key", &[b'v'; 199]).unwrap();
    let x = (1 + 3 + 1 + 199 + 1) + (16 + 26 + 74 + 18); // userdata + sysdata, at most
    for target in [Target::new(endpoint), ext] {
        let i = CONSOLE.add_target(target).unwrap();
        CONSOLE.enable(i, ResolvePolicy::default()).unwrap();
    }

    // A full backlog: the ring never drains while it fills.
    CONSOLE.with_nic(|np| np.driver_mut().inner.never_drain()).unwrap();
    while CONSOLE.counters().backlog_full.messages == 0 {
        CONSOLE.log(7, &[0x01; 32]);
    }
    // The ring now takes each datagram on its last try, and every transmit writes a message.
    CONSOLE
        .with_nic(|np| {
            np.driver_mut().inner.fill_ring_for(u64::from(T) - 2);
            np.driver_mut().inner.set_xmit_hook(Some(nested_write));
        })
        .unwrap();
    ARMED.store(true, Ordering::SeqCst);

    let waiting = CONSOLE.backlog_len() as u64;
    assert!(waiting > B as u64 - 100, "full: {waiting}");
    let before = sim();
    CONSOLE.log(6, &[0x02; 3000]);
    let after = sim();
    let calls = after.xmit_calls - before.xmit_calls;
    let frames = after.frames - before.frames;
    println!("{calls} transmit calls for {frames} datagrams, {waiting} bytes waiting before");

    let own = extended(3000, x) + basic(3000);
    let bound = u64::from(T) * (1 + own + entries(waiting + B as u64, x));
    assert_eq!(calls, u64::from(T) * frames, "every datagram took all {T} tries");
    assert!(calls <= bound, "{calls} transmit calls, the documented bound is {bound}");
    assert!(frames > own, "the write sent the backlog too ({frames} frames)");
    assert!(CONSOLE.backlog_len() > 0, "nested writes go on: the byte budget ended the write");

    // A ring that never frees a slot: one datagram's tries, then the write stops.
    CONSOLE
        .with_nic(|np| {
            np.driver_mut().inner.set_xmit_hook(None);
            np.driver_mut().inner.never_drain();
        })
        .unwrap();
    let before = sim();
    CONSOLE.log(6, &[0x02; 3000]);
    assert_eq!(sim().xmit_calls - before.xmit_calls, u64::from(T));
}
