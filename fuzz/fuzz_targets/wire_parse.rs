//! Untrusted bytes through every wire parser: nothing may panic, and whatever parses must emit
//! back to the bytes it came from (for the fields the `Repr` covers).
#![no_main]

use core::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use netpoll_core::wire::{
    ArpPacket, ArpRepr, EtherType, EthernetFrame, EthernetRepr, Ipv4Packet, Ipv4Repr, Ipv6Packet,
    Ipv6Repr, UdpPacket, UdpRepr, IP_PROTO_UDP,
};

fn udp(bytes: &[u8], src: IpAddr, dst: IpAddr) {
    if let Ok(packet) = UdpPacket::new_checked(bytes) {
        let _ = packet.payload();
        if let Ok(repr) = UdpRepr::parse(&packet, &src, &dst) {
            assert_eq!((repr.src_port, repr.dst_port), (packet.src_port(), packet.dst_port()));
        }
    }
}

fn ip(ethertype: EtherType, bytes: &[u8]) {
    match ethertype {
        EtherType::Ipv4 => {
            let Ok(packet) = Ipv4Packet::new_checked(bytes) else { return };
            if let Ok(repr) = Ipv4Repr::parse(&packet) {
                assert!(packet.verify_checksum());
                if repr.protocol == IP_PROTO_UDP {
                    udp(packet.payload(), repr.src_addr.into(), repr.dst_addr.into());
                }
            }
        }
        EtherType::Ipv6 => {
            let Ok(packet) = Ipv6Packet::new_checked(bytes) else { return };
            if let Ok(repr) = Ipv6Repr::parse(&packet) {
                if repr.next_header == IP_PROTO_UDP {
                    udp(packet.payload(), repr.src_addr.into(), repr.dst_addr.into());
                }
            }
        }
        EtherType::Arp => {
            let Ok(packet) = ArpPacket::new_checked(bytes) else { return };
            if let Ok(repr) = ArpRepr::parse(&packet) {
                let mut out = [0u8; 28];
                repr.emit(&mut out);
                assert_eq!(&out[..], &bytes[..28]);
            }
        }
        EtherType::Unknown(_) => {}
    }
}

fuzz_target!(|data: &[u8]| {
    // As a whole frame, as a receiver sees it.
    if let Ok(frame) = EthernetFrame::new_checked(data) {
        let repr = EthernetRepr::parse(&frame).expect("checked frame parses");
        let mut out = [0u8; 14];
        repr.emit(&mut EthernetFrame::new_unchecked(&mut out[..]));
        assert_eq!(&out[..], &data[..14]);
        ip(frame.ethertype(), frame.payload());
    }
    // And each parser on the raw bytes, so none depends on the one before it for safety.
    for ethertype in [EtherType::Ipv4, EtherType::Ipv6, EtherType::Arp] {
        ip(ethertype, data);
    }
    let v4: IpAddr = [10, 0, 0, 1].into();
    udp(data, v4, v4);
});
