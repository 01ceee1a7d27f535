//! The one frame netconsole sends: Ethernet + IPv4 or IPv6 + UDP + payload, built in place.
//!
//! Field values are Linux netpoll's (`push_udp`, `push_ipv4`, `push_ipv6`, `push_eth`): IPv4
//! `0x45`, TOS 0, the caller's identification, DF clear, TTL 64; IPv6 `0x60`, flow label 0, hop
//! limit 32; the UDP checksum always computed, and sent as `0xffff` when it comes out 0. The
//! payload arrives as a gather list of slices and is copied into the frame once, summed on the way.
//! Short frames are not padded here: padding to 60 bytes is the driver's job, as in Linux.

use core::fmt;
use core::net::IpAddr;

use super::checksum::{pseudo_header_v4, pseudo_header_v6, Checksum};
use super::ethernet::{self, EtherType};
use super::{ipv4, ipv6, udp, MacAddr, IP_PROTO_UDP};

/// The IP MTU of Ethernet, which bounds the payload of one frame.
pub const ETHERNET_MTU: usize = 1500;

/// The addresses, ports and IPv4 identification of one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct UdpFrame {
    /// Our MAC address.
    pub src_mac: MacAddr,
    /// The next hop's MAC address (broadcast if unknown, as Linux does).
    pub dst_mac: MacAddr,
    /// Our IP address; its family must be the destination's.
    pub src_ip: IpAddr,
    /// The receiver's IP address.
    pub dst_ip: IpAddr,
    /// Our UDP port.
    pub src_port: u16,
    /// The receiver's UDP port.
    pub dst_port: u16,
    /// IPv4 identification; unused for IPv6, which has none.
    pub ipv4_ident: u16,
}

/// Why a frame could not be built. Nothing was written to the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BuildError {
    /// The buffer cannot hold the frame.
    BufferTooSmall {
        /// Bytes the frame needs.
        needed: usize,
        /// Bytes the buffer has.
        available: usize,
    },
    /// The payload does not fit one frame under the Ethernet MTU.
    PayloadTooLarge {
        /// Payload bytes given.
        len: usize,
        /// Most payload bytes one frame carries for this address family.
        max: usize,
    },
    /// Source and destination addresses are of different families.
    MixedFamilies,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            BuildError::BufferTooSmall { needed, available } => {
                write!(f, "frame needs {needed} bytes, buffer has {available}")
            }
            BuildError::PayloadTooLarge { len, max } => {
                write!(f, "UDP payload of {len} bytes exceeds the {max} one frame can carry")
            }
            BuildError::MixedFamilies => f.write_str("source and destination IP families differ"),
        }
    }
}

impl core::error::Error for BuildError {}

/// Total length of a gather list, saturating (a sum that large is refused anyway).
pub fn gather_len(payload: &[&[u8]]) -> usize {
    payload.iter().fold(0usize, |n, s| n.saturating_add(s.len()))
}

/// A payload handed over as consecutive slices, without being copied anywhere first.
///
/// A gather list `[&[u8]]` is one; netconsole's fragments are another (a header rendered on the
/// stack, then a window into the message body, the userdata and the sysdata).
pub trait Payload {
    /// Total length in bytes.
    fn len(&self) -> usize;

    /// Whether the payload is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f` with consecutive slices whose concatenation is the payload, `len()` bytes in all.
    fn for_each_slice(&self, f: &mut dyn FnMut(&[u8]));

    /// The whole payload as one slice, when it is one (`len()` bytes): the frame builders then
    /// copy it directly, without a call of `f` through [`for_each_slice`](Self::for_each_slice)
    /// (a one-slice console line pays that call's cost on every frame). `None`, the default,
    /// is always correct.
    fn single_slice(&self) -> Option<&[u8]> {
        None
    }
}

impl Payload for [&[u8]] {
    fn len(&self) -> usize {
        gather_len(self)
    }

    fn for_each_slice(&self, f: &mut dyn FnMut(&[u8])) {
        for slice in self {
            f(slice);
        }
    }

    fn single_slice(&self) -> Option<&[u8]> {
        match self {
            [only] => Some(only),
            _ => None,
        }
    }
}

impl UdpFrame {
    /// Length of the IP header for this frame's family.
    fn ip_header_len(&self) -> usize {
        match self.dst_ip {
            IpAddr::V4(_) => ipv4::HEADER_LEN,
            IpAddr::V6(_) => ipv6::HEADER_LEN,
        }
    }

    /// Bytes in front of the payload: 42 for IPv4, 62 for IPv6.
    pub fn header_len(&self) -> usize {
        ethernet::HEADER_LEN + self.ip_header_len() + udp::HEADER_LEN
    }

    /// The most payload one frame carries: 1472 bytes over IPv4, 1452 over IPv6.
    pub fn max_payload(&self) -> usize {
        ETHERNET_MTU - self.ip_header_len() - udp::HEADER_LEN
    }

    /// The frame length for `payload_len` bytes of payload, or why there is none.
    pub fn frame_len(&self, payload_len: usize) -> Result<usize, BuildError> {
        if self.src_ip.is_ipv4() != self.dst_ip.is_ipv4() {
            return Err(BuildError::MixedFamilies);
        }
        if payload_len > self.max_payload() {
            return Err(BuildError::PayloadTooLarge { len: payload_len, max: self.max_payload() });
        }
        Ok(self.header_len() + payload_len)
    }

    /// Writes the frame at the start of `buf` and returns its length. The payload is the
    /// concatenation of the slices in `payload`.
    ///
    /// ```
    /// use netpoll_core::wire::{UdpFrame, MacAddr};
    /// let frame = UdpFrame {
    ///     src_mac: MacAddr([0x52, 0x54, 0, 0x12, 0x34, 0x56]),
    ///     dst_mac: MacAddr::BROADCAST,
    ///     src_ip: "10.0.0.1".parse().unwrap(),
    ///     dst_ip: "10.0.0.2".parse().unwrap(),
    ///     src_port: 6665,
    ///     dst_port: 6666,
    ///     ipv4_ident: 1,
    /// };
    /// let mut buf = [0u8; 1514];
    /// let len = frame.emit(&mut buf, &[b"hello, ", b"world\n"]).unwrap();
    /// assert_eq!(len, 42 + 13);
    /// ```
    #[inline]
    pub fn emit(&self, buf: &mut [u8], payload: &[&[u8]]) -> Result<usize, BuildError> {
        self.emit_payload(buf, payload)
    }

    /// As [`emit`](Self::emit), for any [`Payload`]. A payload that yields more bytes than its
    /// `len()` is cut there, one that yields fewer is padded with zeros: never a panic.
    pub fn emit_payload(
        &self,
        buf: &mut [u8],
        payload: &(impl Payload + ?Sized),
    ) -> Result<usize, BuildError> {
        self.emit_sized(buf, payload, payload.len())
    }

    /// As [`emit_payload`](Self::emit_payload), with `payload.len()` already asked (a sender
    /// that sized the frame need not ask a `dyn Payload` again per frame).
    #[inline]
    pub(crate) fn emit_sized(
        &self,
        buf: &mut [u8],
        payload: &(impl Payload + ?Sized),
        payload_len: usize,
    ) -> Result<usize, BuildError> {
        let frame_len = self.frame_len(payload_len)?;
        let available = buf.len();
        let Some(frame) = buf.get_mut(..frame_len) else {
            return Err(BuildError::BufferTooSmall { needed: frame_len, available });
        };
        // Checked by frame_len above: the addresses are of one family. On 32-bit cores the
        // compiler cannot tie `self.header_len()` to `frame_len` and keeps a panic path (100 B
        // of a Cortex-M image with its message); what the frame holds beyond the payload it
        // sees is within the frame. 64-bit keeps the form that costs no instruction there.
        #[cfg(target_pointer_width = "64")]
        let header_len = self.header_len();
        #[cfg(not(target_pointer_width = "64"))]
        let header_len = header_len_of(frame_len, payload_len);
        let (headers, data) = frame.split_at_mut(header_len);
        let payload_sum = copy_payload(data, payload);

        // The headers are built in registers from the fields, their sums too, and stored once.
        let udp_len = udp::HEADER_LEN + payload_len;
        let udp = udp::Repr { src_port: self.src_port, dst_port: self.dst_port };
        let (ethertype, pseudo) = match (self.src_ip, self.dst_ip) {
            (IpAddr::V4(src_addr), IpAddr::V4(dst_addr)) => {
                let ip = ipv4::Repr {
                    src_addr,
                    dst_addr,
                    protocol: IP_PROTO_UDP,
                    payload_len: udp_len,
                    ident: self.ipv4_ident,
                    ttl: ipv4::NETPOLL_TTL,
                };
                store(headers, ethernet::HEADER_LEN, &ip.header()?);
                (
                    EtherType::Ipv4,
                    pseudo_header_v4(src_addr, dst_addr, IP_PROTO_UDP, udp_len as u16),
                )
            }
            (IpAddr::V6(src_addr), IpAddr::V6(dst_addr)) => {
                let ip = ipv6::Repr {
                    src_addr,
                    dst_addr,
                    next_header: IP_PROTO_UDP,
                    payload_len: udp_len,
                    hop_limit: ipv6::NETPOLL_HOP_LIMIT,
                };
                // `frame_len` checked the payload length; the header is written in place.
                let at = ethernet::HEADER_LEN..ethernet::HEADER_LEN + ipv6::HEADER_LEN;
                if let Some(header) = headers.get_mut(at).and_then(|h| h.try_into().ok()) {
                    ip.write_header(header);
                }
                (
                    EtherType::Ipv6,
                    pseudo_header_v6(src_addr, dst_addr, IP_PROTO_UDP, udp_len as u32),
                )
            }
            _ => return Err(BuildError::MixedFamilies),
        };
        // One UDP header for both families: only the pseudo-header differs.
        let udp_header = udp.header_with_checksum(pseudo, payload_len, payload_sum)?;
        let eth = ethernet::Repr { src_addr: self.src_mac, dst_addr: self.dst_mac, ethertype };
        store(headers, 0, &eth.header());
        store(headers, headers.len() - udp::HEADER_LEN, &udp_header);
        Ok(frame_len)
    }
}

/// Copies the payload into `data` (cut at its end, padded with zeros if the payload falls
/// short) and returns its sum: the one pass over the payload.
pub(crate) fn copy_payload(data: &mut [u8], payload: &(impl Payload + ?Sized)) -> Checksum {
    let mut sum = Checksum::new();
    if let Some(only) = payload.single_slice() {
        // The common case, a payload in one piece: one copy and sum, no callback.
        if sum.copy_and_add(data, only) {
            return sum;
        }
    }
    let mut rest = &mut *data;
    payload.for_each_slice(&mut |slice| {
        let take = slice.len().min(rest.len());
        let (dst, after) = core::mem::take(&mut rest).split_at_mut(take);
        let copied = sum.copy_and_add(dst, &slice[..take]);
        debug_assert!(copied);
        rest = after;
    });
    if !rest.is_empty() {
        rest.fill(0);
    }
    sum
}

/// Stores a header at `at` in the headers' area; `at` and the length are the caller's constants.
fn store(headers: &mut [u8], at: usize, header: &[u8]) {
    if let Some(dst) = headers.get_mut(at..at + header.len()) {
        dst.copy_from_slice(header);
    }
}

/// The headers' length as 32-bit cores take it: what a frame of `frame_len` bytes (from
/// [`UdpFrame::frame_len`]) holds beyond its `payload_len`, which is
/// [`header_len`](UdpFrame::header_len) exactly. Apart, so that a 64-bit host's tests check it.
#[cfg_attr(target_pointer_width = "64", allow(dead_code))]
#[inline(always)]
fn header_len_of(frame_len: usize, payload_len: usize) -> usize {
    frame_len.saturating_sub(payload_len)
}

/// Stores `header` at the front of `buf`: what every `Repr::emit` of a fixed-size header does.
/// Nothing is written when `buf` is too short (checked first) or the header could not be built.
pub(crate) fn store_header<const N: usize>(
    buf: &mut [u8],
    header: Result<[u8; N], BuildError>,
) -> Result<(), BuildError> {
    let available = buf.len();
    let Some(slot) = buf.get_mut(..N) else {
        return Err(BuildError::BufferTooSmall { needed: N, available });
    };
    slot.copy_from_slice(&header?);
    Ok(())
}

#[cfg(test)]
mod test {
    use super::*;

    /// Yields `pieces` and offers `offered` as its single slice, whatever they hold.
    struct Offering<'a> {
        len: usize,
        pieces: &'a [&'a [u8]],
        offered: Option<&'a [u8]>,
    }

    impl Payload for Offering<'_> {
        fn len(&self) -> usize {
            self.len
        }

        fn for_each_slice(&self, f: &mut dyn FnMut(&[u8])) {
            self.pieces.iter().for_each(|p| f(p));
        }

        fn single_slice(&self) -> Option<&[u8]> {
            self.offered
        }
    }

    /// The 32-bit cores' header length is `header_len` for every payload length one frame
    /// carries, odd or even, over IPv4 and IPv6 (they split the frame there).
    #[test]
    fn the_32_bit_header_length_is_header_len() {
        for (src, dst) in [("10.0.0.1", "10.0.0.2"), ("fd00::1", "fd00::2")] {
            let frame = UdpFrame {
                src_mac: MacAddr([2, 0, 0, 0, 0, 1]),
                dst_mac: MacAddr::BROADCAST,
                src_ip: src.parse().unwrap(),
                dst_ip: dst.parse().unwrap(),
                src_port: 6665,
                dst_port: 6666,
                ipv4_ident: 0,
            };
            for payload_len in 0..=frame.max_payload() {
                let frame_len = frame.frame_len(payload_len).unwrap();
                assert_eq!(header_len_of(frame_len, payload_len), frame.header_len(), "{dst}");
            }
        }
    }

    /// The one-slice shortcut copies what the walk would; a slice of the wrong length is
    /// ignored (the walk then cuts or pads as always).
    #[test]
    fn one_slice_copies_as_the_walk_does() {
        let pieces: &[&[u8]] = &[b"hello, ", b"world"];
        for (offered, room) in [
            (Some(&b"hello, world"[..]), 12),
            (Some(&b"hello"[..]), 12),
            (Some(&b"hello, world!"[..]), 12),
            (Some(&b"hello, world"[..]), 9),
            (None, 15),
        ] {
            let payload = Offering { len: room, pieces, offered };
            let walked = Offering { offered: None, ..payload };
            let (mut a, mut b) = ([0xa5u8; 16], [0xa5u8; 16]);
            let sums =
                (copy_payload(&mut a[..room], &payload), copy_payload(&mut b[..room], &walked));
            assert_eq!(sums.0.finish(), sums.1.finish(), "{offered:?} into {room}");
            assert_eq!(a, b, "{offered:?} into {room}");
        }
        assert_eq!(pieces[..1].single_slice(), Some(&b"hello, "[..]));
        assert_eq!(pieces.single_slice(), None);
    }
}
