//! A ring that stalls at random points while writes nest from inside the driver: messages are
//! put back at the front again and again with resume records for three targets (basic,
//! extended, extended with release and msgid), and nested ones queue behind them. Every target
//! must still get every message once, whole, in the order they were written.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};

use common::quirky_nic::{Quirks, QuirkyNic};
use common::{endpoint, reassemble, udp_payload, OUR_MAC};
use netconsole::{Netconsole, Sysdata, SystemInfo, Target};
use netpoll_core::{NicEngine, NoDelay, ResolvePolicy, RetryPolicy, XmitError};
use netpoll_drivers::sim::SimNic;

const RELEASE: &str = "6.18.0-r16";

struct Info;
impl SystemInfo for Info {
    fn cpu(&self) -> u32 {
        0
    }
    fn task_name(&self) -> &str {
        "test"
    }
    fn release(&self) -> &str {
        RELEASE
    }
}

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
type Console = Netconsole<Nic, NoDelay, Info, 2, 16384, [Option<Target<2>>; 3]>;

static CONSOLE: Console = Console::new(Info);
/// Ids in the order messages are written (a nested write takes its id inside the outer one).
static NEXT_ID: AtomicU32 = AtomicU32::new(0);
static XMITS: AtomicU32 = AtomicU32::new(0);
static NESTED_LEFT: AtomicU32 = AtomicU32::new(40);

/// The text of message `id`: its id, then up to 2.7 KB of printable filler (no newline).
fn text_of(id: u32) -> Vec<u8> {
    let mut text = format!("m{id:04}:").into_bytes();
    let len = (id as usize * 397) % 2700;
    text.extend((0..len).map(|i| b'a' + ((i + id as usize) % 26) as u8));
    text
}

fn log_next() {
    let id = NEXT_ID.fetch_add(1, Ordering::SeqCst);
    CONSOLE.log(6, &text_of(id));
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

/// Groups consecutive datagrams of one extended message (same header up to `ncfrag`).
fn extended_messages(packets: &[Vec<u8>], release: Option<&[u8]>) -> Vec<Vec<u8>> {
    let base = |p: &[u8]| {
        let p = release.map_or(p, |r| &p[r.len() + 1..]);
        let head = &p[..p.iter().position(|&b| b == b';').unwrap()];
        let head = std::str::from_utf8(head).unwrap();
        head.split(",ncfrag=").next().unwrap().to_owned()
    };
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=packets.len() {
        if i == packets.len() || base(&packets[i]) != base(&packets[start]) {
            out.push(reassemble(&packets[start..i], release).1);
            start = i;
        }
    }
    out
}

/// The ids of `messages` (each `m<id>:...`), checking each text is that id's.
fn ids(messages: &[Vec<u8>], port: u16) -> Vec<u32> {
    messages
        .iter()
        .map(|m| {
            let id: u32 = std::str::from_utf8(&m[1..5]).unwrap().parse().unwrap();
            let want = text_of(id);
            assert!(m.starts_with(&want), "port {port}: message {id} garbled");
            id
        })
        .collect()
}

#[test]
fn every_target_gets_every_message_once_in_order_through_stalls_and_nested_writes() {
    let mut np = NicEngine::new(QuirkyNic::new(SimNic::new(OUR_MAC), Stalling { state: 12_345 }));
    np.set_retry_policy(RetryPolicy { tries: 1, wait_us: 0 });
    assert!(CONSOLE.attach(np).is_ok());
    for (port, extended, release) in [(6666, false, false), (6667, true, false), (6668, true, true)]
    {
        let mut t = Target::new(endpoint(port));
        t.extended = extended;
        t.release = release;
        if release {
            t.sysdata = Sysdata { msgid: true, ..Sysdata::default() };
        }
        let i = CONSOLE.add_target(t).unwrap();
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
        // The ring moves between writes: the backlog empties before the next one.
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
    // Frames refused with one try per frame (the stalls, and the two-slot ring itself) stop
    // messages part-way: what puts them back at the front with resume records.
    let gave_up = CONSOLE.with_nic(|np| np.counters().gave_up).unwrap();
    assert!(gave_up > 0, "messages were stopped part-way");
    let written = NEXT_ID.load(Ordering::SeqCst);
    assert!(written > 60, "nested writes happened");
    let all: Vec<u32> = (0..written).collect();

    let to = |port: u16| -> Vec<Vec<u8>> {
        frames.iter().filter(|(p, _)| *p == port).map(|(_, b)| b.clone()).collect()
    };
    let basic: Vec<Vec<u8>> = to(6666)
        .concat()
        .split(|&b| b == b'\n')
        .filter(|m| !m.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    assert_eq!(ids(&basic, 6666), all, "basic target");
    assert!(basic.iter().enumerate().all(|(i, m)| *m == text_of(i as u32)));
    assert_eq!(ids(&extended_messages(&to(6667), None), 6667), all, "extended target");
    let with_release = extended_messages(&to(6668), Some(RELEASE.as_bytes()));
    assert_eq!(ids(&with_release, 6668), all, "extended target with release");
}
