//! A ring that stalls at random points while writes nest from inside the driver: messages are
//! put back at the front again and again with resume records for three targets (basic,
//! extended, extended with release and msgid), and nested ones queue behind them. Every target
//! must still get every message once, whole, in the order they were written.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};

use common::stalling::{
    attach_stalling, lines, long_text, nested_turn, sixty_writes_put_back, to_port, Stalling,
    StallingNic,
};
use common::{endpoint, reassemble};
use netconsole::{Netconsole, Sysdata, SystemInfo, Target};
use netpoll_core::NoDelay;

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

type Console = Netconsole<StallingNic<128>, NoDelay, Info, 2, 16384, [Option<Target<2>>; 3]>;

static CONSOLE: Console = Console::new(Info);
/// Ids in the order messages are written (a nested write takes its id inside the outer one).
static NEXT_ID: AtomicU32 = AtomicU32::new(0);
static XMITS: AtomicU32 = AtomicU32::new(0);
static NESTED_LEFT: AtomicU32 = AtomicU32::new(40);

fn log_next() {
    let id = NEXT_ID.fetch_add(1, Ordering::SeqCst);
    CONSOLE.log(6, &long_text(id));
}

fn hook() {
    if nested_turn(&XMITS, &NESTED_LEFT) {
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
            let want = long_text(id);
            assert!(m.starts_with(&want), "port {port}: message {id} garbled");
            id
        })
        .collect()
}

#[test]
fn every_target_gets_every_message_once_in_order_through_stalls_and_nested_writes() {
    let targets =
        [(6666, false, false), (6667, true, false), (6668, true, true)].map(|(port, ext, rel)| {
            let mut t = Target::new(endpoint(port));
            t.extended = ext;
            t.release = rel;
            if rel {
                t.sysdata = Sysdata { msgid: true, ..Sysdata::default() };
            }
            t
        });
    attach_stalling(&CONSOLE, Stalling::now_and_then(12_345), targets, hook);

    let (frames, written) = sixty_writes_put_back(&CONSOLE, log_next, &NEXT_ID);
    let all: Vec<u32> = (0..written).collect();

    let basic = lines(&to_port(&frames, 6666).concat());
    assert_eq!(ids(&basic, 6666), all, "basic target");
    assert!(basic.iter().enumerate().all(|(i, m)| *m == long_text(i as u32)));
    assert_eq!(
        ids(&extended_messages(&to_port(&frames, 6667), None), 6667),
        all,
        "extended target"
    );
    let with_release = extended_messages(&to_port(&frames, 6668), Some(RELEASE.as_bytes()));
    assert_eq!(ids(&with_release, 6668), all, "extended target with release");
}
