//! `nested_put_backs` for basic targets alone, so that it runs in a build without the
//! `extended` feature too: there a stopped basic copy's resume record carries no extras
//! (delivery's `keep_stuck`), and a copy resumed and stopped again must still go on from where
//! it stopped. Three basic targets, a ring that stalls at random points, writes nested from
//! inside the driver, records and console text: every target gets every message once, whole,
//! in the order they were written.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};

use common::quirky_nic::{Quirks, QuirkyNic};
use common::{endpoint, udp_payload, OUR_MAC};
use netconsole::{Netconsole, NoSystemInfo, Target};
use netpoll_core::{NicEngine, NoDelay, ResolvePolicy, RetryPolicy, XmitError};
use netpoll_drivers::sim::SimNic;

type Sim = SimNic<2, 128>;

/// The sim's ring stalls for a few reclaims after some frames, on a fixed pseudo-random
/// schedule.
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

type Nic = QuirkyNic<Sim, Stalling>;
type Console = Netconsole<Nic, NoDelay, NoSystemInfo, 0, 16384, [Option<Target<0>>; 3]>;

static CONSOLE: Console = Console::new(NoSystemInfo);
/// Ids in the order messages are written (a nested write takes its id inside the outer one).
static NEXT_ID: AtomicU32 = AtomicU32::new(0);
static XMITS: AtomicU32 = AtomicU32::new(0);
static NESTED_LEFT: AtomicU32 = AtomicU32::new(40);

const PORTS: [u16; 3] = [6666, 6667, 6668];

/// The text of message `id`: its id, then up to 2.7 KB of printable filler (no newline).
fn text_of(id: u32) -> Vec<u8> {
    let mut text = format!("m{id:04}:").into_bytes();
    let len = (id as usize * 397) % 2700;
    text.extend((0..len).map(|i| b'a' + ((i + id as usize) % 26) as u8));
    text
}

/// Every other message as console text (with its newline), the rest as records.
fn log_next() {
    let id = NEXT_ID.fetch_add(1, Ordering::SeqCst);
    if id.is_multiple_of(2) {
        CONSOLE.log(6, &text_of(id));
    } else {
        let mut line = text_of(id);
        line.push(b'\n');
        CONSOLE.write(&line);
    }
}

fn hook() {
    if XMITS.fetch_add(1, Ordering::SeqCst) % 7 == 3
        && NESTED_LEFT
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    {
        log_next();
    }
}

#[test]
fn every_basic_target_gets_every_message_once_in_order_through_stalls_and_nested_writes() {
    let mut np = NicEngine::new(QuirkyNic::new(SimNic::new(OUR_MAC), Stalling { state: 4_242 }));
    np.set_retry_policy(RetryPolicy { tries: 1, wait_us: 0 });
    assert!(CONSOLE.attach(np).is_ok());
    for port in PORTS {
        let i = CONSOLE.add_target(Target::new(endpoint(port))).unwrap();
        CONSOLE.enable(i, ResolvePolicy::default()).unwrap();
    }
    CONSOLE.with_nic(|np| np.driver_mut().inner.set_xmit_hook(Some(hook))).unwrap();

    let mut frames: Vec<(u16, Vec<u8>)> = Vec::new();
    let drain = |frames: &mut Vec<(u16, Vec<u8>)>| {
        CONSOLE
            .with_nic(|np| {
                let sim = &mut np.driver_mut().inner;
                while let Some(f) = sim.pop_sent() {
                    frames.push(udp_payload(&f));
                }
                assert_eq!(sim.counters().not_recorded, 0, "the sim's record overflowed");
            })
            .unwrap();
    };
    for _ in 0..60 {
        log_next();
        for _ in 0..1000 {
            drain(&mut frames);
            if CONSOLE.backlog_len() == 0 {
                break;
            }
            CONSOLE.poll();
        }
    }
    for _ in 0..10_000 {
        if CONSOLE.backlog_len() == 0 {
            break;
        }
        CONSOLE.poll();
        drain(&mut frames);
    }
    assert_eq!(CONSOLE.backlog_len(), 0, "the backlog empties once the ring moves");
    let c = CONSOLE.counters();
    assert_eq!(c.backlog_full.messages, 0, "the backlog is large enough for this test");
    assert_eq!(c.targets.ring_stuck.messages, 0);
    assert!(c.deferred > 0, "the test put messages in the backlog");
    let gave_up = CONSOLE.with_nic(|np| np.counters().gave_up).unwrap();
    assert!(gave_up > 0, "messages were stopped part-way");
    let written = NEXT_ID.load(Ordering::SeqCst);
    assert!(written > 60, "nested writes happened");
    assert_eq!(c.messages, u64::from(written));
    for port in PORTS {
        let stream: Vec<u8> =
            frames.iter().filter(|(p, _)| *p == port).flat_map(|(_, b)| b.clone()).collect();
        let got: Vec<&[u8]> = stream.split(|&b| b == b'\n').filter(|m| !m.is_empty()).collect();
        assert_eq!(got.len(), written as usize, "port {port}: messages");
        for (id, m) in got.iter().enumerate() {
            assert!(*m == text_of(id as u32), "port {port}: message {id} garbled or out of order");
        }
    }
}
