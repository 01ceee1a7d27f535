//! The extended console record, rendered as printk renders it for `CON_EXTENDED` consoles
//! (`info_print_ext_header` and `msg_print_ext_body`).

use core::fmt;

use crate::decimal;

/// Who logged a record, as printk's optional `caller=` field says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Caller {
    /// A task, by id: `caller=T<id>`.
    Task(u32),
    /// A CPU outside task context: `caller=C<cpu>`.
    Cpu(u32),
}

/// One log record for extended targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ExtendedRecord<'a> {
    /// Syslog facility (0 = kernel, 1 = user, ...).
    pub facility: u8,
    /// Syslog level, 0 (emergency) to 7 (debug); higher bits are masked off.
    pub level: u8,
    /// Sequence number.
    pub seq: u64,
    /// Timestamp in microseconds.
    pub timestamp_us: u64,
    /// The record continues an earlier one (`c` in the header, `-` otherwise).
    pub continuation: bool,
    /// Optional caller id.
    pub caller: Option<Caller>,
    /// The message text, unescaped; printk's escaping is applied when it is sent.
    pub text: &'a [u8],
    /// Optional `SUBSYSTEM=` dictionary value.
    pub subsystem: Option<&'a [u8]>,
    /// Optional `DEVICE=` dictionary value.
    pub device: Option<&'a [u8]>,
}

impl<'a> ExtendedRecord<'a> {
    /// A record with this level, sequence number, timestamp and text; facility 0, no caller, no
    /// dictionary.
    pub const fn new(level: u8, seq: u64, timestamp_us: u64, text: &'a [u8]) -> Self {
        ExtendedRecord {
            facility: 0,
            level,
            seq,
            timestamp_us,
            continuation: false,
            caller: None,
            text,
            subsystem: None,
            device: None,
        }
    }

    /// The header without its `;`: `<(facility<<3)|level>,<seq>,<usec>,<c|->[,caller=..]`.
    pub fn header(&self) -> Header {
        let mut h = Header(heapless::Vec::new());
        let prefix = u32::from(self.facility) << 3 | u32::from(self.level & 7);
        let flag = if self.continuation { b'c' } else { b'-' };
        // Cannot overflow: at most 10 + 20 + 20 + 1 + 3 commas + 19 of caller = 73 bytes.
        // Digits by hand, not `write!`: see the `decimal` module.
        let out = h.0.as_mut_view();
        decimal::append(out, prefix.into());
        let _ = out.push(b',');
        decimal::append(out, self.seq);
        let _ = out.push(b',');
        decimal::append(out, self.timestamp_us);
        let _ = out.push(b',');
        let _ = out.push(flag);
        let (tag, id): (&[u8], u32) = match self.caller {
            Some(Caller::Task(id)) => (b",caller=T", id),
            Some(Caller::Cpu(cpu)) => (b",caller=C", cpu),
            None => (b"", 0),
        };
        if !tag.is_empty() {
            let _ = out.extend_from_slice(tag);
            decimal::append(out, id.into());
        }
        h
    }
}

/// A rendered record header (without the terminating `;`): ASCII only.
#[derive(Clone, PartialEq, Eq)]
pub struct Header(heapless::Vec<u8, 80>);

impl Header {
    /// The header's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Digits, commas, `-`/`c` and `caller=`: always ASCII.
        f.write_str(core::str::from_utf8(&self.0).unwrap_or_default())
    }
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Header").field(&format_args!("{self}")).finish()
    }
}

/// Whether printk escapes this byte in an extended record: control characters (newline
/// included), DEL and above, and the backslash itself.
pub const fn needs_escape(byte: u8) -> bool {
    // One unsigned compare for "outside 0x20..=0x7e", and no branch: the scans below vectorise.
    (byte.wrapping_sub(b' ') >= 0x7f - b' ') | (byte == b'\\')
}

/// Length of `text` once escaped (each escaped byte becomes the four bytes `\xNN`).
pub fn escaped_len(text: &[u8]) -> usize {
    let blocks = text.chunks(COUNT_BLOCK);
    text.len() + 3 * blocks.map(|block| usize::from(escapes_in(block))).sum::<usize>()
}

/// Bytes counted together by [`escapes_in`]: at most 255, so that the count fits the byte lanes
/// it is kept in.
const COUNT_BLOCK: usize = 240;

/// Bytes to escape in a block of at most 255 bytes: counted in bytes, without early exit, so the
/// compiler compares and counts a whole vector of bytes at once.
fn escapes_in(block: &[u8]) -> u8 {
    block.iter().fold(0u8, |n, &b| n.wrapping_add(u8::from(needs_escape(b))))
}

/// The four bytes printk writes for an escaped byte: `\x` and two lowercase hex digits.
pub fn escape(byte: u8) -> [u8; 4] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    [b'\\', b'x', HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 15)]]
}

/// Bytes looked at together when scanning for the next byte to escape.
const SCAN_BLOCK: usize = 32;

/// The index of the first byte at or after `from` that needs escaping, or `text.len()`.
fn next_escape(text: &[u8], mut from: usize) -> usize {
    // Whole blocks first, with an any-of in byte lanes and no early exit, which the compiler
    // turns into a few vector compares per block; most text has no escapes. The block that has
    // one is searched byte by byte.
    while let Some(block) = text.get(from..from + SCAN_BLOCK) {
        if block.iter().fold(0u8, |any, &b| any | u8::from(needs_escape(b))) != 0 {
            break;
        }
        from += SCAN_BLOCK;
    }
    let rest = text.get(from..).unwrap_or_default();
    rest.iter().position(|&b| needs_escape(b)).map_or(text.len(), |i| from + i)
}

/// A place in a walk of the escaped form: `src` bytes of the text read, `out` escaped bytes
/// produced, never inside an escape. A walk returns where it stopped so that the next window of
/// the same text (the next fragment) starts there instead of from the beginning: cutting a long
/// record into fragments then reads it once, not once per fragment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EscapeCursor {
    src: usize,
    out: usize,
}

/// Calls `f` with bytes `start..end` of the escaped form of `text`, as runs of plain bytes and
/// (parts of) 4-byte escapes. Blocks before `start` are skipped by counting alone, and the walk
/// stops at `end`, so cutting a long record into fragments stays linear in its length.
pub fn walk_escaped(text: &[u8], start: usize, end: usize, f: &mut dyn FnMut(&[u8])) {
    walk_escaped_from(text, EscapeCursor::default(), start, end, f);
}

/// As [`walk_escaped`], starting at `cursor` if it lies at or before `start` (a cursor an
/// earlier walk of this text returned), and returning where this walk stopped.
///
/// Short pieces (an escape, a run between two close escapes) are gathered in a small buffer and
/// handed to `f` together: each call of `f` costs a slice copied and summed into the frame, which
/// for a 4-byte escape was most of the work.
pub fn walk_escaped_from(
    text: &[u8],
    cursor: EscapeCursor,
    start: usize,
    end: usize,
    f: &mut dyn FnMut(&[u8]),
) -> EscapeCursor {
    let usable = cursor.out <= start && cursor.src <= text.len();
    let EscapeCursor { mut src, mut out } = if usable { cursor } else { EscapeCursor::default() };
    while let Some(block) = text.get(src..src + SCAN_BLOCK) {
        let len = escaped_len(block);
        if out + len > start {
            break;
        }
        out += len;
        src += SCAN_BLOCK;
    }
    let mut batch = Batch { buf: [0; BATCH], len: 0 };
    while src < text.len() && out < end {
        // A run never reaches past `end`: the next window starts exactly where this one ends,
        // and the scan for escapes stops there too.
        let limit = text.len().min(src + (end - out));
        let next = next_escape(text.get(..limit).unwrap_or(text), src);
        if next > src {
            batch.add(text.get(src..next).unwrap_or_default(), out, start, end, f);
            out += next - src;
            src = next;
        } else {
            let here = EscapeCursor { src, out };
            batch.add(&escape(text[src]), out, start, end, f);
            out += 4;
            src += 1;
            if out > end {
                // The escape straddles `end`: the next window starts inside it.
                batch.flush(f);
                return here;
            }
        }
    }
    batch.flush(f);
    EscapeCursor { src, out }
}

/// Bytes of short pieces gathered before `f` is called.
const BATCH: usize = 128;
/// Pieces this long go to `f` as they are, not through the batch.
const DIRECT: usize = 64;

/// Short pieces of the escaped form waiting to be handed over together.
struct Batch {
    buf: [u8; BATCH],
    len: usize,
}

impl Batch {
    /// Adds the part of `piece`, which starts at escaped offset `out`, that lies in `start..end`.
    fn add(
        &mut self,
        piece: &[u8],
        out: usize,
        start: usize,
        end: usize,
        f: &mut dyn FnMut(&[u8]),
    ) {
        let (lo, hi) = (out.max(start), (out + piece.len()).min(end));
        if lo >= hi {
            return;
        }
        let Some(piece) = piece.get(lo - out..hi - out) else { return };
        if piece.len() >= DIRECT {
            self.flush(f);
            f(piece);
            return;
        }
        if self.len + piece.len() > BATCH {
            self.flush(f);
        }
        if let Some(room) = self.buf.get_mut(self.len..).and_then(|r| r.get_mut(..piece.len())) {
            room.copy_from_slice(piece);
            self.len += piece.len();
        }
    }

    fn flush(&mut self, f: &mut dyn FnMut(&[u8])) {
        if self.len > 0 {
            f(self.buf.get(..self.len).unwrap_or_default());
            self.len = 0;
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn escaped(text: &[u8]) -> std::vec::Vec<u8> {
        let mut out = std::vec::Vec::new();
        walk_escaped(text, 0, usize::MAX, &mut |s| out.extend_from_slice(s));
        out
    }

    #[test]
    fn header_as_printk_writes_it() {
        let mut r = ExtendedRecord::new(5, 1822, 115_075_213_798, b"");
        r.facility = 1;
        assert_eq!(r.header().to_string(), "13,1822,115075213798,-");
        r.continuation = true;
        r.caller = Some(Caller::Task(42));
        assert_eq!(r.header().to_string(), "13,1822,115075213798,c,caller=T42");
        r.caller = Some(Caller::Cpu(3));
        r.facility = 255;
        r.level = 0xff;
        r.seq = u64::MAX;
        r.timestamp_us = u64::MAX;
        assert_eq!(
            r.header().to_string(),
            "2047,18446744073709551615,18446744073709551615,c,caller=C3"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_window_of_the_escaped_text_is_what_a_naive_escape_gives(
            text in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            a in 0usize..1300, b in 0usize..1300,
        ) {
            let whole: std::vec::Vec<u8> = text
                .iter()
                .flat_map(|&c| if needs_escape(c) { escape(c).to_vec() } else { std::vec![c] })
                .collect();
            proptest::prop_assert_eq!(escaped_len(&text), whole.len());
            let (start, end) = (a.min(b).min(whole.len()), a.max(b).min(whole.len()));
            let mut window = std::vec::Vec::new();
            walk_escaped(&text, start, end, &mut |s| window.extend_from_slice(s));
            proptest::prop_assert_eq!(&window[..], &whole[start..end]);
        }
    }

    proptest::proptest! {
        /// Consecutive windows walked with the cursor each returned give the whole escaped text,
        /// as fragments do.
        #[test]
        fn consecutive_windows_resumed_from_the_cursor_give_the_whole(
            text in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
            cuts in proptest::collection::vec(0usize..2400, 0..8),
        ) {
            let whole = escaped(&text);
            let mut cuts: std::vec::Vec<usize> =
                cuts.into_iter().map(|c| c.min(whole.len())).collect();
            cuts.push(whole.len());
            cuts.sort_unstable();
            let (mut out, mut cursor, mut from) = (std::vec::Vec::new(), EscapeCursor::default(), 0);
            for to in cuts {
                cursor = walk_escaped_from(&text, cursor, from, to, &mut |s| out.extend_from_slice(s));
                from = to;
            }
            proptest::prop_assert_eq!(out, whole);
        }
    }

    #[test]
    fn escapes_what_printk_escapes() {
        assert_eq!(escaped(b"plain text"), b"plain text");
        assert_eq!(escaped(b"a\nb"), b"a\\x0ab");
        assert_eq!(escaped(b"\\"), b"\\x5c");
        assert_eq!(escaped(b"\x7f\xff\x00\x1f~ "), b"\\x7f\\xff\\x00\\x1f~ ");
        assert_eq!(escaped_len(b"a\nb\\"), 1 + 4 + 1 + 4);
    }
}
