//! The word sums on 32-bit (and smaller) machines: a Cortex-M or a RISC-V core without SIMD,
//! where an add and an add-with-carry per machine word is the floor safe code can reach.

use core::net::Ipv6Addr;

use super::{add, sum_short};

/// Sum of an IPv6 address's big-endian words, modulo 2^64 - 1 (any representative): its four
/// 32-bit words with end-around carry. (Its two 64-bit halves, as on 64-bit machines, cost a
/// chain of 32-bit carries and byte swaps here: 140 bytes of a Cortex-M frame builder.)
#[inline(always)]
pub(super) fn address_sum(addr: Ipv6Addr) -> u64 {
    let o = addr.octets();
    let word = |i: usize| Word::from_ne_bytes([o[i], o[i + 1], o[i + 2], o[i + 3]]);
    let sum = add_word(add_word(word(0), word(4)), add_word(word(8), word(12)));
    // Native-endian words, as in `sum_tail`: swapped back by a rotation.
    u64::from(if cfg!(target_endian = "little") { sum.rotate_left(8) } else { sum })
}

/// The machine word the inner loop reads: native-endian, summed with end-around carry modulo
/// 2^32 - 1, which 2^16 - 1 divides. 32 bits rather than `usize`, which it is on the cores this
/// path is for, so that a 64-bit host's tests run the very arithmetic of those cores.
type Word = u32;
/// Bytes in a [`Word`].
const WORD: usize = core::mem::size_of::<Word>();
/// Independent sums in the inner loop, so the additions do not wait on each other's carries;
/// four, so that they stay in registers (a Cortex-M has 13 usable ones).
const LANES: usize = 4;
/// Bytes per step of the inner loop: one word per lane.
const CHUNK: usize = LANES * WORD;

/// Ones'-complement addition of words.
#[inline(always)]
const fn add_word(a: Word, b: Word) -> Word {
    let (sum, carry) = a.overflowing_add(b);
    sum + carry as Word
}

/// Sum of `data` as big-endian 16-bit words, an odd last byte padded with zero, modulo 2^64 - 1.
pub(super) fn sum_words(data: &[u8]) -> u64 {
    let mut lanes = [0; LANES];
    let mut chunks = data.chunks_exact(CHUNK);
    for chunk in &mut chunks {
        add_chunk(&mut lanes, &to_chunk(chunk));
    }
    sum_tail(lanes, chunks.remainder())
}

/// As [`sum_words`], copying `src` to `dst` (as long as `src`) first: `memcpy` moves the bytes
/// with the widest loads the machine has, and the sum then reads them back from L1.
pub(super) fn copy_and_sum_words(dst: &mut [u8], src: &[u8]) -> u64 {
    if let Some(dst) = dst.get_mut(..src.len()) {
        dst.copy_from_slice(src);
    }
    sum_words(src)
}

/// A slice of [`CHUNK`] bytes as an array (zeros if it is not one, which the callers rule out).
#[inline(always)]
fn to_chunk(s: &[u8]) -> [u8; CHUNK] {
    s.try_into().unwrap_or([0; CHUNK])
}

/// Adds one [`CHUNK`], one word per lane.
#[inline(always)]
fn add_chunk(lanes: &mut [Word; LANES], chunk: &[u8; CHUNK]) {
    for (lane, word) in lanes.iter_mut().zip(chunk.chunks_exact(WORD)) {
        *lane = add_word(*lane, to_word(word));
    }
}

/// A native-endian word (0 for a short slice, which the callers rule out).
#[inline(always)]
fn to_word(bytes: &[u8]) -> Word {
    bytes.try_into().map_or(0, Word::from_ne_bytes)
}

/// The lanes plus fewer than [`CHUNK`] bytes that follow them, as a sum of big-endian words: whole
/// words into the lanes, the rest as big-endian pairs.
fn sum_tail(mut lanes: [Word; LANES], tail: &[u8]) -> u64 {
    let mut words = tail.chunks_exact(WORD);
    for (lane, word) in lanes.iter_mut().zip(&mut words) {
        *lane = add_word(*lane, to_word(word));
    }
    let sum = lanes.iter().fold(0, |total, &lane| add_word(total, lane));
    // A sum of native-endian words is the sum of big-endian ones with each word's bytes swapped.
    let sum = if cfg!(target_endian = "little") { sum.rotate_left(8) } else { sum };
    add(sum as u64, sum_short(words.remainder()))
}
