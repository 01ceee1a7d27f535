//! Helpers shared by the netconsole integration tests.
#![allow(dead_code)] // each test binary uses a part

pub mod quirky_nic;
pub mod stalling;

use core::net::IpAddr;

use netconsole::Target;
use netpoll_core::wire::{EtherType, EthernetFrame, Ipv4Packet, Ipv6Packet, UdpPacket};
use netpoll_core::{Endpoint, MacAddr, NetPoll};
use netpoll_drivers::sim::SimNic;

pub const OUR_MAC: MacAddr = MacAddr([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
pub const PEER_MAC: MacAddr = MacAddr([0x52, 0x55, 0x0a, 0x00, 0x02, 0x02]);

/// 10.0.0.1 to 10.0.0.2, our peer's MAC configured, to `port`.
pub fn endpoint(port: u16) -> Endpoint {
    let mut ep = Endpoint::new("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    ep.remote_mac = Some(PEER_MAC);
    ep.remote_port = port;
    ep
}

/// A disabled target to [`endpoint`]`(port)`, basic or extended.
pub fn target(port: u16, extended: bool) -> Target<2> {
    let mut t = Target::new(endpoint(port));
    t.extended = extended;
    t
}

/// The payloads of [`drain`]'s pairs, as text.
pub fn texts(sent: Vec<(u16, Vec<u8>)>) -> Vec<String> {
    sent.into_iter().map(|(_, p)| String::from_utf8_lossy(&p).into_owned()).collect()
}

/// The UDP payload of a frame the console sent, with its checksums verified.
pub fn udp_payload(frame: &[u8]) -> (u16, Vec<u8>) {
    let eth = EthernetFrame::new_checked(frame).unwrap();
    let (src, dst, ip_payload): (IpAddr, IpAddr, Vec<u8>) = match eth.ethertype() {
        EtherType::Ipv4 => {
            let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
            assert!(ip.verify_checksum());
            (ip.src_addr().into(), ip.dst_addr().into(), ip.payload().to_vec())
        }
        EtherType::Ipv6 => {
            let ip = Ipv6Packet::new_checked(eth.payload()).unwrap();
            (ip.src_addr().into(), ip.dst_addr().into(), ip.payload().to_vec())
        }
        other => panic!("not IP: {other:?}"),
    };
    let udp = UdpPacket::new_checked(&ip_payload[..]).unwrap();
    assert!(udp.verify_checksum(&src, &dst), "UDP checksum");
    (udp.dst_port(), udp.payload().to_vec())
}

/// Takes every frame the sim recorded and returns (destination port, payload) pairs.
pub fn drain<const S: usize, const R: usize>(nic: &mut SimNic<S, R>) -> Vec<(u16, Vec<u8>)> {
    let mut out = Vec::new();
    while let Some(frame) = nic.pop_sent() {
        out.push(udp_payload(&frame));
    }
    assert_eq!(nic.counters().not_recorded, 0, "the sim's record overflowed");
    let _ = nic.mac_address();
    out
}

/// An independent reassembler for Linux-format extended datagrams: strips the optional
/// `release,` prefix and the header, places each fragment's data at its `ncfrag` offset.
/// Returns (release, header without ncfrag, data).
pub fn reassemble(packets: &[Vec<u8>], release: Option<&[u8]>) -> (Vec<u8>, Vec<u8>) {
    let mut data: Vec<Option<u8>> = Vec::new();
    let mut header_seen: Option<Vec<u8>> = None;
    for p in packets {
        assert!(p.len() <= 1000, "datagram of {} bytes", p.len());
        let p = match release {
            Some(r) => {
                assert!(p.starts_with(r) && p[r.len()] == b',', "release prefix in every packet");
                &p[r.len() + 1..]
            }
            None => &p[..],
        };
        let semi = p.iter().position(|&b| b == b';').expect("header ends in ';'");
        let header = &p[..semi];
        let body = &p[semi + 1..];
        let text = std::str::from_utf8(header).unwrap();
        let (base, offset, total) = match text.find(",ncfrag=") {
            Some(at) => {
                let (off, total) = text[at + 8..].split_once('/').unwrap();
                (
                    &header[..at],
                    off.parse::<usize>().unwrap(),
                    Some(total.parse::<usize>().unwrap()),
                )
            }
            None => (header, 0, None),
        };
        if let Some(h) = &header_seen {
            assert_eq!(h.as_slice(), base, "same header in every fragment");
        }
        header_seen = Some(base.to_vec());
        let total = total.unwrap_or(body.len());
        if data.len() < total {
            data.resize(total, None);
        }
        for (i, &b) in body.iter().enumerate() {
            data[offset + i] = Some(b);
        }
    }
    let data = data.into_iter().map(|b| b.expect("every byte arrived")).collect();
    (header_seen.unwrap_or_default(), data)
}
