//! What went wrong, where, and in the words Linux logs it.

use crate::text::write_lossy;
use crate::MAX_OPTION_LEN;
use core::fmt;

/// Why `kstrtou16` refused a port, as its errno.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PortError {
    /// `-EINVAL`: not one optional `+`, then decimal digits, then at most one `\n`.
    Invalid,
    /// `-ERANGE`: digits, but more than 65535.
    OutOfRange,
}

/// Which rule of the grammar a target broke. Linux logs every one of these (except
/// [`ReleaseWithoutExtended`](Self::ReleaseWithoutExtended)) with the same line; the kind tells
/// a program which field to blame.
///
/// The field names follow the kernel documentation: `src-port@src-ip/dev,tgt-port@tgt-ip/tgt-macaddr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// An `r` (prepend the release) without a `+` before it: needs the extended format.
    ReleaseWithoutExtended,
    /// No `@` after the source port.
    LocalPortUnterminated,
    /// The source port is not what `kstrtou16` reads.
    LocalPort(PortError),
    /// No `/` after the source IP.
    LocalIpUnterminated,
    /// The source IP is neither an IPv4 nor an IPv6 address in Linux's text form.
    LocalIp,
    /// No `,` after the device.
    DeviceUnterminated,
    /// The device holds a `:`, so it is read as a MAC address, and it is not one.
    DeviceMac,
    /// No `@` after the target port.
    RemotePortUnterminated,
    /// The target port is not what `kstrtou16` reads.
    RemotePort(PortError),
    /// No `/` after the target IP: Linux requires it, even with no MAC after it.
    RemoteIpUnterminated,
    /// The target IP is neither an IPv4 nor an IPv6 address in Linux's text form.
    RemoteIp,
    /// A source IP was given and its family (IPv4 or IPv6) is not the target IP's.
    IpFamilyMismatch,
    /// Text after the target IP's `/` that is not a MAC address.
    RemoteMac,
    /// The whole option string is longer than the 255 bytes Linux accepts.
    OptionStringTooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// A `;` in a string given as one target; only [`targets`](crate::targets) splits there.
    TargetSeparator,
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let port = |e: &PortError| match e {
            PortError::Invalid => "not a decimal number",
            PortError::OutOfRange => "more than 65535",
        };
        match self {
            Self::ReleaseWithoutExtended => f.write_str("'r' needs '+' before it"),
            Self::LocalPortUnterminated => f.write_str("src-port: no '@' after it"),
            Self::LocalPort(e) => write!(f, "src-port: {}", port(e)),
            Self::LocalIpUnterminated => f.write_str("src-ip: no '/' after it"),
            Self::LocalIp => f.write_str("src-ip: not an IPv4 or IPv6 address"),
            Self::DeviceUnterminated => f.write_str("dev: no ',' after it"),
            Self::DeviceMac => f.write_str("dev: has a ':' but is not a MAC address"),
            Self::RemotePortUnterminated => f.write_str("tgt-port: no '@' after it"),
            Self::RemotePort(e) => write!(f, "tgt-port: {}", port(e)),
            Self::RemoteIpUnterminated => f.write_str("tgt-ip: no '/' after it"),
            Self::RemoteIp => f.write_str("tgt-ip: not an IPv4 or IPv6 address"),
            Self::IpFamilyMismatch => f.write_str("tgt-ip: not the family of src-ip"),
            Self::RemoteMac => f.write_str("tgt-macaddr: not a MAC address"),
            Self::OptionStringTooLong { len } => {
                write!(f, "option string: {len} bytes, more than {MAX_OPTION_LEN}")
            }
            Self::TargetSeparator => f.write_str("';' separates targets"),
        }
    }
}

/// Something Linux logs about a target without rejecting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Warning {
    /// The target port starts with a space or a tab. Linux only warns, but `kstrtou16` then
    /// rejects the port, so the target fails too.
    Whitespace {
        /// Byte offset of the space or tab.
        offset: usize,
    },
}

impl Warning {
    /// Byte offset of what the warning is about.
    pub fn offset(&self) -> usize {
        match *self {
            Warning::Whitespace { offset } => offset,
        }
    }

    /// The same warning, `by` bytes later.
    pub(crate) fn shifted(self, by: usize) -> Self {
        match self {
            Warning::Whitespace { offset } => Warning::Whitespace { offset: offset + by },
        }
    }
}

impl fmt::Display for Warning {
    /// The text after Linux's `warning: ` prefix.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::Whitespace { .. } => f.write_str("whitespace is not allowed"),
        }
    }
}

/// A target Linux would refuse.
///
/// Its `Display` is the line Linux logs (without the `netconsole: ` prefix):
/// `couldn't parse config at '<cur>'!`, where `<cur>` is the kernel's `cur` pointer at the
/// failure: the field being read, already cut at its delimiter, or the whole rest of the
/// target when the delimiter is missing. For an `r` without `+` it is Linux's
/// `Release feature requires extended log message`. Two errors Linux has no line for, an
/// option string over 255 bytes and a `;` given to [`parse_target`](crate::parse_target),
/// say so in their own words.
///
/// `cur` borrows from the input (lifetime `'a`), so the error is small and costs no copy;
/// bytes that are not UTF-8 are shown as U+FFFD.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ParseError<'a> {
    kind: ParseErrorKind,
    offset: usize,
    cur: &'a [u8],
    warning: Option<Warning>,
}

impl<'a> ParseError<'a> {
    /// An error of `kind` found at byte `offset`, whose `cur` text is `cur`.
    pub(crate) fn new(kind: ParseErrorKind, offset: usize, cur: &'a [u8]) -> Self {
        ParseError { kind, offset, cur, warning: None }
    }

    /// The same error, carrying `warning`.
    pub(crate) fn with_warning(mut self, warning: Option<Warning>) -> Self {
        self.warning = warning;
        self
    }

    /// The same error, its offsets moved `by` bytes later (a piece's offsets made relative to
    /// the whole option string).
    pub(crate) fn shifted(mut self, by: usize) -> Self {
        self.offset += by;
        self.warning = self.warning.map(|w| w.shifted(by));
        self
    }

    /// Which rule was broken.
    pub fn kind(&self) -> ParseErrorKind {
        self.kind
    }

    /// Byte offset in the input where [`cur`](Self::cur) starts: the start of the field that
    /// failed, or of the text where a delimiter was looked for and not found. For a too-long
    /// option string, 255; for a `;` given to `parse_target`, the offset of the `;`.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The kernel's `cur` text at the failure, as raw bytes of the input (empty for the two
    /// errors Linux has no `cur` for).
    pub fn cur(&self) -> &'a [u8] {
        self.cur
    }

    /// The warning Linux logged before it failed, if any.
    pub fn warning(&self) -> Option<Warning> {
        self.warning
    }
}

impl fmt::Display for ParseError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ParseErrorKind::ReleaseWithoutExtended => {
                f.write_str("Release feature requires extended log message")
            }
            ParseErrorKind::OptionStringTooLong { len } => write!(
                f,
                "option string too long: {len} bytes, Linux takes at most {MAX_OPTION_LEN}"
            ),
            ParseErrorKind::TargetSeparator => {
                write!(f, "more than one target: ';' at byte {} separates targets", self.offset)
            }
            _ => {
                f.write_str("couldn't parse config at '")?;
                write_lossy(f, self.cur())?;
                f.write_str("'!")
            }
        }
    }
}

impl fmt::Debug for ParseError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Lossy<'a>(&'a [u8]);
        impl fmt::Debug for Lossy<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"")?;
                crate::text::write_escaped(f, self.0)?;
                f.write_str("\"")
            }
        }
        f.debug_struct("ParseError")
            .field("kind", &self.kind)
            .field("offset", &self.offset)
            .field("cur", &Lossy(self.cur()))
            .field("warning", &self.warning)
            .finish()
    }
}

impl core::error::Error for ParseError<'_> {}

#[cfg(feature = "defmt")]
#[cfg_attr(docsrs, doc(cfg(feature = "defmt")))]
impl defmt::Format for ParseError<'_> {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(
            f,
            "ParseError {{ kind: {}, offset: {=usize}, cur: {=[u8]}, warning: {} }}",
            self.kind,
            self.offset,
            self.cur(),
            self.warning
        )
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use std::string::ToString;

    #[test]
    fn displays_linux_lines() {
        let e = ParseError::new(ParseErrorKind::RemoteIp, 7, b"10.0.0");
        assert_eq!(e.to_string(), "couldn't parse config at '10.0.0'!");
        let e = ParseError::new(ParseErrorKind::ReleaseWithoutExtended, 0, b"r@/,@1.2.3.4/");
        assert_eq!(e.to_string(), "Release feature requires extended log message");
        let e = ParseError::new(ParseErrorKind::LocalIp, 1, b"\xff1");
        assert_eq!(e.to_string(), "couldn't parse config at '\u{fffd}1'!");
    }
}
