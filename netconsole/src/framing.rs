//! One message to one target: the datagrams it becomes (raw chunks of console text for a basic
//! target, Linux's extended record and fragments for an extended one), sent from where an earlier
//! try stopped.
//!
//! Where a copy stopped is counted in bytes of what the target gets (text for a basic target, the
//! data stream for an extended one), and the cut points depend only on those bytes and on the
//! extras given (userdata and sysdata as first sent), so a resumed copy is cut exactly as the
//! first try would have cut it: the receiver sees each datagram once, with one `ncfrag` total.

use embedded_hal::delay::DelayNs;
use netpoll_core::wire::Payload;
use netpoll_core::{Endpoint, NetPoll, NicEngine, SendError};

use crate::backlog::Extras;
use crate::record::ExtendedRecord;
use crate::stream::{for_each_packet, DataStream, MAX_PRINT_CHUNK};

/// How one target's copy of a message went.
#[derive(Debug)]
pub(crate) struct Sent {
    /// Datagrams sent now.
    pub(crate) frames: u32,
    /// Their UDP payload bytes.
    pub(crate) bytes: u64,
    /// Bytes of the copy done, the earlier tries included: where a next try resumes.
    pub(crate) offset: u32,
    /// The first failure, which ended the copy.
    pub(crate) result: Result<(), SendError>,
}

impl Sent {
    fn from(offset: usize) -> Self {
        Sent { frames: 0, bytes: 0, offset: offset as u32, result: Ok(()) }
    }

    /// Sends one datagram covering bytes up to `end` of the copy.
    fn send<D: NetPoll, W: DelayNs>(
        &mut self,
        np: &mut NicEngine<D, W>,
        to: &Endpoint,
        payload: &dyn Payload,
        end: usize,
    ) -> Result<(), SendError> {
        np.send_payload(to, payload).inspect_err(|e| self.result = Err(*e))?;
        self.frames += 1;
        self.bytes += payload.len() as u64;
        self.offset = end as u32;
        Ok(())
    }
}

/// Sends `text` followed by `tail` in raw chunks of at most [`MAX_PRINT_CHUNK`] bytes, from byte
/// `from` (a chunk boundary).
pub(crate) fn basic<D: NetPoll, W: DelayNs>(
    np: &mut NicEngine<D, W>,
    to: &Endpoint,
    text: &[u8],
    tail: &'static [u8],
    from: u32,
) -> Sent {
    let from = (from as usize).min(text.len() + tail.len());
    // What is left to send of each, from `from` on.
    let (mut text, mut tail) = match text.get(from..) {
        Some(rest) => (rest, tail),
        None => (&[][..], tail.get(from - text.len()..).unwrap_or_default()),
    };
    let mut sent = Sent::from(from);
    let mut at = from;
    while !(text.is_empty() && tail.is_empty()) {
        let (head, text_rest) = text.split_at(text.len().min(MAX_PRINT_CHUNK));
        let (end, tail_rest) = tail.split_at(tail.len().min(MAX_PRINT_CHUNK - head.len()));
        at += head.len() + end.len();
        if sent.send(np, to, &Chunk { text: head, tail: end }, at).is_err() {
            break;
        }
        (text, tail) = (text_rest, tail_rest);
    }
    sent
}

/// Sends `record` as Linux's extended datagrams with `extras` after its body, from data-stream
/// byte `from` (a fragment boundary).
pub(crate) fn extended<D: NetPoll, W: DelayNs>(
    np: &mut NicEngine<D, W>,
    to: &Endpoint,
    release: Option<&[u8]>,
    record: &ExtendedRecord<'_>,
    extras: Extras<'_>,
    from: u32,
) -> Sent {
    let (userdata, tail) = match extras {
        Extras::Live { userdata, sysdata } => (userdata, sysdata),
        // The frozen extras are userdata and sysdata in one piece: the same bytes in the stream.
        Extras::Frozen(bytes) => (&[][..], bytes),
    };
    let data = DataStream::new(record.text, record.subsystem, record.device, userdata, tail);
    let header = record.header();
    let mut sent = Sent::from(from as usize);
    let _ = for_each_packet(release, header.as_bytes(), &data, &mut |packet| {
        let range = packet.data_range();
        if range.end <= from as usize {
            return Ok(()); // sent by an earlier try
        }
        sent.send(np, to, packet, range.end)
    });
    sent
}

/// A window of `text ++ tail`: the part of each it covers, cut once by [`basic`].
struct Chunk<'a> {
    text: &'a [u8],
    tail: &'a [u8],
}

impl Payload for Chunk<'_> {
    fn len(&self) -> usize {
        self.text.len() + self.tail.len()
    }

    fn for_each_slice(&self, f: &mut dyn FnMut(&[u8])) {
        if !self.text.is_empty() {
            f(self.text);
        }
        if !self.tail.is_empty() {
            f(self.tail);
        }
    }

    fn single_slice(&self) -> Option<&[u8]> {
        // A window inside the text (every chunk of a basic write but a record's last newline).
        self.tail.is_empty().then_some(self.text)
    }
}
