//! A message as the receiver hands it out: one basic line, or one extended record reassembled.

use core::net::SocketAddr;

use super::datagram::Header;
#[cfg(doc)]
use super::{unescape, Counters, Receiver};

/// Whether a message came with an extended header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Kind {
    /// Console text with no header, one line.
    Basic,
    /// An extended record.
    Extended,
}

impl Kind {
    /// `"basic"` or `"extended"`, as `netconsole listen --format json` writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Basic => "basic",
            Kind::Extended => "extended",
        }
    }
}

/// Where datagrams come from and where they arrive: what the receiver keeps apart. Two targets
/// of one kernel share its source port but not their destination, so `local` matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stream {
    /// The sender's address.
    pub src: SocketAddr,
    /// The local address the datagram arrived on (the bound socket's address will do); the
    /// unspecified `0.0.0.0:0` when the caller has only one.
    pub local: SocketAddr,
}

impl Stream {
    /// The stream from `src` to `local`.
    pub const fn new(src: SocketAddr, local: SocketAddr) -> Self {
        Stream { src, local }
    }
}

/// One message. It borrows the receiver's memory (or the datagram's) for the length of the
/// callback it is handed to; copy out what must outlive it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// The sender's address, as given to the receiver.
    pub src: SocketAddr,
    /// The local address it arrived on, as given to [`Receiver::receive_on`]; unspecified for
    /// [`Receiver::receive`].
    pub local: SocketAddr,
    /// The extended header; `None` for basic text.
    pub header: Option<Header<'a>>,
    /// The text: a basic line without its `\n`, or an extended record's first line, still in
    /// printk's escaping (`\xNN` for control bytes, non-ASCII and `\`; [`unescape`] undoes it).
    pub text: &'a [u8],
    /// An extended record's lines after the text: dictionary (`SUBSYSTEM=`, `DEVICE=`), userdata
    /// and sysdata, each ` key=value\n`. Read them with [`Message::fields`]. Empty for basic text.
    pub dict: &'a [u8],
    /// Every byte arrived. `false` for a record with fragments missing at the timeout (what did
    /// arrive is kept, in offset order, gaps closed up), a record cut at the receiver's byte
    /// cap, or a basic line flushed without its `\n`.
    pub complete: bool,
    /// A piece of a basic line longer than the receiver holds: the sender's next message
    /// carries on the same line.
    pub continues: bool,
    /// How many of the sender's records before this one, by sequence number, had not arrived
    /// when it went out (0 for basic text). Some may still come, late: see
    /// [`Counters::missing`].
    pub missing_before: u64,
}

impl<'a> Message<'a> {
    /// A basic line.
    pub(crate) fn basic(stream: Stream, line: &'a [u8], complete: bool) -> Self {
        let Stream { src, local } = stream;
        Message {
            src,
            local,
            header: None,
            text: line,
            dict: &[],
            complete,
            continues: false,
            missing_before: 0,
        }
    }

    /// An extended record whose data (after the header's `;`) is `data`.
    pub(crate) fn extended(
        stream: Stream,
        header: Header<'a>,
        data: &'a [u8],
        complete: bool,
    ) -> Self {
        let (text, dict) = match data.iter().position(|&b| b == b'\n') {
            Some(newline) => {
                let (text, rest) = data.split_at(newline);
                (text, rest.get(1..).unwrap_or_default())
            }
            None => (data, &[][..]),
        };
        let Stream { src, local } = stream;
        Message {
            src,
            local,
            header: Some(header),
            text,
            dict,
            complete,
            continues: false,
            missing_before: 0,
        }
    }

    /// Basic or extended.
    pub fn kind(&self) -> Kind {
        if self.header.is_some() {
            Kind::Extended
        } else {
            Kind::Basic
        }
    }

    /// The ` key=value` lines of [`Message::dict`], in order, as `(key, value)`. Lines of another
    /// shape (no leading space, no `=`) are skipped.
    pub fn fields(&self) -> Fields<'a> {
        Fields { rest: self.dict }
    }
}

/// The iterator [`Message::fields`] returns.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Fields<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        while !self.rest.is_empty() {
            let (line, rest) = match self.rest.iter().position(|&b| b == b'\n') {
                Some(newline) => {
                    let (line, rest) = self.rest.split_at(newline);
                    (line, rest.get(1..).unwrap_or_default())
                }
                None => (self.rest, &[][..]),
            };
            self.rest = rest;
            let Some(pair) = line.strip_prefix(b" ") else { continue };
            if let Some(equals) = pair.iter().position(|&b| b == b'=') {
                let (key, value) = pair.split_at(equals);
                return Some((key, value.get(1..).unwrap_or_default()));
            }
        }
        None
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn text_and_fields() {
        let header = Header {
            facility: 0,
            level: 6,
            seq: 1,
            ts_us: 100,
            cont: false,
            caller: None,
            release: None,
        };
        let src = Stream::new("10.0.0.1:6665".parse().unwrap(), "10.0.0.2:6666".parse().unwrap());
        let m = Message::extended(
            src,
            header,
            b"hello\n SUBSYSTEM=net\nnot a field\n key=a=b\n empty=\n",
            true,
        );
        assert_eq!(m.text, b"hello");
        assert_eq!(m.kind(), Kind::Extended);
        let fields: Vec<_> = m.fields().collect();
        assert_eq!(fields, [(&b"SUBSYSTEM"[..], &b"net"[..]), (b"key", b"a=b"), (b"empty", b"")]);
        let m = Message::extended(src, header, b"no newline", false);
        assert_eq!((m.text, m.dict), (&b"no newline"[..], &b""[..]));
    }
}
