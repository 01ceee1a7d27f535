#![doc = include_str!("../README.md")]
//!
//! # Map
//!
//! - [`parse_target`] / [`parse_target_bytes`]: one target; [`targets`] / [`targets_bytes`]:
//!   every `;` piece of an option string, each its own `Result`.
//! - [`Target`], [`Device`], [`DeviceName`]: the result, with typed fields, and a `const`
//!   builder ([`Target::new`] and the `with_*` methods).
//! - [`ParseError`]: kind, byte offset and Linux's `cur` text; `Display` is Linux's log line.
//! - [`Warning`]: what Linux only warns about (whitespace before the target port).
//! - `Display` for [`Target`] and [`Target::to_option_string`]: the canonical option string.
//!
//! # Strings and bytes
//!
//! The parser works on bytes, so any input is safe. As in C, the input ends at its first NUL
//! byte: a zero-padded buffer (the way Linux holds `config[256]`) can be passed whole.
//! Errors borrow their `cur` text from the input rather than copy it.
//!
//! # Which Linux
//!
//! The parser of `drivers/net/netconsole.c` as of 6.18+ (`netconsole_parser_cmdline`), whose
//! grammar is 6.x's `netpoll_parse_options`; its `netpoll_parse_ip_addr` also takes an address
//! ended by `\n`, which 6.x refused. Where the result depends on the kernel's configuration:
//! `CONFIG_NETCONSOLE_EXTENDED_LOG` and `CONFIG_NETCONSOLE_PREPEND_RELEASE` off (a target is
//! basic unless it says `+`, and `r` needs `+`), `CONFIG_IPV6` on, and an option string over
//! 255 bytes refused as the module parameter refuses it.
#![no_std]
// docs.rs (and `--cfg docsrs` locally, on nightly) marks feature-gated items as such.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(test)]
extern crate std;

mod display;
mod error;
mod kernel;
mod parse;
mod target;
mod targets;
mod text;

pub use display::{OptionString, MAX_TARGET_TEXT_LEN};
pub use error::{ParseError, ParseErrorKind, PortError, Warning};
pub use netpoll_core::MacAddr;
pub use parse::Parsed;
pub use target::{
    Device, DeviceName, InvalidDeviceName, InvalidTarget, Target, DEFAULT_LOCAL_PORT,
    DEFAULT_REMOTE_PORT, MAX_DEVICE_NAME_LEN,
};
pub use targets::Targets;

/// The longest option string Linux takes: `MAX_PARAM_LENGTH` (256) less the NUL.
///
/// Built in, Linux would silently cut a longer `netconsole=` at 255 bytes; as a module
/// parameter it refuses it. A cut configuration is worse than none, so longer strings are
/// refused here with [`ParseErrorKind::OptionStringTooLong`].
pub const MAX_OPTION_LEN: usize = 255;

/// Parses an option string that holds exactly one target.
///
/// Succeeds exactly when Linux, given `s` as its whole `netconsole=` value, would make one
/// target; fails with the error Linux logs otherwise. A `;` makes it several targets and
/// fails with [`ParseErrorKind::TargetSeparator`]; use [`targets`] for those. An empty string
/// (no target at all for Linux) fails as an empty piece does, at `''`.
pub fn parse_target(s: &str) -> Result<Parsed, ParseError<'_>> {
    parse_target_bytes(s.as_bytes())
}

/// [`parse_target`] on bytes.
pub fn parse_target_bytes(input: &[u8]) -> Result<Parsed, ParseError<'_>> {
    let input = c_string(input);
    if input.len() > MAX_OPTION_LEN {
        let kind = ParseErrorKind::OptionStringTooLong { len: input.len() };
        return Err(ParseError::new(kind, MAX_OPTION_LEN, &[]));
    }
    if let Some(at) = input.iter().position(|&b| b == b';') {
        return Err(ParseError::new(ParseErrorKind::TargetSeparator, at, &[]));
    }
    parse::parse_piece(input)
}

/// The targets of an option string, one `Result` per `;` piece, in order (see [`Targets`]).
pub fn targets(s: &str) -> Targets<'_> {
    Targets::new(s.as_bytes())
}

/// [`targets`] on bytes.
pub fn targets_bytes(input: &[u8]) -> Targets<'_> {
    Targets::new(input)
}

impl<'a> TryFrom<&'a str> for Target {
    type Error = ParseError<'a>;

    /// [`parse_target`], keeping only the target (a [`Warning`] is dropped).
    fn try_from(s: &'a str) -> Result<Self, Self::Error> {
        parse_target(s).map(|parsed| parsed.target)
    }
}

impl<'a> TryFrom<&'a [u8]> for Target {
    type Error = ParseError<'a>;

    /// [`parse_target_bytes`], keeping only the target (a [`Warning`] is dropped).
    fn try_from(input: &'a [u8]) -> Result<Self, Self::Error> {
        parse_target_bytes(input).map(|parsed| parsed.target)
    }
}

/// The C string `input` stands for: up to its first NUL byte.
fn c_string(input: &[u8]) -> &[u8] {
    match input.iter().position(|&b| b == 0) {
        Some(end) => input.get(..end).unwrap_or(input),
        None => input,
    }
}
