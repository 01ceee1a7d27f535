//! The backlog: messages that could not be sent when they were written, kept in order in a
//! fixed byte buffer until the write that holds the console (or an explicit flush) sends them.
//!
//! Each entry is a small header and the message bytes, so a short line costs little. A message
//! that met a full TX ring partway also keeps, per target it stopped for, where it stopped (in
//! bytes of what that target gets) and what its cut points depend on (the release prefix, and the
//! target's userdata and sysdata, as first sent), so that resuming sends the same datagrams
//! whatever changed since.
//! Entries are removed from the front, which moves the rest down: bounded by the buffer size, and
//! done inside a short critical section.

use crate::message::{Kind, Message};
use crate::record::{Caller, ExtendedRecord};
use crate::userdata::Entry;

/// Bytes of an entry's header: kind, target mask, facility, level, flags, caller, seq,
/// timestamp, and the lengths of text, subsystem and device.
const HEADER: usize = 1 + 4 + 1 + 1 + 1 + 4 + 8 + 8 + 2 + 2 + 2;
/// Bit of the kind byte saying resume records follow the message bytes.
const HAS_RESUME: u8 = 0x80;
/// Bytes of a resume record before its release and extras: target index, offset, extras length,
/// release length.
const RECORD: usize = 1 + 4 + 2 + 1;

/// The extras of a target's extended datagrams: userdata then sysdata.
#[derive(Clone, Copy)]
pub(crate) enum Extras<'a> {
    /// As the target has them now.
    Live { userdata: &'a [Entry], sysdata: &'a [u8] },
    /// As they were when the message first went to the target, in one piece.
    Frozen(&'a [u8]),
}

impl Extras<'_> {
    /// Writes them into `out` from `at`; returns where they end. Userdata are an extended
    /// target's: a console without the extended format has none, and no code for them.
    fn write(&self, out: &mut [u8], mut at: usize) -> usize {
        match self {
            Extras::Live { userdata, sysdata } => {
                if crate::EXTENDED {
                    userdata.iter().for_each(|e| at = put(out, at, e.rendered()));
                }
                put(out, at, sysdata)
            }
            Extras::Frozen(bytes) => put(out, at, bytes),
        }
    }
}

/// Where one target's copy of a message stopped.
#[derive(Clone, Copy)]
pub(crate) struct Resume<'a> {
    /// The target's slot.
    pub(crate) index: u8,
    /// Bytes already sent: of the text for a basic target, of the data stream (the `ncfrag`
    /// offset) for an extended one.
    pub(crate) offset: u32,
    /// The extras the cut points were computed with (empty for a basic target).
    pub(crate) extras: Extras<'a>,
    /// The release the cut points were computed with (empty for a basic target): its length
    /// sets the room in each datagram.
    pub(crate) release: &'a [u8],
}

/// The resume records of a decoded entry.
#[derive(Clone, Copy)]
pub(crate) struct Resumes<'a>(&'a [u8]);

impl<'a> Resumes<'a> {
    /// No records.
    pub(crate) const NONE: Resumes<'static> = Resumes(&[]);

    /// Every record, in the order they were written.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Resume<'a>> + Clone + 'a {
        self.encoded().map(|record| {
            let (head, tail) = record.split_at(RECORD.min(record.len()));
            let (release, extras) = tail.split_at(usize::from(byte(head, 7)).min(tail.len()));
            let offset = u32::from_le_bytes(le(head, 1));
            Resume { index: byte(head, 0), offset, extras: Extras::Frozen(extras), release }
        })
    }

    /// Every record as it is encoded (header, release, extras), in the order they were
    /// written: an entry put back at the front copies the records it carries as they are.
    fn encoded(&self) -> impl Iterator<Item = &'a [u8]> + Clone + 'a {
        let mut rest = self.0.get(1..).unwrap_or_default();
        core::iter::from_fn(move || {
            let head = rest.get(..RECORD)?;
            let extras = usize::from(u16::from_le_bytes(le(head, 5)));
            let len = RECORD + usize::from(byte(head, 7)) + extras;
            let (record, tail) = rest.split_at_checked(len)?;
            rest = tail;
            Some(record)
        })
    }

    /// The record of the target in slot `index`, if its copy stopped partway.
    pub(crate) fn find(&self, index: usize) -> Option<Resume<'a>> {
        self.iter().find(|r| usize::from(r.index) == index)
    }
}

/// The older records (`carried`, encoded) an entry put back at the front keeps: those of the
/// targets still in `mask` other than the one it stopped for now (`stopped`). Made on the fly
/// rather than collected, so that no array of 32 records sits on the stack of an interrupt
/// handler.
fn kept<'r>(
    carried: Resumes<'r>,
    stopped: Option<u8>,
    mask: u32,
) -> impl Iterator<Item = &'r [u8]> + Clone {
    carried.encoded().filter(move |record| {
        let index = byte(record, 0);
        Some(index) != stopped && mask & 1u32.checked_shl(u32::from(index)).unwrap_or(0) != 0
    })
}

/// A FIFO of messages in `B` bytes.
pub(crate) struct Backlog<const B: usize> {
    bytes: heapless::Vec<u8, B>,
    entries: usize,
    /// Bytes appended so far (wrapping): a write that holds the console notes it when it looks,
    /// and so tells the entries nested writes added since (see [`Backlog::push_ahead_of`]).
    appended: usize,
}

impl<const B: usize> Backlog<B> {
    pub(crate) const fn new() -> Self {
        Backlog { bytes: heapless::Vec::new(), entries: 0, appended: 0 }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// Number of messages waiting.
    pub(crate) fn entries(&self) -> usize {
        self.entries
    }

    /// Bytes in use.
    pub(crate) fn used(&self) -> usize {
        self.bytes.len()
    }

    /// Bytes appended so far, for [`push_ahead_of`](Self::push_ahead_of).
    pub(crate) fn appended(&self) -> usize {
        self.appended
    }

    /// Appends `message` for the targets in `mask`; `false` if it does not fit. The console
    /// appends through [`push_ahead_of`](Self::push_ahead_of).
    #[cfg(test)]
    pub(crate) fn push(&mut self, message: &Message<'_>, mask: u32) -> bool {
        self.push_ahead_of(message, mask, self.appended)
    }

    /// Puts `message` behind every entry but those appended since [`appended`](Self::appended)
    /// said `since` (at the end if none were): the own message of a write that could not send
    /// it keeps its place ahead of what writes nested in it added. `false` if it does not fit.
    ///
    /// Those entries are the last bytes, as many as were appended since: while a write holds
    /// the console, entries leave or are put back only at the front (by that write), and only
    /// writes that cannot take the console append (configuration, which clears a target's
    /// entries anywhere, takes the console too). Bytes rather than a walk over the entries:
    /// 112 bytes less of a Cortex-M image.
    pub(crate) fn push_ahead_of(&mut self, message: &Message<'_>, mask: u32, since: usize) -> bool {
        let used = self.bytes.len();
        let at = used.saturating_sub(self.appended.wrapping_sub(since));
        let kept = self.insert(message, mask, at, None, Resumes::NONE);
        if kept {
            self.appended = self.appended.wrapping_add(self.bytes.len() - used);
        }
        kept
    }

    /// Puts `message` in front of every other entry (a message that was being sent when the
    /// ring filled goes before what was deferred meanwhile), for the targets in `mask`, with
    /// where it stopped now (`stopped`) and the older records (`carried`, from the entry it was
    /// sent from) of the other targets in `mask`; `false` if it does not fit.
    pub(crate) fn push_front(
        &mut self,
        message: &Message<'_>,
        mask: u32,
        stopped: Option<Resume<'_>>,
        carried: Resumes<'_>,
    ) -> bool {
        self.insert(message, mask, 0, stopped, carried)
    }

    /// Puts the entry at byte `at` (an entry's start, or the end). Its records: where it
    /// stopped now (`stopped`), then the `carried` ones [`kept`]. One [`encode`] measures the
    /// entry (into no bytes), the same one writes it: the format is spelled once.
    fn insert(
        &mut self,
        message: &Message<'_>,
        mask: u32,
        at: usize,
        stopped: Option<Resume<'_>>,
        carried: Resumes<'_>,
    ) -> bool {
        let stopped = stopped.as_ref();
        let Some(len) = encode(&mut [], 0, message, mask, stopped, carried) else {
            return false;
        };
        let old = self.bytes.len();
        let at = at.min(old);
        // `resize` refuses what does not fit in `B`, and changes nothing then.
        if self.bytes.resize(old + len, 0).is_err() {
            return false;
        }
        // What follows `at` moves up to make room (nothing, at the end).
        shift_right(self.bytes.get_mut(at..).unwrap_or_default(), len);
        encode(&mut self.bytes, at, message, mask, stopped, carried);
        self.entries += 1;
        true
    }

    /// Copies the front entry into `out` (cleared first) and returns its target mask.
    pub(crate) fn copy_front<const N: usize>(&self, out: &mut heapless::Vec<u8, N>) -> Option<u32> {
        let len = self.front_len()?;
        out.clear();
        out.extend_from_slice(self.bytes.get(..len)?).ok()?;
        Some(u32::from_le_bytes(le(&self.bytes, 1)))
    }

    /// Takes target `index` out of every entry's mask; entries left with no target go.
    pub(crate) fn clear_target(&mut self, index: usize) {
        if index >= 32 {
            return;
        }
        let mut at = 0;
        let mut kept = 0;
        while at + HEADER <= self.bytes.len() {
            let len = Self::entry_len_at(&self.bytes, at);
            let mask = u32::from_le_bytes(le(&self.bytes, at + 1)) & !(1 << index);
            put(&mut self.bytes, at + 1, &mask.to_le_bytes());
            if mask == 0 {
                let end = self.bytes.len();
                shift_left(self.bytes.get_mut(at..).unwrap_or_default(), len);
                self.bytes.truncate(end.saturating_sub(len));
                self.entries -= 1;
            } else {
                at += len;
                kept += 1;
            }
        }
        debug_assert_eq!(kept, self.entries);
    }

    fn entry_len_at(bytes: &[u8], at: usize) -> usize {
        // The header as an array, as `decode` reads it (callers know it is there).
        let Some(h) = bytes.get(at..).and_then(<[u8]>::first_chunk::<HEADER>) else {
            return HEADER;
        };
        let part = |p: usize| usize::from(u16::from_le_bytes([h[p], h[p + 1]]));
        let mut len = HEADER + part(28) + part(30) + part(32);
        if h[0] & HAS_RESUME != 0 {
            let count = byte(bytes, at + len);
            len += 1;
            for _ in 0..count {
                let w = at + len;
                let extras = usize::from(u16::from_le_bytes(le(bytes, w + 5)));
                len += RECORD + usize::from(byte(bytes, w + 7)) + extras;
            }
        }
        len
    }

    /// Removes the front entry.
    pub(crate) fn pop_front(&mut self) {
        if let Some(len) = self.front_len() {
            let end = self.bytes.len();
            shift_left(&mut self.bytes, len);
            self.bytes.truncate(end.saturating_sub(len));
            self.entries -= 1;
        }
    }

    fn front_len(&self) -> Option<usize> {
        if self.entries == 0 || self.bytes.len() < HEADER {
            return None;
        }
        Some(Self::entry_len_at(&self.bytes, 0))
    }
}

/// Writes the entry of `message` for the targets in `mask`, with the record `stopped` and the
/// `carried` ones [`kept`], into `out` from `at` (nothing past the end of `out`: into no bytes it only
/// measures); returns where it ends. `None` if a part is longer than its 16-bit length, a
/// release than its byte, or the records more than their count's byte. Not inlined: its two
/// calls share it.
#[inline(never)]
fn encode(
    out: &mut [u8],
    at: usize,
    message: &Message<'_>,
    mask: u32,
    stopped: Option<&Resume<'_>>,
    carried: Resumes<'_>,
) -> Option<usize> {
    let (text, subsystem, device) = message.parts();
    // One test for the three (or'ed, a length is too long if it has a bit above the low 16).
    if (text.len() | subsystem.len() | device.len()) > usize::from(u16::MAX) {
        return None;
    }
    let mut w = put(out, at + HEADER, text);
    w = put(out, w, subsystem);
    w = put(out, w, device);
    // The records after their count, which is written once they are.
    let count_at = w;
    w += 1;
    let mut count = 0usize;
    if let Some(r) = stopped {
        // The release and extras first: the record's fixed part says how long they came out.
        let release = u8::try_from(r.release.len()).ok()?;
        let extras_at = put(out, w + RECORD, r.release);
        let end = r.extras.write(out, extras_at);
        let mut head = [0u8; RECORD];
        head[0] = r.index;
        head[1..5].copy_from_slice(&r.offset.to_le_bytes());
        // Each extras fits u16 (userdata and sysdata are bounded below it).
        head[5..7].copy_from_slice(&((end - extras_at) as u16).to_le_bytes());
        head[7] = release;
        put(out, w, &head);
        w = end;
        count += 1;
    }
    for record in kept(carried, stopped.map(|r| r.index), mask) {
        w = put(out, w, record);
        count += 1;
    }
    let mut h = [0u8; HEADER];
    if count == 0 {
        w = count_at;
    } else {
        put(out, count_at, &[u8::try_from(count).ok()?]);
        h[0] = HAS_RESUME;
    }
    h[1..5].copy_from_slice(&mask.to_le_bytes());
    if let Message::Record(r) = message {
        h[0] |= Kind::Record as u8;
        h[5] = r.facility;
        h[6] = r.level;
        let (caller_kind, caller_id) = match r.caller {
            None => (0, 0),
            Some(Caller::Task(id)) => (1, id),
            Some(Caller::Cpu(cpu)) => (2, cpu),
        };
        h[7] = u8::from(r.continuation) | caller_kind << 1;
        h[8..12].copy_from_slice(&caller_id.to_le_bytes());
        h[12..20].copy_from_slice(&r.seq.to_le_bytes());
        h[20..28].copy_from_slice(&r.timestamp_us.to_le_bytes());
    }
    h[28..30].copy_from_slice(&(text.len() as u16).to_le_bytes());
    h[30..32].copy_from_slice(&(subsystem.len() as u16).to_le_bytes());
    h[32..34].copy_from_slice(&(device.len() as u16).to_le_bytes());
    put(out, at, &h);
    Some(w)
}

/// Reads a message back from an entry copied by [`Backlog::copy_front`], with its resume
/// records.
pub(crate) fn decode(entry: &[u8]) -> Option<(Message<'_>, Resumes<'_>)> {
    // As an array: its fields at fixed places, read without a bounds check each.
    let h: &[u8; HEADER] = entry.get(..HEADER)?.try_into().ok()?;
    let part = |at: usize| usize::from(u16::from_le_bytes(le(h, at)));
    let (text_len, subsystem_len, device_len) = (part(28), part(30), part(32));
    let end = HEADER + text_len + subsystem_len + device_len;
    let body = entry.get(HEADER..end)?;
    let kind = byte(h, 0);
    let resumes = if kind & HAS_RESUME != 0 { Resumes(entry.get(end..)?) } else { Resumes::NONE };
    let (text, rest) = body.split_at_checked(text_len)?;
    let (subsystem, device) = rest.split_at_checked(subsystem_len)?;
    let caller_id = u32::from_le_bytes(le(h, 8));
    let flags = byte(h, 7);
    let caller = match flags >> 1 {
        1 => Some(Caller::Task(caller_id)),
        2 => Some(Caller::Cpu(caller_id)),
        _ => None,
    };
    let message = if kind & !HAS_RESUME == Kind::Basic as u8 {
        Message::Basic(text)
    } else if kind & !HAS_RESUME == Kind::Record as u8 {
        Message::Record(ExtendedRecord {
            facility: byte(h, 5),
            level: byte(h, 6),
            seq: u64::from_le_bytes(le(h, 12)),
            timestamp_us: u64::from_le_bytes(le(h, 20)),
            continuation: flags & 1 == 1,
            caller,
            text,
            subsystem: (!subsystem.is_empty()).then_some(subsystem),
            device: (!device.is_empty()).then_some(device),
        })
    } else {
        return None;
    };
    Some((message, resumes))
}

// The entry codec below never indexes: an entry the backlog wrote is well formed, but a slip
// here must cost a garbled entry, not a panic in the middle of a log call (and each panicking
// index brings a panic location and message into the firmware).

/// The byte at `at`, 0 past the end.
fn byte(bytes: &[u8], at: usize) -> u8 {
    bytes.get(at).copied().unwrap_or(0)
}

/// `N` bytes from `at` (for `from_le_bytes`), zeros if they run past the end.
fn le<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut out = [0; N];
    if let Some(src) = bytes.get(at..).and_then(|rest| rest.get(..N)) {
        out.copy_from_slice(src);
    }
    out
}

/// Writes `part` at `at` (nothing if it does not fit); returns where it ends. Not inlined: an
/// entry is written with a dozen of these.
#[inline(never)]
fn put(bytes: &mut [u8], at: usize, part: &[u8]) -> usize {
    if let Some(dst) = bytes.get_mut(at..).and_then(|rest| rest.get_mut(..part.len())) {
        dst.copy_from_slice(part);
    }
    at + part.len()
}

/// Moves `bytes` `by` places to the left (the first `by` go); nothing if `by` is more than its
/// length. Not inlined, and with no other caller of `copy_within`: the compiler sees that it
/// cannot panic here (nor below), and leaves its panic path, message and location out.
#[inline(never)]
fn shift_left(bytes: &mut [u8], by: usize) {
    if by <= bytes.len() {
        bytes.copy_within(by.., 0);
    }
}

/// Moves `bytes` but its last `by` `by` places to the right (the last `by` are overwritten);
/// nothing if `by` is more than its length.
#[inline(never)]
fn shift_right(bytes: &mut [u8], by: usize) {
    if let Some(count) = bytes.len().checked_sub(by) {
        bytes.copy_within(..count, by);
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn shifts_move_the_bytes_kept_and_nothing_when_too_far() {
        let mut b = *b"abcdef";
        shift_left(&mut b, 2);
        assert_eq!(&b, b"cdefef");
        shift_right(&mut b, 4);
        assert_eq!(&b, b"cdefcd");
        shift_left(&mut b, 6);
        shift_right(&mut b, 0);
        assert_eq!(&b, b"cdefcd");
        shift_left(&mut b, 7);
        shift_right(&mut b, 7);
        assert_eq!(&b, b"cdefcd");
    }

    #[test]
    fn fifo_round_trip() {
        let mut b: Backlog<256> = Backlog::new();
        let mut record = ExtendedRecord::new(3, 7, 99, b"second");
        record.caller = Some(Caller::Cpu(2));
        record.device = Some(b"+net:eth0");
        record.continuation = true;
        assert!(b.push(&Message::Basic(b"first"), 0b01));
        assert!(b.push(&Message::Record(record), 0b11));
        let mut scratch: heapless::Vec<u8, 256> = heapless::Vec::new();
        assert_eq!(b.copy_front(&mut scratch), Some(0b01));
        assert_eq!(decode(&scratch).map(|d| d.0), Some(Message::Basic(b"first")));
        b.pop_front();
        assert_eq!(b.copy_front(&mut scratch), Some(0b11));
        assert_eq!(decode(&scratch).map(|d| d.0), Some(Message::Record(record)));
        b.pop_front();
        assert!(b.is_empty());
        assert_eq!(b.used(), 0);
        assert_eq!(b.copy_front(&mut scratch), None);
    }

    /// The count of bytes appended wraps on a long-running console (4 GiB on a 32-bit core):
    /// a write that noted it just before the wrap still finds what was appended since.
    #[test]
    fn an_own_message_goes_ahead_of_what_was_appended_across_the_count_s_wrap() {
        let mut b: Backlog<256> = Backlog::new();
        b.appended = usize::MAX - 40;
        assert!(b.push(&Message::Basic(b"ahead"), 1));
        let since = b.appended();
        // 34 + 20 bytes: the count passes usize::MAX.
        assert!(b.push(&Message::Basic(&[b'n'; 20]), 1));
        assert!(b.appended() < since, "the count wrapped");
        assert!(b.push_ahead_of(&Message::Basic(b"own"), 1, since));
        let mut scratch: heapless::Vec<u8, 256> = heapless::Vec::new();
        let mut order = Vec::new();
        while b.copy_front(&mut scratch).is_some() {
            order.push(decode(&scratch).map(|d| d.0.parts().0.to_vec()));
            b.pop_front();
        }
        let want = [&b"ahead"[..], b"own", &[b'n'; 20]];
        assert_eq!(order, want.map(|t| Some(t.to_vec())));
    }

    #[test]
    fn push_front_goes_before_everything() {
        let mut b: Backlog<256> = Backlog::new();
        assert!(b.push(&Message::Basic(b"second"), 1));
        assert!(b.push(&Message::Basic(b"third"), 1));
        assert!(b.push_front(&Message::Basic(b"first"), 2, None, Resumes::NONE));
        let mut scratch: heapless::Vec<u8, 256> = heapless::Vec::new();
        let mut order = std::vec::Vec::new();
        while let Some(mask) = b.copy_front(&mut scratch) {
            let Some((Message::Basic(text), _)) = decode(&scratch) else { panic!("not basic") };
            order.push((text.to_vec(), mask));
            b.pop_front();
        }
        let want: [(&[u8], u32); 3] = [(b"first", 2), (b"second", 1), (b"third", 1)];
        assert_eq!(order, want.map(|(t, m)| (t.to_vec(), m)));
    }

    #[test]
    fn resume_records_round_trip_and_move_with_their_entry() {
        let mut b: Backlog<512> = Backlog::new();
        assert!(b.push(&Message::Basic(b"later"), 0b10));
        let record = ExtendedRecord::new(6, 1, 2, b"stuck");
        let message = Message::Record(record);
        // Stopped for slot 0 first, then (resent from the backlog) for slot 3: slot 0's record
        // is carried, one for slot 5 (no longer in the mask) is not.
        let first = Resume { index: 0, offset: 1000, extras: Extras::Frozen(b""), release: b"" };
        assert!(b.push_front(&message, 0b10_1001, Some(first), Resumes::NONE));
        let mut copy: heapless::Vec<u8, 512> = heapless::Vec::new();
        b.copy_front(&mut copy).unwrap();
        b.pop_front();
        let (_, carried) = decode(&copy).unwrap();
        let other = Resume { index: 5, offset: 7, extras: Extras::Frozen(b""), release: b"" };
        let mut with_five: heapless::Vec<u8, 512> = heapless::Vec::new();
        let mut scratch_backlog: Backlog<512> = Backlog::new();
        assert!(scratch_backlog.push_front(&message, 0b10_0001, Some(other), carried));
        scratch_backlog.copy_front(&mut with_five).unwrap();
        let (_, carried) = decode(&with_five).unwrap();
        assert_eq!(carried.iter().count(), 2);
        let extras = Extras::Frozen(b" k=v\n msgid=7\n");
        let now = Resume { index: 3, offset: 1970, extras, release: b"6.18.0" };
        assert!(b.push_front(&message, 0b1001, Some(now), carried));
        let mut scratch: heapless::Vec<u8, 512> = heapless::Vec::new();
        assert_eq!(b.copy_front(&mut scratch), Some(0b1001));
        let (message, found) = decode(&scratch).unwrap();
        assert_eq!(message, Message::Record(record));
        let r = found.find(3).unwrap();
        assert_eq!(r.offset, 1970);
        assert!(matches!(r.extras, Extras::Frozen(b" k=v\n msgid=7\n")));
        assert_eq!(r.release, b"6.18.0");
        assert_eq!(found.find(0).unwrap().offset, 1000);
        assert!(found.find(1).is_none());
        assert!(found.find(5).is_none(), "not carried: slot 5 is out of the mask");
        b.clear_target(0);
        b.clear_target(3);
        assert_eq!(b.entries(), 1, "the entry for no target is gone, its records with it");
        assert_eq!(b.copy_front(&mut scratch), Some(0b10));
        assert_eq!(decode(&scratch).map(|d| d.0), Some(Message::Basic(b"later")));
    }

    /// One stop of a message put back at the front: the slot it stopped for, where, with what
    /// release and extras (as `Live` or `Frozen`), and the mask it goes back with.
    type Stop = (u8, u32, Vec<u8>, Vec<u8>, bool, u32);

    fn stop() -> impl proptest::strategy::Strategy<Value = Stop> {
        use proptest::prelude::*;
        (
            0u8..34,
            any::<u32>(),
            prop_oneof![4 => proptest::collection::vec(any::<u8>(), 0..40), 1 => proptest::collection::vec(any::<u8>(), 250..260)],
            proptest::collection::vec(any::<u8>(), 0..120),
            any::<bool>(),
            any::<u32>(),
        )
    }

    proptest::proptest! {
        /// A message put back at the front again and again (as a ring that keeps filling does),
        /// each time carrying the records it had: its records are the new one then the kept old
        /// ones, byte for byte; the entries behind it are untouched; an insert that is refused
        /// (no room, a release too long for its byte) changes nothing.
        #[test]
        fn records_carried_through_many_put_backs(
            behind in proptest::collection::vec((proptest::collection::vec(proptest::prelude::any::<u8>(), 0..50), 1u32..), 0..4),
            stops in proptest::collection::vec(stop(), 1..12),
        ) {
            let mut b: Backlog<2048> = Backlog::new();
            for (text, mask) in &behind {
                proptest::prop_assert!(b.push(&Message::Basic(text), *mask));
            }
            let record = ExtendedRecord::new(6, 1, 2, b"stuck");
            let message = Message::Record(record);
            // The model: (index, offset, release, extras) in order.
            let mut model: Vec<(u8, u32, Vec<u8>, Vec<u8>)> = Vec::new();
            let mut front: heapless::Vec<u8, 2048> = heapless::Vec::new();
            let mut have_front = false;
            for (index, offset, release, extras, live, mask) in stops {
                let extras_of = if live {
                    Extras::Live { userdata: &[], sysdata: &extras }
                } else {
                    Extras::Frozen(&extras)
                };
                let now = Resume { index, offset, extras: extras_of, release: &release };
                let carried = if have_front { decode(&front).unwrap().1 } else { Resumes::NONE };
                let before: std::vec::Vec<u8> = b.bytes.to_vec();
                let entries = b.entries();
                let ok = b.push_front(&message, mask, Some(now), carried);
                if !ok {
                    proptest::prop_assert_eq!(b.bytes.to_vec(), before);
                    proptest::prop_assert_eq!(b.entries(), entries);
                    continue;
                }
                proptest::prop_assert!(release.len() <= 255);
                let old = core::mem::take(&mut model);
                model.push((index, offset, release.clone(), extras.clone()));
                model.extend(old.into_iter().filter(|r| {
                    r.0 != index && mask & 1u32.checked_shl(u32::from(r.0)).unwrap_or(0) != 0
                }));
                proptest::prop_assert_eq!(b.copy_front(&mut front), Some(mask));
                have_front = true;
                let (decoded, records) = decode(&front).unwrap();
                proptest::prop_assert_eq!(decoded, message);
                let got: Vec<(u8, u32, Vec<u8>, Vec<u8>)> = records
                    .iter()
                    .map(|r| {
                        let Extras::Frozen(x) = r.extras else { panic!("decoded extras are frozen") };
                        (r.index, r.offset, r.release.to_vec(), x.to_vec())
                    })
                    .collect();
                proptest::prop_assert_eq!(&got, &model);
                // Taken out to be sent again, as the sender does with the front entry.
                b.pop_front();
            }
            // Whatever happened in front, the entries behind come out as pushed.
            let mut scratch: heapless::Vec<u8, 2048> = heapless::Vec::new();
            for (text, mask) in &behind {
                proptest::prop_assert_eq!(b.copy_front(&mut scratch), Some(*mask));
                proptest::prop_assert_eq!(decode(&scratch).map(|d| d.0), Some(Message::Basic(text)));
                b.pop_front();
            }
            proptest::prop_assert!(b.is_empty());
            proptest::prop_assert_eq!(b.used(), 0);
        }
    }

    #[test]
    fn refuses_what_does_not_fit() {
        let mut b: Backlog<64> = Backlog::new();
        let text = [b'x'; 64 - HEADER];
        assert!(b.push(&Message::Basic(&text), 1));
        assert!(!b.push(&Message::Basic(b""), 1));
        assert_eq!(b.used(), 64);
    }
}
