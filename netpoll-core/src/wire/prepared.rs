//! A [`UdpFrame`] prepared once per target, so that each message pays only for what changes:
//! the lengths, the IPv4 identification, the checksums and the payload.
//!
//! Netconsole sends every message of a target with the same addresses and ports. Building the
//! headers from those fields for every frame, and summing the constant ones into the IPv4 header
//! checksum and the UDP pseudo-header each time, is a fifth of a short frame's instructions
//! (300 against 235 for 100 bytes of payload, x86-64). Here the header
//! bytes are laid out once in a template, and the sums of their constant words are kept; a frame
//! is the template copied with a few wide stores, four 16-bit fields written into it, and the
//! payload copied and summed. The bytes are those of [`UdpFrame::emit`], field for field.

use core::net::IpAddr;

use super::checksum::Checksum;
use super::frame::{copy_payload, gather_len, BuildError, Payload, UdpFrame, ETHERNET_MTU};
use super::{ethernet, ipv4, ipv6, udp, EtherType, IP_PROTO_UDP};

/// Header bytes in front of an IPv4 payload: Ethernet, IPv4, UDP.
const V4_HEADERS: usize = ethernet::HEADER_LEN + ipv4::HEADER_LEN + udp::HEADER_LEN;
/// Header bytes in front of an IPv6 payload.
const V6_HEADERS: usize = ethernet::HEADER_LEN + ipv6::HEADER_LEN + udp::HEADER_LEN;

/// Where the per-message fields sit in the headers (offsets from the frame's start).
mod at {
    use super::{ethernet, V4_HEADERS, V6_HEADERS};
    /// IPv4 total length.
    pub const V4_TOTAL_LEN: usize = ethernet::HEADER_LEN + 2;
    /// IPv4 identification.
    pub const V4_IDENT: usize = ethernet::HEADER_LEN + 4;
    /// IPv4 header checksum.
    pub const V4_CHECKSUM: usize = ethernet::HEADER_LEN + 10;
    /// IPv6 payload length.
    pub const V6_PAYLOAD_LEN: usize = ethernet::HEADER_LEN + 4;
    /// UDP length, followed by the UDP checksum: the last four bytes of the headers.
    pub const V4_UDP_LEN: usize = V4_HEADERS - 4;
    /// As for IPv4.
    pub const V6_UDP_LEN: usize = V6_HEADERS - 4;
}

/// The constant header bytes of one family, with the sums that depend on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum Template {
    /// Length, identification and both checksums zero.
    V4 {
        headers: [u8; V4_HEADERS],
        /// Sum of the IPv4 header's constant words (all but total length and identification).
        ip_sum: u32,
        /// Sum of the pseudo-header's constant words and the UDP ports.
        udp_sum: Checksum,
    },
    /// Payload length, UDP length and checksum zero.
    V6 {
        headers: [u8; V6_HEADERS],
        /// As for IPv4: the pseudo-header without its length, and the ports.
        udp_sum: Checksum,
    },
}

/// A [`UdpFrame`]'s headers laid out once, to build many frames to the same target.
///
/// ```
/// use netpoll_core::wire::{MacAddr, PreparedUdpFrame, UdpFrame};
/// let frame = UdpFrame {
///     src_mac: MacAddr([0x52, 0x54, 0, 0x12, 0x34, 0x56]),
///     dst_mac: MacAddr::BROADCAST,
///     src_ip: "10.0.0.1".parse().unwrap(),
///     dst_ip: "10.0.0.2".parse().unwrap(),
///     src_port: 6665,
///     dst_port: 6666,
///     ipv4_ident: 7,
/// };
/// let prepared = PreparedUdpFrame::new(&frame).unwrap();
/// let (mut a, mut b) = ([0u8; 1514], [0u8; 1514]);
/// let len = prepared.emit(&mut a, &[b"hello, ", b"world\n"], 7).unwrap();
/// assert_eq!(frame.emit(&mut b, &[b"hello, world\n"]), Ok(len));
/// assert_eq!(a[..len], b[..len]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PreparedUdpFrame {
    template: Template,
}

impl PreparedUdpFrame {
    /// Lays out `frame`'s headers; its `ipv4_ident` is not kept (each [`emit`](Self::emit) takes
    /// its own). Fails only for addresses of different families.
    pub fn new(frame: &UdpFrame) -> Result<Self, BuildError> {
        // The headers are written field by field into one buffer and the sums read back from
        // it: far less code than a header builder per layer (this runs once per target, and its
        // size counts in a 16 KiB firmware).
        let mut h = [0u8; V6_HEADERS];
        let ip_len = match (frame.src_ip, frame.dst_ip) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => {
                set(&mut h, 14, &[0x45]);
                set(&mut h, 22, &[ipv4::NETPOLL_TTL, IP_PROTO_UDP]);
                set(&mut h, 26, &src.octets());
                set(&mut h, 30, &dst.octets());
                ipv4::HEADER_LEN
            }
            (IpAddr::V6(src), IpAddr::V6(dst)) => {
                set(&mut h, 14, &[0x60]);
                set(&mut h, 20, &[IP_PROTO_UDP, ipv6::NETPOLL_HOP_LIMIT]);
                set(&mut h, 22, &src.octets());
                set(&mut h, 38, &dst.octets());
                ipv6::HEADER_LEN
            }
            _ => return Err(BuildError::MixedFamilies),
        };
        let v4 = ip_len == ipv4::HEADER_LEN;
        let ethertype = if v4 { EtherType::Ipv4 } else { EtherType::Ipv6 };
        set(&mut h, 0, &frame.dst_mac.0);
        set(&mut h, 6, &frame.src_mac.0);
        set(&mut h, 12, &u16::from(ethertype).to_be_bytes());
        let udp_at = ethernet::HEADER_LEN + ip_len;
        set(&mut h, udp_at, &frame.src_port.to_be_bytes());
        set(&mut h, udp_at + 2, &frame.dst_port.to_be_bytes());
        // The pseudo-header's constant words: both addresses (the last bytes of the IP header)
        // and the protocol; then the ports.
        let addrs = if v4 { 8 } else { 32 };
        let udp_sum = Checksum::of_words(
            words(h.get(udp_at - addrs..udp_at + 4).unwrap_or_default()) + u64::from(IP_PROTO_UDP),
        );
        let template = if v4 {
            let ip_sum = words(h.get(ethernet::HEADER_LEN..udp_at).unwrap_or_default()) as u32;
            let headers = h.first_chunk::<V4_HEADERS>().copied().unwrap_or([0; V4_HEADERS]);
            Template::V4 { headers, ip_sum, udp_sum }
        } else {
            Template::V6 { headers: h, udp_sum }
        };
        Ok(PreparedUdpFrame { template })
    }

    /// Whether the frames are IPv4 (and so carry an identification).
    pub fn is_ipv4(&self) -> bool {
        matches!(self.template, Template::V4 { .. })
    }

    /// Bytes in front of the payload: 42 for IPv4, 62 for IPv6.
    pub fn header_len(&self) -> usize {
        match self.template {
            Template::V4 { .. } => V4_HEADERS,
            Template::V6 { .. } => V6_HEADERS,
        }
    }

    /// The most payload one frame carries: 1472 bytes over IPv4, 1452 over IPv6.
    pub fn max_payload(&self) -> usize {
        ETHERNET_MTU + ethernet::HEADER_LEN - self.header_len()
    }

    /// The frame length for `payload_len` bytes of payload, or why there is none.
    pub fn frame_len(&self, payload_len: usize) -> Result<usize, BuildError> {
        let max = self.max_payload();
        if payload_len > max {
            return Err(BuildError::PayloadTooLarge { len: payload_len, max });
        }
        Ok(self.header_len() + payload_len)
    }

    /// Writes the frame at the start of `buf` and returns its length, as [`UdpFrame::emit`] with
    /// `ipv4_ident` (unused over IPv6). A gather list is walked directly, without the dynamic
    /// call of [`Payload`].
    #[inline]
    pub fn emit(
        &self,
        buf: &mut [u8],
        payload: &[&[u8]],
        ipv4_ident: u16,
    ) -> Result<usize, BuildError> {
        let payload_len = gather_len(payload);
        self.emit_with(buf, payload_len, ipv4_ident, |data| {
            let mut sum = Checksum::new();
            if let [only] = payload {
                let copied = sum.copy_and_add(data, only);
                debug_assert!(copied);
                return sum;
            }
            let mut rest = data;
            for slice in payload {
                let take = slice.len().min(rest.len());
                let (dst, after) = core::mem::take(&mut rest).split_at_mut(take);
                let copied = sum.copy_and_add(dst, slice.get(..dst.len()).unwrap_or_default());
                debug_assert!(copied);
                rest = after;
            }
            sum
        })
    }

    /// As [`emit`](Self::emit), for any [`Payload`]: cut at its `len()` if it yields more, padded
    /// with zeros if it yields fewer.
    pub fn emit_payload(
        &self,
        buf: &mut [u8],
        payload: &(impl Payload + ?Sized),
        ipv4_ident: u16,
    ) -> Result<usize, BuildError> {
        self.emit_with(buf, payload.len(), ipv4_ident, |data| copy_payload(data, payload))
    }

    /// The frame around `payload_len` bytes that `copy` puts in the slice it is given (exactly
    /// that long), returning their sum.
    #[inline(always)]
    fn emit_with(
        &self,
        buf: &mut [u8],
        payload_len: usize,
        ipv4_ident: u16,
        copy: impl FnOnce(&mut [u8]) -> Checksum,
    ) -> Result<usize, BuildError> {
        let frame_len = self.frame_len(payload_len)?;
        let available = buf.len();
        let Some(frame) = buf.get_mut(..frame_len) else {
            return Err(BuildError::BufferTooSmall { needed: frame_len, available });
        };
        // At most 1500 bytes: the lengths below fit 16 bits.
        let udp_len = (udp::HEADER_LEN + payload_len) as u16;
        match &self.template {
            Template::V4 { headers, ip_sum, udp_sum } => {
                let Some((head, data)) = frame.split_first_chunk_mut::<V4_HEADERS>() else {
                    return Err(BuildError::BufferTooSmall { needed: frame_len, available });
                };
                let payload_sum = copy(data);
                let total_len = udp_len + ipv4::HEADER_LEN as u16;
                let ip_sum = Checksum::of_words(
                    u64::from(*ip_sum) + u64::from(total_len) + u64::from(ipv4_ident),
                );
                *head = *headers;
                put(head, at::V4_TOTAL_LEN, total_len);
                put(head, at::V4_IDENT, ipv4_ident);
                put(head, at::V4_CHECKSUM, ip_sum.finish());
                put(head, at::V4_UDP_LEN, udp_len);
                put(head, at::V4_UDP_LEN + 2, udp_checksum(*udp_sum, udp_len, payload_sum));
            }
            Template::V6 { headers, udp_sum } => {
                let Some((head, data)) = frame.split_first_chunk_mut::<V6_HEADERS>() else {
                    return Err(BuildError::BufferTooSmall { needed: frame_len, available });
                };
                let payload_sum = copy(data);
                *head = *headers;
                put(head, at::V6_PAYLOAD_LEN, udp_len);
                put(head, at::V6_UDP_LEN, udp_len);
                put(head, at::V6_UDP_LEN + 2, udp_checksum(*udp_sum, udp_len, payload_sum));
            }
        }
        Ok(frame_len)
    }
}

/// The UDP checksum from the constant part of the pseudo-header and header, the length (which
/// both hold) and the payload's sum.
#[inline(always)]
fn udp_checksum(constant: Checksum, udp_len: u16, payload: Checksum) -> u16 {
    let mut sum = constant;
    sum.append(Checksum::of_words(2 * u64::from(udp_len)));
    sum.append(payload);
    udp::wire_checksum(&sum)
}

/// Writes a big-endian field at a constant offset of a header array.
#[inline(always)]
fn put<const N: usize>(head: &mut [u8; N], at: usize, value: u16) {
    if let Some(field) = head.get_mut(at..at + 2) {
        field.copy_from_slice(&value.to_be_bytes());
    }
}

/// The plain sum of the big-endian words of `bytes` (at most 2^16 words: no overflow). A loop
/// rather than the wide checksum: it runs once per target, where its size matters more.
fn words(bytes: &[u8]) -> u64 {
    bytes.chunks_exact(2).map(|w| u64::from(u16::from_be_bytes([w[0], w[1]]))).sum()
}

/// Writes `bytes` at `at` in `h` (the caller's offsets are constants inside it).
fn set(h: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(field) = h.get_mut(at..at + bytes.len()) {
        field.copy_from_slice(bytes);
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::wire::MacAddr;
    use core::net::{Ipv4Addr, Ipv6Addr};
    use proptest::prelude::*;

    fn frame(src_ip: IpAddr, dst_ip: IpAddr, ident: u16) -> UdpFrame {
        UdpFrame {
            src_mac: MacAddr([0x52, 0x54, 0, 0x12, 0x34, 0x56]),
            dst_mac: MacAddr([0x02, 0, 0, 0, 0, 1]),
            src_ip,
            dst_ip,
            src_port: 6665,
            dst_port: 6666,
            ipv4_ident: ident,
        }
    }

    fn addresses() -> impl Strategy<Value = (IpAddr, IpAddr)> {
        prop_oneof![
            (any::<[u8; 4]>(), any::<[u8; 4]>())
                .prop_map(|(s, d)| (Ipv4Addr::from(s).into(), Ipv4Addr::from(d).into())),
            (any::<[u8; 16]>(), any::<[u8; 16]>())
                .prop_map(|(s, d)| (Ipv6Addr::from(s).into(), Ipv6Addr::from(d).into())),
        ]
    }

    /// Slices of any length, odd ones included, up to a little past what one frame carries.
    fn gather_list() -> impl Strategy<Value = Vec<Vec<u8>>> {
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..500), 0..6)
    }

    /// A payload that says it is `claimed` bytes long and yields `pieces`, whatever their length.
    struct Lying<'a> {
        claimed: usize,
        pieces: &'a [&'a [u8]],
    }

    impl Payload for Lying<'_> {
        fn len(&self) -> usize {
            self.claimed
        }

        fn for_each_slice(&self, f: &mut dyn FnMut(&[u8])) {
            self.pieces.iter().for_each(|p| f(p));
        }
    }

    #[test]
    fn refuses_mixed_families() {
        let f = frame(Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into(), 0);
        assert_eq!(PreparedUdpFrame::new(&f), Err(BuildError::MixedFamilies));
    }

    #[test]
    fn limits_match_the_plain_frame() {
        for (src, dst) in [
            (IpAddr::from(Ipv4Addr::LOCALHOST), IpAddr::from(Ipv4Addr::BROADCAST)),
            (Ipv6Addr::LOCALHOST.into(), Ipv6Addr::UNSPECIFIED.into()),
        ] {
            let f = frame(src, dst, 0);
            let p = PreparedUdpFrame::new(&f).unwrap();
            assert_eq!(p.header_len(), f.header_len());
            assert_eq!(p.max_payload(), f.max_payload());
            for len in [0, 1, f.max_payload(), f.max_payload() + 1, usize::MAX] {
                assert_eq!(p.frame_len(len), f.frame_len(len));
            }
        }
    }

    proptest! {
        /// Byte for byte what `UdpFrame::emit` writes, the same length or the same error, over
        /// IPv4 and IPv6, even and odd lengths, gather lists of odd slices, short buffers.
        #[test]
        fn equals_udp_frame_emit(
            (src, dst) in addresses(), ident in any::<u16>(), pieces in gather_list(),
            short_by in prop_oneof![Just(0usize), 0usize..80],
        ) {
            let f = frame(src, dst, ident);
            let p = PreparedUdpFrame::new(&f).unwrap();
            let slices: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
            let len = f.header_len() + gather_len(&slices);
            let room = len.saturating_sub(short_by).min(1600);
            let (mut ours, mut theirs) = (vec![0xa5u8; room], vec![0xa5u8; room]);
            prop_assert_eq!(p.emit(&mut ours, &slices, ident), f.emit(&mut theirs, &slices));
            prop_assert_eq!(&ours, &theirs);
        }

        /// The same through `emit_payload`, for a payload whose slices fall short of or run
        /// past the length it claims.
        #[test]
        fn emit_payload_equals_udp_frame(
            (src, dst) in addresses(), ident in any::<u16>(), pieces in gather_list(),
            claimed in 0usize..1600,
        ) {
            let f = frame(src, dst, ident);
            let p = PreparedUdpFrame::new(&f).unwrap();
            let slices: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
            let payload = Lying { claimed, pieces: &slices };
            let (mut ours, mut theirs) = ([0xa5u8; 1600], [0xa5u8; 1600]);
            prop_assert_eq!(
                p.emit_payload(&mut ours, &payload, ident),
                f.emit_payload(&mut theirs, &payload)
            );
            prop_assert_eq!(ours, theirs);
        }
    }
}
