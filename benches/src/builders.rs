//! One IPv4 netconsole frame (Ethernet + IPv4 + UDP, both checksums) built four ways: by
//! netpoll-core, by smoltcp's `wire` reprs, by etherparse's `PacketBuilder`, and the floor every
//! builder pays, a bare copy of the payload. Each takes the payload and a 1514-byte buffer and
//! returns the frame length, so the bench and the instruction counter can treat them alike.

use netpoll_core::wire::{MacAddr, PreparedUdpFrame, UdpFrame};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire as smol;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::LazyLock;

const SRC_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
const DST_MAC: [u8; 6] = [0xff; 6];
const SRC_IP: [u8; 4] = SRC_IPV4.octets();
const DST_IP: [u8; 4] = DST_IPV4.octets();
const SRC_IPV4: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const DST_IPV4: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const SRC_PORT: u16 = 6665;
const DST_PORT: u16 = 6666;
/// Ethernet + IPv4 + UDP headers.
pub const HEADERS: usize = 42;

/// A frame builder under test.
pub type Builder = fn(&mut [u8], &[u8]) -> usize;

/// The builders, by the name the bench and the counter print.
pub const ALL: [(&str, Builder); 5] = [
    ("netpoll-core", netpoll_core),
    ("netpoll-core-prepared", netpoll_core_prepared),
    ("smoltcp", smoltcp),
    ("etherparse", etherparse),
    ("copy_from_slice (floor)", copy_floor),
];

/// The frame all of them build (the IPv4 identification aside).
const FRAME: UdpFrame = UdpFrame {
    src_mac: MacAddr(SRC_MAC),
    dst_mac: MacAddr(DST_MAC),
    src_ip: IpAddr::V4(SRC_IPV4),
    dst_ip: IpAddr::V4(DST_IPV4),
    src_port: SRC_PORT,
    dst_port: DST_PORT,
    ipv4_ident: 1,
};

/// The addresses and ports as a sender has them: at run time. Every builder reads them through
/// `black_box`, so that none has its headers worked out at compile time.
fn target() -> ([u8; 6], [u8; 6], [u8; 4], [u8; 4], u16, u16) {
    black_box((SRC_MAC, DST_MAC, SRC_IP, DST_IP, SRC_PORT, DST_PORT))
}

/// netpoll-core's `UdpFrame::emit`: every header field from the frame's fields, each call.
pub fn netpoll_core(buf: &mut [u8], payload: &[u8]) -> usize {
    black_box(FRAME).emit(buf, &[payload]).unwrap_or(0)
}

/// The same target prepared once (`PreparedUdpFrame`, as a sender keeps per target); each call
/// fills the lengths, identification, checksums and payload.
pub fn netpoll_core_prepared(buf: &mut [u8], payload: &[u8]) -> usize {
    static PREPARED: LazyLock<Option<PreparedUdpFrame>> =
        LazyLock::new(|| PreparedUdpFrame::new(&FRAME).ok());
    PREPARED.as_ref().and_then(|p| p.emit(buf, &[payload], 1).ok()).unwrap_or(0)
}

/// smoltcp's `EthernetRepr`, `Ipv4Repr` and `UdpRepr::emit` with both checksums computed.
pub fn smoltcp(buf: &mut [u8], payload: &[u8]) -> usize {
    let (src_mac, dst_mac, src_ip, dst_ip, src_port, dst_port) = target();
    let len = HEADERS + payload.len();
    let caps = ChecksumCapabilities::default();
    let src = smol::Ipv4Address::from(src_ip);
    let dst = smol::Ipv4Address::from(dst_ip);
    let mut eth = smol::EthernetFrame::new_unchecked(&mut buf[..len]);
    smol::EthernetRepr {
        src_addr: smol::EthernetAddress(src_mac),
        dst_addr: smol::EthernetAddress(dst_mac),
        ethertype: smol::EthernetProtocol::Ipv4,
    }
    .emit(&mut eth);
    let mut ip = smol::Ipv4Packet::new_unchecked(eth.payload_mut());
    smol::Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: smol::IpProtocol::Udp,
        payload_len: smol::UDP_HEADER_LEN + payload.len(),
        hop_limit: 64,
    }
    .emit(&mut ip, &caps);
    let mut udp = smol::UdpPacket::new_unchecked(ip.payload_mut());
    smol::UdpRepr { src_port, dst_port }.emit(
        &mut udp,
        &src.into(),
        &dst.into(),
        payload.len(),
        |data| data.copy_from_slice(payload),
        &caps,
    );
    len
}

/// etherparse's `PacketBuilder` writing into the buffer.
pub fn etherparse(buf: &mut [u8], payload: &[u8]) -> usize {
    let (src_mac, dst_mac, src_ip, dst_ip, src_port, dst_port) = target();
    etherparse::PacketBuilder::ethernet2(src_mac, dst_mac)
        .ipv4(src_ip, dst_ip, 64)
        .udp(src_port, dst_port)
        .write_to_slice(buf, payload)
        .unwrap_or(0)
}

/// The floor: the payload copied to where it goes, no header, no checksum.
pub fn copy_floor(buf: &mut [u8], payload: &[u8]) -> usize {
    let len = HEADERS + payload.len();
    buf[HEADERS..len].copy_from_slice(payload);
    len
}

/// Printable payload bytes, as a log line has.
pub fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| b' ' + (i % 95) as u8).collect()
}

#[cfg(test)]
mod test {
    use super::*;

    /// The comparison is only fair if all build the same frame (the IPv4 identification
    /// and the DF flag aside, which each picks itself, and the header checksum over them).
    #[test]
    fn builders_agree() {
        for len in [0usize, 1, 100, 1000, 1472] {
            let data = payload(len);
            let mut ours = [0u8; 1514];
            let n = netpoll_core(&mut ours, &data);
            assert_eq!(n, HEADERS + len);
            for (name, build) in &ALL[1..ALL.len() - 1] {
                let mut theirs = [0u8; 1514];
                assert_eq!(build(&mut theirs, &data), n, "{name}");
                let (mut a, mut b) = (ours, theirs);
                for f in [&mut a, &mut b] {
                    f[18..22].fill(0);
                    f[24..26].fill(0);
                }
                assert_eq!(a[..n], b[..n], "{name} at {len} bytes");
            }
        }
    }
}
