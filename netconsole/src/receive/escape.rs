//! printk's escaping undone.
//!
//! An extended record's text and dictionary values are escaped by printk (`msg_add_ext_text`):
//! a byte below 0x20 other than `\n`, a byte from 0x7f up (so every byte of UTF-8 beyond
//! ASCII), and `\` itself become `\xNN`. dmesg and journald show the bytes; so does
//! `netconsole listen` by default. A literal `\` is always escaped on the wire, so every `\x`
//! followed by two hex digits is an escape; anything else is passed through as it came.

/// The bytes `escaped` stands for. Allocation-free: an iterator.
pub fn unescape(escaped: &[u8]) -> Unescape<'_> {
    Unescape { rest: escaped }
}

/// Whether [`unescape`] would change `bytes`: the fast path for text with no `\`.
pub fn is_escaped(bytes: &[u8]) -> bool {
    bytes.contains(&b'\\')
}

/// The iterator [`unescape`] returns.
#[derive(Debug, Clone)]
pub struct Unescape<'a> {
    rest: &'a [u8],
}

impl Iterator for Unescape<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        let (&first, rest) = self.rest.split_first()?;
        if let [b'x', high, low, tail @ ..] = rest {
            if first == b'\\' {
                if let (Some(high), Some(low)) = (hex(*high), hex(*low)) {
                    self.rest = tail;
                    return Some(high << 4 | low);
                }
            }
        }
        self.rest = rest;
        Some(first)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.rest.len().div_ceil(4), Some(self.rest.len()))
    }
}

/// One hex digit's value, either case.
fn hex(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn decoded(bytes: &[u8]) -> Vec<u8> {
        unescape(bytes).collect()
    }

    #[test]
    fn what_printk_escapes_comes_back() {
        assert_eq!(decoded(b"a\\x09b\\x0ac \\xc3\\xa9 \\x5c end"), b"a\tb\nc \xc3\xa9 \\ end");
        assert_eq!(decoded(b"\\X41\\x4A\\x4a"), b"\\X41JJ");
    }

    #[test]
    fn what_is_not_an_escape_is_kept() {
        for bytes in [&b"\\"[..], b"\\x", b"\\x4", b"\\xg1", b"x41", b"tail\\", b""] {
            assert_eq!(decoded(bytes), bytes, "{bytes:?}");
        }
        assert_eq!(decoded(b"\\\\x41"), b"\\A");
        assert!(!is_escaped(b"plain") && is_escaped(b"\\x41"));
    }
}
