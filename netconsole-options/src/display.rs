//! A target written back as an option string.
//!
//! The canonical form spells out every field Linux has a value for: the prefixes, both ports,
//! the device (so the default `eth0` is written), the target IP; the source IP and the target
//! MAC only when given, since leaving them out is what "not given" means. Parsing the text
//! gives back the same [`Target`], which is what makes a configuration loggable and
//! replayable.

use crate::target::{Device, Target, MAX_DEVICE_NAME_LEN};
use crate::text::{write_escaped, ByteWriter};
use core::fmt::{self, Write};
use netpoll_core::MacAddr;

/// The longest text `core::net` writes for an IPv6 address
/// (`ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`, the bound the standard library uses).
const MAX_IP_TEXT_LEN: usize = 45;
/// The longest text `u16` writes.
const MAX_PORT_TEXT_LEN: usize = 5;

/// The longest canonical option string of one target:
/// `+r` `65535@` `<ip>/` `<dev>,` `65535@` `<ip>/` `<mac>`.
pub const MAX_TARGET_TEXT_LEN: usize = 2
    + (MAX_PORT_TEXT_LEN + 1)
    + (MAX_IP_TEXT_LEN + 1)
    + (MAX_DEVICE_NAME_LEN + 1)
    + (MAX_PORT_TEXT_LEN + 1)
    + (MAX_IP_TEXT_LEN + 1)
    + MacAddr::TEXT_LEN;

/// A target's canonical option string, as bytes, in a fixed buffer.
///
/// Bytes, because a device name need not be UTF-8: these bytes parse back to the target
/// exactly, always. `Display` (of this and of [`Target`]) writes the same text with any
/// non-UTF-8 byte escaped as `\xNN`, which parses back only when the name is UTF-8.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct OptionString {
    buf: [u8; MAX_TARGET_TEXT_LEN],
    len: u8,
}

impl OptionString {
    /// The text, byte for byte.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..usize::from(self.len)).unwrap_or(&self.buf)
    }

    /// The text, if it is UTF-8 (it is unless the device name is not).
    pub fn as_str(&self) -> Option<&str> {
        core::str::from_utf8(self.as_bytes()).ok()
    }
}

impl fmt::Display for OptionString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, self.as_bytes())
    }
}

impl fmt::Debug for OptionString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OptionString(\"")?;
        write_escaped(f, self.as_bytes())?;
        f.write_str("\")")
    }
}

#[cfg(feature = "defmt")]
#[cfg_attr(docsrs, doc(cfg(feature = "defmt")))]
impl defmt::Format for OptionString {
    fn format(&self, f: defmt::Formatter) {
        match self.as_str() {
            Some(text) => defmt::write!(f, "{=str}", text),
            None => defmt::write!(f, "{=[u8]}", self.as_bytes()),
        }
    }
}

impl Target {
    /// The canonical option string of this target (without `netconsole=`).
    ///
    /// It parses back to `self` whenever [`validate`](Self::validate) passes.
    pub fn to_option_string(&self) -> OptionString {
        let mut buf = [0u8; MAX_TARGET_TEXT_LEN];
        let mut w = ByteWriter::new(&mut buf);
        // Cannot fail: MAX_TARGET_TEXT_LEN bounds every field (a test checks the worst case).
        let _ = self.write_option(&mut w);
        let len = w.len() as u8;
        OptionString { buf, len }
    }

    fn write_option(&self, w: &mut ByteWriter<'_>) -> fmt::Result {
        if self.extended {
            w.push(b"+")?;
        }
        if self.release {
            w.push(b"r")?;
        }
        write!(w, "{}@", self.local_port)?;
        if let Some(ip) = self.local_ip {
            write!(w, "{ip}")?;
        }
        w.push(b"/")?;
        match &self.device {
            Device::Name(name) => w.push(name.as_bytes())?,
            Device::Mac(mac) => write!(w, "{mac}")?,
        }
        write!(w, ",{}@{}/", self.remote_port, self.remote_ip)?;
        if let Some(mac) = self.remote_mac {
            write!(w, "{mac}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Target {
    /// The canonical option string ([`Target::to_option_string`]), with any non-UTF-8 byte of
    /// the device name written as `\xNN`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_option_string(), f)
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::target::DeviceName;
    use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    use std::string::ToString;

    #[test]
    fn writes_every_field_it_has() {
        let t = Target::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)));
        assert_eq!(t.to_string(), "6665@/eth0,6666@10.0.0.2/");
        let t = t
            .with_extended(true)
            .with_release(true)
            .with_local_ip(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)))
            .with_remote_mac(MacAddr::BROADCAST);
        assert_eq!(t.to_string(), "+r6665@10.0.0.1/eth0,6666@10.0.0.2/ff:ff:ff:ff:ff:ff");
    }

    #[test]
    fn worst_case_fits() {
        let v6 = IpAddr::V6(Ipv6Addr::new(
            0xffff, 0xfff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff,
        ));
        let t = Target::new(v6)
            .with_extended(true)
            .with_release(true)
            .with_local_port(65535)
            .with_remote_port(65535)
            .with_local_ip(v6)
            .with_device(Device::Name(DeviceName::truncating(b"abcdefghijklmno")))
            .with_remote_mac(MacAddr::BROADCAST);
        let text = t.to_option_string();
        assert!(text.as_bytes().ends_with(b"/ff:ff:ff:ff:ff:ff"), "{text}");
        assert!(text.as_bytes().len() <= MAX_TARGET_TEXT_LEN);
    }
}
