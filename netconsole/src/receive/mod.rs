//! The receiver: parses netconsole datagrams and reassembles `ncfrag` fragments in fixed memory.
//!
//! What a Linux sender puts on the wire (spec section 3), and what comes out here:
//!
//! - **Basic** datagrams are console text with no header, long lines cut into 1000-byte chunks.
//!   They are split into lines per sender; a line cut across datagrams is joined.
//! - **Extended** datagrams carry printk's header (`<prefix>,<seq>,<ts_us>,<flag>[,..];`),
//!   perhaps after a `<release>,` prefix; records over 1000 bytes come as `ncfrag=<off>/<total>`
//!   fragments, reassembled per stream (sender and local address: [`Stream`]) and record in
//!   any order, duplicates dropped, gaps in the sequence numbers counted. A record
//!   whose fragments do not all come within the timeout goes out marked incomplete, with what
//!   did arrive. [`datagram`] says how an extended header is told from text and a release
//!   prefix from a header.
//!
//! Untrusted input throughout: nothing panics, nothing grows. Memory is fixed by
//! [`Receiver`]'s const generics; what its caps refuse is counted in [`Counters`] and
//! reported as an [`Error`], and the receiver carries on. There is no I/O and no clock: the
//! caller hands in datagrams and the time, and takes messages through a callback, so the same
//! code serves `netconsole listen`, firmware, and the fuzz target.
//!
//! ```
//! use netconsole::receive::{Config, Receiver};
//!
//! let mut receiver: Receiver<4, 4, 2048> = Receiver::new(Config::DEFAULT);
//! let src = "192.0.2.1:6665".parse().unwrap();
//! let mut texts = Vec::new();
//! let mut out = |m: netconsole::receive::Message<'_>| texts.push((m.text.to_vec(), m.complete));
//! receiver.receive(0, src, b"6,2,100,-,ncfrag=4/7;def", &mut out).unwrap();
//! receiver.receive(1, src, b"6,2,100,-,ncfrag=0/7;abc\n", &mut out).unwrap();
//! receiver.receive(2, src, b"[    1.000000] basic text\n", &mut out).unwrap();
//! assert_eq!(texts, [(b"abc".to_vec(), true), (b"[    1.000000] basic text".to_vec(), true)]);
//! ```

mod counters;
mod coverage;
pub mod datagram;
mod escape;
mod message;
mod receiver;
mod sender;
mod slot;

#[cfg(test)]
mod fragmenter;
#[cfg(test)]
mod test;
#[cfg(test)]
mod test_limits;

pub use counters::{Counters, Error};
pub use coverage::MAX_RUNS;
pub use datagram::{parse, Datagram, Fragment, Header, Malformed};
pub use escape::{is_escaped, unescape, Unescape};
pub use message::{Fields, Kind, Message, Stream};
pub use receiver::{Config, Receiver};
pub use sender::SenderEntry;
