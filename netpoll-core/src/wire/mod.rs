//! Wire formats: one module per protocol, in the shape smoltcp made familiar.
//!
//! Each protocol module has a zero-copy view `Packet<T: AsRef<[u8]>>` (`Frame` for Ethernet) whose
//! `new_checked` validates lengths once, after which no accessor panics; a plain `Repr` with
//! `parse` and `emit`; and fixtures in its tests. [`frame`] puts them together into the one frame
//! netconsole sends: Ethernet + IPv4 or IPv6 + UDP, built in a single pass over the payload.

pub mod arp;
pub mod checksum;
pub mod ethernet;
pub mod frame;
pub mod ipv4;
pub mod ipv6;
mod mac;
pub mod prepared;
pub mod udp;

use core::fmt;

pub use arp::{Operation as ArpOperation, Packet as ArpPacket, Repr as ArpRepr};
pub use checksum::Checksum;
pub use ethernet::{
    EtherType, Frame as EthernetFrame, Repr as EthernetRepr, HEADER_LEN as ETHERNET_HEADER_LEN,
};
pub use frame::{BuildError, Payload, UdpFrame};
pub use ipv4::{Packet as Ipv4Packet, Repr as Ipv4Repr, HEADER_LEN as IPV4_HEADER_LEN};
pub use ipv6::{Packet as Ipv6Packet, Repr as Ipv6Repr, HEADER_LEN as IPV6_HEADER_LEN};
pub use mac::{MacAddr, ParseMacError};
pub use prepared::PreparedUdpFrame;
pub use udp::{Packet as UdpPacket, Repr as UdpRepr, HEADER_LEN as UDP_HEADER_LEN};

/// IP protocol number of UDP.
pub const IP_PROTO_UDP: u8 = 17;

/// Why bytes from the wire were not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Error {
    /// Shorter than its header, or than the length its header claims.
    Truncated,
    /// A field holds a value this implementation does not accept (version, header length, ...).
    Malformed,
    /// A checksum does not verify.
    Checksum,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Truncated => "truncated packet",
            Error::Malformed => "malformed packet",
            Error::Checksum => "bad checksum",
        })
    }
}

impl core::error::Error for Error {}

/// Result of parsing from the wire.
pub type Result<T> = core::result::Result<T, Error>;
