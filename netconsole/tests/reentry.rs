//! Re-entry through the sim's xmit hook against `static` consoles, one console per test so the
//! exact counter checks cannot race.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};

use common::{drain, OUR_MAC};
use netconsole::{Netconsole, NoSystemInfo, Target};
use netpoll_core::{Endpoint, NicEngine, ResolvePolicy};
use netpoll_drivers::sim::SimNic;

type Console =
    Netconsole<SimNic<4, 64>, netpoll_core::NoDelay, NoSystemInfo, 2, 512, [Option<Target<2>>; 1]>;

fn setup(console: &'static Console, hook: fn()) {
    assert!(console.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    let mut endpoint = Endpoint::new("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    endpoint.remote_mac = Some(common::PEER_MAC);
    let i = console.add_target(Target::new(endpoint)).unwrap();
    console.enable(i, ResolvePolicy::default()).unwrap();
    console.with_nic(|np| np.driver_mut().set_xmit_hook(Some(hook))).unwrap();
}

fn texts(console: &Console) -> Vec<Vec<u8>> {
    console.with_nic(|np| drain(np.driver_mut())).unwrap().into_iter().map(|(_, p)| p).collect()
}

static NESTED: Console = Console::new(NoSystemInfo);
static NESTED_CALLS: AtomicU32 = AtomicU32::new(0);

fn nested_hook() {
    if NESTED_CALLS.fetch_add(1, Ordering::SeqCst) == 0 {
        NESTED.log(6, b"from inside xmit");
    }
}

#[test]
fn a_write_from_inside_xmit_arrives_after_the_outer_one() {
    setup(&NESTED, nested_hook);
    NESTED.log(6, b"outer");
    assert_eq!(texts(&NESTED), [b"outer\n".to_vec(), b"from inside xmit\n".to_vec()]);
    let c = NESTED.counters();
    assert_eq!((c.messages, c.deferred, c.targets.messages), (2, 1, 2));
    assert_eq!(NESTED.backlog_len(), 0);
}

static FLOOD: Console = Console::new(NoSystemInfo);
static FLOOD_ON: AtomicU32 = AtomicU32::new(1);

fn flood_hook() {
    if FLOOD_ON.swap(0, Ordering::SeqCst) == 1 {
        // Each entry is 34 bytes of header + 32 of text: 7 fit in 512 bytes, 93 do not.
        for _ in 0..100 {
            FLOOD.log(6, &[b'f'; 32]);
        }
    }
}

#[test]
fn a_flood_of_nested_writes_past_the_backlog_is_counted_exactly() {
    setup(&FLOOD, flood_hook);
    FLOOD.log(6, b"outer");
    let c = FLOOD.counters();
    assert_eq!(c.messages, 101);
    assert_eq!(c.deferred, 7);
    assert_eq!(c.backlog_full.messages, 93);
    assert_eq!(c.backlog_full.bytes, 93 * 32);
    assert_eq!(c.backlog_high_water, 7 * 66);
    assert_eq!(c.targets.messages, 8, "the outer message and the 7 kept");
    assert_eq!(texts(&FLOOD).len(), 8);
}

static PANIC: Console = Console::new(NoSystemInfo);
static PANIC_ON: AtomicU32 = AtomicU32::new(1);

fn panic_hook() {
    if PANIC_ON.swap(0, Ordering::SeqCst) == 1 {
        // What a panic handler does when the panic strikes mid-write.
        PANIC.log_panic(0, b"panicked mid-write");
    }
}

#[test]
fn a_panic_mid_write_is_counted_as_stranded() {
    setup(&PANIC, panic_hook);
    PANIC.log(6, b"outer");
    let c = PANIC.counters();
    assert_eq!(c.stranded, 1);
    // In the simulation the holder goes on and flushes it; a real panic would not return.
    assert_eq!(texts(&PANIC), [b"outer\n".to_vec(), b"panicked mid-write\n".to_vec()]);
}

static EVERY: Console = Console::new(NoSystemInfo);

fn every_xmit_hook() {
    // A driver that logs on every transmit must not keep the console busy forever.
    EVERY.log(7, b"driver says hi");
}

#[test]
fn a_driver_that_logs_on_every_xmit_does_not_loop_forever() {
    setup(&EVERY, every_xmit_hook);
    EVERY.log(6, b"outer");
    let c = EVERY.counters();
    // Bounded by the write's byte budget, not by a count nested writes could reset: the outer
    // message, then nested entries of 34 + 14 = 48 bytes while they fit one backlog (512 bytes).
    assert!(c.targets.messages <= 1 + 512 / 48, "{c:?}");
    assert_eq!(c.messages, c.targets.messages + EVERY.backlog_len() as u64 / 48, "{c:?}");
    assert_eq!(c.backlog_full.messages, 0);
}

static AROUND: Console = Console::new(NoSystemInfo);
static AROUND_ON: AtomicU32 = AtomicU32::new(0);

fn around_hook() {
    if AROUND_ON.swap(0, Ordering::SeqCst) == 1 {
        AROUND.log(6, b"from inside with_nic");
    }
}

#[test]
fn a_write_nested_in_with_nic_is_sent_when_it_returns() {
    setup(&AROUND, around_hook);
    AROUND_ON.store(1, Ordering::SeqCst);
    // A datagram the firmware sends itself, through the console's NIC, fires the hook.
    let mut endpoint = Endpoint::new("10.0.0.1".parse().unwrap(), "10.0.0.9".parse().unwrap());
    endpoint.remote_mac = Some(common::PEER_MAC);
    AROUND.with_nic(|np| np.send_udp(&endpoint, &[b"direct"]).unwrap()).unwrap();
    assert_eq!(AROUND.backlog_len(), 0, "settled when with_nic let go");
    let texts = texts(&AROUND);
    assert_eq!(texts.last().unwrap(), b"from inside with_nic\n");
}
