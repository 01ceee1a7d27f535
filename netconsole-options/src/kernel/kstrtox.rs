//! `kstrtou16(s, 10, &res)` from `lib/kstrtox.c`.

use crate::error::PortError;

/// Reads a port the way `kstrtou16(s, 10, ..)` does.
///
/// - one optional leading `+` (from `kstrtoull`; a second one is not skipped);
/// - one or more decimal digits, leading zeros allowed, base fixed to 10 (`0x10` fails);
/// - one optional `\n` after the digits, then the end of the string;
/// - a value that overflows 64 bits is `-ERANGE` before anything else is looked at; otherwise
///   a malformed string is `-EINVAL`, and only then is a value over 65535 `-ERANGE`.
pub(crate) fn kstrtou16(s: &[u8]) -> Result<u16, PortError> {
    let s = s.strip_prefix(b"+").unwrap_or(s);
    // _parse_integer: consume digits; a 64-bit overflow is remembered, not fatal.
    let mut value: u64 = 0;
    let mut overflow = false;
    let mut digits = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            break;
        }
        match value.checked_mul(10).and_then(|v| v.checked_add(u64::from(c - b'0'))) {
            Some(v) => value = v,
            None => {
                overflow = true;
                value = value.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
            }
        }
        digits += 1;
    }
    // _kstrtoull: overflow first, then "no digits", then trailing text past one '\n'.
    if overflow {
        return Err(PortError::OutOfRange);
    }
    if digits == 0 {
        return Err(PortError::Invalid);
    }
    let rest = s.get(digits..).unwrap_or(&[]);
    let rest = rest.strip_prefix(b"\n").unwrap_or(rest);
    if !rest.is_empty() {
        return Err(PortError::Invalid);
    }
    // kstrtou16: the value must fit.
    u16::try_from(value).map_err(|_| PortError::OutOfRange)
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn accepts_what_linux_accepts() {
        assert_eq!(kstrtou16(b"0"), Ok(0));
        assert_eq!(kstrtou16(b"6665"), Ok(6665));
        assert_eq!(kstrtou16(b"+6665"), Ok(6665));
        assert_eq!(kstrtou16(b"010"), Ok(10));
        assert_eq!(kstrtou16(b"0000000000000000000000000065535"), Ok(65535));
        assert_eq!(kstrtou16(b"1\n"), Ok(1));
        assert_eq!(kstrtou16(b"+0\n"), Ok(0));
    }

    #[test]
    fn rejects_what_linux_rejects() {
        for bad in [
            &b""[..],
            b"+",
            b"++1",
            b"-1",
            b" 1",
            b"1 ",
            b"\t1",
            b"0x10",
            b"1a",
            b"\n",
            b"1\n\n",
            b"1\nx",
            b"+\n",
        ] {
            assert_eq!(kstrtou16(bad), Err(PortError::Invalid), "{bad:?}");
        }
        assert_eq!(kstrtou16(b"65536"), Err(PortError::OutOfRange));
        assert_eq!(kstrtou16(b"70000"), Err(PortError::OutOfRange));
        assert_eq!(kstrtou16(b"99999999999999999999"), Err(PortError::OutOfRange));
        // Malformed beats too-big-for-u16, but not too-big-for-u64.
        assert_eq!(kstrtou16(b"70000x"), Err(PortError::Invalid));
        assert_eq!(kstrtou16(b"99999999999999999999x"), Err(PortError::OutOfRange));
    }
}
