//! `nested_put_backs` for basic targets alone, so that it runs in a build without the
//! `extended` feature too: there a stopped basic copy's resume record carries no extras
//! (delivery's `keep_stuck`), and a copy resumed and stopped again must still go on from where
//! it stopped. Three basic targets, a ring that stalls at random points, writes nested from
//! inside the driver, records and console text: every target gets every message once, whole,
//! in the order they were written.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};

use common::endpoint;
use common::stalling::{
    attach_stalling, lines, long_text, nested_turn, sixty_writes_put_back, to_port, Stalling,
    StallingNic,
};
use netconsole::{Netconsole, NoSystemInfo, Target};
use netpoll_core::NoDelay;

type Console =
    Netconsole<StallingNic<128>, NoDelay, NoSystemInfo, 0, 16384, [Option<Target<0>>; 3]>;

static CONSOLE: Console = Console::new(NoSystemInfo);
/// Ids in the order messages are written (a nested write takes its id inside the outer one).
static NEXT_ID: AtomicU32 = AtomicU32::new(0);
static XMITS: AtomicU32 = AtomicU32::new(0);
static NESTED_LEFT: AtomicU32 = AtomicU32::new(40);

const PORTS: [u16; 3] = [6666, 6667, 6668];

/// Every other message as console text (with its newline), the rest as records.
fn log_next() {
    let id = NEXT_ID.fetch_add(1, Ordering::SeqCst);
    if id.is_multiple_of(2) {
        CONSOLE.log(6, &long_text(id));
    } else {
        let mut line = long_text(id);
        line.push(b'\n');
        CONSOLE.write(&line);
    }
}

fn hook() {
    if nested_turn(&XMITS, &NESTED_LEFT) {
        log_next();
    }
}

#[test]
fn every_basic_target_gets_every_message_once_in_order_through_stalls_and_nested_writes() {
    let targets = PORTS.map(|port| Target::new(endpoint(port)));
    attach_stalling(&CONSOLE, Stalling::now_and_then(4_242), targets, hook);

    let (frames, written) = sixty_writes_put_back(&CONSOLE, log_next, &NEXT_ID);
    assert_eq!(CONSOLE.counters().messages, u64::from(written));
    for port in PORTS {
        let got = lines(&to_port(&frames, port).concat());
        assert_eq!(got.len(), written as usize, "port {port}: messages");
        for (id, m) in got.iter().enumerate() {
            assert!(
                *m == long_text(id as u32),
                "port {port}: message {id} garbled or out of order"
            );
        }
    }
}
