//! The backlog: messages that could not be sent when they were written, kept in order in a
//! fixed byte buffer until the write that holds the console (or an explicit flush) sends them.
//!
//! Each entry is a small header and the message bytes, so a short line costs little. Entries are
//! removed from the front, which moves the rest down: bounded by the buffer size, and done
//! inside a short critical section.

use crate::message::{Kind, Message, OwnedMeta};
use crate::record::{Caller, ExtendedRecord};

/// Bytes of an entry's header: kind, target mask, facility, level, flags, caller, seq,
/// timestamp, and the lengths of text, subsystem and device.
const HEADER: usize = 1 + 4 + 1 + 1 + 1 + 4 + 8 + 8 + 2 + 2 + 2;

/// A FIFO of messages in `B` bytes.
pub(crate) struct Backlog<const B: usize> {
    bytes: heapless::Vec<u8, B>,
    entries: usize,
}

impl<const B: usize> Backlog<B> {
    pub(crate) const fn new() -> Self {
        Backlog { bytes: heapless::Vec::new(), entries: 0 }
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

    /// Bytes an entry for `message` takes.
    pub(crate) fn entry_len(message: &Message<'_>) -> usize {
        HEADER + message.stored_len()
    }

    /// Appends `message` for the targets in `mask`; `false` if it does not fit.
    pub(crate) fn push(&mut self, message: &Message<'_>, mask: u32) -> bool {
        self.insert(message, mask, false)
    }

    /// Puts `message` in front of every other entry (a message that was being sent when the
    /// ring filled goes before what was deferred meanwhile); `false` if it does not fit.
    pub(crate) fn push_front(&mut self, message: &Message<'_>, mask: u32) -> bool {
        self.insert(message, mask, true)
    }

    fn insert(&mut self, message: &Message<'_>, mask: u32, front: bool) -> bool {
        let len = Self::entry_len(message);
        let Some(header) = encode_header(message, mask) else { return false };
        if self.bytes.len() + len > B {
            return false;
        }
        let (text, subsystem, device) = message.parts();
        let at = if front { 0 } else { self.bytes.len() };
        let old = self.bytes.len();
        // Room was checked above: the resize cannot fail.
        let _ = self.bytes.resize(old + len, 0);
        self.bytes.copy_within(at..old, at + len);
        let mut w = at;
        for part in [&header[..], text, subsystem, device] {
            self.bytes[w..w + part.len()].copy_from_slice(part);
            w += part.len();
        }
        self.entries += 1;
        true
    }

    /// Copies the front entry into `out` (cleared first) and returns its target mask.
    pub(crate) fn copy_front<const N: usize>(&self, out: &mut heapless::Vec<u8, N>) -> Option<u32> {
        let len = self.front_len()?;
        out.clear();
        out.extend_from_slice(&self.bytes[..len]).ok()?;
        Some(u32::from_le_bytes([self.bytes[1], self.bytes[2], self.bytes[3], self.bytes[4]]))
    }

    /// Narrows the front entry to the targets in `mask`.
    pub(crate) fn set_front_mask(&mut self, mask: u32) {
        if self.entries > 0 {
            self.bytes[1..5].copy_from_slice(&mask.to_le_bytes());
        }
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
            let mut mask = u32::from_le_bytes([
                self.bytes[at + 1],
                self.bytes[at + 2],
                self.bytes[at + 3],
                self.bytes[at + 4],
            ]);
            mask &= !(1 << index);
            self.bytes[at + 1..at + 5].copy_from_slice(&mask.to_le_bytes());
            if mask == 0 {
                self.bytes.copy_within(at + len.., at);
                self.bytes.truncate(self.bytes.len() - len);
                self.entries -= 1;
            } else {
                at += len;
                kept += 1;
            }
        }
        debug_assert_eq!(kept, self.entries);
    }

    fn entry_len_at(bytes: &[u8], at: usize) -> usize {
        let part = |p: usize| usize::from(u16::from_le_bytes([bytes[at + p], bytes[at + p + 1]]));
        HEADER + part(28) + part(30) + part(32)
    }

    /// Removes the front entry.
    pub(crate) fn pop_front(&mut self) {
        if let Some(len) = self.front_len() {
            self.bytes.copy_within(len.., 0);
            self.bytes.truncate(self.bytes.len() - len);
            self.entries -= 1;
        }
    }

    fn front_len(&self) -> Option<usize> {
        if self.entries == 0 || self.bytes.len() < HEADER {
            return None;
        }
        let part =
            |at: usize| usize::from(u16::from_le_bytes([self.bytes[at], self.bytes[at + 1]]));
        Some(HEADER + part(28) + part(30) + part(32))
    }
}

/// The fixed-size header of an entry; `None` if a part is longer than its 16-bit length.
fn encode_header(message: &Message<'_>, mask: u32) -> Option<[u8; HEADER]> {
    let meta = OwnedMeta::of(message);
    let (text, subsystem, device) = message.parts();
    let mut h = [0u8; HEADER];
    h[0] = meta.kind as u8;
    h[1..5].copy_from_slice(&mask.to_le_bytes());
    h[5] = meta.facility;
    h[6] = meta.level;
    let (caller_kind, caller_id) = match meta.caller {
        None => (0, 0),
        Some(Caller::Task(id)) => (1, id),
        Some(Caller::Cpu(cpu)) => (2, cpu),
    };
    h[7] = u8::from(meta.continuation) | caller_kind << 1;
    h[8..12].copy_from_slice(&caller_id.to_le_bytes());
    h[12..20].copy_from_slice(&meta.seq.to_le_bytes());
    h[20..28].copy_from_slice(&meta.timestamp_us.to_le_bytes());
    for (at, part) in [(28, text), (30, subsystem), (32, device)] {
        let len = u16::try_from(part.len()).ok()?;
        h[at..at + 2].copy_from_slice(&len.to_le_bytes());
    }
    Some(h)
}

/// Reads a message back from an entry copied by [`Backlog::copy_front`].
pub(crate) fn decode(entry: &[u8]) -> Option<Message<'_>> {
    let h = entry.get(..HEADER)?;
    let part = |at: usize| usize::from(u16::from_le_bytes([h[at], h[at + 1]]));
    let (text_len, subsystem_len, device_len) = (part(28), part(30), part(32));
    let body = entry.get(HEADER..HEADER + text_len + subsystem_len + device_len)?;
    let (text, rest) = body.split_at(text_len);
    let (subsystem, device) = rest.split_at(subsystem_len);
    let caller_id = u32::from_le_bytes([h[8], h[9], h[10], h[11]]);
    let caller = match h[7] >> 1 {
        1 => Some(Caller::Task(caller_id)),
        2 => Some(Caller::Cpu(caller_id)),
        _ => None,
    };
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&h[12..20]);
    let mut ts = [0u8; 8];
    ts.copy_from_slice(&h[20..28]);
    Some(match Kind::from_u8(h[0])? {
        Kind::Basic => Message::Basic(text),
        Kind::Record => Message::Record(ExtendedRecord {
            facility: h[5],
            level: h[6],
            seq: u64::from_le_bytes(seq),
            timestamp_us: u64::from_le_bytes(ts),
            continuation: h[7] & 1 == 1,
            caller,
            text,
            subsystem: (!subsystem.is_empty()).then_some(subsystem),
            device: (!device.is_empty()).then_some(device),
        }),
    })
}

#[cfg(test)]
mod test {
    use super::*;

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
        assert_eq!(decode(&scratch), Some(Message::Basic(b"first")));
        b.pop_front();
        assert_eq!(b.copy_front(&mut scratch), Some(0b11));
        assert_eq!(decode(&scratch), Some(Message::Record(record)));
        b.set_front_mask(0b10);
        assert_eq!(b.copy_front(&mut scratch), Some(0b10));
        b.pop_front();
        assert!(b.is_empty());
        assert_eq!(b.used(), 0);
        assert_eq!(b.copy_front(&mut scratch), None);
    }

    #[test]
    fn push_front_goes_before_everything() {
        let mut b: Backlog<256> = Backlog::new();
        assert!(b.push(&Message::Basic(b"second"), 1));
        assert!(b.push(&Message::Basic(b"third"), 1));
        assert!(b.push_front(&Message::Basic(b"first"), 2));
        let mut scratch: heapless::Vec<u8, 256> = heapless::Vec::new();
        let mut order = std::vec::Vec::new();
        while let Some(mask) = b.copy_front(&mut scratch) {
            let Some(Message::Basic(text)) = decode(&scratch) else { panic!("not basic") };
            order.push((text.to_vec(), mask));
            b.pop_front();
        }
        let want: [(&[u8], u32); 3] = [(b"first", 2), (b"second", 1), (b"third", 1)];
        assert_eq!(order, want.map(|(t, m)| (t.to_vec(), m)));
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
