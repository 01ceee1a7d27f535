//! ARP against the simulated NIC: answers to requests for our address (checked with etherparse),
//! resolution against the sim's peer, a clean time-out against silence, malformed frames ignored.

use core::net::{IpAddr, Ipv4Addr};

use etherparse::{ArpOperation, LinkHeader, NetHeaders, PacketHeaders};
use netpoll_core::wire::{ArpRepr, EtherType, EthernetFrame, EthernetRepr};
use netpoll_core::{Endpoint, MacAddr, NicEngine, ResolveError, ResolvePolicy};
use netpoll_drivers::sim::{SimNic, SimPeer};

const OUR_MAC: MacAddr = MacAddr([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
const OUR_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 15);
const PEER: SimPeer =
    SimPeer { mac: MacAddr([0x52, 0x55, 0x0a, 0x00, 0x02, 0x02]), ip: Ipv4Addr::new(10, 0, 2, 2) };

fn arp_frame(repr: &ArpRepr, dst: MacAddr) -> [u8; 60] {
    let mut buf = [0u8; 60];
    let mut eth = EthernetFrame::new_unchecked(&mut buf[..]);
    EthernetRepr { src_addr: repr.source_mac, dst_addr: dst, ethertype: EtherType::Arp }
        .emit(&mut eth);
    repr.emit(&mut eth.payload_mut()[..28]);
    buf
}

fn engine() -> NicEngine<SimNic<4, 16>> {
    let mut np = NicEngine::new(SimNic::new(OUR_MAC));
    assert!(np.add_local_ipv4(OUR_IP));
    np
}

#[test]
fn a_request_for_our_address_is_answered() {
    let mut np = engine();
    let request = ArpRepr::request(PEER.mac, PEER.ip, OUR_IP);
    assert!(np.driver_mut().inject_rx(&arp_frame(&request, MacAddr::BROADCAST)));
    np.poll();

    let reply = np.driver_mut().pop_sent().expect("a reply was sent");
    let headers = PacketHeaders::from_ethernet_slice(&reply).unwrap();
    let Some(LinkHeader::Ethernet2(eth)) = headers.link else { panic!("not Ethernet") };
    assert_eq!(eth.destination, PEER.mac.0);
    assert_eq!(eth.source, OUR_MAC.0);
    let Some(NetHeaders::Arp(arp)) = headers.net else { panic!("not ARP: {:?}", headers.net) };
    assert_eq!(arp.operation, ArpOperation::REPLY);
    assert_eq!(arp.sender_hw_addr(), OUR_MAC.0);
    assert_eq!(arp.sender_protocol_addr(), OUR_IP.octets());
    assert_eq!(arp.target_hw_addr(), PEER.mac.0);
    assert_eq!(arp.target_protocol_addr(), PEER.ip.octets());
    assert_eq!(np.counters().arp_replies_sent, 1);
}

#[test]
fn requests_for_other_addresses_and_malformed_frames_change_nothing() {
    let mut np = engine();
    let other = ArpRepr::request(PEER.mac, PEER.ip, Ipv4Addr::new(10, 0, 2, 99));
    np.driver_mut().inject_rx(&arp_frame(&other, MacAddr::BROADCAST));
    let good = arp_frame(&ArpRepr::request(PEER.mac, PEER.ip, OUR_IP), MacAddr::BROADCAST);
    np.driver_mut().inject_rx(&good[..40]); // truncated
    let mut bad_hlen = good;
    bad_hlen[14 + 4] = 7;
    np.driver_mut().inject_rx(&bad_hlen);
    let mut not_arp = good;
    not_arp[13] = 0x00; // EtherType 0x0800
    np.driver_mut().inject_rx(&not_arp);
    np.poll();
    assert_eq!(np.driver().sent().count(), 0);
    assert_eq!(np.counters().arp_replies_sent, 0);
}

#[test]
fn resolution_finds_the_peer() {
    let mut np = engine();
    np.driver_mut().set_peer(Some(PEER));
    let mut ep = Endpoint::new(IpAddr::V4(OUR_IP), IpAddr::V4(PEER.ip));
    let mac = np.resolve(&mut ep, ResolvePolicy::default()).unwrap();
    assert_eq!(mac, PEER.mac);
    assert_eq!(ep.remote_mac, Some(PEER.mac));
    assert_eq!(np.counters().arp_requests_sent, 1);
    // The request was a well-formed broadcast who-has from us.
    let request = np.driver().sent().next().unwrap().to_vec();
    let headers = PacketHeaders::from_ethernet_slice(&request).unwrap();
    let Some(NetHeaders::Arp(arp)) = headers.net else { panic!("not ARP") };
    assert_eq!(arp.operation, ArpOperation::REQUEST);
    assert_eq!(arp.target_protocol_addr(), PEER.ip.octets());
    assert_eq!(arp.sender_protocol_addr(), OUR_IP.octets());
    assert_eq!(request[..6], [0xff; 6]);
}

#[test]
fn resolution_asks_for_the_gateway_of_an_off_link_target() {
    let mut np = engine();
    np.driver_mut().set_peer(Some(PEER));
    let mut ep = Endpoint::new(IpAddr::V4(OUR_IP), "192.0.2.7".parse().unwrap());
    ep.gateway = Some(PEER.ip);
    assert_eq!(np.resolve(&mut ep, ResolvePolicy::default()), Ok(PEER.mac));
}

#[test]
fn resolution_times_out_cleanly_against_silence() {
    let mut np = engine();
    let mut ep = Endpoint::new(IpAddr::V4(OUR_IP), IpAddr::V4(PEER.ip));
    let policy = ResolvePolicy { polls: 30, wait_us: 0, requests: 3 };
    assert_eq!(np.resolve(&mut ep, policy), Err(ResolveError::Timeout));
    assert_eq!(ep.remote_mac, None, "left unresolved");
    assert_eq!(np.driver().counters().receives, 30, "bounded by the policy's polls");
    assert_eq!(np.counters().arp_requests_sent, 3);
    // A reply that arrives late is not taken for a later resolution of another address.
    np.driver_mut().inject_rx(&arp_frame(&ArpRepr::request(PEER.mac, PEER.ip, OUR_IP), OUR_MAC));
    np.poll();
    assert_eq!(ep.remote_mac, None);
}

#[test]
fn ipv6_endpoints_are_not_resolved() {
    let mut np = engine();
    let mut ep = Endpoint::new("fd00::1".parse().unwrap(), "fd00::2".parse().unwrap());
    assert_eq!(np.resolve(&mut ep, ResolvePolicy::default()), Err(ResolveError::NotIpv4));
    assert_eq!(np.driver().counters().xmit_calls, 0);
}

#[test]
fn an_arp_frame_the_full_ring_refuses_is_counted_not_lost_silently() {
    let mut np = engine();
    np.driver_mut().never_drain();
    let request = ArpRepr::request(PEER.mac, PEER.ip, OUR_IP);
    assert!(np.driver_mut().inject_rx(&arp_frame(&request, MacAddr::BROADCAST)));
    np.poll();
    assert_eq!(np.driver().counters().busy, 1, "the reply found the ring full");
    let c = np.counters();
    assert_eq!(c.arp_replies_sent, 0);
    assert_eq!((c.busy_retries, c.gave_up), (1, 1), "the reply, given up after its one try");

    let ep = Endpoint::new(IpAddr::V4(OUR_IP), IpAddr::V4(PEER.ip));
    np.request_mac(&ep).unwrap();
    let c = np.counters();
    assert_eq!(c.arp_requests_sent, 0);
    assert_eq!((c.busy_retries, c.gave_up), (2, 2), "and the request likewise");
}

#[test]
fn group_targets_are_not_asked_for_and_no_answer_can_claim_them() {
    let mut np = engine();
    let spoofer = MacAddr([0x02, 0, 0, 0, 0, 0x66]);
    for group in [Ipv4Addr::BROADCAST, Ipv4Addr::new(239, 1, 2, 3)] {
        // A station that answers for the group address, which no station owns.
        np.driver_mut().set_peer(Some(SimPeer { mac: spoofer, ip: group }));
        let mut ep = Endpoint::new(IpAddr::V4(OUR_IP), IpAddr::V4(group));
        assert_eq!(np.resolve(&mut ep, ResolvePolicy::default()), Ok(MacAddr::BROADCAST));
        assert_eq!(ep.remote_mac, Some(MacAddr::BROADCAST), "{group}: broadcast, as Linux sends");
        ep.remote_mac = None;
        np.request_mac(&ep).unwrap();
        np.poll();
        assert_eq!(np.learned_mac(&mut ep), Some(MacAddr::BROADCAST));
    }
    assert_eq!(np.driver().counters().xmit_calls, 0, "no ARP request for a group address");
    assert_eq!(np.counters().arp_requests_sent, 0);
}

#[test]
fn arp_from_our_own_mac_is_neither_answered_nor_learned() {
    let mut np = engine();
    // Our own announcement, looped back (a hub, a bridge in a loop, a TAP that echoes).
    let ours = ArpRepr::request(OUR_MAC, OUR_IP, OUR_IP);
    assert!(np.driver_mut().inject_rx(&arp_frame(&ours, MacAddr::BROADCAST)));
    let mut ep = Endpoint::new(IpAddr::V4(OUR_IP), IpAddr::V4(PEER.ip));
    np.request_mac(&ep).unwrap();
    np.driver_mut().clear_sent();
    // A reply that puts the peer at our own MAC: every log line would go to ourselves.
    let poison = ArpRepr {
        operation: netpoll_core::wire::ArpOperation::Reply,
        source_mac: OUR_MAC,
        source_ip: PEER.ip,
        target_mac: OUR_MAC,
        target_ip: OUR_IP,
    };
    assert!(np.driver_mut().inject_rx(&arp_frame(&poison, OUR_MAC)));
    np.poll();
    assert_eq!(np.driver().sent().count(), 0, "no reply to ourselves");
    assert_eq!(np.counters().arp_replies_sent, 0);
    assert_eq!(np.learned_mac(&mut ep), None);
    assert_eq!(ep.remote_mac, None);
}

/// The replies one poll queued go out once each, in the order the requests came, as far as the
/// ring takes them (one try each); the queue is empty after, so the next poll sends none again.
#[test]
fn queued_replies_go_out_once_each_in_order_and_not_again() {
    let peer = |n: u8| (MacAddr([0x02, 0, 0, 0, 0, n]), Ipv4Addr::new(10, 0, 2, n));
    let targets = |np: &mut NicEngine<SimNic<2, 16>>| {
        let mut out = Vec::new();
        while let Some(frame) = np.driver_mut().pop_sent() {
            let headers = PacketHeaders::from_ethernet_slice(&frame).unwrap();
            let Some(NetHeaders::Arp(arp)) = headers.net else { panic!("not ARP") };
            assert_eq!(arp.operation, ArpOperation::REPLY);
            out.push(arp.target_protocol_addr().to_vec());
        }
        out
    };
    let mut np = NicEngine::new(SimNic::<2, 16>::new(OUR_MAC));
    assert!(np.add_local_ipv4(OUR_IP));
    // Three requests: the ring (two slots) takes two replies, the third finds it full.
    for n in 2..5 {
        let (mac, ip) = peer(n);
        let request = ArpRepr::request(mac, ip, OUR_IP);
        assert!(np.driver_mut().inject_rx(&arp_frame(&request, MacAddr::BROADCAST)));
    }
    np.poll();
    assert_eq!(targets(&mut np), [[10, 0, 2, 2], [10, 0, 2, 3]]);
    let c = np.counters();
    assert_eq!((c.rx_arp, c.arp_replies_sent, c.frames_sent), (3, 2, 2));
    assert_eq!((c.busy_retries, c.gave_up), (1, 1), "the third, one try, given up");
    np.poll();
    np.poll();
    assert_eq!(targets(&mut np), Vec::<Vec<u8>>::new(), "none sent again");
    let c = np.counters();
    assert_eq!((c.arp_replies_sent, c.frames_sent, c.gave_up), (2, 2, 1));
    // A new request is answered on its own.
    let (mac, ip) = peer(9);
    assert!(np.driver_mut().inject_rx(&arp_frame(&ArpRepr::request(mac, ip, OUR_IP), mac)));
    np.poll();
    assert_eq!(targets(&mut np), [[10, 0, 2, 9]]);
    assert_eq!(np.counters().arp_replies_sent, 3);
}
