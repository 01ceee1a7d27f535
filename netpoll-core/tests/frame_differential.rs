//! Every frame the builder makes, for random addresses, ports and gather lists, parses with an
//! independent parser (etherparse) with every field equal and both checksums valid.

mod strategies;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{LinkHeader, NetHeaders, PacketHeaders, TransportHeader};
use netpoll_core::wire::{MacAddr, UdpFrame};
use proptest::prelude::*;
use strategies::addresses;

fn gather_list(max_total: usize) -> impl Strategy<Value = Vec<Vec<u8>>> {
    proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..400), 0..8).prop_map(
        move |mut pieces| {
            // Trim to the budget, keeping the shape.
            let mut left = max_total;
            for p in &mut pieces {
                p.truncate(left);
                left -= p.len();
            }
            pieces
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn etherparse_agrees(
        src_mac in any::<[u8; 6]>(), dst_mac in any::<[u8; 6]>(),
        (src_ip, dst_ip) in addresses(),
        src_port in any::<u16>(), dst_port in any::<u16>(), ident in any::<u16>(),
        pieces in gather_list(1472),
    ) {
        let frame = UdpFrame {
            src_mac: MacAddr(src_mac), dst_mac: MacAddr(dst_mac), src_ip, dst_ip,
            src_port, dst_port, ipv4_ident: ident,
        };
        let slices: Vec<&[u8]> = pieces.iter().map(|p| p.as_slice()).collect();
        let payload: Vec<u8> = pieces.concat();
        let mut buf = [0u8; 1514];
        let result = frame.emit(&mut buf, &slices);
        if payload.len() > frame.max_payload() {
            prop_assert!(result.is_err());
            return Ok(());
        }
        let len = result.unwrap();
        let headers = PacketHeaders::from_ethernet_slice(&buf[..len]).unwrap();

        let Some(LinkHeader::Ethernet2(eth)) = headers.link else { panic!("no Ethernet header") };
        prop_assert_eq!(eth.source, src_mac);
        prop_assert_eq!(eth.destination, dst_mac);

        let Some(TransportHeader::Udp(udp)) = headers.transport else { panic!("no UDP header") };
        prop_assert_eq!(udp.source_port, src_port);
        prop_assert_eq!(udp.destination_port, dst_port);
        prop_assert_eq!(usize::from(udp.length), 8 + payload.len());
        prop_assert_ne!(udp.checksum, 0, "Linux always sends a UDP checksum");
        prop_assert_eq!(headers.payload.slice(), payload.as_slice());

        match headers.net {
            Some(NetHeaders::Ipv4(ip, _)) => {
                prop_assert_eq!(IpAddr::V4(Ipv4Addr::from(ip.source)), src_ip);
                prop_assert_eq!(IpAddr::V4(Ipv4Addr::from(ip.destination)), dst_ip);
                prop_assert_eq!(ip.identification, ident);
                prop_assert_eq!(ip.time_to_live, 64);
                prop_assert!(!ip.dont_fragment && !ip.more_fragments);
                prop_assert_eq!(ip.dscp.value(), 0);
                prop_assert_eq!(ip.protocol, etherparse::IpNumber::UDP);
                prop_assert_eq!(usize::from(ip.total_len), 28 + payload.len());
                prop_assert_eq!(ip.header_checksum, ip.calc_header_checksum(), "IPv4 checksum");
                prop_assert_eq!(udp.checksum, udp.calc_checksum_ipv4(&ip, &payload).unwrap());
            }
            Some(NetHeaders::Ipv6(ip, _)) => {
                prop_assert_eq!(IpAddr::V6(Ipv6Addr::from(ip.source)), src_ip);
                prop_assert_eq!(IpAddr::V6(Ipv6Addr::from(ip.destination)), dst_ip);
                prop_assert_eq!(ip.hop_limit, 32);
                prop_assert_eq!(ip.traffic_class, 0);
                prop_assert_eq!(ip.flow_label.value(), 0);
                prop_assert_eq!(usize::from(ip.payload_length), 8 + payload.len());
                prop_assert_eq!(udp.checksum, udp.calc_checksum_ipv6(&ip, &payload).unwrap());
            }
            other => panic!("unexpected network header {other:?}"),
        }
    }
}
