//! The word sums on 64-bit machines, in a form the compiler turns into SIMD additions with no
//! carry between lanes: SSE2 on baseline x86-64, AVX2 or AVX-512 where the build enables them,
//! NEON on aarch64.
//!
//! A 64-bit word is two 32-bit halves, and modulo 2^32 - 1 (which 2^16 - 1 divides) it is their
//! sum. Rather than split every word (a mask, a shift, two additions), the loop keeps the plain
//! wrapping sum of the words and the exact sum of their high halves (a shift, two additions);
//! the low halves' sum is the wrapping sum minus the high halves shifted back, exact while it
//! fits 64 bits. Nothing in the loop waits on a carry flag, so the compiler is free to spread it
//! over vector lanes. On baseline x86-64 this runs about as fast as add-with-carry over eight
//! scalar lanes (three SSE2 operations per 16 bytes against two scalar ones per 8, each bound
//! by its ports); with wider vectors it is about twice as fast.

use core::net::Ipv6Addr;

use super::{add, sum_short};

/// Sum of an IPv6 address's big-endian words, modulo 2^64 - 1: its two 64-bit halves.
#[inline(always)]
pub(super) fn address_sum(addr: Ipv6Addr) -> u64 {
    let bits = addr.to_bits();
    add(bits as u64, (bits >> 64) as u64)
}

/// Bytes summed before the sums are folded: fewer than 2^32 words, so that neither the high
/// halves' sum nor the low halves' one reaches 2^64.
const BLOCK: usize = 1 << 31;

/// The wrapping sum of native-endian words and the exact sum of their high halves.
#[derive(Clone, Copy, Default)]
struct Halves {
    whole: u64,
    high: u64,
}

impl Halves {
    #[inline(always)]
    fn add(self, word: &[u8; 8]) -> Halves {
        let word = u64::from_ne_bytes(*word);
        Halves { whole: self.whole.wrapping_add(word), high: self.high.wrapping_add(word >> 32) }
    }

    /// The sum of the words added, modulo 2^32 - 1 (any representative).
    #[inline(always)]
    fn total(self) -> u64 {
        add(self.whole.wrapping_sub(self.high << 32), self.high)
    }
}

/// Sum of `data` as big-endian 16-bit words, an odd last byte padded with zero, modulo 2^64 - 1.
pub(super) fn sum_words(data: &[u8]) -> u64 {
    sum_in_blocks(data, BLOCK)
}

/// [`sum_words`] with the sums folded every `block` bytes (a multiple of 8).
#[inline(always)]
fn sum_in_blocks(data: &[u8], block: usize) -> u64 {
    if data.len() > block {
        return data.chunks(block).fold(0, |acc, block| add(acc, sum_block(block)));
    }
    sum_block(data)
}

/// [`sum_words`] of at most [`BLOCK`] bytes.
#[inline(always)]
fn sum_block(data: &[u8]) -> u64 {
    let (words, rest) = data.as_chunks::<8>();
    let sum = if words.len() < TWO_STREAMS {
        words.iter().fold(Halves::default(), Halves::add).total()
    } else {
        sum_two_streams(words)
    };
    // A sum of native-endian words is the sum of big-endian ones with each word's bytes swapped.
    let sum = if cfg!(target_endian = "little") { sum.rotate_left(8) } else { sum };
    add(sum, sum_short(rest))
}

/// Words (1 KiB) from which the sum walks the front and back halves side by side.
///
/// The compiler's vector loop over one stream takes 32 bytes a step; past 32 steps the branch
/// predictor no longer sees the loop's exit coming, and the miss costs as much as summing 200
/// more bytes (an extended record's fragment, 1000 bytes of text and its header, would pay it).
/// Two streams take 64 bytes a step; below 1 KiB they only add set-up.
const TWO_STREAMS: usize = 128;

/// The words' sum from two streams, the front half and the back half (the odd word in the back).
fn sum_two_streams(words: &[[u8; 8]]) -> u64 {
    let (front, back) = words.split_at(words.len() / 2);
    let (mut a, mut b) = (Halves::default(), Halves::default());
    for (x, y) in front.iter().zip(back) {
        a = a.add(x);
        b = b.add(y);
    }
    let b = back.get(front.len()..).unwrap_or_default().iter().fold(b, Halves::add);
    add(a.total(), b.total())
}

/// As [`sum_words`], copying `src` to `dst` (as long as `src`) first: `memcpy` moves the bytes
/// with the widest loads the machine has, and the sum reads the source, not waiting on the
/// copy's stores. (A loop that stores each word as it adds it is turned into the same `memcpy`
/// by the compiler.)
pub(super) fn copy_and_sum_words(dst: &mut [u8], src: &[u8]) -> u64 {
    if let Some(dst) = dst.get_mut(..src.len()) {
        dst.copy_from_slice(src);
    }
    sum_words(src)
}

#[cfg(test)]
mod test {
    use super::*;
    use proptest::prelude::*;

    /// The worst case for the halves: every word all ones, so that both sums grow fastest.
    #[test]
    fn all_ones_sum_to_ffff() {
        let data = [0xff; 4096];
        assert_eq!(super::super::fold(sum_words(&data)), 0xffff);
    }

    proptest! {
        /// Folding every few bytes (as [`BLOCK`] does past 2 GiB) changes nothing.
        #[test]
        fn blocks_sum_as_one(data in proptest::collection::vec(any::<u8>(), 0..600),
                             words in 1usize..10) {
            let whole = super::super::fold(sum_words(&data));
            prop_assert_eq!(super::super::fold(sum_in_blocks(&data, 8 * words)), whole);
        }
    }
}
