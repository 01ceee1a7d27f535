//! Decimal numbers in ASCII without `core::fmt`.
//!
//! A `write!` with `{}` links core's formatting machinery (`Formatter`, padding, the `u64`
//! `Display` and, on 32-bit cores, a 64-bit division routine): several KiB of flash on a
//! Cortex-M, paid by every firmware that uses the console even if it formats nothing itself.
//! The console's own numbers (record headers, `ncfrag=`, sysdata) go through [`Decimal`]
//! instead, and a firmware that wants to keep `core::fmt` out of its image can use it too.
//!
//! The digits come one at a time from `u32` divisions by ten (a multiply on most cores), the
//! number held as two 32-bit halves while its high half is not zero, so no 64-bit division
//! routine is linked either.

/// Digits of the largest `u64`.
pub const MAX_DIGITS: usize = 20;

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
        // From the right, one digit a turn (at most 20 for a `u64`): by `div10` while the number
        // needs its high half, then by plain `u32` divisions, the common case.
        let (mut high, mut low) = ((n >> 32) as u32, n as u32);
        let mut at = MAX_DIGITS;
        let mut digit;
        while high != 0 {
            ((high, low), digit) = div10(high, low);
            at = at.saturating_sub(1);
            if let Some(slot) = digits.get_mut(at) {
                *slot = b'0' + digit;
            }
        }
        // At least one digit; none of a quotient `div10` left as zero (it left 2^32 / 10 or more).
        loop {
            at = at.saturating_sub(1);
            if let Some(slot) = digits.get_mut(at) {
                *slot = b'0' + (low % 10) as u8;
            }
            low /= 10;
            if low == 0 {
                break;
            }
        }
        let start = at.min(MAX_DIGITS - width.clamp(1, MAX_DIGITS));
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

/// `(n / 10, n % 10)` for `n = high · 2^32 + low`, by long division in base 2^32 with `u32`
/// operations only: `2^32 = 10 · 429,496,729 + 6`, so the high half's remainder `r` carries
/// `r · 429,496,729` into the low half's quotient and `6·r` into what is left to divide.
fn div10(high: u32, low: u32) -> ((u32, u32), u8) {
    let carry = high % 10;
    let rest = carry * 6 + low % 10;
    // Below 2^32: it is the low half of the quotient of a number below `(high / 10 + 1) · 2^32`.
    let quotient = carry * 429_496_729 + low / 10 + rest / 10;
    ((high / 10, quotient), (rest % 10) as u8)
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
        const CHUNK: u64 = 1_000_000_000;
        for n in [CHUNK - 1, CHUNK, CHUNK + 1, CHUNK * CHUNK, CHUNK * CHUNK - 1, 10_000_000_000] {
            assert_eq!(text(Decimal::new(n)), format!("{n}"));
        }
        assert_eq!(text(Decimal::padded(7, 3)), "007");
        assert_eq!(text(Decimal::padded(0, 0)), "0");
        assert_eq!(text(Decimal::padded(5, 99)), "00000000000000000005");
        assert_eq!(Decimal::new(12345).len(), 5);
        assert!(!Decimal::new(0).is_empty());
    }

    /// Every power of ten and of two with its neighbours (where `div10` hands over to the
    /// `u32` loop, and where a digit is added), and `u64::MAX` and its neighbours, at every width.
    #[test]
    fn powers_and_their_neighbours_match_format_at_every_width() {
        let powers = (0..20).map(|k| 10u64.pow(k)).chain((0..64).map(|k| 1u64 << k));
        let mut numbers: Vec<u64> = powers
            .flat_map(|p| [p.wrapping_sub(1), p, p.saturating_add(1)])
            .chain([u64::MAX - 1, u64::MAX, 0xffff_ffff_0000_0000, 0x0000_0009_ffff_ffff])
            .collect();
        numbers.extend((1..=9).map(|c| c << 32 | 0xffff_fff6));
        for n in numbers {
            for width in 0..=MAX_DIGITS + 1 {
                let want = format!("{n:0w$}", w = width.min(MAX_DIGITS));
                assert_eq!(text(Decimal::padded(n, width)), want, "{n} at {width}");
            }
        }
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
        fn halves_divide_like_u64_division(n: u64) {
            let ((high, low), digit) = div10((n >> 32) as u32, n as u32);
            prop_assert_eq!(u64::from(high) << 32 | u64::from(low), n / 10);
            prop_assert_eq!(u64::from(digit), n % 10);
        }
    }
}
