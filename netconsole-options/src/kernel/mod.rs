//! Byte-for-byte ports of the Linux helpers the option parser calls.
//!
//! Each one reproduces the C function's observable result on a byte string, including the quirks
//! (a `kstrtou16` that takes a trailing `\n`, an `in6_pton` that takes any number of leading
//! zeros in a group, a `mac_pton` that ignores what follows the 17th character). They work on a
//! slice that stands for the C string: the parser has already cut its input at the first NUL
//! byte, so a slice never contains one, and reading "past the end" reads the terminating NUL.

mod inet;
mod kstrtox;
mod mac;

pub(crate) use inet::parse_ip_addr;
pub(crate) use kstrtox::kstrtou16;
pub(crate) use mac::mac_pton;

/// The byte at `index` of the C string `text`: the terminating NUL at and past its end.
fn byte_at(text: &[u8], index: usize) -> u8 {
    text.get(index).copied().unwrap_or(0)
}

/// `hex_to_bin`: the value of an ASCII hex digit of either case; no other byte is one.
fn hex_to_bin(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}
