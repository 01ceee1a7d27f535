//! `PreparedUdpFrame` against an independent parser (etherparse) and against `UdpFrame::emit`,
//! for random MACs, ports, addresses and gather lists (the unit tests fix the MACs and ports), at
//! the largest payload, and for payloads whose UDP checksum comes out 0 (sent as 0xffff).

mod strategies;

use etherparse::{NetHeaders, PacketHeaders, TransportHeader};
use netpoll_core::wire::{MacAddr, PreparedUdpFrame, UdpFrame};
use proptest::prelude::*;
use strategies::addresses;

fn frame_strategy() -> impl Strategy<Value = UdpFrame> {
    (any::<[u8; 6]>(), any::<[u8; 6]>(), addresses(), any::<u16>(), any::<u16>(), any::<u16>())
        .prop_map(|(s, d, (src_ip, dst_ip), src_port, dst_port, ident)| UdpFrame {
            src_mac: MacAddr(s),
            dst_mac: MacAddr(d),
            src_ip,
            dst_ip,
            src_port,
            dst_port,
            ipv4_ident: ident,
        })
}

/// The UDP checksum etherparse computes for the frame in `bytes`, and the one on the wire.
fn udp_checksums(bytes: &[u8]) -> (u16, u16) {
    let headers = PacketHeaders::from_ethernet_slice(bytes).unwrap();
    let Some(TransportHeader::Udp(udp)) = headers.transport else { panic!("no UDP header") };
    let payload = headers.payload.slice();
    let computed = match headers.net {
        Some(NetHeaders::Ipv4(ip, _)) => {
            assert_eq!(ip.header_checksum, ip.calc_header_checksum(), "IPv4 header checksum");
            udp.calc_checksum_ipv4(&ip, payload).unwrap()
        }
        Some(NetHeaders::Ipv6(ip, _)) => udp.calc_checksum_ipv6(&ip, payload).unwrap(),
        other => panic!("unexpected network header {other:?}"),
    };
    (computed, udp.checksum)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Random everything: the prepared frame is `UdpFrame::emit`'s byte for byte, and parses.
    #[test]
    fn prepared_frame_parses_and_equals_emit(
        f in frame_strategy(),
        pieces in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..8),
    ) {
        let p = PreparedUdpFrame::new(&f).unwrap();
        let slices: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
        let (mut ours, mut theirs) = ([0x5au8; 1514], [0x5au8; 1514]);
        let got = p.emit(&mut ours, &slices, f.ipv4_ident);
        prop_assert_eq!(got, f.emit(&mut theirs, &slices));
        prop_assert_eq!(ours, theirs);
        if let Ok(len) = got {
            let (computed, sent) = udp_checksums(&ours[..len]);
            prop_assert_eq!(sent, computed);
            let headers = PacketHeaders::from_ethernet_slice(&ours[..len]).unwrap();
            let payload = pieces.concat();
            prop_assert_eq!(headers.payload.slice(), payload.as_slice());
        }
    }

    /// A payload made so that the UDP checksum comes out 0: both builders send 0xffff, which
    /// etherparse computes too; the two bytes that cancel the sum sit at an even or odd offset.
    #[test]
    fn a_zero_udp_checksum_is_sent_as_ffff(
        f in frame_strategy(),
        mut payload in proptest::collection::vec(any::<u8>(), 2..1400),
        cut in 0usize..1400,
    ) {
        let p = PreparedUdpFrame::new(&f).unwrap();
        // With the last two bytes (at an even offset) zero, the checksum is the complement of the
        // sum S of everything else; adding it as those bytes makes the sum 0xffff, whose
        // complement is 0.
        payload.truncate(payload.len() & !1);
        let n = payload.len();
        payload[n - 2..].fill(0);
        let mut buf = [0u8; 1514];
        let len = f.emit(&mut buf, &[&payload]).unwrap();
        let (computed, _) = udp_checksums(&buf[..len]);
        payload[n - 2..].copy_from_slice(&computed.to_be_bytes());
        let (head, tail) = payload.split_at((cut % n) | 1);
        let (mut ours, mut theirs) = ([0u8; 1514], [0u8; 1514]);
        let len = p.emit(&mut ours, &[head, tail], f.ipv4_ident).unwrap();
        prop_assert_eq!(f.emit(&mut theirs, &[&payload]), Ok(len));
        prop_assert_eq!(ours, theirs);
        let udp_at = p.header_len() - 8;
        prop_assert_eq!(&ours[udp_at + 6..udp_at + 8], &[0xff, 0xff]);
        prop_assert_eq!(udp_checksums(&ours[..len]), (0xffff, 0xffff));
    }

    /// The largest payload, in one slice, a few, or one slice a byte; all ones among the bytes
    /// tried (every sum at its fastest growth).
    #[test]
    fn the_largest_payload(
        f in frame_strategy(), byte in any::<u8>(), pieces in prop_oneof![1usize..40, Just(1472)],
    ) {
        let p = PreparedUdpFrame::new(&f).unwrap();
        let payload = vec![byte; p.max_payload()];
        let slices: Vec<&[u8]> = payload.chunks(payload.len().div_ceil(pieces)).collect();
        let (mut ours, mut theirs) = ([0u8; 1514], [0u8; 1514]);
        prop_assert_eq!(p.emit(&mut ours, &slices, f.ipv4_ident), Ok(1514));
        prop_assert_eq!(f.emit(&mut theirs, &[&payload]), Ok(1514));
        prop_assert_eq!(ours, theirs);
        let (computed, sent) = udp_checksums(&ours);
        prop_assert_eq!(sent, computed);
        let one_more = [&payload[..], b"x"];
        prop_assert!(p.emit(&mut ours, &one_more, 0).is_err());
    }
}
