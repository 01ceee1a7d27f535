//! ARP (RFC 826) for Ethernet and IPv4, the only pairing netpoll resolves.

use core::fmt;
use core::net::Ipv4Addr;

use byteorder::{ByteOrder, NetworkEndian};

use super::{Error, MacAddr, Result};

mod field {
    use core::ops::Range;
    pub const HTYPE: Range<usize> = 0..2;
    pub const PTYPE: Range<usize> = 2..4;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Range<usize> = 6..8;
    pub const SHA: Range<usize> = 8..14;
    pub const SPA: Range<usize> = 14..18;
    pub const THA: Range<usize> = 18..24;
    pub const TPA: Range<usize> = 24..28;
}

/// Length of an Ethernet/IPv4 ARP packet.
pub const PACKET_LEN: usize = field::TPA.end;
const HTYPE_ETHERNET: u16 = 1;
const PTYPE_IPV4: u16 = 0x0800;

/// The ARP operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Operation {
    /// 1: who has `target_ip`?
    Request,
    /// 2: `source_ip` is at `source_mac`.
    Reply,
    /// Anything else.
    Unknown(u16),
}

impl From<u16> for Operation {
    fn from(value: u16) -> Self {
        match value {
            1 => Operation::Request,
            2 => Operation::Reply,
            other => Operation::Unknown(other),
        }
    }
}

impl From<Operation> for u16 {
    fn from(value: Operation) -> Self {
        match value {
            Operation::Request => 1,
            Operation::Reply => 2,
            Operation::Unknown(other) => other,
        }
    }
}

/// A view of an ARP packet.
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

    /// Checks that the buffer holds an Ethernet/IPv4-sized packet (28 bytes). Other hardware or
    /// protocol sizes are refused by [`Repr::parse`], not here.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < PACKET_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Hardware type (1: Ethernet).
    pub fn hardware_type(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::HTYPE])
    }

    /// Protocol type (0x0800: IPv4).
    pub fn protocol_type(&self) -> u16 {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::PTYPE])
    }

    /// Hardware address length.
    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[field::HLEN]
    }

    /// Protocol address length.
    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref()[field::PLEN]
    }

    /// Operation.
    pub fn operation(&self) -> Operation {
        NetworkEndian::read_u16(&self.buffer.as_ref()[field::OPER]).into()
    }

    /// Sender hardware address.
    pub fn source_mac(&self) -> MacAddr {
        let mut mac = [0u8; 6];
        mac.copy_from_slice(&self.buffer.as_ref()[field::SHA]);
        MacAddr(mac)
    }

    /// Sender protocol address.
    pub fn source_ip(&self) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[field::SPA];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    /// Target hardware address.
    pub fn target_mac(&self) -> MacAddr {
        let mut mac = [0u8; 6];
        mac.copy_from_slice(&self.buffer.as_ref()[field::THA]);
        MacAddr(mac)
    }

    /// Target protocol address.
    pub fn target_ip(&self) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[field::TPA];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }
}

/// An Ethernet/IPv4 ARP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Repr {
    /// Request or reply.
    pub operation: Operation,
    /// Sender hardware address.
    pub source_mac: MacAddr,
    /// Sender IPv4 address.
    pub source_ip: Ipv4Addr,
    /// Target hardware address (zero in a request).
    pub target_mac: MacAddr,
    /// Target IPv4 address.
    pub target_ip: Ipv4Addr,
}

impl Repr {
    /// Reads a checked packet; anything but Ethernet/IPv4 request or reply is `Malformed`.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr> {
        packet.check_len()?;
        let operation = packet.operation();
        if packet.hardware_type() != HTYPE_ETHERNET
            || packet.protocol_type() != PTYPE_IPV4
            || packet.hardware_len() != 6
            || packet.protocol_len() != 4
            || matches!(operation, Operation::Unknown(_))
        {
            return Err(Error::Malformed);
        }
        Ok(Repr {
            operation,
            source_mac: packet.source_mac(),
            source_ip: packet.source_ip(),
            target_mac: packet.target_mac(),
            target_ip: packet.target_ip(),
        })
    }

    /// A request from `source` for `target_ip`'s hardware address.
    pub fn request(source_mac: MacAddr, source_ip: Ipv4Addr, target_ip: Ipv4Addr) -> Repr {
        Repr {
            operation: Operation::Request,
            source_mac,
            source_ip,
            target_mac: MacAddr::ZERO,
            target_ip,
        }
    }

    /// The reply this host (`our_mac`) gives to a request for its address.
    pub fn reply_to(&self, our_mac: MacAddr) -> Repr {
        Repr {
            operation: Operation::Reply,
            source_mac: our_mac,
            source_ip: self.target_ip,
            target_mac: self.source_mac,
            target_ip: self.source_ip,
        }
    }

    /// Length of the packet this emits.
    pub const fn buffer_len(&self) -> usize {
        PACKET_LEN
    }

    /// Writes the 28-byte packet; the buffer must hold [`PACKET_LEN`] bytes.
    pub fn emit(&self, buf: &mut [u8]) {
        NetworkEndian::write_u16(&mut buf[field::HTYPE], HTYPE_ETHERNET);
        NetworkEndian::write_u16(&mut buf[field::PTYPE], PTYPE_IPV4);
        buf[field::HLEN] = 6;
        buf[field::PLEN] = 4;
        NetworkEndian::write_u16(&mut buf[field::OPER], self.operation.into());
        buf[field::SHA].copy_from_slice(&self.source_mac.0);
        buf[field::SPA].copy_from_slice(&self.source_ip.octets());
        buf[field::THA].copy_from_slice(&self.target_mac.0);
        buf[field::TPA].copy_from_slice(&self.target_ip.octets());
    }
}

impl fmt::Display for Repr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.operation {
            Operation::Request => {
                write!(f, "ARP who-has {} tell {}", self.target_ip, self.source_ip)
            }
            Operation::Reply => write!(f, "ARP {} is-at {}", self.source_ip, self.source_mac),
            Operation::Unknown(op) => write!(f, "ARP op={op}"),
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use proptest::prelude::*;

    #[rustfmt::skip]
    static REQUEST: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,
        0x52, 0x55, 0x0a, 0x00, 0x02, 0x02, 10, 0, 2, 2,
        0, 0, 0, 0, 0, 0, 10, 0, 2, 15,
    ];

    fn request() -> Repr {
        Repr::request(
            MacAddr([0x52, 0x55, 0x0a, 0x00, 0x02, 0x02]),
            Ipv4Addr::new(10, 0, 2, 2),
            Ipv4Addr::new(10, 0, 2, 15),
        )
    }

    #[test]
    fn parses_and_emits_request() {
        assert_eq!(Repr::parse(&Packet::new_checked(&REQUEST[..]).unwrap()), Ok(request()));
        let mut buf = [0xa5u8; 28];
        request().emit(&mut buf);
        assert_eq!(buf, REQUEST);
    }

    #[test]
    fn reply_swaps_roles() {
        let ours = MacAddr([0x52, 0x54, 0, 0x12, 0x34, 0x56]);
        let reply = request().reply_to(ours);
        assert_eq!(reply.operation, Operation::Reply);
        assert_eq!((reply.source_mac, reply.source_ip), (ours, Ipv4Addr::new(10, 0, 2, 15)));
        assert_eq!(reply.target_mac, request().source_mac);
        assert_eq!(reply.target_ip, Ipv4Addr::new(10, 0, 2, 2));
    }

    #[test]
    fn refuses_other_hardware_and_operations() {
        for (at, value) in [(1, 6u8), (3, 0xdd), (4, 8), (5, 16), (7, 3)] {
            let mut bad = REQUEST;
            bad[at] = value;
            assert_eq!(Repr::parse(&Packet::new_unchecked(&bad[..])), Err(Error::Malformed));
        }
        assert_eq!(Packet::new_checked(&REQUEST[..27]).unwrap_err(), Error::Truncated);
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            if let Ok(packet) = Packet::new_checked(&bytes[..]) {
                let _ = Repr::parse(&packet);
            }
        }
    }
}
