//! One slot of the receiver's fixed pool: a basic line waiting for its `\n`, or an extended
//! record waiting for its fragments.
//!
//! Both need the same thing (a buffer that outlives one datagram), so one pool serves both and
//! one set of caps bounds both. A record's bytes land at their `ncfrag` offsets; bytes past the
//! buffer's end are counted as received (so completion is still known) but not kept.

use super::coverage::{Coverage, TooManyRuns};
use super::datagram::{Header, CALLER_MAX, RELEASE_MAX};

/// What identifies one fragmented record of one sender: fragments of it repeat its header, and
/// the total tells apart records that share a sequence number (a reboot, or test data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub seq: u64,
    pub ts_us: u64,
    pub total: u32,
}

/// An owned copy of a record's header, taken from its first fragment to arrive, and what of
/// the record has arrived.
#[derive(Debug, Clone)]
pub struct Record {
    pub key: Key,
    facility: u32,
    level: u8,
    cont: bool,
    caller: Option<heapless::Vec<u8, CALLER_MAX>>,
    release: Option<heapless::Vec<u8, RELEASE_MAX>>,
    coverage: Coverage,
}

impl Record {
    const EMPTY: Self = Record {
        key: Key { seq: 0, ts_us: 0, total: 0 },
        facility: 0,
        level: 0,
        cont: false,
        caller: None,
        release: None,
        coverage: Coverage::new(),
    };
}

/// What a slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holding {
    Free,
    /// The start of a basic line; `Slot::len` bytes of it.
    Line,
    /// A record being reassembled: `Slot::record`.
    Record,
}

/// A pool slot.
#[derive(Debug, Clone)]
pub struct Slot<const BYTES: usize> {
    pub holding: Holding,
    /// Index of the owning sender in the receiver's table.
    pub owner: usize,
    /// When the first datagram of what it holds arrived; the timeout counts from here.
    pub started_ms: u64,
    /// A line's length; unused for records (their length is in the coverage).
    len: usize,
    /// Meaningful while `holding` is `Record`. A field, not the enum's payload, so that the enum
    /// stays small and the slot's layout fixed.
    record: Record,
    buf: [u8; BYTES],
}

impl<const BYTES: usize> Slot<BYTES> {
    /// An unused slot.
    pub const FREE: Self = Slot {
        holding: Holding::Free,
        owner: 0,
        started_ms: 0,
        len: 0,
        record: Record::EMPTY,
        buf: [0; BYTES],
    };

    pub fn is_free(&self) -> bool {
        self.holding == Holding::Free
    }

    pub fn free(&mut self) {
        self.holding = Holding::Free;
        self.len = 0;
    }

    /// Starts holding a basic line for `owner`.
    pub fn start_line(&mut self, owner: usize, now_ms: u64) {
        self.holding = Holding::Line;
        self.owner = owner;
        self.started_ms = now_ms;
        self.len = 0;
    }

    /// Appends to the line what fits; returns the rest, non-empty only when the buffer is full.
    pub fn append<'d>(&mut self, bytes: &'d [u8]) -> &'d [u8] {
        let room = BYTES.saturating_sub(self.len);
        let (taken, rest) = bytes.split_at(bytes.len().min(room));
        let end = self.len + taken.len();
        if let Some(dest) = self.buf.get_mut(self.len..end) {
            dest.copy_from_slice(taken);
            self.len = end;
        }
        rest
    }

    /// The line held so far.
    pub fn line(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// Empties the line (after handing out a full buffer), keeping the slot.
    pub fn restart_line(&mut self) {
        self.len = 0;
    }

    /// Starts reassembling the record `key` for `owner`, with `header` copied in. (The parser
    /// caps the header's strings at the copies' capacity.)
    pub fn start_record(&mut self, owner: usize, now_ms: u64, header: &Header<'_>, key: Key) {
        self.holding = Holding::Record;
        self.record = Record {
            key,
            facility: header.facility,
            level: header.level,
            cont: header.cont,
            caller: header.caller.and_then(|caller| heapless::Vec::from_slice(caller).ok()),
            release: header.release.and_then(|release| heapless::Vec::from_slice(release).ok()),
            coverage: Coverage::new(),
        };
        self.owner = owner;
        self.started_ms = now_ms;
        self.len = 0;
    }

    /// The key of the record held, if a record is held.
    pub fn key(&self) -> Option<Key> {
        (self.holding == Holding::Record).then_some(self.record.key)
    }

    /// Puts a fragment's bytes at `offset`: `Ok(true)` if any were new, `Ok(false)` for a
    /// duplicate. The parser has checked that they fit in the record's total.
    pub fn add_fragment(&mut self, offset: u32, data: &[u8]) -> Result<bool, TooManyRuns> {
        if self.holding != Holding::Record {
            return Ok(false);
        }
        let record = &mut self.record;
        let end = u32::try_from(data.len()).ok().and_then(|len| offset.checked_add(len));
        let Some(end) = end.filter(|&end| end <= record.key.total) else { return Ok(false) };
        let new = record.coverage.insert(offset, end)?;
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        if start < BYTES {
            let kept = data.len().min(BYTES - start);
            if let (Some(dest), Some(src)) =
                (self.buf.get_mut(start..start + kept), data.get(..kept))
            {
                dest.copy_from_slice(src);
            }
        }
        Ok(new)
    }

    /// Whether every byte of the record held has arrived.
    pub fn is_complete(&self) -> bool {
        self.holding == Holding::Record && self.record.coverage.is_complete(self.record.key.total)
    }

    /// Whether the record held is longer than the buffer.
    pub fn is_truncated(&self) -> bool {
        self.key().is_some_and(|key| u64::from(key.total) > BYTES as u64)
    }

    /// Moves the kept bytes of what arrived to the front, in offset order, and returns how many
    /// there are (read them with [`Slot::kept`]). For a complete record that fits, that is the
    /// record's data, unmoved.
    pub fn close_gaps(&mut self) -> usize {
        if self.holding != Holding::Record {
            return self.len;
        }
        let record = &self.record;
        let mut write = 0;
        for &(start, end) in record.coverage.runs() {
            let start = usize::try_from(start).unwrap_or(usize::MAX).min(BYTES);
            let end = usize::try_from(end).unwrap_or(usize::MAX).min(BYTES);
            if start >= end {
                break;
            }
            self.buf.copy_within(start..end, write);
            write += end - start;
        }
        write
    }

    /// The first `len` bytes of the buffer.
    pub fn kept(&self, len: usize) -> &[u8] {
        self.buf.get(..len).unwrap_or_default()
    }

    /// The record's header, borrowing its strings from the slot.
    pub fn header(&self) -> Option<Header<'_>> {
        if self.holding != Holding::Record {
            return None;
        }
        let record = &self.record;
        Some(Header {
            facility: record.facility,
            level: record.level,
            seq: record.key.seq,
            ts_us: record.key.ts_us,
            cont: record.cont,
            caller: record.caller.as_deref(),
            release: record.release.as_deref(),
        })
    }
}
