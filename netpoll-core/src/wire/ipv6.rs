//! IPv6 fixed headers (RFC 8200); extension headers are neither emitted nor followed.

use super::frame::store_header;
use core::fmt;
use core::net::Ipv6Addr;

use byteorder::{ByteOrder, NetworkEndian};

use super::frame::BuildError;
use super::{Error, Result};

mod field {
    use core::ops::Range;
    pub const VER_TC_FLOW: Range<usize> = 0..4;
    pub const LENGTH: Range<usize> = 4..6;
    pub const NXT_HDR: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC_ADDR: Range<usize> = 8..24;
    pub const DST_ADDR: Range<usize> = 24..40;
}

/// Length of the fixed header.
pub const HEADER_LEN: usize = field::DST_ADDR.end;
/// Most payload bytes behind one header: the payload length field is 16 bits (no jumbograms).
pub const MAX_PAYLOAD_LEN: usize = u16::MAX as usize;
/// Hop limit Linux netpoll sends with (`push_ipv6`).
pub const NETPOLL_HOP_LIMIT: u8 = 32;

/// A view of an IPv6 packet.
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

    /// Checks that the buffer holds the fixed header and the payload length it claims.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN || len < HEADER_LEN + usize::from(self.payload_len()) {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn first_word(&self) -> u32 {
        NetworkEndian::read_u32(&self.buffer.as_ref()[field::VER_TC_FLOW])
    }

    /// Version field (6 for IPv6).
    pub fn version(&self) -> u8 {
        (self.first_word() >> 28) as u8
    }

    /// Traffic class.
    pub fn traffic_class(&self) -> u8 {
        (self.first_word() >> 20) as u8
    }

    /// Flow label (20 bits).
    pub fn flow_label(&self) -> u32 {
        self.first_word() & 0x000f_ffff
    }

    /// Payload length.
    pub fn payload_len(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::LENGTH])
    }

    /// Next header.
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NXT_HDR]
    }

    /// Hop limit.
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }

    /// Source address.
    pub fn src_addr(&self) -> Ipv6Addr {
        addr_at(&self.buffer.as_ref()[field::SRC_ADDR])
    }

    /// Destination address.
    pub fn dst_addr(&self) -> Ipv6Addr {
        addr_at(&self.buffer.as_ref()[field::DST_ADDR])
    }

    /// The payload, as far as the payload length says.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..HEADER_LEN + usize::from(self.payload_len())]
    }
}

fn addr_at(bytes: &[u8]) -> Ipv6Addr {
    let mut octets = [0u8; 16];
    octets.copy_from_slice(bytes);
    Ipv6Addr::from(octets)
}

/// The fields of an IPv6 header that netpoll sets or reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Repr {
    /// Source address.
    pub src_addr: Ipv6Addr,
    /// Destination address.
    pub dst_addr: Ipv6Addr,
    /// Next header (the payload's protocol; no extension headers here).
    pub next_header: u8,
    /// Length of the payload in bytes.
    pub payload_len: usize,
    /// Hop limit.
    pub hop_limit: u8,
}

impl Repr {
    /// Reads a checked packet of version 6.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr> {
        packet.check_len()?;
        if packet.version() != 6 {
            return Err(Error::Malformed);
        }
        Ok(Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            next_header: packet.next_header(),
            payload_len: usize::from(packet.payload_len()),
            hop_limit: packet.hop_limit(),
        })
    }

    /// Length of the header this emits.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the 40-byte header as Linux netpoll does: `0x60`, traffic class and flow label 0.
    /// Nothing is written if the buffer is shorter than [`HEADER_LEN`] or `payload_len` exceeds
    /// [`MAX_PAYLOAD_LEN`] (it would not fit the 16-bit length field).
    pub fn emit(&self, header: &mut [u8]) -> core::result::Result<(), BuildError> {
        store_header(header, self.header())
    }

    /// The header [`emit`](Self::emit) writes, built in registers and stored once.
    pub fn header(&self) -> core::result::Result<[u8; HEADER_LEN], BuildError> {
        if self.payload_len > MAX_PAYLOAD_LEN {
            return Err(BuildError::PayloadTooLarge {
                len: self.payload_len,
                max: MAX_PAYLOAD_LEN,
            });
        }
        let mut header = [0; HEADER_LEN];
        self.write_header(&mut header);
        Ok(header)
    }

    /// Writes the header in place, for a caller that has checked `payload_len` (at most
    /// [`MAX_PAYLOAD_LEN`]; more would be cut to 16 bits). The frame builder writes it so
    /// straight into the frame: a 40-byte header built apart and then copied costs a 32-bit
    /// core the copy and its stack.
    pub(crate) fn write_header(&self, header: &mut [u8; HEADER_LEN]) {
        header[field::VER_TC_FLOW].copy_from_slice(&0x6000_0000u32.to_be_bytes());
        header[field::LENGTH].copy_from_slice(&(self.payload_len as u16).to_be_bytes());
        header[field::NXT_HDR] = self.next_header;
        header[field::HOP_LIMIT] = self.hop_limit;
        header[field::SRC_ADDR].copy_from_slice(&self.src_addr.octets());
        header[field::DST_ADDR].copy_from_slice(&self.dst_addr.octets());
    }
}

impl fmt::Display for Repr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "IPv6 src={} dst={} nxt={} len={} hop_limit={}",
            self.src_addr, self.dst_addr, self.next_header, self.payload_len, self.hop_limit
        )
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::wire::BuildError;
    use proptest::prelude::*;

    #[rustfmt::skip]
    static PACKET: [u8; 42] = [
        0x60, 0x00, 0x00, 0x00, 0x00, 0x02, 0x11, 0x20,
        0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
        0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
        0xab, 0xcd,
    ];

    fn repr() -> Repr {
        Repr {
            src_addr: "fd00::1".parse().unwrap(),
            dst_addr: "fd00::2".parse().unwrap(),
            next_header: 17,
            payload_len: 2,
            hop_limit: 32,
        }
    }

    #[test]
    fn parses_and_emits_fixture() {
        let packet = Packet::new_checked(&PACKET[..]).unwrap();
        assert_eq!(packet.flow_label(), 0);
        assert_eq!(packet.traffic_class(), 0);
        assert_eq!(Repr::parse(&packet), Ok(repr()));
        assert_eq!(packet.payload(), &[0xab, 0xcd]);
        let mut buf = [0xa5u8; 40];
        repr().emit(&mut buf).unwrap();
        assert_eq!(buf[..], PACKET[..40]);
    }

    /// Issue 10 item 13: a payload past the 16-bit payload length is refused, not truncated.
    #[test]
    fn emit_refuses_payload_past_the_length_field() {
        let mut buf = [0u8; HEADER_LEN];
        let big = Repr { payload_len: 8 + 65_528, ..repr() };
        assert_eq!(
            big.emit(&mut buf),
            Err(BuildError::PayloadTooLarge { len: 8 + 65_528, max: 65_535 })
        );
        assert_eq!(buf, [0; HEADER_LEN]);
        let largest = Repr { payload_len: 65_535, ..repr() };
        assert_eq!(largest.emit(&mut buf), Ok(()));
        assert_eq!(buf[4..6], [0xff, 0xff]);
        assert_eq!(
            repr().emit(&mut buf[..39]),
            Err(BuildError::BufferTooSmall { needed: 40, available: 39 })
        );
    }

    #[test]
    fn rejects_short_and_wrong_version() {
        assert_eq!(Packet::new_checked(&PACKET[..41]).unwrap_err(), Error::Truncated);
        let mut v4 = PACKET;
        v4[0] = 0x40;
        assert_eq!(Repr::parse(&Packet::new_unchecked(&v4[..])), Err(Error::Malformed));
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
