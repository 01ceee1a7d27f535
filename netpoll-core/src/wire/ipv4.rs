//! IPv4 headers (RFC 791), without options on emit; options are skipped on parse.

use super::frame::store_header;
use core::fmt;
use core::net::Ipv4Addr;

use byteorder::{ByteOrder, NetworkEndian};

use super::checksum::Checksum;
use super::frame::BuildError;
use super::{Error, Result};

mod field {
    use core::ops::Range;
    pub const VER_IHL: usize = 0;
    pub const TOS: usize = 1;
    pub const LENGTH: Range<usize> = 2..4;
    pub const IDENT: Range<usize> = 4..6;
    pub const FLG_OFF: Range<usize> = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Range<usize> = 10..12;
    pub const SRC_ADDR: Range<usize> = 12..16;
    pub const DST_ADDR: Range<usize> = 16..20;
}

/// Length of a header without options: what we emit.
pub const HEADER_LEN: usize = field::DST_ADDR.end;
/// Most payload bytes behind one header: the total length field is 16 bits.
pub const MAX_PAYLOAD_LEN: usize = u16::MAX as usize - HEADER_LEN;
/// Time to live Linux netpoll sends with.
pub const NETPOLL_TTL: u8 = 64;

/// A view of an IPv4 packet.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it; accessors may panic on a short one.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len); no accessor panics afterwards.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the buffer holds the fixed header, the header length it claims (at least 20)
    /// and the total length it claims (at least the header length).
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let header_len = usize::from(self.header_len());
        let total_len = usize::from(self.total_len());
        if header_len < HEADER_LEN || total_len < header_len {
            Err(Error::Malformed)
        } else if len < header_len || len < total_len {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Version field (4 for IPv4).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// Header length in bytes.
    pub fn header_len(&self) -> u8 {
        (self.buffer.as_ref()[field::VER_IHL] & 0x0f) * 4
    }

    /// Type of service (DSCP and ECN).
    pub fn tos(&self) -> u8 {
        self.buffer.as_ref()[field::TOS]
    }

    /// Total length: header and payload.
    pub fn total_len(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::LENGTH])
    }

    /// Identification.
    pub fn ident(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::IDENT])
    }

    /// The don't-fragment flag.
    pub fn dont_frag(&self) -> bool {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::FLG_OFF]) & 0x4000 != 0
    }

    /// The more-fragments flag.
    pub fn more_frags(&self) -> bool {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::FLG_OFF]) & 0x2000 != 0
    }

    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> u16 {
        (NetworkEndian::read_u16(&self.buffer.as_ref()[field::FLG_OFF]) & 0x1fff) * 8
    }

    /// Time to live.
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    /// Protocol of the payload.
    pub fn protocol(&self) -> u8 {
        self.buffer.as_ref()[field::PROTOCOL]
    }

    /// Header checksum field.
    pub fn checksum(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    /// Source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        addr_at(&self.buffer.as_ref()[field::SRC_ADDR])
    }

    /// Destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        addr_at(&self.buffer.as_ref()[field::DST_ADDR])
    }

    /// Whether the header checksum verifies (on a checked packet).
    pub fn verify_checksum(&self) -> bool {
        let mut c = Checksum::new();
        c.add_bytes(&self.buffer.as_ref()[..usize::from(self.header_len())]);
        c.finish() == 0
    }

    /// The payload, as far as the total length says (trailing padding excluded).
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[usize::from(self.header_len())..usize::from(self.total_len())]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_u16(&mut self, range: core::ops::Range<usize>, value: u16) {
        NetworkEndian::write_u16(&mut self.buffer.as_mut()[range], value);
    }

    /// Writes the header checksum over the current header.
    pub fn fill_checksum(&mut self) {
        self.set_u16(field::CHECKSUM, 0);
        let mut c = Checksum::new();
        c.add_bytes(&self.buffer.as_ref()[..usize::from(self.header_len())]);
        let sum = c.finish();
        self.set_u16(field::CHECKSUM, sum);
    }

    /// The payload, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = usize::from(self.header_len())..usize::from(self.total_len());
        &mut self.buffer.as_mut()[range]
    }
}

fn addr_at(bytes: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])
}

/// The fields of an IPv4 header that netpoll sets or reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Repr {
    /// Source address.
    pub src_addr: Ipv4Addr,
    /// Destination address.
    pub dst_addr: Ipv4Addr,
    /// Protocol of the payload.
    pub protocol: u8,
    /// Length of the payload in bytes.
    pub payload_len: usize,
    /// Identification.
    pub ident: u16,
    /// Time to live.
    pub ttl: u8,
}

impl Repr {
    /// Reads a checked packet: version 4, not a fragment, header checksum valid.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr> {
        packet.check_len()?;
        if packet.version() != 4 || packet.more_frags() || packet.frag_offset() != 0 {
            return Err(Error::Malformed);
        }
        if !packet.verify_checksum() {
            return Err(Error::Checksum);
        }
        Ok(Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            protocol: packet.protocol(),
            payload_len: usize::from(packet.total_len() - u16::from(packet.header_len())),
            ident: packet.ident(),
            ttl: packet.ttl(),
        })
    }

    /// Length of the header this emits.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes a 20-byte header as Linux netpoll does (`push_ipv4`): `0x45`, TOS 0, DF clear,
    /// the checksum filled in. Nothing is written if the buffer is shorter than [`HEADER_LEN`]
    /// or `payload_len` exceeds [`MAX_PAYLOAD_LEN`] (the total length would not fit 16 bits).
    pub fn emit(&self, header: &mut [u8]) -> core::result::Result<(), BuildError> {
        store_header(header, self.header())
    }

    /// The header [`emit`](Self::emit) writes. Its checksum is summed from the fields, not read
    /// back from the bytes: on the send path this is part of every frame's fixed cost.
    pub fn header(&self) -> core::result::Result<[u8; HEADER_LEN], BuildError> {
        if self.payload_len > MAX_PAYLOAD_LEN {
            return Err(BuildError::PayloadTooLarge {
                len: self.payload_len,
                max: MAX_PAYLOAD_LEN,
            });
        }
        let total = (HEADER_LEN + self.payload_len) as u16;
        let [t0, t1] = total.to_be_bytes();
        let [i0, i1] = self.ident.to_be_bytes();
        let [s0, s1, s2, s3] = self.src_addr.octets();
        let [d0, d1, d2, d3] = self.dst_addr.octets();
        let sum = 0x4500
            + u64::from(total)
            + u64::from(self.ident)
            + u64::from(u16::from_be_bytes([self.ttl, self.protocol]))
            + u64::from(u32::from(self.src_addr))
            + u64::from(u32::from(self.dst_addr));
        let [c0, c1] = Checksum::of_words(sum).finish().to_be_bytes();
        #[rustfmt::skip]
        let header = [
            0x45, 0, t0, t1,
            i0, i1, 0, 0,
            self.ttl, self.protocol, c0, c1,
            s0, s1, s2, s3,
            d0, d1, d2, d3,
        ];
        Ok(header)
    }
}

impl fmt::Display for Repr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "IPv4 src={} dst={} proto={} len={} id={} ttl={}",
            self.src_addr, self.dst_addr, self.protocol, self.payload_len, self.ident, self.ttl
        )
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::wire::BuildError;
    use proptest::prelude::*;

    // 10.0.2.15 -> 10.0.2.2, UDP, id 1, TTL 64, 4 payload bytes, checksum worked out by hand:
    // 4500 + 0018 + 0001 + 0000 + 4011 + 0a00 + 020f + 0a00 + 0202 = 0x9d3b -> !0x9d3b = 0x62c4
    static PACKET: [u8; 24] = [
        0x45, 0x00, 0x00, 0x18, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x62, 0xc4, 10, 0, 2, 15, 10,
        0, 2, 2, 0xde, 0xad, 0xbe, 0xef,
    ];

    fn repr() -> Repr {
        Repr {
            src_addr: Ipv4Addr::new(10, 0, 2, 15),
            dst_addr: Ipv4Addr::new(10, 0, 2, 2),
            protocol: 17,
            payload_len: 4,
            ident: 1,
            ttl: 64,
        }
    }

    #[test]
    fn parses_fixture() {
        let packet = Packet::new_checked(&PACKET[..]).unwrap();
        assert!(packet.verify_checksum());
        assert!(!packet.dont_frag());
        assert_eq!(Repr::parse(&packet), Ok(repr()));
        assert_eq!(packet.payload(), &[0xde, 0xad, 0xbe, 0xef]);
    }

    #[test]
    fn emits_fixture() {
        let mut buf = [0xa5u8; 24];
        repr().emit(&mut buf[..20]).unwrap();
        assert_eq!(buf[..20], PACKET[..20]);
    }

    /// Issue 10 item 13: a payload past the 16-bit total length is refused, not truncated.
    #[test]
    fn emit_refuses_payload_past_the_total_length() {
        let mut buf = [0u8; HEADER_LEN];
        let big = Repr { payload_len: 8 + 65_528, ..repr() };
        assert_eq!(
            big.emit(&mut buf),
            Err(BuildError::PayloadTooLarge { len: 8 + 65_528, max: 65_515 })
        );
        assert_eq!(buf, [0; HEADER_LEN]);
        let largest = Repr { payload_len: 65_515, ..repr() };
        assert_eq!(largest.emit(&mut buf), Ok(()));
        assert_eq!(buf[2..4], [0xff, 0xff]);
        assert!(Packet::new_unchecked(&buf[..]).verify_checksum());
        assert_eq!(
            repr().emit(&mut buf[..19]),
            Err(BuildError::BufferTooSmall { needed: 20, available: 19 })
        );
    }

    #[test]
    fn rejects_bad_checksum_and_lengths() {
        let mut bad = PACKET;
        bad[11] ^= 1;
        assert_eq!(Repr::parse(&Packet::new_unchecked(&bad[..])), Err(Error::Checksum));
        assert_eq!(Packet::new_checked(&PACKET[..23]).unwrap_err(), Error::Truncated);
        let mut short_ihl = PACKET;
        short_ihl[0] = 0x44;
        assert_eq!(Packet::new_checked(&short_ihl[..]).unwrap_err(), Error::Malformed);
        let mut short_total = PACKET;
        short_total[3] = 19;
        assert_eq!(Packet::new_checked(&short_total[..]).unwrap_err(), Error::Malformed);
    }

    #[test]
    fn fill_checksum_matches_emit() {
        let mut buf = PACKET;
        buf[10] = 0;
        buf[11] = 0;
        Packet::new_unchecked(&mut buf[..]).fill_checksum();
        assert_eq!(buf, PACKET);
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(packet) = Packet::new_checked(&bytes[..]) {
                let _ = Repr::parse(&packet);
                let _ = packet.payload();
            }
        }
    }
}
