//! The order a holding write sends in when its own message did not fit the backlog: the
//! entries written before it, then it, then what a nested write added meanwhile; each once.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};

use common::{drain, target, texts, OUR_MAC};
use netconsole::{Netconsole, NoSystemInfo, Target};
use netpoll_core::{NicEngine, ResolvePolicy};
use netpoll_drivers::sim::SimNic;

type Console =
    Netconsole<SimNic<64, 64>, netpoll_core::NoDelay, NoSystemInfo, 2, 512, [Option<Target<2>>; 1]>;

static AHEAD: Console = Console::new(NoSystemInfo);
static AHEAD_CALLS: AtomicU32 = AtomicU32::new(0);

/// On the first frame sent (the first waiting entry's): a write nested in the driver.
fn ahead_hook() {
    if AHEAD_CALLS.fetch_add(1, Ordering::SeqCst) == 0 {
        AHEAD.log(6, b"nested");
    }
}

#[test]
fn a_write_nested_in_an_earlier_entry_goes_after_the_own_message_that_did_not_fit() {
    // Two entries of 34 + 150 bytes wait (no target yet): 144 bytes of 512 are left, too few
    // for the own message (34 + 200), enough for the nested one (34 + 6).
    let a = [b'a'; 150];
    let b = [b'b'; 150];
    let own = [b'c'; 200];
    AHEAD.log(6, &a);
    AHEAD.log(6, &b);
    assert!(AHEAD.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    let i = AHEAD.add_target(target(6666, false)).unwrap();
    AHEAD.enable(i, ResolvePolicy::default()).unwrap();
    AHEAD.with_nic(|np| np.driver_mut().set_xmit_hook(Some(ahead_hook))).unwrap();
    assert_eq!(AHEAD.backlog_len(), 2 * (34 + 150), "the two early messages wait");
    AHEAD.log(6, &own);
    let sent = texts(AHEAD.with_nic(|np| drain(np.driver_mut())).unwrap());
    let line = |t: &[u8]| format!("{}\n", String::from_utf8_lossy(t));
    assert_eq!(sent, [line(&a), line(&b), line(&own), line(b"nested")]);
    let c = AHEAD.counters();
    assert_eq!((c.messages, c.targets.messages, c.backlog_full.messages), (4, 4, 0));
    assert_eq!(AHEAD.backlog_len(), 0);
}

type OneSlot =
    Netconsole<SimNic<1, 64>, netpoll_core::NoDelay, NoSystemInfo, 2, 512, [Option<Target<2>>; 1]>;

static STOPS: OneSlot = OneSlot::new(NoSystemInfo);
static STOPS_CALLS: AtomicU32 = AtomicU32::new(0);

/// On the first frame sent (the first waiting entry's): a write nested in the driver.
fn stops_hook() {
    if STOPS_CALLS.fetch_add(1, Ordering::SeqCst) == 0 {
        STOPS.log(6, b"nested");
    }
}

/// As above, but the ring fills before the own message's turn: the second waiting entry finds
/// it full. The own message, kept for later, must still go before the write nested in it.
#[test]
fn an_own_message_kept_when_the_ring_fills_ahead_of_it_still_precedes_the_nested_write() {
    let a = [b'a'; 150];
    let b = [b'b'; 150];
    let own = [b'c'; 200];
    STOPS.log(6, &a);
    STOPS.log(6, &b);
    let mut np = NicEngine::new(SimNic::new(OUR_MAC));
    // One slot, one try: the first frame takes the ring, the second finds it full.
    np.set_retry_policy(netpoll_core::RetryPolicy { tries: 1, wait_us: 0 });
    assert!(STOPS.attach(np).is_ok());
    let i = STOPS.add_target(target(6666, false)).unwrap();
    STOPS.enable(i, ResolvePolicy::default()).unwrap();
    STOPS.with_nic(|np| np.driver_mut().set_xmit_hook(Some(stops_hook))).unwrap();
    assert_eq!(STOPS.backlog_len(), 2 * (34 + 150), "the two early messages wait");
    STOPS.log(6, &own);
    let mut sent = Vec::new();
    for _ in 0..10 {
        sent.extend(texts(STOPS.with_nic(|np| drain(np.driver_mut())).unwrap()));
        STOPS.poll();
    }
    sent.extend(texts(STOPS.with_nic(|np| drain(np.driver_mut())).unwrap()));
    let line = |t: &[u8]| format!("{}\n", String::from_utf8_lossy(t));
    assert_eq!(sent, [line(&a), line(&b), line(&own), line(b"nested")]);
    let c = STOPS.counters();
    assert_eq!((c.messages, c.targets.messages, c.backlog_full.messages), (4, 4, 0));
    assert_eq!(STOPS.backlog_len(), 0);
}
