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

use common::stalling::{
    arrivals, assert_every_loss_counted, attach_stalling, flush, take_sent, Stalling, StallingNic,
};
use common::target;
use netconsole::{Netconsole, NoSystemInfo, Target};
use netpoll_core::{NetPoll, NoDelay};

type Console = Netconsole<StallingNic<256>, NoDelay, NoSystemInfo, 2, 700, [Option<Target<2>>; 1]>;

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
    // The ring stalls for a reclaim or two after most frames.
    attach_stalling(&CONSOLE, Stalling::often(4242), [target(6666, false)], hook);

    let mut sent: Vec<(u16, Vec<u8>)> = Vec::new();
    for round in 0..400 {
        // The ring moves (the device sent what it held) but nothing flushes the backlog: the
        // next write finds entries waiting and a ring that takes a frame or two.
        CONSOLE.with_nic(|np| np.driver_mut().inner.reclaim_tx()).unwrap();
        log_next(false);
        if round % 7 == 0 {
            CONSOLE.poll();
        }
        take_sent(&CONSOLE, &mut sent);
    }
    flush(&CONSOLE, &mut sent);

    let lengths = LENGTHS.lock().unwrap().clone();
    let stream: Vec<u8> = sent.into_iter().flat_map(|(_, p)| p).collect();
    let arrived = arrivals(&stream, |id| text_of(id, lengths[id as usize]));
    assert_every_loss_counted(&CONSOLE.counters(), lengths.len() as u64, &arrived);
}
