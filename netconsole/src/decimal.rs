//! Decimal numbers in ASCII without `core::fmt`.
//!
//! A `write!` with `{}` links core's formatting machinery (`Formatter`, padding, the `u64`
//! `Display` and, on 32-bit cores, a 64-bit division routine): several KiB of flash on a
//! Cortex-M, paid by every firmware that uses the console even if it formats nothing itself.
//! The console's own numbers (record headers, `ncfrag=`, sysdata) go through [`Decimal`]
//! instead, and a firmware that wants to keep `core::fmt` out of its image can use it too.
//!
//! Below `u32::MAX` the digits come from a `u32` loop (a multiply on most cores); above, the
//! number is first split into 9-digit chunks by shift-and-subtract, so no 64-bit division is
//! linked either.

/// Digits of the largest `u64`.
pub const MAX_DIGITS: usize = 20;

/// One billion: the largest power of ten whose remainders fit a `u32` chunk of 9 digits.
const CHUNK: u64 = 1_000_000_000;
/// Digits in a chunk.
const CHUNK_DIGITS: usize = 9;

/// The decimal digits of a number, on the stack: `Decimal::new(n).as_bytes()` is what
/// `format!("{n}")` gives, `Decimal::padded(n, w)` what `format!("{n:0w$}")` gives.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Decimal {
    digits: [u8; MAX_DIGITS],
    start: usize,
}

impl Decimal {
    /// The digits of `n`, without leading zeros.
    pub fn new(n: u64) -> Self {
        Self::padded(n, 1)
    }

    /// The digits of `n`, zero-padded on the left to `width` digits (at most [`MAX_DIGITS`]).
    pub fn padded(n: u64, width: usize) -> Self {
        let mut digits = [b'0'; MAX_DIGITS];
        // Fill from the right, one chunk at a time; the zeros inside a chunk are already there.
        let mut end = MAX_DIGITS;
        let mut rest = n;
        let start = loop {
            let (high, mut chunk) = match u32::try_from(rest) {
                Ok(small) => (0, small),
                Err(_) => split_chunk(rest),
            };
            let mut at = end;
            while let Some(slot) = at.checked_sub(1).and_then(|i| digits.get_mut(i)) {
                at -= 1;
                *slot = b'0' + (chunk % 10) as u8;
                chunk /= 10;
                if chunk == 0 {
                    break;
                }
            }
            if high == 0 {
                break at;
            }
            end = end.saturating_sub(CHUNK_DIGITS);
            rest = high;
        };
        let start = start.min(MAX_DIGITS - width.clamp(1, MAX_DIGITS));
        Decimal { digits, start }
    }

    /// The digits.
    pub fn as_bytes(&self) -> &[u8] {
        self.digits.get(self.start..).unwrap_or_default()
    }

    /// How many digits.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Always `false`: zero has one digit.
    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }
}

impl core::fmt::Debug for Decimal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let text = core::str::from_utf8(self.as_bytes()).unwrap_or("?");
        f.debug_tuple("Decimal").field(&text).finish()
    }
}

/// Appends the digits of `n` to `out`; `false` (and `out` unchanged) if they do not fit. Not
/// inlined: record headers, `ncfrag=` and sysdata append numbers in eight places, and each
/// inlined digit loop and copy was some 50 bytes of flash.
#[inline(never)]
pub(crate) fn append(out: &mut heapless::VecView<u8>, n: u64) -> bool {
    out.extend_from_slice(Decimal::new(n).as_bytes()).is_ok()
}

/// `(n / 10^9, n % 10^9)` by binary long division: 64 shift-and-subtract steps, a few
/// instructions of code where a 64-bit division routine costs most of a KiB on 32-bit cores.
fn split_chunk(n: u64) -> (u64, u32) {
    let mut quotient = 0u64;
    let mut remainder = 0u64;
    for bit in (0..64).rev() {
        remainder = remainder << 1 | (n >> bit & 1);
        quotient <<= 1;
        if remainder >= CHUNK {
            remainder -= CHUNK;
            quotient |= 1;
        }
    }
    // The remainder is below 10^9.
    (quotient, remainder as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(d: Decimal) -> String {
        String::from_utf8(d.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn edges_match_format() {
        for n in [0, 1, 9, 10, 99, 100, u64::from(u32::MAX), u64::from(u32::MAX) + 1, u64::MAX] {
            assert_eq!(text(Decimal::new(n)), format!("{n}"));
        }
        for n in [CHUNK - 1, CHUNK, CHUNK + 1, CHUNK * CHUNK, CHUNK * CHUNK - 1, 10_000_000_000] {
            assert_eq!(text(Decimal::new(n)), format!("{n}"));
        }
        assert_eq!(text(Decimal::padded(7, 3)), "007");
        assert_eq!(text(Decimal::padded(0, 0)), "0");
        assert_eq!(text(Decimal::padded(5, 99)), "00000000000000000005");
        assert_eq!(Decimal::new(12345).len(), 5);
        assert!(!Decimal::new(0).is_empty());
    }

    #[test]
    fn appends_the_digits_when_they_fit_and_nothing_otherwise() {
        let mut out = heapless::Vec::<u8, 6>::new();
        assert!(append(out.as_mut_view(), 0));
        assert!(append(out.as_mut_view(), 1234));
        assert_eq!(&out[..], b"01234");
        assert!(!append(out.as_mut_view(), 56));
        assert_eq!(&out[..], b"01234");
    }

    proptest! {
        #[test]
        fn digits_are_what_format_writes(n: u64, small: u32, width in 0usize..=20) {
            prop_assert_eq!(text(Decimal::new(n)), format!("{n}"));
            prop_assert_eq!(text(Decimal::padded(n, width)), format!("{n:0width$}"));
            prop_assert_eq!(text(Decimal::new(small.into())), format!("{small}"));
            prop_assert_eq!(text(Decimal::padded(small.into(), width)), format!("{small:0width$}"));
        }

        /// Into a buffer of 20 bytes with `used` taken: the digits after what was there when
        /// they fit (`u64::MAX`'s 20 only into an empty one), nothing at all otherwise.
        #[test]
        fn append_writes_all_the_digits_or_none(
            n in prop_oneof![Just(0), Just(u64::MAX), any::<u64>()],
            used in 0usize..=20,
        ) {
            let mut out = heapless::Vec::<u8, 20>::new();
            out.resize(used, b'#').unwrap();
            let digits = format!("{n}");
            let fits = used + digits.len() <= 20;
            prop_assert_eq!(append(out.as_mut_view(), n), fits);
            let mut want = "#".repeat(used);
            if fits {
                want.push_str(&digits);
            }
            prop_assert_eq!(std::str::from_utf8(&out).unwrap(), want);
        }

        #[test]
        fn chunks_split_like_division(n: u64) {
            prop_assert_eq!(split_chunk(n), (n / CHUNK, (n % CHUNK) as u32));
        }
    }
}
