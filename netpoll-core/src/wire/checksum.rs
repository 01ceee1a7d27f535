//! The Internet checksum (RFC 1071), as a running sum over a byte stream.
//!
//! A [`Checksum`] is the ones'-complement sum of a stream of bytes read as big-endian 16-bit
//! words. Pieces of the stream may be added in any sizes: the running sum remembers whether an
//! odd number of bytes has been added so far, and a piece that starts at an odd offset is summed
//! as if aligned and then byte-swapped (RFC 1071, section 2(B): the sum is byte-order independent
//! up to a swap). That is what lets a UDP payload given as a gather list of odd-sized slices be
//! copied into the frame and summed in the same pass.
//!
//! The inner loop adds 32-bit words into a 64-bit accumulator, so the carries of 2^32 additions
//! fit before a fold is needed, and the compiler turns it into vector code; the slices summed
//! here are at most a frame long.

use core::net::{Ipv4Addr, Ipv6Addr};

/// A running Internet checksum over a byte stream.
///
/// ```
/// use netpoll_core::wire::Checksum;
/// let mut c = Checksum::new();
/// c.add_bytes(&[0x45, 0x00, 0x00]);
/// c.add_bytes(&[0x1c]); // continues at an odd offset
/// let mut whole = Checksum::new();
/// whole.add_bytes(&[0x45, 0x00, 0x00, 0x1c]);
/// assert_eq!(c.sum(), whole.sum());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Checksum {
    /// Unfolded sum of the stream so far, in the stream's big-endian word order.
    acc: u64,
    /// An odd number of bytes has been added: the next byte is the low half of a word.
    odd: bool,
}

impl Checksum {
    /// An empty sum.
    pub const fn new() -> Self {
        Checksum { acc: 0, odd: false }
    }

    /// Adds `data` to the stream.
    pub fn add_bytes(&mut self, data: &[u8]) {
        self.add_aligned(sum_words(data), data.len());
    }

    /// Copies `src` into `dst` (which must be exactly as long) and adds it to the stream, reading
    /// each byte once.
    ///
    /// Returns `false`, copying nothing, if the lengths differ.
    #[must_use]
    pub fn copy_and_add(&mut self, dst: &mut [u8], src: &[u8]) -> bool {
        if dst.len() != src.len() {
            return false;
        }
        self.add_aligned(copy_and_sum_words(dst, src), src.len());
        true
    }

    /// Adds one big-endian 16-bit word to the stream.
    pub fn add_u16(&mut self, word: u16) {
        self.add_bytes(&word.to_be_bytes());
    }

    /// Appends another sum, of the bytes that follow this stream's, as if they had been added here.
    pub fn append(&mut self, next: Checksum) {
        self.add_aligned(fold64(next.acc) as u64, if next.odd { 1 } else { 0 });
    }

    /// The folded 16-bit ones'-complement sum (not yet complemented).
    pub fn sum(&self) -> u16 {
        fold64(self.acc)
    }

    /// The checksum to put in a header: the complement of [`sum`](Self::sum).
    ///
    /// A received header is valid when the sum over it, checksum field included, is `0xffff`,
    /// i.e. when `finish()` of that sum is 0.
    pub fn finish(&self) -> u16 {
        !self.sum()
    }

    /// `sum` is the aligned sum of `len` bytes that follow the stream.
    fn add_aligned(&mut self, sum: u64, len: usize) {
        let sum = if self.odd { u64::from(fold64(sum).swap_bytes()) } else { sum };
        // Keep the accumulator small: fold before adding so it never overflows.
        self.acc = u64::from(fold64(self.acc)) + u64::from(fold64(sum));
        self.odd ^= len % 2 == 1;
    }
}

/// The IPv4 pseudo-header of RFC 768 / RFC 793: addresses, protocol and upper-layer length.
pub fn pseudo_header_v4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, length: u16) -> Checksum {
    let mut c = Checksum::new();
    c.add_bytes(&src.octets());
    c.add_bytes(&dst.octets());
    c.add_u16(u16::from(protocol));
    c.add_u16(length);
    c
}

/// The IPv6 pseudo-header of RFC 8200 section 8.1.
pub fn pseudo_header_v6(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, length: u32) -> Checksum {
    let mut c = Checksum::new();
    c.add_bytes(&src.octets());
    c.add_bytes(&dst.octets());
    c.add_bytes(&length.to_be_bytes());
    c.add_bytes(&[0, 0, 0, next_header]);
    c
}

/// Folds a 64-bit sum of big-endian words to 16 bits with end-around carry.
fn fold64(mut sum: u64) -> u16 {
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// Bytes summed per block: a block is copied and then summed while it is still in L1, so the
/// payload crosses the memory bus once; the word loop inside a block vectorises.
const BLOCK: usize = 64;

/// Sum of `data` as big-endian 16-bit words, an odd last byte padded with zero.
///
/// Sums native-endian 32-bit words into a 64-bit accumulator (no carry is lost for 2^32 words);
/// the byte order is fixed once at the end (a ones'-complement sum of byte-swapped words is the
/// byte-swapped sum).
fn sum_words(data: &[u8]) -> u64 {
    let mut words = data.chunks_exact(4);
    let acc = sum_ne_words(&mut words);
    to_be_sum(acc) + sum_tail(words.remainder())
}

/// As [`sum_words`], copying `src` to `dst` block by block as it is summed.
fn copy_and_sum_words(dst: &mut [u8], src: &[u8]) -> u64 {
    let mut acc: u64 = 0;
    let mut src_blocks = src.chunks_exact(BLOCK);
    let mut dst_blocks = dst.chunks_exact_mut(BLOCK);
    for (d, s) in (&mut dst_blocks).zip(&mut src_blocks) {
        d.copy_from_slice(s);
        acc += sum_ne_words(&mut d.chunks_exact(4));
    }
    let tail = src_blocks.remainder();
    let tail_dst = dst_blocks.into_remainder();
    tail_dst.copy_from_slice(tail);
    let mut words = tail_dst.chunks_exact(4);
    acc += sum_ne_words(&mut words);
    to_be_sum(acc) + sum_tail(words.remainder())
}

/// Sum of native-endian 32-bit words.
fn sum_ne_words(words: &mut core::slice::ChunksExact<'_, u8>) -> u64 {
    words.map(|w| u64::from(u32::from_ne_bytes([w[0], w[1], w[2], w[3]]))).sum()
}

/// Turns a sum of native-endian words into the sum of big-endian ones.
fn to_be_sum(acc: u64) -> u64 {
    let folded = fold64(acc);
    u64::from(if cfg!(target_endian = "little") { folded.swap_bytes() } else { folded })
}

/// Sum of fewer than four bytes, as big-endian words.
fn sum_tail(tail: &[u8]) -> u64 {
    let mut acc = 0u64;
    let mut pairs = tail.chunks_exact(2);
    for p in &mut pairs {
        acc += u64::from(u16::from_be_bytes([p[0], p[1]]));
    }
    if let [last] = pairs.remainder() {
        acc += u64::from(*last) << 8;
    }
    acc
}

#[cfg(test)]
mod test {
    use super::*;
    use proptest::prelude::*;

    /// RFC 1071 straight from its definition: 16 bits at a time, carry folded at the end.
    fn naive(data: &[u8]) -> u16 {
        let mut sum: u32 = 0;
        let mut i = 0;
        while i < data.len() {
            let hi = u32::from(data[i]) << 8;
            let lo = data.get(i + 1).map_or(0, |&b| u32::from(b));
            sum += hi | lo;
            i += 2;
        }
        while sum >> 16 != 0 {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        sum as u16
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2.
        let mut c = Checksum::new();
        c.add_bytes(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
        assert_eq!(c.sum(), 0xddf2);
        assert_eq!(c.finish(), !0xddf2);
    }

    #[test]
    fn ipv4_header_from_wikipedia() {
        // A classic worked example: the header checksum is 0xb861.
        let hdr = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        let mut c = Checksum::new();
        c.add_bytes(&hdr);
        assert_eq!(c.finish(), 0xb861);
    }

    #[test]
    fn copy_and_add_refuses_mismatched_lengths() {
        let mut c = Checksum::new();
        let mut dst = [0u8; 3];
        assert!(!c.copy_and_add(&mut dst, &[1, 2]));
        assert_eq!(c, Checksum::new());
        assert_eq!(dst, [0; 3]);
    }

    proptest! {
        #[test]
        fn fast_sum_equals_naive(data in proptest::collection::vec(any::<u8>(), 0..3000),
                                 skip in 0usize..8) {
            // `skip` moves the slice start across alignments.
            let slice = &data[skip.min(data.len())..];
            let mut c = Checksum::new();
            c.add_bytes(slice);
            prop_assert_eq!(c.sum(), naive(slice));
        }

        #[test]
        fn copy_and_add_equals_naive_and_copies(
            data in proptest::collection::vec(any::<u8>(), 0..3000),
            src_skip in 0usize..8, dst_skip in 0usize..8,
        ) {
            let src = &data[src_skip.min(data.len())..];
            let mut buf = vec![0xa5u8; src.len() + dst_skip];
            let mut c = Checksum::new();
            prop_assert!(c.copy_and_add(&mut buf[dst_skip..], src));
            prop_assert_eq!(&buf[dst_skip..], src);
            prop_assert_eq!(c.sum(), naive(src));
        }

        #[test]
        fn split_stream_equals_whole(data in proptest::collection::vec(any::<u8>(), 0..600),
                                     cuts in proptest::collection::vec(0usize..600, 0..6)) {
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(data.len())).collect();
            cuts.sort_unstable();
            let mut c = Checksum::new();
            let mut appended = Checksum::new();
            let mut start = 0;
            for &cut in cuts.iter().chain(core::iter::once(&data.len())) {
                c.add_bytes(&data[start..cut]);
                let mut piece = Checksum::new();
                piece.add_bytes(&data[start..cut]);
                appended.append(piece);
                start = cut;
            }
            prop_assert_eq!(c.sum(), naive(&data));
            prop_assert_eq!(appended.sum(), naive(&data));
        }
    }
}
