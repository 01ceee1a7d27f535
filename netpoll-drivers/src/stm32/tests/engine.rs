//! The driver under the send engine: the frames that reach the model's wire are byte for byte
//! those the engine builds over the simulated NIC (the reference every other test uses), ARP is
//! answered through the rings, and a stuck DMA ends a send within the retry budget.

use core::net::Ipv4Addr;

use netpoll_core::wire::{ArpOperation, ArpPacket, ArpRepr};
use netpoll_core::{Endpoint, MacAddr, NicEngine, RetryPolicy, SendError};

use super::{pattern, up, MAC};
use crate::sim::SimNic;

const OUR_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 50);
const PEER_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);
const PEER_MAC: MacAddr = MacAddr([0x02, 0x99, 0x88, 0x77, 0x66, 0x55]);

fn target() -> Endpoint {
    let mut t = Endpoint::new(OUR_IP.into(), PEER_IP.into());
    t.remote_mac = Some(PEER_MAC);
    t
}

#[test]
fn udp_frames_are_byte_exact_with_the_reference_nic() {
    let (eth, model) = up::<4, 4>();
    let mut engine = NicEngine::new(eth);
    assert!(engine.wait_for_carrier(0), "the model's PHY has a link");
    let sim: SimNic = SimNic::new(MAC);
    let mut reference = NicEngine::new(sim);
    let long = pattern(7, 1400);
    let payloads: [&[u8]; 4] = [b"<6>hello\n", b"", &long, b"x"];
    for (i, p) in payloads.iter().enumerate() {
        let len = engine.send_udp(&target(), &[p]).unwrap();
        let ref_len = reference.send_udp(&target(), &[p]).unwrap();
        assert_eq!(len, ref_len);
        assert_eq!(model.run_tx(engine.driver().rings(), 1), 1, "frame {i}");
        let expected = reference.driver_mut().pop_sent().unwrap();
        assert_eq!(model.state().sent[i], expected.as_slice(), "frame {i}");
    }
    engine.reclaim();
    assert_eq!(engine.driver().counters().tx_sent, 4);
}

/// An ARP request from the peer for `ip`, as it arrives (without FCS).
fn arp_request(ip: Ipv4Addr) -> Vec<u8> {
    let mut frame = vec![0u8; 42];
    frame[..6].copy_from_slice(&MacAddr::BROADCAST.0);
    frame[6..12].copy_from_slice(&PEER_MAC.0);
    frame[12..14].copy_from_slice(&[0x08, 0x06]);
    ArpRepr::request(PEER_MAC, PEER_IP, ip).emit(&mut frame[14..]);
    frame
}

#[test]
fn arp_requests_for_our_address_are_answered_through_the_rings() {
    let (eth, model) = up::<2, 2>();
    let mut engine = NicEngine::new(eth);
    engine.add_local_ipv4(OUR_IP);
    assert!(model.receive(engine.driver().rings(), &arp_request(OUR_IP), 0));
    engine.poll();
    assert_eq!(model.run_tx(engine.driver().rings(), 2), 1);
    let sent = model.state().sent[0].clone();
    assert_eq!(sent.len(), 60, "padded");
    assert_eq!(&sent[..6], &PEER_MAC.0);
    assert_eq!(&sent[6..12], &MAC.0);
    let arp = ArpPacket::new_checked(&sent[14..42]).unwrap();
    assert_eq!(arp.operation(), ArpOperation::Reply);
    assert_eq!((arp.source_mac(), arp.source_ip()), (MAC, OUR_IP));
    assert_eq!((arp.target_mac(), arp.target_ip()), (PEER_MAC, PEER_IP));
}

#[test]
fn a_stuck_dma_ends_a_send_within_the_retry_budget() {
    let (eth, model) = up::<2, 2>();
    model.state().tx_stuck = true;
    let mut engine = NicEngine::new(eth);
    assert!(engine.refresh_link());
    let policy = RetryPolicy { tries: 5, wait_us: 50 };
    engine.set_retry_policy(policy);
    engine.send_udp(&target(), &[b"one"]).unwrap();
    engine.send_udp(&target(), &[b"two"]).unwrap();
    assert_eq!(engine.send_udp(&target(), &[b"three"]), Err(SendError::RingFull));
    let c = engine.driver().counters();
    assert_eq!(c.tx_busy, 5, "one xmit per try, then it gave up");
    assert!(engine.driver().tx_stalls_in_a_row() >= 4, "reclaim between tries saw the stall");
    assert!(model.state().sent.is_empty());
}

#[test]
fn frames_that_are_not_arp_for_us_reach_the_firmwares_handler_byte_exact() {
    let (eth, model) = up::<2, 4>();
    let mut engine = NicEngine::new(eth);
    engine.add_local_ipv4(OUR_IP);
    let other = pattern(3, 200);
    model.receive(engine.driver().rings(), &arp_request(OUR_IP), 0);
    model.receive(engine.driver().rings(), &other, 0);
    let mut passed = Vec::new();
    assert_eq!(engine.poll_rx_with(8, &mut |f| passed.push(f.to_vec())), 2);
    assert_eq!(passed, [other], "ARP for us answered, not passed on; FCS removed");
    let c = engine.counters();
    assert_eq!((c.rx_arp, c.rx_passed), (1, 1));
}
