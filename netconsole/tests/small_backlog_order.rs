//! A backlog too small for what nested writes and a stalling ring pile up: messages are lost,
//! and each loss is counted, but what arrives arrives whole, once, and in the order written
//! (a write's own message ahead of the writes nested in it).

mod common;

use std::sync::atomic::{AtomicU32, Ordering};

use common::quirky_nic::{Quirks, QuirkyNic};
use common::{target, udp_payload, OUR_MAC};
use netconsole::{Netconsole, NoSystemInfo, Target};
use netpoll_core::{NicEngine, NoDelay, ResolvePolicy, RetryPolicy, XmitError};
use netpoll_drivers::sim::SimNic;

type Sim = SimNic<2, 256>;

/// The ring stalls for a few reclaims after some frames, on a fixed pseudo-random schedule.
struct Stalling {
    state: u32,
}

impl Quirks<Sim> for Stalling {
    fn after_xmit(&mut self, sim: &mut Sim, result: Result<(), XmitError>) {
        if result.is_ok() {
            self.state = self.state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            if (self.state >> 24).is_multiple_of(3) {
                sim.fill_ring_for(u64::from(1 + (self.state >> 20) % 3));
            }
        }
    }
}

type Console =
    Netconsole<QuirkyNic<Sim, Stalling>, NoDelay, NoSystemInfo, 2, 700, [Option<Target<2>>; 1]>;

static CONSOLE: Console = Console::new(NoSystemInfo);
static NEXT_ID: AtomicU32 = AtomicU32::new(0);
static XMITS: AtomicU32 = AtomicU32::new(0);

/// Message `id`: its id, then filler (no newline): most short, some over a datagram.
fn text_of(id: u32) -> Vec<u8> {
    let mut text = format!("m{id:05}:").into_bytes();
    let len = match id % 7 {
        0 => 1200 + (id as usize * 37) % 500,
        1..=3 => 250 + (id as usize * 53) % 250,
        _ => (id as usize * 13) % 60,
    };
    text.extend((0..len).map(|i| b'a' + ((i + id as usize) % 26) as u8));
    text
}

fn log_next() {
    let id = NEXT_ID.fetch_add(1, Ordering::SeqCst);
    CONSOLE.log(6, &text_of(id));
}

/// Every third frame, a write nested in the driver (two, now and then).
fn hook() {
    let n = XMITS.fetch_add(1, Ordering::SeqCst);
    if n % 3 == 1 {
        log_next();
        if n.is_multiple_of(5) {
            log_next();
        }
    }
}

#[test]
fn what_arrives_is_whole_once_and_in_order_and_every_loss_is_counted() {
    let mut np = NicEngine::new(QuirkyNic::new(SimNic::new(OUR_MAC), Stalling { state: 777 }));
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
    for round in 0..300 {
        log_next();
        // Now and then the ring moves before the next write; mostly it does not.
        if round % 4 == 0 {
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

    let written = NEXT_ID.load(Ordering::SeqCst);
    // The stream cut at each message's start (`m` and five digits and `:`, which no filler
    // holds): a message is whole, or its start, sent before it was dropped (`ring_stuck`).
    let starts: Vec<usize> = (0..payloads.len())
        .filter(|&at| {
            payloads[at..].len() >= 7
                && payloads[at] == b'm'
                && payloads[at + 1..at + 6].iter().all(u8::is_ascii_digit)
                && payloads[at + 6] == b':'
        })
        .collect();
    assert_eq!(starts.first().copied().unwrap_or(0), 0, "the stream starts with a message");
    let (mut whole, mut cut) = (Vec::new(), 0u64);
    let mut ids = Vec::new();
    for (n, &at) in starts.iter().enumerate() {
        let piece = &payloads[at..starts.get(n + 1).copied().unwrap_or(payloads.len())];
        let id: u32 = std::str::from_utf8(&piece[1..6]).unwrap().parse().unwrap();
        let mut want = text_of(id);
        want.push(b'\n');
        if piece == want {
            whole.push(id);
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
    assert_eq!(c.messages, u64::from(written));
    assert_eq!(c.targets.messages, whole.len() as u64);
    assert_eq!(whole.len() as u64 + lost, u64::from(written), "every message sent or counted");
}
