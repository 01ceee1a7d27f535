//! `mac_pton` from `lib/net_utils.c`.

use super::hex_to_bin;
use netpoll_core::MacAddr;

/// Reads a MAC address the way `mac_pton` does: the string must be at least 17 bytes long,
/// bytes 0-1, 3-4, .., 15-16 ASCII hex digits of either case and bytes 2, 5, 8, 11, 14 `:`.
/// **What follows the 17th byte is not looked at**, so `00:11:22:33:44:55:66` reads as
/// `00:11:22:33:44:55`.
pub(crate) fn mac_pton(s: &[u8]) -> Option<MacAddr> {
    let text = s.get(..MacAddr::TEXT_LEN)?;
    let mut octets = [0u8; 6];
    for (i, (octet, group)) in octets.iter_mut().zip(text.chunks(3)).enumerate() {
        let (hi, lo, sep) = match *group {
            [hi, lo, sep] => (hi, lo, Some(sep)),
            [hi, lo] => (hi, lo, None),
            _ => return None,
        };
        *octet = hex_to_bin(hi)? << 4 | hex_to_bin(lo)?;
        if i != 5 && sep != Some(b':') {
            return None;
        }
    }
    Some(MacAddr(octets))
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn reads_17_bytes_and_ignores_the_rest() {
        let mac = MacAddr([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc]);
        assert_eq!(mac_pton(b"12:34:56:78:9a:bc"), Some(mac));
        assert_eq!(mac_pton(b"12:34:56:78:9A:BC"), Some(mac));
        assert_eq!(mac_pton(b"12:34:56:78:9a:bc:de"), Some(mac));
        assert_eq!(mac_pton(b"12:34:56:78:9a:bcxyz"), Some(mac));
        assert_eq!(mac_pton(b"12:34:56:78:9a:bc\n"), Some(mac));
    }

    #[test]
    fn rejects_wrong_shapes() {
        for bad in [
            &b""[..],
            b"00:11:22:33:44",
            b"00:11:22:33:44:5",
            b"00-11-22-33-44-55",
            b"0:11:22:33:44:55:6",
            b"00:11:22:33:44:5g",
            b"00:11:22:33:44::55",
            b"001122334455",
            b"0011.2233.4455....",
            b" 00:11:22:33:44:55",
            b"00:11:22:33:44:55"[1..].as_ref(),
        ] {
            assert_eq!(mac_pton(bad), None, "{bad:?}");
        }
    }
}
