//! The Internet checksum (RFC 1071), as a running sum over a byte stream.
//!
//! A [`Checksum`] is the ones'-complement sum of a stream of bytes read as big-endian 16-bit
//! words. Pieces of the stream may be added in any sizes: the running sum remembers whether an
//! odd number of bytes has been added so far, and a piece that starts at an odd offset is summed
//! as if aligned and then byte-swapped (RFC 1071, section 2(B): the sum is byte-order independent
//! up to a swap). That is what lets a UDP payload given as a gather list of odd-sized slices be
//! copied into the frame and summed in the same pass.
//!
//! The running sum is kept modulo 2^64 - 1 (ones'-complement arithmetic in 64 bits), which
//! 2^16 - 1 divides: folding to 16 bits happens once, at the end, and swapping the bytes of every
//! word of a sum is a rotation by 8 bits of the 64-bit sum. The inner loop reads the payload as
//! native-endian machine words, in one of two forms chosen by the word size: on 64-bit machines
//! sums without carries that the compiler spreads over SIMD lanes (`wide`), on 32-bit ones an
//! add and an add-with-carry per word into four independent sums (`narrow`), the floor of a
//! core without SIMD.

use core::net::{Ipv4Addr, Ipv6Addr};

// Also in the host's tests: the 32-bit cores' sum runs there too (see `narrow::Word`).
#[cfg(any(not(target_pointer_width = "64"), test))]
mod narrow;
#[cfg(target_pointer_width = "64")]
mod wide;

#[cfg(not(target_pointer_width = "64"))]
use narrow::{address_sum, copy_and_sum_words, sum_words};
#[cfg(target_pointer_width = "64")]
use wide::{address_sum, copy_and_sum_words, sum_words};

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
#[derive(Debug, Clone, Copy, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Checksum {
    /// Sum of the stream so far as big-endian words, modulo 2^64 - 1 (any representative; 0 only
    /// for a stream of zeros, as the folded sum).
    acc: u64,
    /// An odd number of bytes has been added: the next byte is the low half of a word.
    odd: bool,
}

impl Checksum {
    /// An empty sum.
    pub const fn new() -> Self {
        Checksum { acc: 0, odd: false }
    }

    /// A stream of an even number of bytes whose big-endian words add up to `sum` (a header summed
    /// field by field, without reading it back from the buffer).
    pub(crate) const fn of_words(sum: u64) -> Self {
        Checksum { acc: sum, odd: false }
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
        self.add_aligned(u64::from(word), 2);
    }

    /// Appends another sum, of the bytes that follow this stream's, as if they had been added here.
    pub fn append(&mut self, next: Checksum) {
        self.add_aligned(next.acc, usize::from(next.odd));
    }

    /// The folded 16-bit ones'-complement sum (not yet complemented).
    pub fn sum(&self) -> u16 {
        fold(self.acc)
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
        let sum = if self.odd { swap_words(sum) } else { sum };
        self.acc = add(self.acc, sum);
        self.odd ^= len % 2 == 1;
    }
}

/// Sums of the same stream, however it was cut into pieces, are equal: the running sum has many
/// representatives, and what any later addition can tell apart is its folded value (0 only for
/// a stream of zeros) and whether an odd number of bytes has been added.
impl PartialEq for Checksum {
    fn eq(&self, other: &Self) -> bool {
        self.sum() == other.sum() && self.odd == other.odd
    }
}

impl Eq for Checksum {}

/// The IPv4 pseudo-header of RFC 768 / RFC 793: addresses, protocol and upper-layer length.
pub fn pseudo_header_v4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, length: u16) -> Checksum {
    let sum = u64::from(u32::from(src)) + u64::from(u32::from(dst));
    Checksum { acc: sum + u64::from(protocol) + u64::from(length), odd: false }
}

/// The IPv6 pseudo-header of RFC 8200 section 8.1.
pub fn pseudo_header_v6(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, length: u32) -> Checksum {
    let addrs = add(address_sum(src), address_sum(dst));
    Checksum { acc: add(addrs, u64::from(length) + u64::from(next_header)), odd: false }
}

/// Ones'-complement addition modulo 2^64 - 1: the carry out goes back in at the bottom.
#[inline(always)]
const fn add(a: u64, b: u64) -> u64 {
    let (sum, carry) = a.overflowing_add(b);
    sum + carry as u64
}

/// Swaps the bytes of every 16-bit word of a sum: multiplying by 2^8 modulo 2^16 - 1, which the
/// rotation does modulo 2^64 - 1 (RFC 1071 section 2(B)).
#[inline(always)]
const fn swap_words(sum: u64) -> u64 {
    sum.rotate_left(8)
}

/// Folds a sum modulo 2^64 - 1 to 16 bits with end-around carry; 0 stays 0 and nothing else
/// becomes 0, as in the naive fold.
const fn fold(acc: u64) -> u16 {
    let (lo, carry) = (acc as u32).overflowing_add((acc >> 32) as u32);
    let acc = lo + carry as u32;
    let (lo, carry) = (acc as u16).overflowing_add((acc >> 16) as u16);
    lo + carry as u16
}

/// Sum of fewer than 8 bytes as big-endian words, an odd last byte padded with zero.
fn sum_short(tail: &[u8]) -> u64 {
    let mut acc = 0;
    let mut rest = tail;
    if let [a, b, c, d, more @ ..] = rest {
        acc += u64::from(u32::from_be_bytes([*a, *b, *c, *d]));
        rest = more;
    }
    if let [a, b, more @ ..] = rest {
        acc += u64::from(u16::from_be_bytes([*a, *b]));
        rest = more;
    }
    if let [last, ..] = rest {
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

    /// Every word all ones: the 32-bit lanes carry on every addition.
    #[test]
    fn narrow_all_ones_sum_to_ffff() {
        for len in [0, 1, 2, 15, 16, 17, 1023, 1024, 1025, 4096, 65_537] {
            let data = vec![0xff; len];
            assert_eq!(fold(narrow::sum_words(&data)), naive(&data), "{len} bytes");
        }
    }

    /// Every length and start around 1 KiB, where the 64-bit sum switches to two streams,
    /// whole and cut in two at every point (the second piece at odd offsets too), for both
    /// machine sums.
    #[test]
    fn around_the_two_stream_switch() {
        let mut seed = 0x2545_f491_u32;
        let data: Vec<u8> = (0..1200)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed as u8
            })
            .collect();
        let ones = vec![0xffu8; 1200];
        for bytes in [&data, &ones] {
            for len in 1000..1100 {
                for skip in 0..8 {
                    let slice = &bytes[skip..skip + len];
                    let want = naive(slice);
                    let mut c = Checksum::new();
                    c.add_bytes(slice);
                    assert_eq!(c.sum(), want, "{len} bytes from {skip}");
                    assert_eq!(fold(narrow::sum_words(slice)), want, "narrow, {len} from {skip}");
                }
            }
            let whole = &bytes[3..3 + 1030];
            for cut in 0..=whole.len() {
                let (a, b) = whole.split_at(cut);
                let mut c = Checksum::new();
                c.add_bytes(a);
                c.add_bytes(b);
                assert_eq!(c.sum(), naive(whole), "cut at {cut}");
            }
        }
    }

    /// `==` says whether two sums are of the same stream (as far as any checksum can tell), not
    /// whether they were added up in the same pieces: the running sum has many representatives.
    #[test]
    fn sums_of_one_stream_compare_equal_however_it_was_cut() {
        let (mut whole, mut cut) = (Checksum::new(), Checksum::new());
        whole.add_bytes(&[0x12, 0x34, 0x56, 0x78]);
        cut.add_bytes(&[0x12, 0x34, 0x56]);
        cut.add_bytes(&[0x78]);
        assert_eq!(whole, cut);
        let (mut bytes, mut words) = (Checksum::new(), Checksum::new());
        bytes.add_bytes(&[0xff; 8]);
        (0..4).for_each(|_| words.add_u16(0xffff));
        assert_eq!(bytes, words);
        // What a later byte would tell apart stays apart: an odd length, or a zero stream
        // against a non-zero one that sums to 0xffff.
        let mut odd = Checksum::new();
        odd.add_bytes(&[0x12, 0x34, 0x56, 0x78, 0]);
        assert_ne!(whole, odd);
        let mut zero = Checksum::new();
        zero.add_bytes(&[0; 8]);
        assert_ne!(zero, words);
        assert_eq!(zero, Checksum::new());
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

        /// The 32-bit cores' sum, run on the host: the image of a Cortex-M or RISC-V core's
        /// checksum that no host test would otherwise reach.
        #[test]
        fn narrow_sum_equals_naive(data in proptest::collection::vec(any::<u8>(), 0..3000),
                                   src_skip in 0usize..8, dst_skip in 0usize..8) {
            let src = &data[src_skip.min(data.len())..];
            prop_assert_eq!(fold(narrow::sum_words(src)), naive(src));
            let mut buf = vec![0xa5u8; src.len() + dst_skip];
            prop_assert_eq!(fold(narrow::copy_and_sum_words(&mut buf[dst_skip..], src)), naive(src));
            prop_assert_eq!(&buf[dst_skip..], src);
        }

        /// An IPv6 address summed as 32-bit cores sum it (four words), as 64-bit ones do (two
        /// halves of a `u128`) and as its bytes.
        #[test]
        fn address_sums_agree(bits in any::<u128>()) {
            let addr = Ipv6Addr::from_bits(bits);
            prop_assert_eq!(fold(narrow::address_sum(addr)), naive(&addr.octets()));
            prop_assert_eq!(fold(address_sum(addr)), naive(&addr.octets()));
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
