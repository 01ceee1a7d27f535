//! One netconsole target: where its log goes, from which port and device, in which format.

use crate::text::write_escaped;
use core::fmt;
use core::net::IpAddr;
use netpoll_core::MacAddr;

/// Linux's source UDP port when the option string gives none.
pub const DEFAULT_LOCAL_PORT: u16 = 6665;
/// Linux's target UDP port when the option string gives none.
pub const DEFAULT_REMOTE_PORT: u16 = 6666;
/// The longest device name Linux keeps: `IFNAMSIZ` (16) less the NUL.
pub const MAX_DEVICE_NAME_LEN: usize = 15;

/// One target, as Linux's `alloc_param_target` leaves it after parsing.
///
/// Fields are public so a program can read them and build targets freely; [`Target::new`]
/// and the `with_*` methods build one in a `const`. A target that came from the parser always
/// passes [`validate`](Self::validate); one built by hand should, to mean something to Linux
/// and to print (with `Display`) an option string that parses back to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Target {
    /// `+`: send the extended format (`<level>,<seq>,<ts>,<flags>;<text>`).
    pub extended: bool,
    /// `r`: prepend the kernel release to each message; only with `extended`.
    pub release: bool,
    /// Source UDP port; [`DEFAULT_LOCAL_PORT`] unless given.
    pub local_port: u16,
    /// Source IP; `None` when not given, meaning "the device's own address". Linux also treats
    /// a given `0.0.0.0` or `::` as "not set" when it sets the target up; that is the sink's
    /// business, so the parser keeps what was written.
    pub local_ip: Option<IpAddr>,
    /// The network device, by name or by MAC address; `eth0` unless given.
    pub device: Device,
    /// Target UDP port; [`DEFAULT_REMOTE_PORT`] unless given.
    pub remote_port: u16,
    /// Target IP: the one field Linux requires. Its family says whether the target is IPv6.
    pub remote_ip: IpAddr,
    /// Target MAC; `None` when not given. Linux then sends to `ff:ff:ff:ff:ff:ff`
    /// ([`effective_remote_mac`](Self::effective_remote_mac)); a sink may resolve it by ARP
    /// instead. A MAC written out, broadcast included, is `Some`.
    pub remote_mac: Option<MacAddr>,
}

impl Target {
    /// A target sending to `remote_ip` with every other field at Linux's default: basic
    /// format, ports 6665 → 6666, device `eth0`, source IP and target MAC not given.
    pub const fn new(remote_ip: IpAddr) -> Target {
        Target {
            extended: false,
            release: false,
            local_port: DEFAULT_LOCAL_PORT,
            local_ip: None,
            device: Device::DEFAULT,
            remote_port: DEFAULT_REMOTE_PORT,
            remote_ip,
            remote_mac: None,
        }
    }

    /// Sets `extended` (the `+` prefix).
    pub const fn with_extended(mut self, extended: bool) -> Target {
        self.extended = extended;
        self
    }

    /// Sets `release` (the `r` prefix). Linux accepts it only with `extended`; see
    /// [`validate`](Self::validate).
    pub const fn with_release(mut self, release: bool) -> Target {
        self.release = release;
        self
    }

    /// Sets the source UDP port.
    pub const fn with_local_port(mut self, port: u16) -> Target {
        self.local_port = port;
        self
    }

    /// Sets the source IP. Linux requires it to be of the target IP's family; see
    /// [`validate`](Self::validate).
    pub const fn with_local_ip(mut self, ip: IpAddr) -> Target {
        self.local_ip = Some(ip);
        self
    }

    /// Sets the device.
    pub const fn with_device(mut self, device: Device) -> Target {
        self.device = device;
        self
    }

    /// Sets the target UDP port.
    pub const fn with_remote_port(mut self, port: u16) -> Target {
        self.remote_port = port;
        self
    }

    /// Sets the target MAC.
    pub const fn with_remote_mac(mut self, mac: MacAddr) -> Target {
        self.remote_mac = Some(mac);
        self
    }

    /// The target speaks IPv6 (Linux's `np.ipv6`), as its target IP does.
    pub const fn is_ipv6(&self) -> bool {
        matches!(self.remote_ip, IpAddr::V6(_))
    }

    /// The MAC Linux sends to: the one given, else broadcast.
    pub const fn effective_remote_mac(&self) -> MacAddr {
        match self.remote_mac {
            Some(mac) => mac,
            None => MacAddr::BROADCAST,
        }
    }

    /// Checks the two rules that span fields: `release` needs `extended`, and a source IP
    /// must be of the target IP's family. Everything the parser returns passes.
    pub const fn validate(&self) -> Result<(), InvalidTarget> {
        if self.release && !self.extended {
            return Err(InvalidTarget::ReleaseWithoutExtended);
        }
        match (self.local_ip, self.remote_ip) {
            (Some(IpAddr::V4(_)), IpAddr::V6(_)) | (Some(IpAddr::V6(_)), IpAddr::V4(_)) => {
                Err(InvalidTarget::IpFamilyMismatch)
            }
            _ => Ok(()),
        }
    }
}

/// A target that breaks a rule spanning fields (see [`Target::validate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum InvalidTarget {
    /// `release` without `extended`.
    ReleaseWithoutExtended,
    /// A source IP of another family than the target IP.
    IpFamilyMismatch,
}

impl fmt::Display for InvalidTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ReleaseWithoutExtended => "Release feature requires extended log message",
            Self::IpFamilyMismatch => "source and target IP are of different families",
        })
    }
}

impl core::error::Error for InvalidTarget {}

/// The network device a target sends through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Device {
    /// By interface name (Linux's `dev_name`).
    Name(DeviceName),
    /// By hardware address (Linux 6.15+, option string only): a `dev` field holding a `:`.
    /// Linux leaves `dev_name` empty and looks the device up by this MAC.
    Mac(MacAddr),
}

impl Device {
    /// `eth0`, Linux's default.
    pub const DEFAULT: Device = Device::Name(DeviceName::ETH0);
}

impl Default for Device {
    fn default() -> Self {
        Device::DEFAULT
    }
}

impl fmt::Display for Device {
    /// The name (bytes that are not UTF-8 as `\xNN`) or the MAC, as in an option string.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Name(name) => fmt::Display::fmt(name, f),
            Device::Mac(mac) => fmt::Display::fmt(mac, f),
        }
    }
}

/// An interface name of 1 to 15 bytes, kept as bytes.
///
/// Linux copies the `dev` field with `strscpy(dev_name, cur, 16)`, **silently cutting it to 15
/// bytes**; the parser does the same, on bytes, so a cut may split a UTF-8 character. Any byte
/// may appear except the four that could not come back through an option string: NUL (ends
/// the string), `,` (ends the field), `:` (makes the field a MAC) and `;` (ends the target).
/// Linux rejects stranger names (`/`, spaces) only when it looks the device up.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeviceName {
    // Bytes past `len` are always zero, so the derived comparisons are right.
    bytes: [u8; MAX_DEVICE_NAME_LEN],
    len: u8,
}

impl DeviceName {
    /// `eth0`.
    pub const ETH0: DeviceName = DeviceName { bytes: *b"eth0\0\0\0\0\0\0\0\0\0\0\0", len: 4 };

    /// The name `name`, which must be 1 to 15 bytes long and hold no NUL, `,`, `:` or `;`.
    ///
    /// A `const fn`, so firmware can name its device in a `const`:
    /// `match DeviceName::new(b"eth1") { Ok(n) => n, Err(_) => panic!() }`.
    pub const fn new(name: &[u8]) -> Result<DeviceName, InvalidDeviceName> {
        if name.is_empty() {
            return Err(InvalidDeviceName::Empty);
        }
        if name.len() > MAX_DEVICE_NAME_LEN {
            return Err(InvalidDeviceName::TooLong { len: name.len() });
        }
        let mut bytes = [0u8; MAX_DEVICE_NAME_LEN];
        let mut i = 0;
        while i < name.len() {
            let byte = name[i];
            if matches!(byte, 0 | b',' | b':' | b';') {
                return Err(InvalidDeviceName::Forbidden { offset: i, byte });
            }
            bytes[i] = byte;
            i += 1;
        }
        Ok(DeviceName { bytes, len: name.len() as u8 })
    }

    /// The first 15 bytes of `field`, as `strscpy(dev_name, field, 16)` keeps them.
    ///
    /// The parser calls it only on a non-empty field with none of the forbidden bytes.
    pub(crate) fn truncating(field: &[u8]) -> DeviceName {
        let kept = field.get(..MAX_DEVICE_NAME_LEN).unwrap_or(field);
        debug_assert!(!kept.is_empty());
        debug_assert!(!kept.iter().any(|b| matches!(b, 0 | b',' | b':' | b';')));
        let mut bytes = [0u8; MAX_DEVICE_NAME_LEN];
        bytes[..kept.len()].copy_from_slice(kept);
        DeviceName { bytes, len: kept.len() as u8 }
    }

    /// The name's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&self.bytes)
    }

    /// The name as text, if it is UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        core::str::from_utf8(self.as_bytes()).ok()
    }
}

impl fmt::Display for DeviceName {
    /// The name, with each byte that is not part of valid UTF-8 written as `\xNN`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, self.as_bytes())
    }
}

impl fmt::Debug for DeviceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeviceName(\"")?;
        write_escaped(f, self.as_bytes())?;
        f.write_str("\")")
    }
}

#[cfg(feature = "defmt")]
#[cfg_attr(docsrs, doc(cfg(feature = "defmt")))]
impl defmt::Format for DeviceName {
    fn format(&self, f: defmt::Formatter) {
        match self.as_str() {
            Some(name) => defmt::write!(f, "{=str}", name),
            None => defmt::write!(f, "{=[u8]}", self.as_bytes()),
        }
    }
}

impl TryFrom<&[u8]> for DeviceName {
    type Error = InvalidDeviceName;
    fn try_from(name: &[u8]) -> Result<Self, Self::Error> {
        DeviceName::new(name)
    }
}

impl core::str::FromStr for DeviceName {
    type Err = InvalidDeviceName;
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        DeviceName::new(name.as_bytes())
    }
}

/// A name [`DeviceName::new`] refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum InvalidDeviceName {
    /// No bytes: an empty `dev` field means "keep `eth0`", not "no name".
    Empty,
    /// Longer than 15 bytes.
    TooLong {
        /// The length given.
        len: usize,
    },
    /// A NUL, `,`, `:` or `;`.
    Forbidden {
        /// Where it is.
        offset: usize,
        /// Which byte.
        byte: u8,
    },
}

impl fmt::Display for InvalidDeviceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Empty => f.write_str("empty device name"),
            Self::TooLong { len } => {
                write!(f, "device name of {len} bytes, more than {MAX_DEVICE_NAME_LEN}")
            }
            Self::Forbidden { offset, byte } => write!(
                f,
                "device name has {:?} at byte {offset}, which an option string cannot hold",
                char::from(byte)
            ),
        }
    }
}

impl core::error::Error for InvalidDeviceName {}

#[cfg(test)]
mod test {
    use super::*;
    use core::net::Ipv4Addr;

    const TARGET: Target = Target::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)))
        .with_extended(true)
        .with_release(true)
        .with_local_port(4444)
        .with_device(Device::Name(match DeviceName::new(b"eth1") {
            Ok(name) => name,
            Err(_) => panic!("bad name"),
        }))
        .with_remote_mac(MacAddr([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc]));

    #[test]
    fn builds_in_a_const() {
        const { assert!(TARGET.extended && TARGET.release) };
        assert_eq!(TARGET.local_port, 4444);
        assert_eq!(TARGET.remote_port, DEFAULT_REMOTE_PORT);
        assert_eq!(TARGET.device.to_string(), "eth1");
        assert_eq!(TARGET.validate(), Ok(()));
        assert!(!TARGET.is_ipv6());
    }

    #[test]
    fn validates_cross_field_rules() {
        let t = Target::new(IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(t.with_release(true).validate(), Err(InvalidTarget::ReleaseWithoutExtended));
        let v6 = IpAddr::V6(core::net::Ipv6Addr::LOCALHOST);
        assert_eq!(t.with_local_ip(v6).validate(), Err(InvalidTarget::IpFamilyMismatch));
        assert_eq!(t.effective_remote_mac(), MacAddr::BROADCAST);
    }

    #[test]
    fn device_names() {
        assert_eq!(DeviceName::new(b"eth0"), Ok(DeviceName::ETH0));
        assert_eq!(DeviceName::new(b""), Err(InvalidDeviceName::Empty));
        assert_eq!(
            DeviceName::new(b"0123456789abcdef"),
            Err(InvalidDeviceName::TooLong { len: 16 })
        );
        assert_eq!(
            DeviceName::new(b"eth0:1"),
            Err(InvalidDeviceName::Forbidden { offset: 4, byte: b':' })
        );
        assert!(DeviceName::new(b"0123456789abcde").is_ok());
        assert_eq!(DeviceName::truncating(b"0123456789abcdefgh").as_bytes(), b"0123456789abcde");
        let odd = DeviceName::truncating(b"eth\xc3");
        assert_eq!(odd.as_str(), None);
        assert_eq!(odd.to_string(), "eth\\xc3");
        assert_eq!(std::format!("{odd:?}"), "DeviceName(\"eth\\xc3\")");
    }

    use std::string::ToString;
}
