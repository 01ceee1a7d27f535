//! The order a holding write sends in when its own message did not fit the backlog: the
//! entries written before it, then it, then what a nested write added meanwhile; each once.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};

use common::{drain, target, texts, OUR_MAC};
use netconsole::{Netconsole, NoSystemInfo, Target};
use netpoll_core::{NicEngine, ResolvePolicy};
use netpoll_drivers::sim::SimNic;

type Console<const SLOTS: usize> = Netconsole<
    SimNic<SLOTS, 64>,
    netpoll_core::NoDelay,
    NoSystemInfo,
    2,
    512,
    [Option<Target<2>>; 1],
>;

/// Two entries of 34 + 150 bytes wait (no target yet); then the target is enabled on `np`, with
/// `hook` on its driver, and an own message of 200 bytes is written: 144 bytes of 512 are left,
/// too few for it (34 + 200), enough for a nested one (34 + 6). Returns the lines it must come
/// out as, in order: the two, the own message, then the nested `nested`.
fn own_behind_two<const SLOTS: usize>(
    console: &Console<SLOTS>,
    np: NicEngine<SimNic<SLOTS, 64>>,
    hook: fn(),
) -> [String; 4] {
    let (a, b, own) = ([b'a'; 150], [b'b'; 150], [b'c'; 200]);
    console.log(6, &a);
    console.log(6, &b);
    assert!(console.attach(np).is_ok());
    let i = console.add_target(target(6666, false)).unwrap();
    console.enable(i, ResolvePolicy::default()).unwrap();
    console.with_nic(|np| np.driver_mut().set_xmit_hook(Some(hook))).unwrap();
    assert_eq!(console.backlog_len(), 2 * (34 + 150), "the two early messages wait");
    console.log(6, &own);
    let line = |t: &[u8]| format!("{}\n", String::from_utf8_lossy(t));
    [line(&a), line(&b), line(&own), line(b"nested")]
}

/// Every message sent once, none dropped, nothing left waiting.
fn assert_all_sent<const SLOTS: usize>(console: &Console<SLOTS>) {
    let c = console.counters();
    assert_eq!((c.messages, c.targets.messages, c.backlog_full.messages), (4, 4, 0));
    assert_eq!(console.backlog_len(), 0);
}

static AHEAD: Console<64> = Console::new(NoSystemInfo);
static AHEAD_CALLS: AtomicU32 = AtomicU32::new(0);

/// On the first frame sent (the first waiting entry's): a write nested in the driver.
fn ahead_hook() {
    if AHEAD_CALLS.fetch_add(1, Ordering::SeqCst) == 0 {
        AHEAD.log(6, b"nested");
    }
}

#[test]
fn a_write_nested_in_an_earlier_entry_goes_after_the_own_message_that_did_not_fit() {
    let want = own_behind_two(&AHEAD, NicEngine::new(SimNic::new(OUR_MAC)), ahead_hook);
    let sent = texts(AHEAD.with_nic(|np| drain(np.driver_mut())).unwrap());
    assert_eq!(sent, want);
    assert_all_sent(&AHEAD);
}

static STOPS: Console<1> = Console::new(NoSystemInfo);
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
    let mut np = NicEngine::new(SimNic::new(OUR_MAC));
    // One slot, one try: the first frame takes the ring, the second finds it full.
    np.set_retry_policy(netpoll_core::RetryPolicy { tries: 1, wait_us: 0 });
    let want = own_behind_two(&STOPS, np, stops_hook);
    let mut sent = Vec::new();
    for _ in 0..10 {
        sent.extend(texts(STOPS.with_nic(|np| drain(np.driver_mut())).unwrap()));
        STOPS.poll();
    }
    sent.extend(texts(STOPS.with_nic(|np| drain(np.driver_mut())).unwrap()));
    assert_eq!(sent, want);
    assert_all_sent(&STOPS);
}
