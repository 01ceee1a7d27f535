//! A TX ring that never drains: bounded work (asserted by the sim's call counts), nothing lost
//! while the backlog has room, order kept, every loss counted; link down counted as dropped.

mod common;

use common::{drain, OUR_MAC, PEER_MAC};
use netconsole::{Netconsole, NoSystemInfo, Target};
use netpoll_core::{Endpoint, NicEngine, ResolvePolicy, RetryPolicy};
use netpoll_drivers::sim::SimNic;

type Console =
    Netconsole<SimNic<2, 64>, netpoll_core::NoDelay, NoSystemInfo, 2, 256, [Option<Target<2>>; 1]>;

fn console() -> Console {
    let c = Console::new(NoSystemInfo);
    let mut np = NicEngine::new(SimNic::new(OUR_MAC));
    np.set_retry_policy(RetryPolicy { tries: 5, wait_us: 50 });
    assert!(c.attach(np).is_ok());
    let mut endpoint = Endpoint::new("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    endpoint.remote_mac = Some(PEER_MAC);
    let i = c.add_target(Target::new(endpoint)).unwrap();
    c.enable(i, ResolvePolicy::default()).unwrap();
    c
}

#[test]
fn stuck_ring_defers_in_order_then_drops_and_counts() {
    let c = console();
    c.with_nic(|np| np.driver_mut().never_drain()).unwrap();

    // Each entry: 34 bytes of header + 20 of text = 54; 4 fit in 256 bytes.
    let line = |i: u8| [b'0' + i; 20];
    for i in 0..6 {
        c.log(6, &line(i));
    }
    let sim = c.with_nic(|np| np.driver().counters()).unwrap();
    // The first write tries its budget (5 attempts); every later write finds the backlog stuck
    // after one budget for the head of the backlog: 6 writes x 5 attempts.
    assert_eq!(sim.xmit_calls, 6 * 5);
    assert_eq!(sim.frames, 0);
    let counters = c.counters();
    assert_eq!(counters.deferred, 4);
    assert_eq!(counters.backlog_full.messages, 2, "later writes queue behind, then overflow");
    assert_eq!(counters.targets.ring_stuck.messages, 0);

    // Healed: a flush sends the four kept messages, in order.
    c.with_nic(|np| {
        np.driver_mut().heal();
        np.poll();
    })
    .unwrap();
    assert!(c.poll());
    let sent: Vec<Vec<u8>> =
        c.with_nic(|np| drain(np.driver_mut())).unwrap().into_iter().map(|(_, p)| p).collect();
    let want: Vec<Vec<u8>> = (0..4).map(|i| [&line(i)[..], b"\n"].concat()).collect();
    assert_eq!(sent, want);
    assert_eq!(c.backlog_len(), 0);
    assert_eq!(c.counters().targets.messages, 4);
}

#[test]
fn ring_stuck_with_a_full_backlog_counts_ring_stuck() {
    let c = console();
    c.with_nic(|np| np.driver_mut().never_drain()).unwrap();
    let big = [b'x'; 300]; // larger than the whole backlog
    c.log(6, &big);
    let t = c.target_counters(0).unwrap();
    assert_eq!((t.ring_stuck.messages, t.ring_stuck.bytes), (1, 300));
    assert_eq!(c.counters().targets.ring_stuck, t.ring_stuck, "the total is the sum");
    assert_eq!(c.counters().backlog_full.messages, 0, "counted once, for its reason");
}

#[test]
fn link_down_drops_and_counts() {
    let c = console();
    c.with_nic(|np| np.driver_mut().set_link(false)).unwrap();
    c.log(6, b"nobody hears this");
    let t = c.target_counters(0).unwrap();
    assert_eq!((t.link_down.messages, t.link_down.bytes), (1, 17));
    assert_eq!(c.backlog_len(), 0, "link down is a drop, not a deferral");
    assert_eq!(c.with_nic(|np| np.driver().counters().xmit_calls).unwrap(), 0);
}

#[test]
fn messages_before_a_nic_wait_and_are_replayed() {
    let c = Console::new(NoSystemInfo);
    c.log(6, b"early boot");
    assert_eq!(c.counters().deferred, 1);
    assert!(c.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    let mut endpoint = Endpoint::new("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    endpoint.remote_mac = Some(PEER_MAC);
    let i = c.add_target(Target::new(endpoint)).unwrap();
    c.enable(i, ResolvePolicy::default()).unwrap();
    assert!(c.flush());
    let sent = c.with_nic(|np| drain(np.driver_mut())).unwrap();
    assert_eq!(sent[0].1, b"early boot\n");
}
