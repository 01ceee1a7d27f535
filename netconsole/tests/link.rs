//! Issue 9, the console's side: the link state asked at most once per message, `enable` waiting
//! for carrier, a target left on broadcast switching to its peer's MAC once the peer answers, and
//! the panic handler's bounded flush-and-wait.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};

use common::{drain, OUR_MAC, PEER_MAC};
use netconsole::{BroadcastReason, MacSource, Netconsole, NoSystemInfo, Target};
use netpoll_core::wire::EthernetFrame;
use netpoll_core::{Endpoint, NicEngine, NoDelay, ResolvePolicy};
use netpoll_drivers::sim::{SimNic, SimPeer};

type Console = Netconsole<SimNic<4, 64>, NoDelay, NoSystemInfo, 2, 4096, [Option<Target<2>>; 2]>;

fn basic(peer_mac: bool) -> Target<2> {
    let mut endpoint = Endpoint::new("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    if peer_mac {
        endpoint.remote_mac = Some(PEER_MAC);
    }
    Target::new(endpoint)
}

const PEER: SimPeer = SimPeer { mac: PEER_MAC, ip: core::net::Ipv4Addr::new(10, 0, 0, 2) };
const QUICK: ResolvePolicy = ResolvePolicy { polls: 4, wait_us: 0, requests: 1 };

fn link_reads(c: &Console) -> u64 {
    c.with_nic(|np| np.driver().counters().link_reads).unwrap()
}

#[test]
fn a_long_message_reads_the_phy_at_most_once() {
    let c = Console::new(NoSystemInfo);
    assert!(c.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    let i = c.add_target(basic(true)).unwrap();
    c.enable(i, QUICK).unwrap();
    // The driver's cached state says down (no link interrupt came); the PHY has carrier.
    c.with_nic(|np| {
        np.driver_mut().set_link(false);
        np.driver_mut().set_phy_link(true);
    })
    .unwrap();
    let before = link_reads(&c);
    c.write(&[b'x'; 3000]);
    assert_eq!(link_reads(&c) - before, 1, "one PHY read for the message");
    assert_eq!(c.with_nic(|np| drain(np.driver_mut()).len()).unwrap(), 3, "and it was sent");

    // The PHY without carrier: one read, and the message is dropped and counted.
    c.with_nic(|np| np.driver_mut().set_link(false)).unwrap();
    let before = link_reads(&c);
    c.write(&[b'y'; 3000]);
    assert_eq!(link_reads(&c) - before, 1);
    assert_eq!(c.target_counters(i).unwrap().link_down.messages, 1);
    // With the cache saying up, no PHY read at all.
    c.with_nic(|np| np.driver_mut().set_link(true)).unwrap();
    let before = link_reads(&c);
    c.write(&[b'z'; 3000]);
    assert_eq!(link_reads(&c), before);
}

static WAITED_US: AtomicU64 = AtomicU64::new(0);

/// A delay that waits for nothing and adds up what it was asked to wait.
struct CountingDelay;
impl embedded_hal::delay::DelayNs for CountingDelay {
    fn delay_ns(&mut self, ns: u32) {
        WAITED_US.fetch_add(u64::from(ns / 1000), Ordering::SeqCst);
    }
}

type Timed =
    Netconsole<SimNic<4, 64>, CountingDelay, NoSystemInfo, 2, 4096, [Option<Target<2>>; 2]>;

#[test]
fn enable_waits_for_carrier_then_resolves_or_says_why_not() {
    let c = Timed::new(NoSystemInfo);
    let mut nic: SimNic<4, 64> = SimNic::new(OUR_MAC);
    nic.set_peer(Some(PEER));
    nic.negotiate_for(50);
    assert!(c.attach(NicEngine::with_delay(nic, CountingDelay)).is_ok());
    let i = c.add_target(basic(false)).unwrap();
    assert_eq!(c.enable(i, QUICK), Ok(MacSource::Resolved(PEER_MAC)));

    // No carrier at all: back after the set time, with the reason, the target enabled.
    c.set_carrier_timeout_ms(250).unwrap();
    c.with_nic(|np| np.driver_mut().set_link(false)).unwrap();
    let j = c.add_target(basic(false)).unwrap();
    WAITED_US.store(0, Ordering::SeqCst);
    assert_eq!(c.enable(j, QUICK), Ok(MacSource::Broadcast(BroadcastReason::NoCarrier)));
    assert_eq!(WAITED_US.load(Ordering::SeqCst), 250_000, "the set time, polled every 1 ms");
    assert!(c.with_target(j, |t| t.is_enabled()).unwrap());
}

#[test]
fn without_a_delay_enable_does_not_wait_for_carrier() {
    let c = Console::new(NoSystemInfo);
    let mut nic: SimNic<4, 64> = SimNic::new(OUR_MAC);
    nic.negotiate_for(50);
    assert!(c.attach(NicEngine::new(nic)).is_ok());
    let i = c.add_target(basic(false)).unwrap();
    assert_eq!(c.enable(i, QUICK), Ok(MacSource::Broadcast(BroadcastReason::NoCarrier)));
    assert!(link_reads(&c) <= 2, "no waiting loop without a delay");
}

#[test]
fn a_target_on_broadcast_switches_to_the_peer_once_it_answers() {
    let c = Console::new(NoSystemInfo);
    assert!(c.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    let i = c.add_target(basic(false)).unwrap();
    // Nobody answers ARP yet.
    assert_eq!(c.enable(i, QUICK), Ok(MacSource::Broadcast(BroadcastReason::NoReply)));
    c.log(6, b"to broadcast");
    c.with_nic(|np| np.driver_mut().set_peer(Some(PEER))).unwrap();
    let mut polls = 0;
    while c.target_counters(i).unwrap().mac_switches == 0 {
        c.poll();
        polls += 1;
        assert!(polls <= 10 * netconsole::RESOLVE_EVERY_POLLS, "no switch after {polls} polls");
    }
    c.log(6, b"to the peer");
    let frames: Vec<_> = c
        .with_nic(|np| std::iter::from_fn(|| np.driver_mut().pop_sent()).collect::<Vec<_>>())
        .unwrap();
    let dst = |text: &[u8]| {
        let f =
            frames.iter().find(|f| f.ends_with(text) || f.windows(text.len()).any(|w| w == text));
        EthernetFrame::new_checked(&f.unwrap()[..]).unwrap().dst_addr()
    };
    assert_eq!(dst(b"to broadcast"), netpoll_core::MacAddr::BROADCAST);
    assert_eq!(dst(b"to the peer"), PEER_MAC);
    assert_eq!(c.counters().targets.mac_switches, 1);
}

static PASSED: AtomicU64 = AtomicU64::new(0);

fn firmware_stack(frame: &[u8]) {
    assert_eq!(&frame[12..14], [0x08, 0x00], "the IPv4 frame");
    PASSED.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn writes_never_touch_received_frames_and_poll_hands_them_to_the_stack() {
    let c = Console::new(NoSystemInfo);
    let mut np = NicEngine::new(SimNic::new(OUR_MAC));
    np.set_rx_handler(Some(firmware_stack));
    assert!(c.attach(np).is_ok());
    let i = c.add_target(basic(true)).unwrap();
    c.enable(i, QUICK).unwrap();
    let mut frame = [0u8; 60];
    frame[12..14].copy_from_slice(&[0x08, 0x00]);
    c.with_nic(|np| {
        assert!(np.driver_mut().inject_rx(&frame));
        np.driver_mut().fill_ring_for(100);
    })
    .unwrap();
    // The ring is full: every write retries, reclaiming TX slots only.
    for _ in 0..3 {
        c.log(6, b"while the ring is full");
    }
    c.flush();
    assert_eq!(PASSED.load(Ordering::SeqCst), 0, "no write took a received frame");
    c.poll();
    assert_eq!(PASSED.load(Ordering::SeqCst), 1, "the idle-loop poll handed it over, once");
    c.poll();
    assert_eq!(PASSED.load(Ordering::SeqCst), 1);
}

#[test]
fn the_panic_flush_sends_the_backlog_then_waits_for_the_ring_to_drain() {
    let c = Console::new(NoSystemInfo);
    assert!(c.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    let i = c.add_target(basic(true)).unwrap();
    c.enable(i, QUICK).unwrap();
    c.with_nic(|np| np.driver_mut().fill_ring_for(30)).unwrap();
    c.log_panic(0, b"panic: waiting in the backlog");
    assert!(c.backlog_len() > 0);
    let left = c.flush_for_panic(100);
    assert_eq!((left.backlog_bytes, left.tx_in_flight), (0, 0));
    let sent = c.with_nic(|np| drain(np.driver_mut())).unwrap();
    assert_eq!(sent[0].1, b"panic: waiting in the backlog\n");

    // A ring that never drains: bounded, and it says what is left.
    c.with_nic(|np| np.driver_mut().never_drain()).unwrap();
    let left = c.flush_for_panic(10);
    assert_eq!(left.tx_in_flight, 4);
}

static WAITED_DEFAULT_US: AtomicU64 = AtomicU64::new(0);

/// As [`CountingDelay`], with a sum of its own (tests may run in parallel threads).
struct DefaultDelay;
impl embedded_hal::delay::DelayNs for DefaultDelay {
    fn delay_ns(&mut self, ns: u32) {
        WAITED_DEFAULT_US.fetch_add(u64::from(ns / 1000), Ordering::SeqCst);
    }
}

/// The console keeps the timeout as its difference from the default (so that its initial state
/// is all zero bytes): the default, 0 and the largest value must all come back as set.
#[test]
fn the_carrier_wait_is_linux_4_s_unless_set_and_0_means_no_wait() {
    type Console =
        Netconsole<SimNic<4, 64>, DefaultDelay, NoSystemInfo, 2, 4096, [Option<Target<2>>; 3]>;
    let c = Console::new(NoSystemInfo);
    assert!(c.attach(NicEngine::with_delay(SimNic::new(OUR_MAC), DefaultDelay)).is_ok());
    c.with_nic(|np| np.driver_mut().set_link(false)).unwrap();
    let waited_for = |c: &Console| {
        let i = c.add_target(basic(false)).unwrap();
        WAITED_DEFAULT_US.store(0, Ordering::SeqCst);
        assert_eq!(c.enable(i, QUICK), Ok(MacSource::Broadcast(BroadcastReason::NoCarrier)));
        WAITED_DEFAULT_US.load(Ordering::SeqCst)
    };
    assert_eq!(waited_for(&c), u64::from(netconsole::CARRIER_TIMEOUT_MS) * 1000);
    assert_eq!(netconsole::CARRIER_TIMEOUT_MS, 4000, "netpoll.carrier_timeout");
    c.set_carrier_timeout_ms(0).unwrap();
    assert_eq!(waited_for(&c), 0);
    c.set_carrier_timeout_ms(4001).unwrap();
    assert_eq!(waited_for(&c), 4_001_000);
}
