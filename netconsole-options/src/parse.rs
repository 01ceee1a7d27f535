//! The walk over one target: `alloc_param_target` and `netconsole_parser_cmdline`.
//!
//! Linux walks the string with a pointer `cur`, replacing each delimiter it finds with a NUL,
//! so that a field is a C string of its own. Here `cur` is an index and a field is the slice
//! from `cur` to its delimiter; the error for a field carries that slice, which is exactly
//! what Linux prints with `%s` at `parse_failed`.

use crate::error::{ParseError, ParseErrorKind, Warning};
use crate::kernel::{kstrtou16, mac_pton, parse_ip_addr};
use crate::target::{Device, DeviceName, Target};
use core::net::{IpAddr, Ipv4Addr};

/// A target that parsed, with what Linux warned about while reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Parsed {
    /// The target.
    pub target: Target,
    /// The warning Linux logged, if any.
    pub warning: Option<Warning>,
}

impl Parsed {
    /// The same result, its offsets moved `by` bytes later.
    pub(crate) fn shifted(mut self, by: usize) -> Self {
        self.warning = self.warning.map(|w| w.shifted(by));
        self
    }
}

/// One piece of the option string, already split at `;` and cut at any NUL, as
/// `alloc_param_target` receives it. Offsets in the result are relative to `piece`.
pub(crate) fn parse_piece(piece: &[u8]) -> Result<Parsed, ParseError<'_>> {
    Walk { text: piece, cur: 0, warning: None }.run()
}

/// Linux's walk state: the text, `cur`, and the warning logged so far.
struct Walk<'a> {
    text: &'a [u8],
    cur: usize,
    warning: Option<Warning>,
}

impl<'a> Walk<'a> {
    /// `*cur`: the byte at `cur`, or the NUL that ends the string.
    fn peek(&self) -> u8 {
        self.text.get(self.cur).copied().unwrap_or(0)
    }

    /// `strchr(cur, byte)`: the index of the next `byte` at or after `cur`.
    fn find(&self, byte: u8) -> Option<usize> {
        let rest = self.text.get(self.cur..)?;
        rest.iter().position(|&b| b == byte).map(|i| self.cur + i)
    }

    /// The text from `cur` to `end`.
    fn field(&self, end: usize) -> &'a [u8] {
        self.text.get(self.cur..end).unwrap_or(&[])
    }

    /// `goto parse_failed` with `cur` cut at `end`.
    fn fail(&self, kind: ParseErrorKind, end: usize) -> ParseError<'a> {
        ParseError::new(kind, self.cur, self.field(end)).with_warning(self.warning)
    }

    /// Finds the delimiter that ends the field at `cur`, or fails with `cur` at the whole rest.
    fn delimiter(&self, byte: u8, missing: ParseErrorKind) -> Result<usize, ParseError<'a>> {
        self.find(byte).ok_or_else(|| self.fail(missing, self.text.len()))
    }

    fn run(mut self) -> Result<Parsed, ParseError<'a>> {
        let mut t = Target::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED));

        // alloc_param_target: '+', then 'r', one byte each, in that order.
        // CONFIG_NETCONSOLE_EXTENDED_LOG is taken as off, so extended starts false.
        if self.peek() == b'+' {
            t.extended = true;
            self.cur += 1;
        }
        if self.peek() == b'r' {
            if !t.extended {
                return Err(self.fail(ParseErrorKind::ReleaseWithoutExtended, self.text.len()));
            }
            t.release = true;
            self.cur += 1;
        }

        // (a) [src-port]@
        if self.peek() != b'@' {
            let delim = self.delimiter(b'@', ParseErrorKind::LocalPortUnterminated)?;
            t.local_port = kstrtou16(self.field(delim))
                .map_err(|e| self.fail(ParseErrorKind::LocalPort(e), delim))?;
            self.cur = delim;
        }
        self.cur += 1;

        // (b) [src-ip]/  -- a given source IP fixes the family (ipversion_set).
        if self.peek() != b'/' {
            let delim = self.delimiter(b'/', ParseErrorKind::LocalIpUnterminated)?;
            let ip = parse_ip_addr(self.field(delim))
                .ok_or_else(|| self.fail(ParseErrorKind::LocalIp, delim))?;
            t.local_ip = Some(ip);
            self.cur = delim;
        }
        self.cur += 1;

        // (c) [dev],  -- a ':' anywhere makes it a MAC; a name is cut to 15 bytes.
        if self.peek() != b',' {
            let delim = self.delimiter(b',', ParseErrorKind::DeviceUnterminated)?;
            let field = self.field(delim);
            t.device = if field.contains(&b':') {
                Device::Mac(
                    mac_pton(field).ok_or_else(|| self.fail(ParseErrorKind::DeviceMac, delim))?,
                )
            } else {
                Device::Name(DeviceName::truncating(field))
            };
            self.cur = delim;
        }
        self.cur += 1;

        // (d) [tgt-port]@  -- Linux warns about leading whitespace, then kstrtou16 fails.
        if self.peek() != b'@' {
            let delim = self.delimiter(b'@', ParseErrorKind::RemotePortUnterminated)?;
            if matches!(self.peek(), b' ' | b'\t') {
                self.warning = Some(Warning::Whitespace { offset: self.cur });
            }
            t.remote_port = kstrtou16(self.field(delim))
                .map_err(|e| self.fail(ParseErrorKind::RemotePort(e), delim))?;
            self.cur = delim;
        }
        self.cur += 1;

        // (e) <tgt-ip>/  -- the '/' is mandatory.
        let delim = self.delimiter(b'/', ParseErrorKind::RemoteIpUnterminated)?;
        let ip = parse_ip_addr(self.field(delim))
            .ok_or_else(|| self.fail(ParseErrorKind::RemoteIp, delim))?;
        if t.local_ip.is_some_and(|local| local.is_ipv6() != ip.is_ipv6()) {
            return Err(self.fail(ParseErrorKind::IpFamilyMismatch, delim));
        }
        t.remote_ip = ip;
        self.cur = delim + 1;

        // (f) [tgt-macaddr]  -- mac_pton reads 17 bytes and ignores the rest.
        if self.peek() != 0 {
            let mac = mac_pton(self.field(self.text.len()))
                .ok_or_else(|| self.fail(ParseErrorKind::RemoteMac, self.text.len()))?;
            t.remote_mac = Some(mac);
        }

        Ok(Parsed { target: t, warning: self.warning })
    }
}
