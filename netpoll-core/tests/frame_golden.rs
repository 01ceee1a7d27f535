//! Golden netconsole frames, written out by hand from the Linux field values
//! (spec section 2.2), not produced by the builder, and checked field by field.

use netpoll_core::wire::{BuildError, MacAddr, UdpFrame};

const OUR_MAC: MacAddr = MacAddr([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
const PAYLOAD: &[u8] = b"hello\n";

fn frame(src: &str, dst: &str) -> UdpFrame {
    UdpFrame {
        src_mac: OUR_MAC,
        dst_mac: MacAddr::BROADCAST,
        src_ip: src.parse().unwrap(),
        dst_ip: dst.parse().unwrap(),
        src_port: 6665,
        dst_port: 6666,
        ipv4_ident: 1,
    }
}

/// Builds into a buffer pre-filled with 0xa5, so an unwritten byte shows.
fn build(f: &UdpFrame, payload: &[&[u8]]) -> Vec<u8> {
    let mut buf = vec![0xa5u8; 1600];
    let len = f.emit(&mut buf, payload).unwrap();
    assert!(buf[len..].iter().all(|&b| b == 0xa5), "wrote past the frame");
    buf.truncate(len);
    buf
}

#[rustfmt::skip]
const IPV4_FRAME: [u8; 48] = [
    // Ethernet: broadcast (no target MAC configured), our MAC, EtherType IPv4
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
    0x08, 0x00,
    // IPv4: version 4 / IHL 5, TOS 0, total length 20 + 8 + 6 = 34
    0x45, 0x00, 0x00, 0x22,
    // identification 1 (Linux's first), flags/fragment 0 (DF clear)
    0x00, 0x01, 0x00, 0x00,
    // TTL 64, protocol 17, header checksum:
    //   4500+0022+0001+0000+4011+0a00+0001+0a00+0002 = 0x9937, complement 0x66c8
    0x40, 0x11, 0x66, 0xc8,
    10, 0, 0, 1,
    10, 0, 0, 2,
    // UDP: 6665 -> 6666, length 8 + 6 = 14, checksum:
    //   pseudo 0a00+0001+0a00+0002+0011+000e = 0x1422
    //   header 1a09+1a0a+000e+0000 and payload 6865+6c6c+6f0a = 0x77fd (folded)
    //   0x1422 + 0x77fd = 0x8c1f, complement 0x73e0
    0x1a, 0x09, 0x1a, 0x0a, 0x00, 0x0e, 0x73, 0xe0,
    b'h', b'e', b'l', b'l', b'o', b'\n',
];

#[rustfmt::skip]
const IPV6_FRAME: [u8; 68] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
    0x86, 0xdd,
    // IPv6: 0x60, traffic class 0, flow label 0; payload length 14; next header 17; hop limit 32
    0x60, 0x00, 0x00, 0x00, 0x00, 0x0e, 0x11, 0x20,
    0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
    0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
    // UDP checksum: pseudo fd00+0001+fd00+0002+0000+000e+0000+0011 = 0xfa23 (folded)
    //   + 0x77fd = 0x17220 -> 0x7221, complement 0x8dde
    0x1a, 0x09, 0x1a, 0x0a, 0x00, 0x0e, 0x8d, 0xde,
    b'h', b'e', b'l', b'l', b'o', b'\n',
];

#[test]
fn ipv4_frame_is_byte_exact() {
    let built = build(&frame("10.0.0.1", "10.0.0.2"), &[PAYLOAD]);
    // Field by field first, so a failure names the field.
    assert_eq!(built[0..6], IPV4_FRAME[0..6], "destination MAC");
    assert_eq!(built[6..12], IPV4_FRAME[6..12], "source MAC");
    assert_eq!(built[12..14], IPV4_FRAME[12..14], "EtherType");
    assert_eq!(built[14], 0x45, "version/IHL");
    assert_eq!(built[15], 0, "TOS");
    assert_eq!(built[16..18], IPV4_FRAME[16..18], "total length");
    assert_eq!(built[18..20], IPV4_FRAME[18..20], "identification");
    assert_eq!(built[20..22], [0, 0], "flags: DF clear");
    assert_eq!(built[22], 64, "TTL");
    assert_eq!(built[23], 17, "protocol");
    assert_eq!(built[24..26], IPV4_FRAME[24..26], "IPv4 header checksum");
    assert_eq!(built[26..34], IPV4_FRAME[26..34], "addresses");
    assert_eq!(built[34..38], IPV4_FRAME[34..38], "ports");
    assert_eq!(built[38..40], IPV4_FRAME[38..40], "UDP length");
    assert_eq!(built[40..42], IPV4_FRAME[40..42], "UDP checksum");
    assert_eq!(built[42..], IPV4_FRAME[42..], "payload");
    assert_eq!(built, IPV4_FRAME);
}

#[test]
fn ipv6_frame_is_byte_exact() {
    let built = build(&frame("fd00::1", "fd00::2"), &[PAYLOAD]);
    assert_eq!(built[12..14], [0x86, 0xdd], "EtherType");
    assert_eq!(built[14..18], [0x60, 0, 0, 0], "version, traffic class, flow label");
    assert_eq!(built[18..20], [0, 14], "payload length");
    assert_eq!(built[20], 17, "next header");
    assert_eq!(built[21], 32, "hop limit");
    assert_eq!(built[22..54], IPV6_FRAME[22..54], "addresses");
    assert_eq!(built[60..62], IPV6_FRAME[60..62], "UDP checksum");
    assert_eq!(built, IPV6_FRAME);
}

#[test]
fn gather_list_gives_the_same_frame() {
    // Odd-sized pieces put later pieces at odd offsets in the checksum stream.
    let split: [&[u8]; 4] = [b"h", b"el", b"", b"lo\n"];
    assert_eq!(build(&frame("10.0.0.1", "10.0.0.2"), &split), IPV4_FRAME);
    assert_eq!(build(&frame("fd00::1", "fd00::2"), &split), IPV6_FRAME);
}

#[test]
fn checksum_zero_is_sent_as_ffff() {
    // With a two-byte payload P, the sum is 0x1422 (pseudo, length 10) + 1a09+1a0a+000a + P.
    // Choose P so that the sum folds to 0xffff: its complement, the checksum, would be 0.
    let f = frame("10.0.0.1", "10.0.0.2");
    let others: u32 = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 0x0011 + 0x000a // pseudo-header
        + 0x1a09 + 0x1a0a + 0x000a; // UDP header, checksum field zero
    let others = (others & 0xffff) + (others >> 16);
    let p = (0xffff - others) as u16;
    let built = build(&f, &[&p.to_be_bytes()]);
    assert_eq!(built[40..42], [0xff, 0xff]);
    // The receiver's view: the sum over everything, checksum included, is 0xffff (valid).
    let total = others + u32::from(p) + 0xffff;
    assert_eq!((total & 0xffff) + (total >> 16), 0xffff);
}

#[test]
fn refuses_what_it_cannot_build_without_writing() {
    let f = frame("10.0.0.1", "10.0.0.2");
    let big = vec![0u8; 1473];
    let mut buf = vec![0xa5u8; 1600];
    assert_eq!(
        f.emit(&mut buf, &[&big]),
        Err(BuildError::PayloadTooLarge { len: 1473, max: 1472 })
    );
    assert_eq!(
        f.emit(&mut buf[..47], &[PAYLOAD]),
        Err(BuildError::BufferTooSmall { needed: 48, available: 47 })
    );
    let mixed = UdpFrame { dst_ip: "fd00::2".parse().unwrap(), ..f };
    assert_eq!(mixed.emit(&mut buf, &[PAYLOAD]), Err(BuildError::MixedFamilies));
    assert!(buf.iter().all(|&b| b == 0xa5));
    let v6 = frame("fd00::1", "fd00::2");
    assert_eq!(v6.max_payload(), 1452);
    assert!(v6.emit(&mut buf, &[&big[..1452]]).is_ok());
    assert_eq!(
        v6.emit(&mut buf, &[&big[..1452], b"x"]),
        Err(BuildError::PayloadTooLarge { len: 1453, max: 1452 })
    );
}
