//! What a real NIC shared with a firmware's own stack needs from the engine: the retry loop
//! reclaims TX without consuming received frames, frames that are not ARP for us reach the
//! caller's handler (counted), link state is a cached value read from the PHY only when asked,
//! carrier is waited for within a bound, resolution can finish in a later poll, and a panic
//! handler can wait, bounded, for the TX ring to drain.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Mutex;

use embedded_hal::delay::DelayNs;
use netpoll_core::wire::{ArpRepr, EtherType, EthernetFrame, EthernetRepr};
use netpoll_core::{Endpoint, MacAddr, NicEngine, ResolveError, ResolvePolicy, SendError};
use netpoll_drivers::sim::{SimNic, SimPeer};

const OUR_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 1]);
const OUR_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const PEER: SimPeer =
    SimPeer { mac: MacAddr([0x02, 0, 0, 0, 0, 2]), ip: Ipv4Addr::new(10, 0, 0, 2) };

/// An IPv4 frame for the firmware's stack (a TCP segment, say): not ARP, not for the console.
fn stack_frame(tag: u8) -> [u8; 60] {
    let mut frame = [tag; 60];
    frame[..6].copy_from_slice(&OUR_MAC.0);
    frame[6..12].copy_from_slice(&PEER.mac.0);
    frame[12..14].copy_from_slice(&[0x08, 0x00]);
    frame
}

fn endpoint() -> Endpoint {
    Endpoint::new(IpAddr::V4(OUR_IP), IpAddr::V4(PEER.ip))
}

/// A delay that counts what it was asked to wait.
#[derive(Default)]
struct CountingDelay {
    waited_us: u64,
}

impl DelayNs for CountingDelay {
    fn delay_ns(&mut self, ns: u32) {
        self.waited_us += u64::from(ns / 1000);
    }
}

static FOR_THE_STACK: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

fn to_the_stack(frame: &[u8]) {
    FOR_THE_STACK.lock().unwrap().push(frame.to_vec());
}

#[test]
fn a_frame_for_the_stack_survives_a_full_ring_and_reaches_the_handler_once() {
    let mut np = NicEngine::new(SimNic::<2, 16>::new(OUR_MAC));
    np.set_rx_handler(Some(to_the_stack));
    np.driver_mut().never_drain();
    assert!(np.driver_mut().inject_rx(&stack_frame(0x5a)));

    // The retry loop runs its whole budget against the full ring without touching RX.
    assert_eq!(np.send_udp(&endpoint(), &[b"stuck\n"]), Err(SendError::RingFull));
    assert_eq!(np.driver().counters().receives, 0);
    assert!(FOR_THE_STACK.lock().unwrap().is_empty());

    // The explicit receive poll hands it over, once.
    assert_eq!(np.poll_rx(8), 1);
    assert_eq!(np.poll_rx(8), 0);
    let got = FOR_THE_STACK.lock().unwrap().clone();
    assert_eq!(got, vec![stack_frame(0x5a).to_vec()]);
    assert_eq!((np.counters().rx_passed, np.counters().rx_unclaimed), (1, 0));
}

#[test]
fn without_a_handler_a_frame_not_for_us_is_counted_not_lost_silently() {
    let mut np = NicEngine::new(SimNic::<2, 16>::new(OUR_MAC));
    np.driver_mut().inject_rx(&stack_frame(1));
    np.driver_mut().inject_rx(&stack_frame(2));
    let mut seen = 0;
    assert_eq!(np.poll_rx_with(1, &mut |_| seen += 1), 1, "the budget bounds the call");
    np.poll();
    assert_eq!(seen, 1);
    let c = np.counters();
    assert_eq!((c.rx_passed, c.rx_unclaimed, c.rx_arp), (1, 1, 0));
}

#[test]
fn arp_for_us_is_answered_and_not_handed_on() {
    let mut np = NicEngine::new(SimNic::<2, 16>::new(OUR_MAC));
    np.add_local_ipv4(OUR_IP);
    let mut request = [0u8; 60];
    let mut eth = EthernetFrame::new_unchecked(&mut request[..]);
    EthernetRepr { src_addr: PEER.mac, dst_addr: MacAddr::BROADCAST, ethertype: EtherType::Arp }
        .emit(&mut eth);
    ArpRepr::request(PEER.mac, PEER.ip, OUR_IP).emit(&mut eth.payload_mut()[..28]);
    np.driver_mut().inject_rx(&request);
    let mut handed = 0;
    np.poll_rx_with(8, &mut |_| handed += 1);
    assert_eq!(handed, 0);
    assert_eq!((np.counters().rx_arp, np.counters().arp_replies_sent), (1, 1));
}

#[test]
fn sending_reads_no_phy_register() {
    let mut np = NicEngine::new(SimNic::<8, 16>::new(OUR_MAC));
    for _ in 0..4 {
        np.send_udp(&endpoint(), &[&[b'x'; 1000]]).unwrap();
    }
    assert_eq!(np.driver().counters().link_reads, 0);
    np.driver_mut().set_phy_link(false);
    assert!(np.link_up(), "cached until read");
    assert!(!np.refresh_link());
    assert_eq!(np.send_udp(&endpoint(), &[b"x"]), Err(SendError::LinkDown));
    assert_eq!(np.driver().counters().link_reads, 1);
}

#[test]
fn carrier_that_comes_up_after_50_reads_is_waited_for() {
    let mut np = NicEngine::with_delay(SimNic::<2, 16>::new(OUR_MAC), CountingDelay::default());
    np.driver_mut().negotiate_for(50);
    assert!(np.wait_for_carrier(4000));
    assert_eq!(np.driver().counters().link_reads, 50);
    assert_eq!(np.delay().waited_us, 49 * 1000, "one read every millisecond");
}

#[test]
fn no_carrier_gives_up_after_the_set_time() {
    let mut np = NicEngine::with_delay(SimNic::<2, 16>::new(OUR_MAC), CountingDelay::default());
    np.driver_mut().negotiate_for(u64::MAX);
    assert!(!np.wait_for_carrier(250));
    assert_eq!(np.delay().waited_us, 250 * 1000);
    assert_eq!(np.driver().counters().link_reads, 251);
}

#[test]
fn without_a_delay_carrier_is_read_once_and_not_waited_for() {
    let mut np = NicEngine::new(SimNic::<2, 16>::new(OUR_MAC));
    np.driver_mut().negotiate_for(2);
    assert!(!np.wait_for_carrier(4000));
    assert_eq!(np.driver().counters().link_reads, 1);
}

#[test]
fn an_answer_that_comes_after_the_resolution_gave_up_is_learned_later() {
    let mut np = NicEngine::new(SimNic::<2, 16>::new(OUR_MAC));
    np.add_local_ipv4(OUR_IP);
    let mut ep = endpoint();
    let policy = ResolvePolicy { polls: 5, wait_us: 0, requests: 1 };
    assert_eq!(np.resolve(&mut ep, policy), Err(ResolveError::Timeout));
    assert_eq!(ep.remote_mac, None);

    // The peer comes up; a later request is answered in a later poll.
    np.driver_mut().set_peer(Some(PEER));
    np.request_mac(&ep).unwrap();
    assert_eq!(np.learned_mac(&mut ep), None, "nothing received yet");
    np.poll();
    assert_eq!(np.learned_mac(&mut ep), Some(PEER.mac));
    assert_eq!(ep.remote_mac, Some(PEER.mac));
    let mut behind_the_same_hop = endpoint();
    assert_eq!(np.learned_mac(&mut behind_the_same_hop), Some(PEER.mac), "kept for every target");
    assert_eq!(np.counters().arp_requests_sent, 2);
}

#[test]
fn the_tx_ring_drains_within_a_bound() {
    let mut np = NicEngine::with_delay(SimNic::<4, 16>::new(OUR_MAC), CountingDelay::default());
    np.send_udp(&endpoint(), &[b"a"]).unwrap();
    np.send_udp(&endpoint(), &[b"b"]).unwrap();
    assert_eq!(np.driver().in_flight(), 2);
    np.driver_mut().fill_ring_for(3);
    assert_eq!(np.wait_tx_drained(2, 10), 4, "still queued after the bound");
    assert_eq!(np.delay().waited_us, 20);
    assert_eq!(np.wait_tx_drained(10, 10), 0);
}

#[test]
fn an_arp_reply_the_console_did_not_ask_for_goes_to_the_stack_sharing_its_address() {
    let mut np = NicEngine::new(SimNic::<2, 16>::new(OUR_MAC));
    np.add_local_ipv4(OUR_IP);
    // The firmware's stack, on the same address, asked for its gateway; the answer comes back.
    let mut reply = [0u8; 60];
    let mut eth = EthernetFrame::new_unchecked(&mut reply[..]);
    EthernetRepr { src_addr: PEER.mac, dst_addr: OUR_MAC, ethertype: EtherType::Arp }
        .emit(&mut eth);
    ArpRepr::request(OUR_MAC, OUR_IP, PEER.ip)
        .reply_to(PEER.mac)
        .emit(&mut eth.payload_mut()[..28]);
    np.driver_mut().inject_rx(&reply);
    let mut handed = Vec::new();
    np.poll_rx_with(8, &mut |f| handed.push(f.to_vec()));
    assert_eq!(handed, vec![reply.to_vec()]);
    assert_eq!(np.counters().rx_arp, 0);
}
