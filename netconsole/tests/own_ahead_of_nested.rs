//! A write whose own message did not fit the backlog, whose ring stalls on an entry ahead of
//! it while writes nested in its sends add to the backlog, over and over: what arrives arrives
//! whole, once and in the order written (the own message ahead of what was nested in its
//! call), and every loss is counted. `small_backlog_order` never has a nested write land
//! between the holder's look and a stall ahead of its own message (its ring is still stalled
//! when a write begins); here the ring moves before each write but nothing flushes, so about
//! sixty own messages go in ahead of nested writes (or are dropped there, counted).

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use common::quirky_nic::{Quirks, QuirkyNic};
use common::{target, udp_payload, OUR_MAC};
use netconsole::{Netconsole, NoSystemInfo, Target};
use netpoll_core::{NetPoll, NicEngine, NoDelay, ResolvePolicy, RetryPolicy, XmitError};
use netpoll_drivers::sim::SimNic;

type Sim = SimNic<2, 256>;

/// The ring stalls for a reclaim or two after some frames, on a fixed pseudo-random schedule.
struct Stalling {
    state: u32,
}

impl Quirks<Sim> for Stalling {
    fn after_xmit(&mut self, sim: &mut Sim, result: Result<(), XmitError>) {
        if result.is_ok() {
            self.state = self.state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            if !(self.state >> 24).is_multiple_of(3) {
                sim.fill_ring_for(u64::from(1 + (self.state >> 20) % 2));
            }
        }
    }
}

type Console =
    Netconsole<QuirkyNic<Sim, Stalling>, NoDelay, NoSystemInfo, 2, 700, [Option<Target<2>>; 1]>;

static CONSOLE: Console = Console::new(NoSystemInfo);
static NEXT_ID: AtomicU32 = AtomicU32::new(0);
static XMITS: AtomicU32 = AtomicU32::new(0);

/// The filler length of each message written, by id: the check rebuilds the texts from it.
static LENGTHS: Mutex<Vec<usize>> = Mutex::new(Vec::new());

/// Message `id`: its id (`m`, five digits, `:`), then filler (no newline).
fn text_of(id: u32, len: usize) -> Vec<u8> {
    let mut text = format!("m{id:05}:").into_bytes();
    text.extend((0..len).map(|i| b'a' + ((i + id as usize) % 26) as u8));
    text
}

/// Top-level writes of a few hundred bytes (often more than the room left), nested ones of a
/// few dozen (they fit).
fn log_next(nested: bool) {
    let id = NEXT_ID.fetch_add(1, Ordering::SeqCst);
    let len = if nested { (id as usize * 7) % 40 } else { 180 + (id as usize * 53) % 260 };
    LENGTHS.lock().unwrap().push(len);
    CONSOLE.log(6, &text_of(id, len));
}

/// Every other frame, a short write nested in the driver.
fn hook() {
    if XMITS.fetch_add(1, Ordering::SeqCst).is_multiple_of(2) {
        log_next(true);
    }
}

#[test]
fn own_messages_kept_ahead_of_nested_writes_arrive_in_order_and_every_loss_is_counted() {
    let mut np = NicEngine::new(QuirkyNic::new(SimNic::new(OUR_MAC), Stalling { state: 4242 }));
    np.set_retry_policy(RetryPolicy { tries: 1, wait_us: 0 });
    assert!(CONSOLE.attach(np).is_ok());
    let i = CONSOLE.add_target(target(6666, false)).unwrap();
    CONSOLE.enable(i, ResolvePolicy::default()).unwrap();
    CONSOLE.with_nic(|np| np.driver_mut().inner.set_xmit_hook(Some(hook))).unwrap();

    let mut payloads: Vec<u8> = Vec::new();
    let drain = |payloads: &mut Vec<u8>| {
        CONSOLE
            .with_nic(|np| {
                let sim = &mut np.driver_mut().inner;
                while let Some(f) = sim.pop_sent() {
                    payloads.extend(udp_payload(&f).1);
                }
                assert_eq!(sim.counters().not_recorded, 0, "the sim's record overflowed");
            })
            .unwrap();
    };
    for round in 0..400 {
        // The ring moves (the device sent what it held) but nothing flushes the backlog: the
        // next write finds entries waiting and a ring that takes a frame or two.
        CONSOLE.with_nic(|np| np.driver_mut().inner.reclaim_tx()).unwrap();
        log_next(false);
        if round % 7 == 0 {
            CONSOLE.poll();
        }
        drain(&mut payloads);
    }
    for _ in 0..10_000 {
        if CONSOLE.backlog_len() == 0 {
            break;
        }
        CONSOLE.poll();
        drain(&mut payloads);
    }
    drain(&mut payloads);
    assert_eq!(CONSOLE.backlog_len(), 0, "the backlog empties once the ring moves");

    let lengths = LENGTHS.lock().unwrap().clone();
    // The stream cut at each message's start (`m`, five digits, `:`, which no filler holds):
    // a message is whole, or its start, sent before it was dropped (`ring_stuck`).
    let starts: Vec<usize> = (0..payloads.len())
        .filter(|&at| {
            payloads[at..].len() >= 7
                && payloads[at] == b'm'
                && payloads[at + 1..at + 6].iter().all(u8::is_ascii_digit)
                && payloads[at + 6] == b':'
        })
        .collect();
    assert_eq!(starts.first().copied().unwrap_or(0), 0, "the stream starts with a message");
    let (mut whole, mut cut) = (0u64, 0u64);
    let mut ids = Vec::new();
    for (n, &at) in starts.iter().enumerate() {
        let piece = &payloads[at..starts.get(n + 1).copied().unwrap_or(payloads.len())];
        let id: u32 = std::str::from_utf8(&piece[1..6]).unwrap().parse().unwrap();
        let mut want = text_of(id, lengths[id as usize]);
        want.push(b'\n');
        if piece == want {
            whole += 1;
        } else {
            assert!(want.starts_with(piece), "message {id}: not a start of it");
            cut += 1;
        }
        ids.push(id);
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "once each, in order: {ids:?}");
    let c = CONSOLE.counters();
    let lost = c.backlog_full.messages + c.refused.messages + c.targets.ring_stuck.messages;
    assert!(lost > 0 && c.deferred > 0, "the test loses messages and defers others");
    assert!(cut <= c.targets.ring_stuck.messages, "a message cut short was dropped, and counted");
    assert_eq!(c.messages, lengths.len() as u64);
    assert_eq!(c.targets.messages, whole);
    assert_eq!(whole + lost, lengths.len() as u64, "every message sent or counted");
}
