//! The send engine against the simulated NIC: frames byte-exact, the shared IPv4 ID counter,
//! the bounded retry (asserted by the sim's call counts, never by time), exact counters.

use core::net::IpAddr;

use embedded_hal::delay::DelayNs;
use netpoll_core::wire::{Ipv4Packet, UdpFrame};
use netpoll_core::{Counters, Endpoint, MacAddr, NetPoll, NicEngine, RetryPolicy, SendError};
use netpoll_drivers::sim::SimNic;

const OUR_MAC: MacAddr = MacAddr([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
const PEER_MAC: MacAddr = MacAddr([0x52, 0x55, 0x0a, 0x00, 0x02, 0x02]);

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn endpoint(local: &str, remote: &str, port: u16) -> Endpoint {
    Endpoint { remote_port: port, ..Endpoint::new(ip(local), ip(remote)) }
}

fn ident(frame: &[u8]) -> u16 {
    Ipv4Packet::new_checked(&frame[14..]).unwrap().ident()
}

#[test]
fn frames_are_byte_exact() {
    let mut np = NicEngine::new(SimNic::<4, 16>::new(OUR_MAC));
    let mut ep = endpoint("10.0.0.1", "10.0.0.2", 6666);
    ep.remote_mac = Some(PEER_MAC);
    let len = np.send_udp(&ep, &[b"hello ", b"world\n"]).unwrap();
    assert_eq!(len, 42 + 12);

    let expected = UdpFrame {
        src_mac: OUR_MAC,
        dst_mac: PEER_MAC,
        src_ip: ip("10.0.0.1"),
        dst_ip: ip("10.0.0.2"),
        src_port: 6665,
        dst_port: 6666,
        ipv4_ident: 1,
    };
    let mut want = [0u8; 60];
    expected.emit(&mut want, &[b"hello world\n"]).unwrap();
    assert_eq!(np.driver_mut().pop_sent().unwrap().as_slice(), &want[..]);
}

#[test]
fn ipv6_frames_go_to_broadcast_without_a_mac() {
    let mut np = NicEngine::new(SimNic::<4, 16>::new(OUR_MAC));
    np.send_udp(&endpoint("fd00::1", "fd00::2", 6666), &[b"v6\n"]).unwrap();
    let frame = np.driver_mut().pop_sent().unwrap();
    assert_eq!(frame[..6], [0xff; 6]);
    assert_eq!(frame[12..14], [0x86, 0xdd]);
}

#[test]
fn endpoints_share_one_ipv4_id_counter_starting_at_1() {
    let mut np = NicEngine::new(SimNic::<4, 16>::new(OUR_MAC));
    let a = endpoint("10.0.0.1", "10.0.0.2", 6666);
    let b = endpoint("10.0.0.1", "10.0.0.3", 6667);
    let v6 = endpoint("fd00::1", "fd00::2", 6666);
    for ep in [&a, &b, &v6, &a, &b] {
        np.send_udp(ep, &[b"x"]).unwrap();
        np.poll(); // keep the ring free
    }
    let frames: Vec<_> = np.driver().sent().map(|f| f.to_vec()).collect();
    let ids: Vec<u16> = frames.iter().filter(|f| f[12..14] == [8, 0]).map(|f| ident(f)).collect();
    // IPv6 has no identification and takes no number.
    assert_eq!(ids, [1, 2, 3, 4]);
}

#[test]
fn id_counter_wraps_mod_2_16() {
    let mut np = NicEngine::new(SimNic::<1, 2>::new(OUR_MAC));
    let ep = endpoint("10.0.0.1", "10.0.0.2", 6666);
    for _ in 0..65_536 {
        np.send_udp(&ep, &[]).unwrap();
        np.poll();
        np.driver_mut().clear_sent();
    }
    np.send_udp(&ep, &[]).unwrap();
    assert_eq!(ident(np.driver().sent().next().unwrap()), 1, "65537th frame wraps to 1");
}

#[test]
fn a_full_ring_is_retried_with_tx_reclaims_in_between() {
    let mut np = NicEngine::new(SimNic::<2, 16>::new(OUR_MAC));
    np.driver_mut().fill_ring_for(3);
    let ep = endpoint("10.0.0.1", "10.0.0.2", 6666);
    np.send_udp(&ep, &[b"late\n"]).unwrap();
    let sim = np.driver().counters();
    // Busy on tries 1-4 (3 stalled reclaims, then the 4th frees the ring), sent on try 5.
    assert_eq!(sim.xmit_calls, 5);
    assert_eq!(sim.busy, 4);
    assert_eq!(sim.reclaims, 4);
    assert_eq!(sim.receives, 0, "the retry loop never receives");
    assert_eq!(
        np.counters(),
        Counters { frames_sent: 1, bytes_sent: 47, busy_retries: 4, ..Counters::default() }
    );
}

#[test]
fn a_stuck_ring_gives_up_within_the_budget() {
    let mut np = NicEngine::new(SimNic::<2, 16>::new(OUR_MAC));
    np.set_retry_policy(RetryPolicy { tries: 7, wait_us: 50 });
    np.driver_mut().never_drain();
    let ep = endpoint("10.0.0.1", "10.0.0.2", 6666);
    assert_eq!(np.send_udp(&ep, &[b"lost\n"]), Err(SendError::RingFull));
    let sim = np.driver().counters();
    assert_eq!((sim.xmit_calls, sim.busy, sim.reclaims, sim.frames), (7, 7, 6, 0));
    assert_eq!(np.counters(), Counters { busy_retries: 7, gave_up: 1, ..Counters::default() });

    // Healed, the next send goes through and the counters go on from there.
    np.driver_mut().heal();
    np.poll();
    np.send_udp(&ep, &[b"ok\n"]).unwrap();
    assert_eq!(np.counters().frames_sent, 1);
    assert_eq!(np.counters().gave_up, 1);
}

/// A delay that records what it was asked to wait, instead of waiting.
#[derive(Default)]
struct RecordingDelay {
    waited_ns: u64,
    calls: u32,
}

impl DelayNs for RecordingDelay {
    fn delay_ns(&mut self, ns: u32) {
        self.waited_ns += u64::from(ns);
        self.calls += 1;
    }
}

#[test]
fn the_delay_waits_between_tries_only() {
    let mut np = NicEngine::with_delay(SimNic::<2, 16>::new(OUR_MAC), RecordingDelay::default());
    np.set_retry_policy(RetryPolicy { tries: 20, wait_us: 50 });
    np.driver_mut().never_drain();
    let ep = endpoint("10.0.0.1", "10.0.0.2", 6666);
    assert_eq!(np.send_udp(&ep, &[b"x"]), Err(SendError::RingFull));
    // 20 tries, a reclaim and a 50 us wait between each two: 19 of each, 950 us in all.
    assert_eq!(np.driver().counters().reclaims, 19);
    assert_eq!(np.delay().calls, 19);
    assert_eq!(np.delay().waited_ns, 19 * 50_000);
    assert_eq!(RetryPolicy::LINUX.max_wait_us(), 19 * 50);

    // A send that goes through first time waits for nothing.
    np.driver_mut().heal();
    np.poll();
    np.send_udp(&ep, &[b"x"]).unwrap();
    assert_eq!(np.delay().calls, 19);
}

#[test]
fn link_down_and_oversized_payloads_are_refused_and_counted() {
    let mut np = NicEngine::new(SimNic::<2, 16>::new(OUR_MAC));
    let ep = endpoint("10.0.0.1", "10.0.0.2", 6666);
    np.driver_mut().set_link(false);
    assert_eq!(np.send_udp(&ep, &[b"x"]), Err(SendError::LinkDown));
    np.driver_mut().set_link(true);
    let big = [0u8; 1473];
    assert!(matches!(np.send_udp(&ep, &[&big]), Err(SendError::Build(_))));
    let mixed = endpoint("10.0.0.1", "fd00::2", 6666);
    assert!(matches!(np.send_udp(&mixed, &[b"x"]), Err(SendError::Build(_))));
    assert_eq!(np.driver().counters().xmit_calls, 0, "nothing reached the driver");
    assert_eq!(np.counters(), Counters { link_down: 1, errors: 2, ..Counters::default() });
}

#[test]
fn counters_add_up_over_many_sends() {
    let mut np = NicEngine::new(SimNic::<4, 64>::new(OUR_MAC));
    let ep = endpoint("10.0.0.1", "10.0.0.2", 6666);
    let mut bytes = 0;
    for n in 0..50usize {
        let payload = vec![b'a'; n * 10];
        bytes += np.send_udp(&ep, &[&payload]).unwrap() as u64;
        np.poll();
    }
    let c = np.counters();
    assert_eq!((c.frames_sent, c.bytes_sent), (50, bytes));
    assert_eq!(np.driver().counters().frames, 50);
    assert_eq!(bytes, 50 * 42 + 10 * (0..50).sum::<u64>());
}

#[test]
fn mac_comes_from_the_driver() {
    let np = NicEngine::new(SimNic::<4, 16>::new(OUR_MAC));
    assert_eq!(np.driver().mac_address(), OUR_MAC);
}

/// Prepared headers send what `send_payload` sends to the same endpoint, byte for byte, share
/// its IPv4 ID counter, and refuse and count what it refuses.
#[test]
fn prepared_sends_equal_plain_sends() {
    let mut plain = NicEngine::new(SimNic::<4, 16>::new(OUR_MAC));
    let mut prepared = NicEngine::new(SimNic::<4, 16>::new(OUR_MAC));
    let mut v4 = endpoint("10.0.0.1", "10.0.0.2", 6666);
    v4.remote_mac = Some(PEER_MAC);
    let v6 = endpoint("fd00::1", "fd00::2", 6667);
    let (p4, p6) = (prepared.prepare(&v4).unwrap(), prepared.prepare(&v6).unwrap());
    let payloads: [&[&[u8]]; 4] = [&[b"one\n"], &[b"", b"two", b"\n"], &[&[7u8; 1472]], &[]];
    for payload in payloads {
        for (ep, frame) in [(&v4, &p4), (&v6, &p6)] {
            let want = plain.send_payload(ep, payload);
            assert_eq!(prepared.send_prepared(frame, payload), want);
            if want.is_ok() {
                assert_eq!(prepared.driver_mut().pop_sent(), plain.driver_mut().pop_sent());
            }
            plain.reclaim();
            prepared.reclaim();
        }
    }
    // Too long for IPv6 (1452 bytes at most), as for the plain send.
    let long: &[&[u8]] = &[&[0u8; 1460]];
    assert_eq!(prepared.send_prepared(&p6, long), plain.send_payload(&v6, long));
    plain.driver_mut().set_link(false);
    prepared.driver_mut().set_link(false);
    let down: &[&[u8]] = &[b"down"];
    assert_eq!(prepared.send_prepared(&p4, down), Err(SendError::LinkDown));
    assert_eq!(plain.send_payload(&v4, down), Err(SendError::LinkDown));
    assert_eq!(prepared.counters(), plain.counters());
    assert!(prepared.prepare(&endpoint("10.0.0.1", "fd00::2", 6666)).is_err());
}
