//! The receiver's sender table: one entry per stream, found by hash in a fixed array.
//!
//! Set-associative, like a CPU cache, with two choices: a stream's hash picks two sets of
//! [`WAYS`] entries, and it lives in one of them. A new stream takes the first free entry of
//! the emptier set, or the least recently heard one of both with nothing pending (counted as
//! forgotten). Entries are taken in order and never given back, so a lookup reads each set only
//! up to its first free entry: a few comparisons, never more than `2 * WAYS`, whatever the
//! table's size. Two choices keep the sets even, so the table fills to about nine tenths before
//! a stream is forgotten: duplicate detection holds for nearly as many streams as the table has
//! entries, and memory never grows.
//!
//! The hash is not keyed: someone who can forge source addresses can crowd one set, which
//! costs the senders hashed there their duplicate detection (counted), nothing else.

use super::message::Stream;
use super::slot::Key;
#[cfg(doc)]
use super::Receiver;

/// How many finished records each sender remembers, to tell late fragments from new records.
const FINISHED: usize = 4;
/// Entries per set.
pub const WAYS: usize = 8;
/// A sequence number this far below the highest seen is a restarted sender, not a late record.
const REORDER_WINDOW: u64 = 64;

/// No slot.
const NO_LINE: u32 = u32::MAX;

/// One sender with state: something pending, or records recently handed out.
///
/// `repr(C)`, tag first: a lookup that probes an entry of another stream reads one cache line.
#[derive(Debug, Clone)]
#[repr(C)]
pub struct Sender {
    /// The high half of the stream's hash, to skip other streams without comparing addresses.
    tag: u32,
    in_use: bool,
    next_finished: u8,
    /// Which of `finished` hold a record.
    finished_mask: u8,
    /// Slots it owns (lines and records).
    pub pending: u32,
    /// The slot holding its unfinished basic line, or [`NO_LINE`].
    line: u32,
    pub stream: Stream,
    pub last_ms: u64,
    /// Its last records handed out, oldest overwritten first.
    finished: [Key; FINISHED],
    /// The highest sequence number handed out, once one has been.
    high: Option<u64>,
    /// The last gap seen: `gap_from..gap_to` were missing when `gap_to` was handed out at
    /// `gap_ms`.
    gap_from: u64,
    gap_to: u64,
    gap_ms: u64,
}

/// What a record's sequence number says about the records before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sequence {
    /// The next one, the first heard, or a late one that is not a gap's.
    InOrder,
    /// This many records before it have not arrived.
    Gap(u64),
    /// A record of the last gap, arrived within the timeout: one fewer missing.
    Filled,
    /// Back to 0, or far below the highest seen: the sender restarted (netconsd's
    /// `[SEQ RESET]`).
    Restart,
}

impl Sender {
    pub const EMPTY: Sender = Sender {
        tag: 0,
        stream: Stream::new(UNSPECIFIED, UNSPECIFIED),
        last_ms: 0,
        pending: 0,
        line: NO_LINE,
        in_use: false,
        next_finished: 0,
        finished_mask: 0,
        finished: [Key { seq: 0, ts_us: 0, total: 0 }; FINISHED],
        high: None,
        gap_from: 0,
        gap_to: 0,
        gap_ms: 0,
    };

    fn new(stream: Stream, tag: u32, now_ms: u64) -> Self {
        Sender { stream, tag, last_ms: now_ms, in_use: true, ..Sender::EMPTY }
    }

    pub fn has_finished(&self, key: Key) -> bool {
        self.finished
            .iter()
            .enumerate()
            .any(|(i, k)| self.finished_mask & (1 << i) != 0 && *k == key)
    }

    pub fn remember(&mut self, key: Key) {
        let next = usize::from(self.next_finished) % FINISHED;
        if let Some(entry) = self.finished.get_mut(next) {
            *entry = key;
            self.finished_mask |= 1 << next;
        }
        self.next_finished = ((next + 1) % FINISHED) as u8;
    }

    /// The slot of its unfinished basic line.
    pub fn line(&self) -> Option<usize> {
        (self.line != NO_LINE).then_some(self.line as usize)
    }

    pub fn set_line(&mut self, slot: Option<usize>) {
        self.line = slot.and_then(|s| u32::try_from(s).ok()).unwrap_or(NO_LINE);
    }

    /// Record `seq` is being handed out at `now_ms`: where it stands against those before.
    /// A gap counts as such when the record after it goes out; a missing record that turns up
    /// within `timeout_ms` of that fills it.
    pub fn sequence(&mut self, seq: u64, now_ms: u64, timeout_ms: u64) -> Sequence {
        let Some(high) = self.high else {
            self.high = Some(seq);
            return Sequence::InOrder;
        };
        if seq > high {
            self.high = Some(seq);
            let missing = seq - high - 1;
            if missing == 0 {
                return Sequence::InOrder;
            }
            (self.gap_from, self.gap_to, self.gap_ms) = (high + 1, seq, now_ms);
            return Sequence::Gap(missing);
        }
        let in_gap = (self.gap_from..self.gap_to).contains(&seq);
        if in_gap && now_ms.saturating_sub(self.gap_ms) <= timeout_ms {
            return Sequence::Filled;
        }
        if seq == 0 || high.saturating_sub(seq) > REORDER_WINDOW {
            self.high = Some(seq);
            self.gap_to = 0;
            return Sequence::Restart;
        }
        Sequence::InOrder
    }
}

/// Stands in for an address not known.
const UNSPECIFIED: core::net::SocketAddr =
    core::net::SocketAddr::V4(core::net::SocketAddrV4::new(core::net::Ipv4Addr::UNSPECIFIED, 0));

/// One entry of a sender table, for a table the caller allocates (see
/// [`Receiver::with_senders`]): opaque, [`SenderEntry::EMPTY`] to start with.
#[derive(Debug, Clone)]
pub struct SenderEntry(pub(crate) Sender);

impl SenderEntry {
    /// An unused entry.
    pub const EMPTY: SenderEntry = SenderEntry(Sender::EMPTY);
}

/// Why a stream got no entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetFull;

/// The table: its entries in sets of [`WAYS`] (one set when there are fewer), held in `E`: an
/// array, or memory the caller allocated.
#[derive(Debug)]
pub struct Table<E> {
    entries: E,
    in_use: usize,
    /// Entries taken from a sender that had state, to make room for another.
    pub forgotten: u64,
}

#[cfg(test)]
impl<const N: usize> Table<[SenderEntry; N]> {
    pub const fn new() -> Self {
        Table::with_entries([const { SenderEntry::EMPTY }; N])
    }
}

impl<E: AsRef<[SenderEntry]> + AsMut<[SenderEntry]>> Table<E> {
    /// A table in `entries`, which must all be unused ([`SenderEntry::EMPTY`]).
    pub const fn with_entries(entries: E) -> Self {
        Table { entries, in_use: 0, forgotten: 0 }
    }

    fn slice(&self) -> &[SenderEntry] {
        self.entries.as_ref()
    }

    /// Entries in use.
    pub fn len(&self) -> usize {
        self.in_use
    }

    pub fn get(&self, index: usize) -> Option<&Sender> {
        self.slice().get(index).map(|e| &e.0)
    }

    pub fn get_mut(&mut self, index: usize) -> Option<&mut Sender> {
        self.entries.as_mut().get_mut(index).map(|e| &mut e.0)
    }

    /// The two sets `stream` may live in, as index ranges (the same one twice in a table of
    /// one set).
    /// And the stream's tag.
    fn sets(&self, stream: &Stream) -> ([core::ops::Range<usize>; 2], u32) {
        let n = self.slice().len();
        let ways = WAYS.min(n);
        let sets = n.checked_div(ways).unwrap_or(0).max(1) as u64;
        let h = hash(stream);
        let range = |set: u64| {
            let start = set as usize * ways;
            start..(start + ways).min(n)
        };
        let low = h & 0xffff_ffff;
        ([range(low % sets), range((low.rotate_left(16) ^ (h >> 32)) % sets)], (h >> 32) as u32)
    }

    /// The entry of `stream`, if it has one.
    pub fn find(&self, stream: &Stream) -> Option<usize> {
        let (sets, tag) = self.sets(stream);
        for set in sets {
            for i in set {
                match self.get(i) {
                    Some(entry) if entry.in_use => {
                        if entry.tag == tag && entry.stream == *stream {
                            return Some(i);
                        }
                    }
                    // The rest of this set is free too.
                    _ => break,
                }
            }
        }
        None
    }

    /// How many entries of `set` are taken: they are taken in order.
    fn taken(&self, set: core::ops::Range<usize>) -> usize {
        let len = set.len();
        set.into_iter().position(|i| self.get(i).is_none_or(|s| !s.in_use)).unwrap_or(len)
    }

    /// A new entry for `stream` (which has none): a free one of the emptier of its sets, or the
    /// least recently heard one of both with nothing pending.
    pub fn admit(&mut self, stream: Stream, now_ms: u64) -> Result<usize, SetFull> {
        let ([one, two], tag) = self.sets(&stream);
        let (in_one, in_two) = (self.taken(one.clone()), self.taken(two.clone()));
        let unused = if in_two < in_one && in_two < two.len() {
            Some(two.start + in_two)
        } else {
            (in_one < one.len()).then_some(one.start + in_one)
        };
        let index = match unused {
            Some(index) => {
                self.in_use += 1;
                index
            }
            None => {
                let victim = one
                    .chain(two)
                    .filter_map(|i| Some((i, self.get(i)?)))
                    .filter(|(_, s)| s.pending == 0)
                    .min_by_key(|(_, s)| s.last_ms)
                    .map(|(i, _)| i)
                    .ok_or(SetFull)?;
                self.forgotten += 1;
                victim
            }
        };
        let entry = self.get_mut(index).ok_or(SetFull)?;
        *entry = Sender::new(stream, tag, now_ms);
        Ok(index)
    }
}

/// A 64-bit hash of a stream's addresses and ports: FNV-1a's walk with a multiply-xorshift
/// finish, so that neighbouring addresses and ports spread over the sets.
fn hash(stream: &Stream) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for addr in [stream.src, stream.local] {
        match addr.ip() {
            core::net::IpAddr::V4(ip) => eat(&ip.octets()),
            core::net::IpAddr::V6(ip) => eat(&ip.octets()),
        }
        eat(&addr.port().to_le_bytes());
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

#[cfg(test)]
mod test {
    use super::*;
    use core::net::SocketAddr;

    fn stream(i: u32) -> Stream {
        let src = SocketAddr::from(([10, (i >> 16) as u8, (i >> 8) as u8, i as u8], 6665));
        Stream::new(src, "192.0.2.9:6666".parse().unwrap())
    }

    #[test]
    fn the_table_fills_to_nine_tenths_before_forgetting() {
        let mut table = Table::with_entries(vec![SenderEntry::EMPTY; 1024]);
        for i in 0..921 {
            table.admit(stream(i), u64::from(i)).unwrap();
        }
        let found = (0..921).filter(|&i| table.find(&stream(i)).is_some()).count();
        assert_eq!(found, table.len());
        assert_eq!(found as u64 + table.forgotten, 921);
        assert!(table.forgotten <= 921 / 100, "{} forgotten", table.forgotten);
        // Past the table's size, every newcomer displaces one, and each is counted.
        for i in 921..2048 {
            table.admit(stream(i), u64::from(i)).unwrap();
        }
        assert_eq!(table.len() as u64 + table.forgotten, 2048);
    }

    #[test]
    fn an_entry_stays_small() {
        // What a listener for a fleet pays per sender it can tell apart.
        let size = core::mem::size_of::<Sender>();
        println!("size_of::<Sender>() = {size}");
        assert!(size <= 224, "{size}");
    }

    #[test]
    fn a_set_full_of_pending_refuses() {
        let mut table: Table<[SenderEntry; 4]> = Table::new();
        for i in 0..4 {
            let index = table.admit(stream(i), 0).unwrap();
            table.get_mut(index).unwrap().pending = 1;
        }
        assert_eq!(table.admit(stream(9), 1), Err(SetFull));
        table.get_mut(table.find(&stream(2)).unwrap()).unwrap().pending = 0;
        let index = table.admit(stream(9), 2).unwrap();
        assert_eq!(table.find(&stream(9)), Some(index));
        assert_eq!((table.find(&stream(2)), table.forgotten, table.len()), (None, 1, 4));
    }

    #[test]
    fn sequence_gaps_fills_and_restarts() {
        let mut s = Sender::new(stream(1), 0, 0);
        assert_eq!(s.sequence(10, 0, 1000), Sequence::InOrder);
        assert_eq!(s.sequence(11, 0, 1000), Sequence::InOrder);
        assert_eq!(s.sequence(15, 5, 1000), Sequence::Gap(3));
        assert_eq!(s.sequence(13, 500, 1000), Sequence::Filled);
        assert_eq!(s.sequence(14, 1006, 1000), Sequence::InOrder); // too late to fill
        assert_eq!(s.sequence(16, 1006, 1000), Sequence::InOrder);
        assert_eq!(s.sequence(0, 2000, 1000), Sequence::Restart);
        assert_eq!(s.sequence(1, 2000, 1000), Sequence::InOrder);
    }
}
