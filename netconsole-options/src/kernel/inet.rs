//! `in4_pton` and `in6_pton` from `net/core/utils.c`, and netconsole's `netpoll_parse_ip_addr`.
//!
//! The two `pton` functions are ported as the state machines they are, step for step, rather
//! than rewritten as a grammar: their accepted set has corners (`fd00::00002`, `1.2.3.4` ended
//! by any non-hex byte, `::` written as an extra zero group) that a clean grammar would miss.
//! Both are called with `delim = -1`, so any byte that is not a hex digit, `.` or `:` ends the
//! address and is reported through `end`; the caller decides whether that end is acceptable.

use super::{byte_at, hex_to_bin};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

// The classes `xdigit2bin` returns, and the states of `in6_pton`, as in the C source.
const XDIGIT: u32 = 0x0001_0000;
const DIGIT: u32 = 0x0002_0000;
const COLON_MASK: u32 = 0x0070_0000;
const COLON_1: u32 = 0x0010_0000;
const COLON_2: u32 = 0x0020_0000;
const COLON_1_2: u32 = 0x0040_0000;
const DOT: u32 = 0x0080_0000;
const DELIM: u32 = 0x1000_0000;
const NULL: u32 = 0x2000_0000;

/// `xdigit2bin(c, -1)`: the class of one byte, with a hex digit's value in the low bits.
fn xdigit2bin(c: u8) -> u32 {
    match c {
        0 => DELIM,
        b':' => COLON_MASK,
        b'.' => DOT,
        _ => match hex_to_bin(c) {
            Some(v) => u32::from(v) | XDIGIT | if v < 10 { DIGIT } else { 0 },
            // With delim == -1 every other byte terminates the address.
            None => DELIM,
        },
    }
}

/// The byte at `index`, as `in*_pton` see it with a length limit: NUL from `limit` on.
fn byte_within(text: &[u8], index: usize, limit: usize) -> u8 {
    if index < limit {
        byte_at(text, index)
    } else {
        0
    }
}

/// `in4_pton(text + start, limit - start, dst, -1, &end)`.
///
/// `Ok((address, end))` on success, `Err(end)` on failure; `end` is an index into `text`.
/// Four decimal octets separated by `.`, each at least one digit, with any number of leading
/// zeros, never above 255; the address ends at the first byte that is neither a digit nor a
/// `.` (a `:` or any non-hex byte; a hex letter is an error).
pub(crate) fn in4_pton(
    text: &[u8],
    start: usize,
    limit: usize,
) -> Result<(Ipv4Addr, usize), usize> {
    let mut s = start;
    let mut octets = [0u8; 4];
    let mut i = 0;
    // The C code keeps one int `w`, nonzero once a digit was seen, whose low 16 bits are the
    // value; a flag and a value say the same thing.
    let mut seen_digit = false;
    let mut value: u32 = 0;
    loop {
        let c = xdigit2bin(byte_within(text, s, limit));
        if c & (DIGIT | DOT | DELIM | COLON_MASK) == 0 {
            return Err(s);
        }
        if c & (DOT | DELIM | COLON_MASK) != 0 {
            if !seen_digit {
                return Err(s);
            }
            let Some(octet) = octets.get_mut(i) else { return Err(s) };
            *octet = value as u8; // value <= 255, checked at every digit
            value = 0;
            seen_digit = false;
            i += 1;
            if c & (DELIM | COLON_MASK) != 0 {
                if i != 4 {
                    return Err(s);
                }
                break;
            }
        } else {
            value = value * 10 + (c & 0xff);
            seen_digit = true;
            if value > 255 {
                return Err(s);
            }
        }
        if i >= 4 {
            return Err(s);
        }
        s += 1;
    }
    Ok((Ipv4Addr::from(octets), s))
}

/// `in6_pton(text, limit, dst, -1, &end)`.
///
/// `Ok((address, end))` on success, `Err(end)` on failure. The RFC 4291 text forms: eight
/// groups, `::` once, a dotted quad in the last 32 bits. A group takes another digit while its
/// value is below `0x1000`, so leading zeros are unlimited (`fd00::00002`) but a fifth
/// significant digit fails. No brackets; a `%zone` ends the address early.
pub(crate) fn in6_pton(text: &[u8], limit: usize) -> Result<(Ipv6Addr, usize), usize> {
    const LEN: usize = 16;
    let mut dbuf = [0u8; LEN];
    let mut d = 0; // next byte of dbuf to write
    let mut dc: Option<usize> = None; // where "::" was, if it was
    let mut tok: Option<usize> = None; // start of the current group
    let mut state = COLON_1_2 | XDIGIT | NULL;
    let mut w: u32 = 0;
    let mut s = 0;
    loop {
        let c = xdigit2bin(byte_within(text, s, limit));
        if c & state == 0 {
            return Err(s);
        }
        if c & (DELIM | COLON_MASK) != 0 {
            // Process one 16-bit word.
            if state & NULL == 0 {
                let Some(word) = dbuf.get_mut(d..d + 2) else { return Err(s) };
                word.copy_from_slice(&(w as u16).to_be_bytes());
                d += 2;
            }
            w = 0;
            if c & DELIM != 0 {
                break;
            }
            // COLON_1 => XDIGIT; COLON_2 => XDIGIT|DELIM; COLON_1_2 => COLON_2
            state = match state & COLON_MASK {
                COLON_2 => {
                    dc = Some(d);
                    if d >= LEN {
                        XDIGIT | DELIM | NULL
                    } else {
                        XDIGIT | DELIM
                    }
                }
                m if m == COLON_1 | COLON_1_2 => XDIGIT | COLON_2,
                COLON_1 => XDIGIT,
                COLON_1_2 => COLON_2,
                _ => 0,
            };
            tok = Some(s + 1);
        } else if c & DOT != 0 {
            let (v4, end) = in4_pton(text, tok.unwrap_or(s), limit)?;
            let Some(quad) = dbuf.get_mut(d..d + 4) else { return Err(end) };
            quad.copy_from_slice(&v4.octets());
            d += 4;
            s = end;
            break;
        } else {
            w = (w << 4) | (c & 0xff);
            state = COLON_1 | DELIM;
            if w & 0xf000 == 0 {
                state |= XDIGIT;
            }
            if dc.is_none() && d + 2 < LEN {
                state |= COLON_1_2;
                state &= !DELIM;
            }
            if d + 2 >= LEN {
                state &= !(COLON_1 | COLON_1_2);
            }
        }
        // cont:
        if (dc.is_some() && d + 4 < LEN) || d + 4 == LEN {
            state |= DOT;
        }
        if d >= LEN {
            state &= !(XDIGIT | COLON_MASK);
        }
        s += 1;
    }
    // Move what followed "::" to the end; the gap stays zero.
    let mut out = [0u8; LEN];
    match dc {
        Some(dc) => {
            let (Some(head), Some(tail)) = (dbuf.get(..dc), dbuf.get(dc..d)) else {
                return Err(s);
            };
            let Some(tail_at) = LEN.checked_sub(tail.len()) else { return Err(s) };
            if tail_at < head.len() {
                return Err(s);
            }
            out[..head.len()].copy_from_slice(head);
            out[tail_at..].copy_from_slice(tail);
        }
        None => out = dbuf,
    }
    Ok((Ipv6Addr::from(out), s))
}

/// netconsole's `netpoll_parse_ip_addr`, the version in `drivers/net/netconsole.c` (≈6.18+):
/// IPv4 first, then IPv6, each accepted only if the address ends at the end of the string or
/// at a `\n`. A single trailing `\n` is left out of the length. An empty string fails.
pub(crate) fn parse_ip_addr(field: &[u8]) -> Option<IpAddr> {
    if field.is_empty() {
        return None;
    }
    let len = if field.last() == Some(&b'\n') { field.len() - 1 } else { field.len() };
    let ends_well = |end: usize| matches!(byte_at(field, end), 0 | b'\n');
    if let Ok((v4, end)) = in4_pton(field, 0, len) {
        if ends_well(end) {
            return Some(IpAddr::V4(v4));
        }
    }
    if let Ok((v6, end)) = in6_pton(field, len) {
        if ends_well(end) {
            return Some(IpAddr::V6(v6));
        }
    }
    None
}

#[cfg(test)]
mod test {
    use super::*;
    use proptest::prelude::*;
    use std::string::ToString;

    fn ip(text: &str) -> Option<IpAddr> {
        parse_ip_addr(text.as_bytes())
    }

    fn v6(text: &str) -> Option<IpAddr> {
        Some(IpAddr::V6(text.parse().unwrap()))
    }

    fn v4(text: &str) -> Option<IpAddr> {
        Some(IpAddr::V4(text.parse().unwrap()))
    }

    #[test]
    fn ipv4_forms() {
        assert_eq!(ip("10.0.0.2"), v4("10.0.0.2"));
        assert_eq!(ip("010.000.000.002"), v4("10.0.0.2"));
        assert_eq!(ip("0000255.0.0.00001"), v4("255.0.0.1"));
        assert_eq!(ip("0.0.0.0"), v4("0.0.0.0"));
        assert_eq!(ip("255.255.255.255"), v4("255.255.255.255"));
        assert_eq!(ip("10.0.0.2\n"), v4("10.0.0.2"));
        // '\n' ends the address, and the end check takes '\n' as an end: the rest is ignored.
        assert_eq!(ip("10.0.0.2\nxyz"), v4("10.0.0.2"));
        for bad in [
            "",
            "\n",
            "1.2.3",
            "1.2.3.4.5",
            "1..2.3",
            ".1.2.3",
            "1.2.3.",
            "10.0.0.256",
            "1.2.3.a",
            "0x1.2.3.4",
            "1.2.3.4 ",
            " 1.2.3.4",
            "1.2.3.4z",
            "1.2.3.4:80",
            "1.2.3.-4",
            "1,2,3,4",
            "256.0.0.1",
            "1.2.3.1000",
        ] {
            assert_eq!(ip(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn ipv6_forms() {
        assert_eq!(ip("::"), v6("::"));
        assert_eq!(ip("::1"), v6("::1"));
        assert_eq!(ip("1::"), v6("1::"));
        assert_eq!(ip("fd00::2"), v6("fd00::2"));
        assert_eq!(ip("fd00:1:2:3::1"), v6("fd00:1:2:3::1"));
        assert_eq!(ip("FD00::ABCD"), v6("fd00::abcd"));
        assert_eq!(ip("1:2:3:4:5:6:7:8"), v6("1:2:3:4:5:6:7:8"));
        assert_eq!(ip("1:2:3:4:5:6:7::"), v6("1:2:3:4:5:6:7:0"));
        assert_eq!(ip("::2:3:4:5:6:7:8"), v6("0:2:3:4:5:6:7:8"));
        assert_eq!(ip("1:2:3::5:6:7:8"), v6("1:2:3:0:5:6:7:8"));
        assert_eq!(ip("::ffff:10.0.0.2"), v6("::ffff:10.0.0.2"));
        assert_eq!(ip("::10.0.0.2"), v6("::a00:2"));
        assert_eq!(ip("1:2:3:4:5:6:1.2.3.4"), v6("1:2:3:4:5:6:102:304"));
        assert_eq!(ip("fd00::00002"), v6("fd00::2"));
        assert_eq!(ip("0000000fd00::1"), v6("fd00::1"));
        assert_eq!(ip("fd00::1\n"), v6("fd00::1"));
        for bad in [
            "[fd00::2]",
            "fd00::2%eth0",
            "fd00::2%1",
            "12345::1",
            "1:2:3:4:5:6:7",
            "1:2:3:4:5:6:7:8:9",
            "1::2::3",
            ":::",
            ":1::",
            "1:",
            ":",
            "1:::2",
            "g::1",
            "::g",
            "::1.2.3",
            "::1.2.3.4.5",
            "::1.2.3.4:5",
            "1:2:3:4:5:6:7:1.2.3.4",
            "::ffff:1.2.3.256",
            "fd00::2 ",
            "fd00 ::2",
        ] {
            assert_eq!(ip(bad), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn reads_what_core_net_prints(v4 in any::<[u8; 4]>(), v6 in any::<[u8; 16]>()) {
            let v4 = IpAddr::V4(Ipv4Addr::from(v4));
            let v6 = IpAddr::V6(Ipv6Addr::from(v6));
            prop_assert_eq!(parse_ip_addr(v4.to_string().as_bytes()), Some(v4));
            prop_assert_eq!(parse_ip_addr(v6.to_string().as_bytes()), Some(v6));
        }

        #[test]
        fn reads_fully_expanded_and_mapped_forms(g in any::<[u16; 8]>(), q in any::<[u8; 4]>()) {
            let full = std::format!(
                "{:x}:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}",
                g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7]
            );
            let want = Ipv6Addr::new(g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7]);
            prop_assert_eq!(parse_ip_addr(full.as_bytes()), Some(IpAddr::V6(want)));
            let quad = std::format!(
                "{:04x}:{:x}:{:x}:{:x}:{:x}:{:x}:{}.{}.{}.{}",
                g[0], g[1], g[2], g[3], g[4], g[5], q[0], q[1], q[2], q[3]
            );
            let mut octets = want.octets();
            octets[12..].copy_from_slice(&q);
            prop_assert_eq!(parse_ip_addr(quad.as_bytes()), Some(IpAddr::V6(octets.into())));
        }

        /// Whatever core::net accepts, Linux accepts as the same address (Linux is the looser
        /// of the two: leading zeros in IPv4 octets and IPv6 groups).
        #[test]
        fn agrees_with_core_net(text in prop_oneof![
            "[0-9a-fA-F:.]{0,24}",
            "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}",
            "([0-9a-fA-F]{1,4}:){0,8}[0-9a-fA-F]{0,4}",
            "([0-9a-f]{1,4}:){0,5}:?(:[0-9a-f]{1,4}){0,5}",
            "(::|([0-9a-f]{1,4}:){1,6}:?)(ffff:)?[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}",
        ]) {
            let linux = parse_ip_addr(text.as_bytes());
            if let Ok(std_ip) = text.parse::<IpAddr>() {
                // core::net rejects leading zeros in IPv4 octets, Linux reads them as decimal,
                // so only strings core::net accepts are compared.
                prop_assert_eq!(linux, Some(std_ip), "{}", text);
            }
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_ip_addr(&bytes);
            let _ = in4_pton(&bytes, 0, bytes.len());
            let _ = in6_pton(&bytes, bytes.len());
        }
    }
}
