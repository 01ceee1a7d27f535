//! A backlog too small for what nested writes and a stalling ring pile up: messages are lost,
//! and each loss is counted, but what arrives arrives whole, once, and in the order written
//! (a write's own message ahead of the writes nested in it).

mod common;

use std::sync::atomic::{AtomicU32, Ordering};

use common::stalling::{
    arrivals, assert_every_loss_counted, attach_stalling, flush, take_sent, Stalling, StallingNic,
};
use common::target;
use netconsole::{Netconsole, NoSystemInfo, Target};
use netpoll_core::NoDelay;

type Console = Netconsole<StallingNic<256>, NoDelay, NoSystemInfo, 2, 700, [Option<Target<2>>; 1]>;

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
    attach_stalling(&CONSOLE, Stalling::now_and_then(777), [target(6666, false)], hook);

    let mut sent: Vec<(u16, Vec<u8>)> = Vec::new();
    for round in 0..300 {
        log_next();
        // Now and then the ring moves before the next write; mostly it does not.
        if round % 4 == 0 {
            CONSOLE.poll();
        }
        take_sent(&CONSOLE, &mut sent);
    }
    flush(&CONSOLE, &mut sent);

    let written = NEXT_ID.load(Ordering::SeqCst);
    let stream: Vec<u8> = sent.into_iter().flat_map(|(_, p)| p).collect();
    let arrived = arrivals(&stream, text_of);
    assert_every_loss_counted(&CONSOLE.counters(), u64::from(written), &arrived);
}
