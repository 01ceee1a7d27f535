//! Found by review: what a firmware meets when it reconfigures targets around a message that
//! waits, keeps targets past the 32 the console serves, or changes its release between tries.

// Without the `extended` feature the tests of that format are not built, nor need their helpers.
#![cfg_attr(not(feature = "extended"), allow(dead_code, unused_imports))]

mod common;

use core::cell::Cell;
use core::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{drain, target, texts, OUR_MAC};
use managed::ManagedSlice;
use netconsole::{
    ConsoleError, Dropped, MessageWriter, Netconsole, NoSystemInfo, SystemInfo, Target,
    TargetCounters, TargetStorage,
};
use netpoll_core::{NicEngine, NoDelay, ResolvePolicy, RetryPolicy};
use netpoll_drivers::sim::SimNic;

fn one_slot_one_try() -> NicEngine<SimNic<1, 64>> {
    let mut np = NicEngine::new(SimNic::new(OUR_MAC));
    np.set_retry_policy(RetryPolicy { tries: 1, wait_us: 0 });
    np
}

// Slots past the 32 the console serves are not used: every call says so, none panics.

type Lent<'a> =
    Netconsole<SimNic<4, 64>, NoDelay, NoSystemInfo, 2, 1024, ManagedSlice<'a, Option<Target<2>>>>;

#[test]
fn a_target_the_storage_holds_past_slot_32_is_refused_not_a_panic() {
    let mut slots: [Option<Target<2>>; 40] = netconsole::no_targets();
    slots[35] = Some(target(6666, false));
    let c: Lent<'_> = Netconsole::with_storage(NoSystemInfo, ManagedSlice::from(&mut slots[..]));
    assert!(c.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    let refused = Err(ConsoleError::NoSuchTarget);
    assert_eq!(c.enable(35, ResolvePolicy::default()).map(|_| ()), refused);
    assert_eq!(c.disable(35), refused);
    assert_eq!(c.remove_target(35).map(|_| ()), refused);
    assert_eq!(c.with_target(35, |_| ()), refused);
    c.log(6, b"nobody");
    assert_eq!(c.with_nic(|np| drain(np.driver_mut()).len()).unwrap(), 0);
}

// Early-boot messages wait for the first enabled target, whichever slot it takes.

type OneTarget = Netconsole<SimNic<4, 64>, NoDelay, NoSystemInfo, 2, 1024, [Option<Target<2>>; 1]>;

#[test]
fn early_messages_reach_a_target_added_after_another_was_removed_before_any_enable() {
    let c = OneTarget::new(NoSystemInfo);
    c.log(6, b"early");
    assert!(c.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    // The firmware reads its configuration, changes its mind, and adds another target.
    let i = c.add_target(target(6666, false)).unwrap();
    c.remove_target(i).unwrap();
    let i = c.add_target(target(6667, false)).unwrap();
    c.enable(i, ResolvePolicy::default()).unwrap();
    assert!(c.flush());
    let sent = c.with_nic(|np| drain(np.driver_mut())).unwrap();
    assert_eq!(sent, [(6667, b"early\n".to_vec())], "replayed to the first enabled target");
    assert_eq!(c.counters().targets.messages, 1);
}

// A target disabled partway through a message, reconfigured and enabled again before the rest
// is sent, does not get the rest cut for its old format or sent to its new address.

type OneSlot = Netconsole<SimNic<1, 64>, NoDelay, NoSystemInfo, 2, 8192, [Option<Target<2>>; 2]>;

#[cfg(feature = "extended")]
#[test]
fn a_target_reconfigured_between_tries_gets_no_tail_of_a_message_cut_for_its_old_format() {
    let c = OneSlot::new(NoSystemInfo);
    assert!(c.attach(one_slot_one_try()).is_ok());
    let i = c.add_target(target(6666, false)).unwrap();
    c.enable(i, ResolvePolicy::default()).unwrap();
    c.log(6, &[b'x'; 3000]); // one basic chunk leaves, the rest waits
    assert_eq!(c.with_nic(|np| drain(np.driver_mut()).len()).unwrap(), 1);

    c.disable(i).unwrap();
    c.with_target(i, |t| {
        t.extended = true;
        t.endpoint.remote_port = 7777;
    })
    .unwrap();
    c.enable(i, ResolvePolicy::default()).unwrap();
    for _ in 0..8 {
        c.poll();
    }
    c.log(6, b"after");
    for _ in 0..3 {
        c.poll();
    }
    let sent = c.with_nic(|np| drain(np.driver_mut())).unwrap();
    for (port, p) in &sent {
        let text = String::from_utf8_lossy(p);
        assert_eq!(*port, 7777);
        assert!(!text.contains(",ncfrag=") || text.contains(",ncfrag=0/"), "a tail: {text}");
    }
    assert_eq!(texts(sent).last().map(String::as_str), Some("6,1,0,-;after\n"));
    assert_eq!(c.backlog_len(), 0);
}

// The release prefix changing between tries does not move the cut points.

static RELEASE_AT: AtomicUsize = AtomicUsize::new(0);
const RELEASES: [&str; 2] = ["6.18.0-a-long-release-string-for-the-first-try", "6.18"];

struct Changing;
impl SystemInfo for Changing {
    fn release(&self) -> &str {
        RELEASES[RELEASE_AT.load(Ordering::SeqCst)]
    }
}

type Released = Netconsole<SimNic<1, 64>, NoDelay, Changing, 2, 8192, [Option<Target<2>>; 1]>;

#[cfg(feature = "extended")]
#[test]
fn a_release_change_between_tries_does_not_move_the_cut_points() {
    let c = Released::new(Changing);
    assert!(c.attach(one_slot_one_try()).is_ok());
    let mut t = target(6666, true);
    t.release = true;
    let i = c.add_target(t).unwrap();
    c.enable(i, ResolvePolicy::default()).unwrap();
    c.log(6, &[b'y'; 2500]); // the first fragment leaves, the rest waits
    RELEASE_AT.store(1, Ordering::SeqCst);
    for _ in 0..5 {
        c.poll();
    }
    assert_eq!(c.backlog_len(), 0);
    let sent = c.with_nic(|np| drain(np.driver_mut())).unwrap();
    // Each fragment's data range, as its ncfrag offset and its body length say.
    let mut ranges = Vec::new();
    for (_, p) in &sent {
        let text = String::from_utf8_lossy(p);
        let at = text.find(",ncfrag=").expect("fragmented") + 8;
        let semi = text.find(';').unwrap();
        let offset: usize = text[at..semi].split_once('/').unwrap().0.parse().unwrap();
        ranges.push((offset, offset + p.len() - semi - 1));
    }
    assert_eq!(ranges.first().map(|r| r.0), Some(0));
    for pair in ranges.windows(2) {
        assert_eq!(pair[0].1, pair[1].0, "each byte once, no overlap, no gap: {ranges:?}");
    }
    assert_eq!(ranges.last().map(|r| r.1), Some(2501));
}

// A panic handler that did not take the console over cannot ask the NIC: it is not told
// "drained".

type Held = Netconsole<SimNic<4, 64>, NoDelay, NoSystemInfo, 2, 1024, [Option<Target<2>>; 1]>;
static HELD: Held = Held::new(NoSystemInfo);
static HELD_CALLS: AtomicUsize = AtomicUsize::new(0);
static HELD_IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

fn panic_handler_without_takeover() {
    if HELD_CALLS.fetch_add(1, Ordering::SeqCst) == 1 {
        HELD.log_panic(0, b"panic");
        let left = HELD.flush_for_panic(3);
        HELD_IN_FLIGHT.store(left.tx_in_flight, Ordering::SeqCst);
    }
}

#[test]
fn flush_for_panic_does_not_report_a_drained_nic_it_could_not_ask() {
    assert!(HELD.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    let i = HELD.add_target(target(6666, false)).unwrap();
    HELD.enable(i, ResolvePolicy::default()).unwrap();
    HELD.with_nic(|np| np.driver_mut().set_xmit_hook(Some(panic_handler_without_takeover)))
        .unwrap();
    // The first chunk is queued (the sim holds it until a reclaim); the panic strikes in the
    // second transmit, while the write holds the NIC.
    HELD.write(&[b'z'; 1500]);
    assert_ne!(HELD_IN_FLIGHT.load(Ordering::SeqCst), 0, "a frame was in flight, unasked");
}

// A panic inside the driver while a message writer sends its record: unwinding drops the writer,
// which must not send the record a second time.

type Two = Netconsole<SimNic<4, 64>, NoDelay, NoSystemInfo, 2, 1024, [Option<Target<2>>; 2]>;
static UNWOUND: Two = Two::new(NoSystemInfo);
static UNWOUND_CALLS: AtomicUsize = AtomicUsize::new(0);

fn driver_panics_on_the_second_transmit() {
    if UNWOUND_CALLS.fetch_add(1, Ordering::SeqCst) == 1 {
        panic!("driver fault");
    }
}

#[test]
fn a_writer_dropped_by_a_panic_in_its_send_does_not_send_its_record_again() {
    assert!(UNWOUND.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    for port in [6666, 6667] {
        let i = UNWOUND.add_target(target(port, false)).unwrap();
        UNWOUND.enable(i, ResolvePolicy::default()).unwrap();
    }
    UNWOUND
        .with_nic(|np| np.driver_mut().set_xmit_hook(Some(driver_panics_on_the_second_transmit)))
        .unwrap();
    let outcome = std::panic::catch_unwind(|| {
        let mut w = MessageWriter::<64>::new(&UNWOUND, 6);
        w.write_str("once").unwrap();
        w.end(); // the newest target gets it, the driver panics for the other
    });
    assert!(outcome.is_err(), "the driver panicked");
    let sent = UNWOUND.with_nic(|np| drain(np.driver_mut())).unwrap();
    assert_eq!(sent, [(6667, b"once\n".to_vec())], "one record, sent once");
    assert_eq!(UNWOUND.counters().messages, 1);
}

// An enabled target refuses reconfiguration however the change is made: assigning a whole new
// target is a change of its addresses, and whether it is enabled is the console's to say.

#[test]
fn an_enabled_target_replaced_whole_is_refused_and_stays_enabled() {
    let c = OneTarget::new(NoSystemInfo);
    assert!(c.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    let i = c.add_target(target(6666, false)).unwrap();
    c.enable(i, ResolvePolicy::default()).unwrap();
    assert_eq!(c.with_target(i, |t| *t = target(7000, true)), Err(ConsoleError::TargetEnabled));
    assert_eq!(c.with_target(i, |t| t.is_enabled()), Ok(true));
    c.log(6, b"still here");
    let sent = c.with_nic(|np| drain(np.driver_mut())).unwrap();
    assert_eq!(sent, [(6666, b"still here\n".to_vec())]);

    // A disabled target made from a copy of an enabled one is still disabled: it can be enabled.
    let copy = c.with_target(i, |t| t.clone()).unwrap();
    c.disable(i).unwrap();
    c.with_target(i, |t| *t = copy).unwrap();
    assert_eq!(c.with_target(i, |t| t.is_enabled()), Ok(false));
    assert!(c.enable(i, ResolvePolicy::default()).is_ok());
}

// A write whose message does not fit behind what waits sends it once what waited is out: a
// message a nested write adds meanwhile does not overtake it.

type Small = Netconsole<SimNic<4, 64>, NoDelay, NoSystemInfo, 2, 1024, [Option<Target<2>>; 1]>;
static OVERTAKE: Small = Small::new(NoSystemInfo);
static OVERTAKE_ON: AtomicUsize = AtomicUsize::new(0);

fn interrupt_writes_once() {
    if OVERTAKE_ON.swap(0, Ordering::SeqCst) == 1 {
        OVERTAKE.log(6, b"later");
    }
}

#[test]
fn a_message_too_big_to_wait_is_not_overtaken_by_a_later_nested_one() {
    assert!(OVERTAKE.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    let i = OVERTAKE.add_target(target(6666, false)).unwrap();
    OVERTAKE.enable(i, ResolvePolicy::default()).unwrap();
    OVERTAKE.with_nic(|np| np.driver_mut().never_drain()).unwrap();
    OVERTAKE.log(6, &[b'a'; 300]); // waits: the ring is full
    OVERTAKE
        .with_nic(|np| {
            np.driver_mut().heal();
            np.driver_mut().set_xmit_hook(Some(interrupt_writes_once));
        })
        .unwrap();
    OVERTAKE_ON.store(1, Ordering::SeqCst);
    OVERTAKE.log(6, &[b'b'; 800]); // no room behind the first: it goes once the first is out
    assert_eq!(OVERTAKE.backlog_len(), 0);
    let firsts: Vec<u8> =
        OVERTAKE.with_nic(|np| drain(np.driver_mut())).unwrap().iter().map(|(_, p)| p[0]).collect();
    assert_eq!(String::from_utf8_lossy(&firsts), "abl", "in the order they were written");
}

// 32 targets, a small backlog, a ring that stalls at random, a flapping link, nested writes:
// every message each target was owed is sent to it or counted for it, and nothing panics.

type Many = Netconsole<SimNic<2, 4>, NoDelay, NoSystemInfo, 2, 1500, [Option<Target<2>>; 32]>;
static MANY: Many = Many::new(NoSystemInfo);
static SEED: AtomicUsize = AtomicUsize::new(12345);

fn next_random() -> usize {
    let s = SEED
        .load(Ordering::SeqCst)
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    SEED.store(s, Ordering::SeqCst);
    s >> 33
}

fn sometimes_nested() {
    if next_random().is_multiple_of(97) {
        MANY.log(6, &[0x01; 20]);
    }
}

#[cfg(feature = "extended")]
#[test]
fn thirty_two_targets_a_tiny_backlog_and_a_stalling_ring_count_every_message() {
    let mut np = NicEngine::new(SimNic::new(OUR_MAC));
    np.set_retry_policy(RetryPolicy { tries: 2, wait_us: 0 });
    assert!(MANY.attach(np).is_ok());
    for k in 0..32u16 {
        let mut t = target(6000 + k, k % 2 == 0);
        t.sysdata.msgid = k % 4 == 0;
        let i = MANY.add_target(t).unwrap();
        MANY.enable(i, ResolvePolicy::default()).unwrap();
    }
    MANY.with_nic(|np| np.driver_mut().set_xmit_hook(Some(sometimes_nested))).unwrap();
    for round in 0..300usize {
        let len = [0, 1, 40, 999, 1000, 1001, 2500][next_random() % 7];
        MANY.log(6, &vec![b'a' + (round % 26) as u8; len]);
        MANY.with_nic(|np| {
            np.driver_mut().clear_sent();
            if next_random().is_multiple_of(3) {
                np.driver_mut().fill_ring_for((next_random() % 5) as u64);
            } else if next_random().is_multiple_of(5) {
                np.driver_mut().never_drain();
            } else if next_random().is_multiple_of(9) {
                np.driver_mut().heal();
            }
            // The link flaps now and then, between messages and in the backlog's way.
            np.driver_mut().set_link(!next_random().is_multiple_of(13));
        })
        .unwrap();
    }
    MANY.with_nic(|np| {
        np.driver_mut().set_xmit_hook(None);
        np.driver_mut().heal();
        np.driver_mut().set_link(true);
    })
    .unwrap();
    for _ in 0..10_000 {
        if MANY.poll() {
            break;
        }
        MANY.with_nic(|np| np.driver_mut().clear_sent()).unwrap();
    }
    assert_eq!(MANY.backlog_len(), 0);
    let c = MANY.counters();
    let kept = c.messages - c.backlog_full.messages - c.refused.messages;
    for i in 0..32 {
        let t = MANY.target_counters(i).unwrap();
        let accounted =
            t.messages + t.ring_stuck.messages + t.link_down.messages + t.errors.messages;
        assert_eq!(accounted, kept, "target {i}: {t:?}, console {c:?}");
    }
    let t = c.targets;
    assert!(c.deferred > 0 && c.backlog_full.messages > 0, "the run reached the backlog: {c:?}");
    assert!(t.ring_stuck.messages > 0 && t.link_down.messages > 0, "and its losses: {c:?}");
}

// A free slot's counters read zero, as target_counters promises, also after a removal.

#[test]
fn the_counters_of_a_slot_freed_by_a_removal_read_zero() {
    let c = OneTarget::new(NoSystemInfo);
    assert!(c.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    let i = c.add_target(target(6666, false)).unwrap();
    c.enable(i, ResolvePolicy::default()).unwrap();
    c.log(6, b"counted");
    let removed = c.remove_target(i).unwrap();
    assert_eq!(removed.counters().messages, 1, "the target takes its counts with it");
    assert_eq!(c.target_counters(i).map(|t| t.messages), Ok(0), "the free slot reads zero");
    assert_eq!(c.counters().targets.messages, 1, "the console's sum keeps them");
}

// A message an interrupt defers while a configuration call holds the console is sent when the
// call lets go, even when the call itself took entries out of the backlog meanwhile.

/// Target storage that lets an "interrupt" write when the console looks at its slots: the moment
/// an interrupt could strike inside `remove_target`.
struct Interrupted([Option<Target<2>>; 2]);

const NONE: Dropped = Dropped { messages: 0, bytes: 0 };
const ZERO: TargetCounters = TargetCounters {
    messages: 0,
    frames: 0,
    bytes: 0,
    link_down: NONE,
    ring_stuck: NONE,
    errors: NONE,
    mac_switches: 0,
};

static INTERRUPT_ARMED: AtomicUsize = AtomicUsize::new(0);

impl TargetStorage<2> for Interrupted {
    type Counters = [Cell<TargetCounters>; 2];
    #[allow(clippy::declare_interior_mutable_const)]
    const COUNTERS: Self::Counters = [const { Cell::new(ZERO) }; 2];
    fn slots(&self) -> &[Option<Target<2>>] {
        &self.0
    }
    fn slots_mut(&mut self) -> &mut [Option<Target<2>>] {
        if INTERRUPT_ARMED.swap(0, Ordering::SeqCst) == 1 {
            CONFIGURED.log(6, b"from an interrupt");
        }
        &mut self.0
    }
}

type Configured = Netconsole<SimNic<4, 64>, NoDelay, NoSystemInfo, 2, 1024, Interrupted>;
static CONFIGURED: Configured =
    Netconsole::with_storage(NoSystemInfo, Interrupted(netconsole::no_targets()));

#[test]
fn a_message_deferred_during_a_removal_is_sent_when_the_removal_lets_go() {
    assert!(CONFIGURED.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    let a = CONFIGURED.add_target(target(6666, false)).unwrap();
    CONFIGURED.enable(a, ResolvePolicy::default()).unwrap();
    CONFIGURED.with_nic(|np| np.driver_mut().never_drain()).unwrap();
    CONFIGURED.log(6, b"for the first target only"); // waits: the ring is full
    CONFIGURED.with_nic(|np| np.driver_mut().heal()).unwrap();
    let b = CONFIGURED.add_target(target(6667, false)).unwrap();
    CONFIGURED.enable(b, ResolvePolicy::default()).unwrap();

    INTERRUPT_ARMED.store(1, Ordering::SeqCst);
    CONFIGURED.remove_target(a).unwrap(); // takes the first message out; the interrupt adds one
    assert_eq!(CONFIGURED.backlog_len(), 0, "sent when remove_target let go");
    let sent = CONFIGURED.with_nic(|np| drain(np.driver_mut())).unwrap();
    assert_eq!(sent, [(6667, b"from an interrupt\n".to_vec())]);
}

// No backlog at all, empty and huge messages (longer than an entry's 16-bit lengths): never a
// panic, every message sent or counted.

type NoBacklog = Netconsole<SimNic<1, 64>, NoDelay, NoSystemInfo, 2, 0, [Option<Target<2>>; 2]>;
type Roomy = Netconsole<SimNic<1, 64>, NoDelay, NoSystemInfo, 2, 200_000, [Option<Target<2>>; 2]>;

#[cfg(feature = "extended")]
#[test]
fn no_backlog_empty_and_huge_messages_are_sent_or_counted() {
    let c = NoBacklog::new(NoSystemInfo);
    c.log(6, b"before a target"); // nowhere to wait
    assert_eq!(c.counters().backlog_full.messages, 1);
    assert!(c.attach(one_slot_one_try()).is_ok());
    for (port, extended) in [(6666, false), (6667, true)] {
        let i = c.add_target(target(port, extended)).unwrap();
        c.enable(i, ResolvePolicy::default()).unwrap();
    }
    c.write(b""); // no datagram: no text, and console text is not for the extended target
    c.log(6, b""); // one record: "\n" to the basic target, a header to the extended one
    c.log(6, b"ring full now"); // the only slot is taken: no backlog to wait in
    let t = c.counters().targets;
    assert!(t.ring_stuck.messages >= 1, "{t:?}");
    assert_eq!(c.backlog_len(), 0);

    let c = Roomy::new(NoSystemInfo);
    assert!(c.attach(one_slot_one_try()).is_ok());
    let i = c.add_target(target(6666, true)).unwrap();
    c.enable(i, ResolvePolicy::default()).unwrap();
    let huge = vec![0x01u8; 70_000]; // escaped to 280,000 bytes; longer than an entry allows
    c.log(6, &huge); // the first fragment leaves, the rest cannot be kept: counted
    let t = c.target_counters(i).unwrap();
    assert_eq!((t.frames, t.ring_stuck.messages, t.ring_stuck.bytes), (1, 1, 70_000));
    c.with_nic(|np| np.driver_mut().never_drain()).unwrap();
    c.log(6, b"short"); // waits
    c.log(6, &huge); // behind it, with no entry to hold it: counted as backlog_full
    assert_eq!(c.counters().backlog_full.bytes, 70_000);
}

// A nested write at every transmit of a run of messages, one run per point: every target gets
// the nested message once, after the message being sent when it was written and before the next.

type Point = Netconsole<SimNic<1, 64>, NoDelay, NoSystemInfo, 2, 8192, [Option<Target<2>>; 2]>;
static POINT: std::sync::Mutex<Option<&'static Point>> = std::sync::Mutex::new(None);

/// A fresh console of its own (leaked: hooks reach it through a `static`) on the sim, with
/// `tries` per datagram, a basic target on 6666 and an extended one on 6667, both enabled.
fn point_console(tries: u32) -> &'static Point {
    let console: &'static Point = Box::leak(Box::new(Point::new(NoSystemInfo)));
    let mut np = NicEngine::new(SimNic::new(OUR_MAC));
    np.set_retry_policy(RetryPolicy { tries, wait_us: 0 });
    assert!(console.attach(np).is_ok());
    for (port, extended) in [(6666, false), (6667, true)] {
        let i = console.add_target(target(port, extended)).unwrap();
        console.enable(i, ResolvePolicy::default()).unwrap();
    }
    console
}
static POINT_AT: AtomicUsize = AtomicUsize::new(0);
static POINT_CALLS: AtomicUsize = AtomicUsize::new(0);
static POINT_WRITING: AtomicUsize = AtomicUsize::new(0);
static POINT_DURING: AtomicUsize = AtomicUsize::new(usize::MAX);

fn nested_at_the_chosen_transmit() {
    if POINT_CALLS.fetch_add(1, Ordering::SeqCst) + 1 == POINT_AT.load(Ordering::SeqCst) {
        POINT_DURING.store(POINT_WRITING.load(Ordering::SeqCst), Ordering::SeqCst);
        let console = POINT.lock().unwrap().unwrap();
        console.log(6, b"n");
    }
}

/// The first byte of each message a target got, runs of fragments of one message collapsed.
fn firsts(payloads: &[Vec<u8>], extended: bool) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::new();
    for p in payloads {
        let body = if extended { &p[p.iter().position(|&b| b == b';').unwrap() + 1..] } else { p };
        if out.last() != Some(&body[0]) {
            out.push(body[0]);
        }
    }
    out
}

#[cfg(feature = "extended")]
#[test]
fn a_nested_write_at_any_transmit_arrives_once_in_its_place_for_every_target() {
    let messages: [&[u8]; 3] = [&[b'a'; 2500], b"b", &[b'c'; 1500]];
    // Three tries: the ring always frees a slot in time. One: every other datagram finds it full,
    // and the rest waits in the backlog for the idle loop.
    for (tries, at) in [3, 1].into_iter().flat_map(|t| (1..=24).map(move |at| (t, at))) {
        let console = point_console(tries);
        *POINT.lock().unwrap() = Some(console);
        POINT_CALLS.store(0, Ordering::SeqCst);
        POINT_AT.store(at, Ordering::SeqCst);
        POINT_DURING.store(usize::MAX, Ordering::SeqCst);
        console
            .with_nic(|np| np.driver_mut().set_xmit_hook(Some(nested_at_the_chosen_transmit)))
            .unwrap();
        for (k, m) in messages.iter().enumerate() {
            POINT_WRITING.store(k, Ordering::SeqCst);
            console.log(6, m);
        }
        for _ in 0..100 {
            if console.poll() {
                break;
            }
        }
        assert_eq!(console.backlog_len(), 0, "at {at}");
        assert_eq!(console.counters().backlog_full.messages, 0, "room for every message");
        let sent = console.with_nic(|np| drain(np.driver_mut())).unwrap();
        let during = POINT_DURING.load(Ordering::SeqCst);
        let mut want = b"abc".to_vec();
        if during != usize::MAX {
            want.insert(during + 1, b'n');
        }
        let basic_bytes: usize =
            sent.iter().filter(|(p, _)| *p == 6666).map(|(_, b)| b.len()).sum();
        assert_eq!(basic_bytes, 2501 + 2 + 1501 + 2 * usize::from(during != usize::MAX), "once");
        for (port, extended) in [(6666, false), (6667, true)] {
            let to: Vec<Vec<u8>> =
                sent.iter().filter(|(p, _)| *p == port).map(|(_, b)| b.clone()).collect();
            assert_eq!(
                String::from_utf8_lossy(&firsts(&to, extended)),
                String::from_utf8_lossy(&want),
                "nested write at transmit {at} of {tries} tries, port {port}"
            );
        }
    }
}

// The driver panics at any transmit of a run of messages (std panic, caught): the console is not
// left locked or inconsistent, and what is written afterwards arrives.

static FAULTY: std::sync::Mutex<Option<&'static Point>> = std::sync::Mutex::new(None);
static FAULTY_AT: AtomicUsize = AtomicUsize::new(0);
static FAULTY_CALLS: AtomicUsize = AtomicUsize::new(0);

fn panics_at_the_chosen_transmit() {
    if FAULTY_CALLS.fetch_add(1, Ordering::SeqCst) + 1 == FAULTY_AT.load(Ordering::SeqCst) {
        panic!("driver fault at transmit {}", FAULTY_AT.load(Ordering::SeqCst));
    }
}

#[cfg(feature = "extended")]
#[test]
fn a_driver_panic_at_any_transmit_leaves_the_console_working() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info.payload().downcast_ref::<String>().map_or("", String::as_str);
        if !message.starts_with("driver fault") {
            default(info);
        }
    }));
    for (tries, at) in [3, 1].into_iter().flat_map(|t| (1..=12).map(move |at| (t, at))) {
        let console = point_console(tries);
        *FAULTY.lock().unwrap() = Some(console);
        FAULTY_CALLS.store(0, Ordering::SeqCst);
        FAULTY_AT.store(at, Ordering::SeqCst);
        console
            .with_nic(|np| np.driver_mut().set_xmit_hook(Some(panics_at_the_chosen_transmit)))
            .unwrap();
        // Asserted, not assumed: what follows checks the console is usable after the unwind.
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            for m in [&[b'a'; 2500][..], b"b", &[b'c'; 1500]] {
                console.log(6, m);
            }
        }));
        let _ = run; // the run may have fewer transmits than `at`
        FAULTY_AT.store(0, Ordering::SeqCst);
        for _ in 0..100 {
            if console.poll() {
                break;
            }
        }
        console.with_nic(|np| np.driver_mut().clear_sent()).unwrap();
        console.log(6, b"after");
        for _ in 0..100 {
            if console.poll() {
                break;
            }
        }
        let sent = console.with_nic(|np| drain(np.driver_mut())).unwrap();
        let after: Vec<u16> =
            sent.iter().filter(|(_, p)| p.ends_with(b"after\n")).map(|(port, _)| *port).collect();
        assert_eq!(after, [6667, 6666], "transmit {at} of {tries} tries");
        assert_eq!(console.backlog_len(), 0);
    }
    let _ = std::panic::take_hook();
}

// Configuration from inside a write (the driver, an interrupt) is refused with Busy, changes
// nothing, and the write goes on.

static INSIDE: OneSlot = OneSlot::new(NoSystemInfo);
static INSIDE_ON: AtomicUsize = AtomicUsize::new(0);
static INSIDE_REFUSED: AtomicUsize = AtomicUsize::new(0);

fn configures_from_inside() {
    if INSIDE_ON.swap(0, Ordering::SeqCst) == 1 {
        let busy = Err(ConsoleError::Busy);
        let refusals = [
            INSIDE.add_target(target(7000, false)).map(|_| ()) == busy,
            INSIDE.remove_target(0).map(|_| ()) == busy,
            INSIDE.disable(0) == busy,
            INSIDE.enable(1, ResolvePolicy::default()).map(|_| ()) == busy,
            INSIDE.with_target(0, |t| t.userdata.set(b"k", b"v").map_err(|_| ())).is_err(),
            INSIDE.detach().map(|_| ()) == busy,
            INSIDE.set_carrier_timeout_ms(1) == busy,
        ];
        let refused = refusals.iter().filter(|&&r| r).count();
        INSIDE_REFUSED.store(refused, Ordering::SeqCst);
    }
}

#[test]
fn configuration_from_inside_a_write_is_refused_and_changes_nothing() {
    assert!(INSIDE.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    let i = INSIDE.add_target(target(6666, false)).unwrap();
    INSIDE.enable(i, ResolvePolicy::default()).unwrap();
    INSIDE.with_nic(|np| np.driver_mut().set_xmit_hook(Some(configures_from_inside))).unwrap();
    INSIDE_ON.store(1, Ordering::SeqCst);
    INSIDE.log(6, b"outer");
    INSIDE.log(6, b"next");
    assert_eq!(INSIDE_REFUSED.load(Ordering::SeqCst), 7, "every call said Busy");
    let sent = INSIDE.with_nic(|np| drain(np.driver_mut())).unwrap();
    assert_eq!(texts(sent), ["outer\n", "next\n"]);
    assert_eq!(INSIDE.with_target(i, |t| t.userdata.len()), Ok(0));
    assert_eq!(INSIDE.target_counters(1).map(|t| t.messages), Ok(0), "nothing added");
}
