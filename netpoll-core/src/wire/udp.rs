//! UDP headers (RFC 768) and their checksum over the IPv4 or IPv6 pseudo-header.

use super::frame::store_header;
use core::fmt;
use core::net::IpAddr;

use byteorder::{ByteOrder, NetworkEndian};

use super::checksum::{pseudo_header_v4, pseudo_header_v6, Checksum};
use super::frame::BuildError;
use super::{Error, Result, IP_PROTO_UDP};

mod field {
    use core::ops::Range;
    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const LENGTH: Range<usize> = 4..6;
    pub const CHECKSUM: Range<usize> = 6..8;
}

/// Length of the UDP header.
pub const HEADER_LEN: usize = field::CHECKSUM.end;
/// Most payload bytes one datagram carries: the length field is 16 bits and counts the header.
pub const MAX_PAYLOAD_LEN: usize = u16::MAX as usize - HEADER_LEN;

/// A view of a UDP datagram.
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

    /// Checks that the buffer holds the header and the length it claims (at least 8).
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let claimed = usize::from(self.udp_len());
        if claimed < HEADER_LEN {
            Err(Error::Malformed)
        } else if len < claimed {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::SRC_PORT])
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::DST_PORT])
    }

    /// Length of header and payload.
    pub fn udp_len(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::LENGTH])
    }

    /// Checksum field (0: none was computed, allowed over IPv4 only).
    pub fn checksum(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    /// The payload, as far as the length field says.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..usize::from(self.udp_len())]
    }

    /// Whether the checksum verifies for these addresses. A zero checksum over IPv4 means "not
    /// computed" and passes; over IPv6 it fails (RFC 8200 section 8.1). Addresses of different
    /// families fail.
    pub fn verify_checksum(&self, src: &IpAddr, dst: &IpAddr) -> bool {
        let Some(mut c) = pseudo_header(src, dst, self.udp_len()) else { return false };
        if self.checksum() == 0 {
            return src.is_ipv4();
        }
        c.add_bytes(&self.buffer.as_ref()[..usize::from(self.udp_len())]);
        c.finish() == 0
    }
}

/// The pseudo-header sum for a datagram of `udp_len` bytes, `None` for mixed families.
pub fn pseudo_header(src: &IpAddr, dst: &IpAddr, udp_len: u16) -> Option<Checksum> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => Some(pseudo_header_v4(*s, *d, IP_PROTO_UDP, udp_len)),
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            Some(pseudo_header_v6(*s, *d, IP_PROTO_UDP, u32::from(udp_len)))
        }
        _ => None,
    }
}

/// The checksum to send, given the sum over pseudo-header, header (checksum field zero) and
/// payload: its complement, with 0 sent as `0xffff` (RFC 768; Linux's `CSUM_MANGLED_0`), since
/// 0 on the wire means "no checksum".
pub fn wire_checksum(sum: &Checksum) -> u16 {
    match sum.finish() {
        0 => 0xffff,
        other => other,
    }
}

/// The fields of a UDP header that are not derived from the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Repr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
}

impl Repr {
    /// Reads a checked datagram whose checksum verifies for these addresses.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>, src: &IpAddr, dst: &IpAddr) -> Result<Repr> {
        packet.check_len()?;
        if !packet.verify_checksum(src, dst) {
            return Err(Error::Checksum);
        }
        Ok(Repr { src_port: packet.src_port(), dst_port: packet.dst_port() })
    }

    /// Length of the header this emits.
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the 8-byte header with the checksum field zero, as `push_udp` does before summing.
    /// Nothing is written if the buffer is shorter than [`HEADER_LEN`] or `payload_len` exceeds
    /// [`MAX_PAYLOAD_LEN`] (the length field would not hold it).
    pub fn emit_header(
        &self,
        header: &mut [u8],
        payload_len: usize,
    ) -> core::result::Result<(), BuildError> {
        store_header(header, self.header(payload_len, 0))
    }

    /// The header for `payload_len` bytes of payload with `checksum` in its field.
    pub fn header(
        &self,
        payload_len: usize,
        checksum: u16,
    ) -> core::result::Result<[u8; HEADER_LEN], BuildError> {
        if payload_len > MAX_PAYLOAD_LEN {
            return Err(BuildError::PayloadTooLarge { len: payload_len, max: MAX_PAYLOAD_LEN });
        }
        let [s0, s1] = self.src_port.to_be_bytes();
        let [d0, d1] = self.dst_port.to_be_bytes();
        let [l0, l1] = ((HEADER_LEN + payload_len) as u16).to_be_bytes();
        let [c0, c1] = checksum.to_be_bytes();
        Ok([s0, s1, d0, d1, l0, l1, c0, c1])
    }

    /// The header with its checksum, given the sums of the pseudo-header and of the payload
    /// (summed elsewhere: the payload as it was copied into the frame). The header's own words
    /// are summed from the fields.
    pub fn header_with_checksum(
        &self,
        pseudo_header: Checksum,
        payload_len: usize,
        payload: Checksum,
    ) -> core::result::Result<[u8; HEADER_LEN], BuildError> {
        let mut header = self.header(payload_len, 0)?;
        let words = u64::from(self.src_port)
            + u64::from(self.dst_port)
            + u64::from(u16::from_be_bytes([header[4], header[5]]));
        let mut sum = pseudo_header;
        sum.append(Checksum::of_words(words));
        sum.append(payload);
        header[field::CHECKSUM].copy_from_slice(&wire_checksum(&sum).to_be_bytes());
        Ok(header)
    }

    /// Stores a checksum computed elsewhere (see [`wire_checksum`]).
    pub fn set_checksum(header: &mut [u8], checksum: u16) {
        NetworkEndian::write_u16(&mut header[field::CHECKSUM], checksum);
    }
}

impl fmt::Display for Repr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UDP src={} dst={}", self.src_port, self.dst_port)
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::wire::BuildError;
    use core::net::Ipv4Addr;
    use proptest::prelude::*;

    const SRC: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 2, 15));
    const DST: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 2, 2));

    // 6665 -> 6666, payload "hi". Checksum by hand: pseudo 0a00+020f+0a00+0202+0011+000a
    // = 0x182c; header 1a09+1a0a+000a = 0x341d; payload 6869 -> total 0xb4b2 -> !0xb4b2 = 0x4b4d.
    static DATAGRAM: [u8; 10] = [0x1a, 0x09, 0x1a, 0x0a, 0x00, 0x0a, 0x4b, 0x4d, b'h', b'i'];

    #[test]
    fn parses_fixture() {
        let packet = Packet::new_checked(&DATAGRAM[..]).unwrap();
        assert_eq!(Repr::parse(&packet, &SRC, &DST), Ok(Repr { src_port: 6665, dst_port: 6666 }));
        assert_eq!(packet.payload(), b"hi");
    }

    #[test]
    fn emits_fixture() {
        let mut buf = [0xa5u8; 10];
        Repr { src_port: 6665, dst_port: 6666 }.emit_header(&mut buf, 2).unwrap();
        buf[8..].copy_from_slice(b"hi");
        let mut sum = pseudo_header(&SRC, &DST, 10).unwrap();
        sum.add_bytes(&buf);
        Repr::set_checksum(&mut buf, wire_checksum(&sum));
        assert_eq!(buf, DATAGRAM);
    }

    #[test]
    fn zero_checksum_means_none_over_ipv4_only() {
        let mut none = DATAGRAM;
        none[6] = 0;
        none[7] = 0;
        let packet = Packet::new_unchecked(&none[..]);
        assert!(packet.verify_checksum(&SRC, &DST));
        let v6: IpAddr = "fd00::1".parse().unwrap();
        assert!(!packet.verify_checksum(&v6, &v6));
        assert!(!packet.verify_checksum(&SRC, &v6));
    }

    /// Issue 10 item 13: the length field is 16 bits; a payload past it is refused, not wrapped.
    #[test]
    fn emit_refuses_payload_past_the_length_field() {
        let repr = Repr { src_port: 6665, dst_port: 6666 };
        let mut buf = [0u8; HEADER_LEN];
        assert_eq!(
            repr.emit_header(&mut buf, 65_528),
            Err(BuildError::PayloadTooLarge { len: 65_528, max: 65_527 })
        );
        assert_eq!(buf, [0; HEADER_LEN]);
        assert_eq!(repr.emit_header(&mut buf, 65_527), Ok(()));
        assert_eq!(buf[4..6], [0xff, 0xff]);
        assert_eq!(
            repr.emit_header(&mut buf[..7], 0),
            Err(BuildError::BufferTooSmall { needed: 8, available: 7 })
        );
    }

    #[test]
    fn rejects_bad_lengths() {
        assert_eq!(Packet::new_checked(&DATAGRAM[..9]).unwrap_err(), Error::Truncated);
        let mut tiny = DATAGRAM;
        tiny[5] = 7;
        assert_eq!(Packet::new_checked(&tiny[..]).unwrap_err(), Error::Malformed);
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            if let Ok(packet) = Packet::new_checked(&bytes[..]) {
                let _ = Repr::parse(&packet, &SRC, &DST);
                let _ = packet.payload();
            }
        }
    }
}
