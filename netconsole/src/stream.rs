//! A message's bytes as they go on the wire, walked in place: the extended record's body
//! (escaped as it is read), its dictionary, the target's userdata and sysdata, and the packets
//! cut from them. Nothing is copied until the frame builder copies it into the TX slot.

use core::cell::Cell;

use netpoll_core::wire::Payload;

use crate::decimal;
use crate::record::{escaped_len, walk_escaped, walk_escaped_from, EscapeCursor};
use crate::userdata::Entry;

/// Linux's `MAX_PRINT_CHUNK`: the most bytes of console text one datagram carries.
pub const MAX_PRINT_CHUNK: usize = 1000;

/// One piece of the data stream.
#[derive(Debug, Clone, Copy)]
enum Piece<'a> {
    Raw(&'a [u8]),
    /// Bytes sent escaped, and their escaped length (counted once).
    Escaped(&'a [u8], usize),
    /// The message text: escaped, walked from where the previous fragment stopped.
    Text(&'a [u8], usize, &'a Cell<EscapeCursor>),
}

impl Piece<'_> {
    fn len(&self) -> usize {
        match *self {
            Piece::Raw(b) => b.len(),
            Piece::Escaped(_, len) | Piece::Text(_, len, _) => len,
        }
    }

    /// Emits bytes `start..end` of the piece (as it goes on the wire).
    fn walk(&self, start: usize, end: usize, f: &mut dyn FnMut(&[u8])) {
        match *self {
            Piece::Raw(b) => f(b.get(start..end).unwrap_or_default()),
            Piece::Escaped(b, _) => walk_escaped(b, start, end, f),
            Piece::Text(b, _, cursor) => {
                cursor.set(walk_escaped_from(b, cursor.get(), start, end, f))
            }
        }
    }
}

/// What an extended record carries after its header's `;`, in wire order: escaped text and
/// `\n`, the dictionary lines, userdata, sysdata.
pub struct DataStream<'a> {
    text: &'a [u8],
    text_len: usize,
    subsystem: &'a [u8],
    device: &'a [u8],
    userdata: &'a [Entry],
    sysdata: &'a [u8],
    len: usize,
    /// Where the last walk of the text stopped.
    text_cursor: Cell<EscapeCursor>,
}

impl<'a> DataStream<'a> {
    /// The stream for this body, dictionary, userdata and rendered sysdata.
    pub(crate) fn new(
        text: &'a [u8],
        subsystem: Option<&'a [u8]>,
        device: Option<&'a [u8]>,
        userdata: &'a [Entry],
        sysdata: &'a [u8],
    ) -> Self {
        let mut stream = DataStream {
            text,
            text_len: escaped_len(text),
            subsystem: subsystem.unwrap_or_default(),
            device: device.unwrap_or_default(),
            userdata,
            sysdata,
            len: 0,
            text_cursor: Cell::new(EscapeCursor::default()),
        };
        let mut len = 0;
        stream.for_each_piece(&mut |p| len += p.len());
        stream.len = len;
        stream
    }

    /// Length on the wire.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the stream is empty (it never is: the body ends in `\n`).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn for_each_piece<'s>(&'s self, f: &mut dyn FnMut(Piece<'s>)) {
        // Most text has nothing to escape (its escaped length says so): then it is sent as it is,
        // without a second look at every byte.
        if self.text_len == self.text.len() {
            f(Piece::Raw(self.text));
        } else {
            f(Piece::Text(self.text, self.text_len, &self.text_cursor));
        }
        f(Piece::Raw(b"\n"));
        // printk's msg_add_dict_text: an empty value adds nothing; the value is escaped.
        for (key, value) in [(&b" SUBSYSTEM="[..], self.subsystem), (b" DEVICE=", self.device)] {
            if !value.is_empty() {
                f(Piece::Raw(key));
                f(Piece::Escaped(value, escaped_len(value)));
                f(Piece::Raw(b"\n"));
            }
        }
        for entry in self.userdata {
            f(Piece::Raw(entry.rendered()));
        }
        f(Piece::Raw(self.sysdata));
    }

    /// Emits bytes `from..to` of the stream.
    pub fn walk(&self, from: usize, to: usize, f: &mut dyn FnMut(&[u8])) {
        let mut at = 0;
        self.for_each_piece(&mut |piece| {
            let len = piece.len();
            let (lo, hi) = (at.max(from), (at + len).min(to));
            if lo < hi {
                piece.walk(lo - at, hi - at, f);
            }
            at += len;
        });
    }
}

/// The separator after the header: `;`, or `,ncfrag=<offset>/<total>;` in a fragment.
type Separator = heapless::Vec<u8, 50>;

/// One datagram of an extended message: `[<release>,]<header><separator>` and a window of the
/// data stream.
pub struct Packet<'a> {
    release: Option<&'a [u8]>,
    header: &'a [u8],
    separator: Separator,
    data: &'a DataStream<'a>,
    from: usize,
    to: usize,
}

impl Packet<'_> {
    /// The bytes of the data stream this datagram carries (its `ncfrag` offset up to the next).
    pub fn data_range(&self) -> core::ops::Range<usize> {
        self.from..self.to
    }
}

impl Payload for Packet<'_> {
    fn len(&self) -> usize {
        self.release.map_or(0, |r| r.len() + 1)
            + self.header.len()
            + self.separator.len()
            + (self.to - self.from)
    }

    fn for_each_slice(&self, f: &mut dyn FnMut(&[u8])) {
        if let Some(release) = self.release {
            f(release);
            f(b",");
        }
        f(self.header);
        f(&self.separator);
        self.data.walk(self.from, self.to, f);
    }
}

/// Cuts an extended message into datagrams exactly as Linux's `send_ext_msg_udp` does (spec
/// section 3.3) and hands each to `send`, stopping at the first error.
///
/// If the whole message fits [`MAX_PRINT_CHUNK`] it goes as one datagram without `ncfrag`.
/// Otherwise every datagram repeats the release and header and says `,ncfrag=<offset>/<total>`,
/// where offset and total count data-stream bytes only, and every datagram but the last is
/// exactly [`MAX_PRINT_CHUNK`] bytes.
pub fn for_each_packet<E>(
    release: Option<&[u8]>,
    header: &[u8],
    data: &DataStream<'_>,
    send: &mut dyn FnMut(&Packet<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let prefix_len = release.map_or(0, |r| r.len() + 1) + header.len();
    let total = data.len();
    if prefix_len + 1 + total <= MAX_PRINT_CHUNK {
        let mut separator = Separator::new();
        let _ = separator.push(b';');
        return send(&Packet { release, header, separator, data, from: 0, to: total });
    }
    let mut sent = 0;
    while sent < total {
        let mut separator = Separator::new();
        // At most 8 + 20 + 1 + 20 + 1 bytes: fits.
        // Digits by hand, not `write!`: see the `decimal` module.
        let out = separator.as_mut_view();
        let _ = out.extend_from_slice(b",ncfrag=");
        decimal::append(out, sent as u64);
        let _ = out.push(b'/');
        decimal::append(out, total as u64);
        let _ = out.push(b';');
        // The release is capped at 64 bytes and the header at 80, so the room is never 0;
        // max(1) keeps the loop finite whatever changes.
        let room = MAX_PRINT_CHUNK.saturating_sub(prefix_len + separator.len()).max(1);
        let take = room.min(total - sent);
        send(&Packet { release, header, separator, data, from: sent, to: sent + take })?;
        sent += take;
    }
    Ok(())
}
