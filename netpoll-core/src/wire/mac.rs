//! The 48-bit Ethernet hardware address.

use core::fmt;
use core::str::FromStr;

/// An Ethernet MAC address.
///
/// Text form: six two-digit hex groups separated by `:`, either case on input, lowercase on
/// output (`aa:bb:cc:dd:ee:ff`), the form Linux prints with `%pM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// `ff:ff:ff:ff:ff:ff`, where Linux netconsole sends when no target MAC is configured.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);
    /// `00:00:00:00:00:00`.
    pub const ZERO: MacAddr = MacAddr([0; 6]);
    /// Length of the text form.
    pub const TEXT_LEN: usize = 17;

    /// The six bytes.
    pub const fn octets(&self) -> [u8; 6] {
        self.0
    }

    /// All ones.
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// The group bit (least significant bit of the first octet) is set; broadcast included.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 1 == 1
    }

    /// Neither group nor all zeros: an address one station owns.
    pub fn is_unicast(&self) -> bool {
        !self.is_multicast() && *self != Self::ZERO
    }

    /// Parses exactly `aa:bb:cc:dd:ee:ff` (17 bytes, hex digits of either case, `:` separators).
    ///
    /// Stricter than Linux's `mac_pton`, which ignores what follows the 17th character; the
    /// options parser implements that quirk itself.
    pub fn parse_bytes(text: &[u8]) -> Result<MacAddr, ParseMacError> {
        if text.len() != Self::TEXT_LEN {
            return Err(ParseMacError { at: text.len().min(Self::TEXT_LEN) });
        }
        let mut out = [0u8; 6];
        for (i, byte) in out.iter_mut().enumerate() {
            let at = i * 3;
            let hi = hex_value(text[at]).ok_or(ParseMacError { at })?;
            let lo = hex_value(text[at + 1]).ok_or(ParseMacError { at: at + 1 })?;
            if i < 5 && text[at + 2] != b':' {
                return Err(ParseMacError { at: at + 2 });
            }
            *byte = hi << 4 | lo;
        }
        Ok(MacAddr(out))
    }
}

/// The value of one hex digit of either case.
fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Text that is not a MAC address; `at` is the byte offset of the first character that does not
/// fit (the length, if the text is too short).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ParseMacError {
    /// Byte offset of the offending character.
    pub at: usize,
}

impl fmt::Display for ParseMacError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a MAC address (expected aa:bb:cc:dd:ee:ff; wrong at byte {})", self.at)
    }
}

impl FromStr for MacAddr {
    type Err = ParseMacError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MacAddr::parse_bytes(s.as_bytes())
    }
}

impl From<[u8; 6]> for MacAddr {
    fn from(octets: [u8; 6]) -> Self {
        MacAddr(octets)
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

#[cfg(feature = "defmt")]
#[cfg_attr(docsrs, doc(cfg(feature = "defmt")))]
impl defmt::Format for MacAddr {
    fn format(&self, f: defmt::Formatter) {
        let [a, b, c, d, e, g] = self.0;
        defmt::write!(
            f,
            "{=u8:02x}:{=u8:02x}:{=u8:02x}:{=u8:02x}:{=u8:02x}:{=u8:02x}",
            a,
            b,
            c,
            d,
            e,
            g
        )
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_either_case_and_prints_lowercase() {
        let mac: MacAddr = "12:34:56:78:9A:bc".parse().unwrap();
        assert_eq!(mac, MacAddr([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc]));
        assert_eq!(format!("{mac}"), "12:34:56:78:9a:bc");
    }

    #[test]
    fn rejects_wrong_shapes_and_says_where() {
        assert_eq!("00:11:22:33:44".parse::<MacAddr>(), Err(ParseMacError { at: 14 }));
        assert_eq!("00-11-22-33-44-55".parse::<MacAddr>(), Err(ParseMacError { at: 2 }));
        assert_eq!("00:11:22:33:44:5g".parse::<MacAddr>(), Err(ParseMacError { at: 16 }));
        assert_eq!("0:11:22:33:44:55:".parse::<MacAddr>(), Err(ParseMacError { at: 1 }));
        assert_eq!("00:11:22:33:44:55:66".parse::<MacAddr>(), Err(ParseMacError { at: 17 }));
    }

    #[test]
    fn classifies() {
        assert!(MacAddr::BROADCAST.is_broadcast() && MacAddr::BROADCAST.is_multicast());
        assert!(MacAddr([0x02, 0, 0, 0, 0, 1]).is_unicast());
        assert!(!MacAddr::ZERO.is_unicast());
        assert!(MacAddr([0x33, 0x33, 0, 0, 0, 1]).is_multicast());
    }

    proptest! {
        #[test]
        fn display_parses_back(octets in any::<[u8; 6]>()) {
            let mac = MacAddr(octets);
            prop_assert_eq!(mac.to_string().parse::<MacAddr>(), Ok(mac));
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = MacAddr::parse_bytes(&bytes);
        }
    }
}
