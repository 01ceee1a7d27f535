//! The receiver: a sender table and a slot pool, both fixed, fed one datagram at a time.

use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use super::counters::{Counters, Error};
use super::datagram::{parse, Datagram, Fragment, Header};
use super::message::{Message, Stream};
use super::sender::{SenderEntry, Sequence, Table};
use super::slot::{Holding, Key, Slot};

/// Settings a receiver may change without changing its memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config {
    /// How long a fragmented record, or a basic line without its `\n`, waits for the rest
    /// (counted from its first datagram) before [`Receiver::expire`] hands it out incomplete.
    /// Linux sends a record's fragments back to back, so a second is generous.
    pub frag_timeout_ms: u64,
    /// How many records and lines one sender may have waiting at once, so that one sender
    /// cannot take the whole pool.
    pub pending_per_sender: usize,
}

impl Config {
    /// One second, eight pending messages per sender.
    pub const DEFAULT: Config = Config { frag_timeout_ms: 1000, pending_per_sender: 8 };
}

impl Default for Config {
    fn default() -> Self {
        Config::DEFAULT
    }
}

/// Parses datagrams and reassembles messages in fixed memory.
///
/// - `SENDERS`: streams remembered at once: what they have pending, their last records (to
///   drop duplicates) and sequence numbers (to find gaps). A sender of basic text whose
///   datagrams end in `\n` takes no entry. Found by hash in sets of 8 (best a power of two,
///   at least 8); a new stream whose two sets are full takes the place of the least recently
///   heard one with nothing pending, counted in [`Counters::forgotten`]. Size it a tenth above
///   the senders expected.
/// - `SLOTS`: lines and fragmented records waiting at once, over all senders.
/// - `BYTES`: the buffer of each slot: the longest record kept whole, and the longest line
///   joined. A longer record is kept up to `BYTES` and handed out incomplete; a longer line, in
///   `BYTES` pieces.
///
/// Memory is about `SLOTS * (BYTES + 400) + SENDERS * 300` bytes. The defaults (256 senders,
/// 64 slots of 8 KiB: about 610 KiB) suit a small listener; `netconsole listen` holds 65,536
/// senders (about 20 MiB), firmware picks smaller.
///
/// No heap, no clock: the caller passes the time, in milliseconds from any fixed origin, never
/// going back (time that does go back only delays timeouts).
///
/// The sender table is an array inside the receiver (`E`'s default), or memory the caller
/// allocates and hands to [`Receiver::with_senders`] (a host listener's `Box<[SenderEntry]>`,
/// which spares a large table the trip through the stack); `SENDERS` is then unused.
pub struct Receiver<
    const SENDERS: usize = 256,
    const SLOTS: usize = 64,
    const BYTES: usize = 8192,
    E = [SenderEntry; SENDERS],
> {
    config: Config,
    senders: Table<E>,
    slots: [Slot<BYTES>; SLOTS],
    counters: Counters,
}

impl<const SENDERS: usize, const SLOTS: usize, const BYTES: usize> Default
    for Receiver<SENDERS, SLOTS, BYTES>
{
    fn default() -> Self {
        Receiver::new(Config::DEFAULT)
    }
}

impl<const SENDERS: usize, const SLOTS: usize, const BYTES: usize> Receiver<SENDERS, SLOTS, BYTES> {
    /// An empty receiver. `const`, so it can live in a `static`.
    pub const fn new(config: Config) -> Self {
        Receiver::with_senders(config, [const { SenderEntry::EMPTY }; SENDERS])
    }
}

impl<const SENDERS: usize, const SLOTS: usize, const BYTES: usize, E>
    Receiver<SENDERS, SLOTS, BYTES, E>
where
    E: AsRef<[SenderEntry]> + AsMut<[SenderEntry]>,
{
    /// An empty receiver whose sender table is `entries` (all [`SenderEntry::EMPTY`]).
    pub const fn with_senders(config: Config, entries: E) -> Self {
        const { assert!(BYTES > 0, "a receiver needs slot buffers of at least one byte") };
        Receiver {
            config,
            senders: Table::with_entries(entries),
            slots: [const { Slot::FREE }; SLOTS],
            counters: Counters {
                datagrams: 0,
                basic: 0,
                extended: 0,
                fragments: 0,
                duplicates: 0,
                late: 0,
                malformed: 0,
                refused_senders: 0,
                refused_pending: 0,
                refused_slots: 0,
                refused_runs: 0,
                messages: 0,
                complete: 0,
                incomplete: 0,
                truncated: 0,
                split: 0,
                unjoined: 0,
                missing: 0,
                restarts: 0,
                forgotten: 0,
            },
        }
    }

    /// The settings.
    pub fn config(&self) -> Config {
        self.config
    }

    /// A snapshot of the counters.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Streams the receiver holds state for: something pending, or their last records.
    pub fn senders(&self) -> usize {
        self.senders.len()
    }

    /// Lines and records waiting for the rest.
    pub fn pending(&self) -> usize {
        self.slots.iter().filter(|slot| !slot.is_free()).count()
    }

    /// When [`Receiver::expire`] will next have something to hand out, if anything is pending.
    pub fn next_deadline(&self) -> Option<u64> {
        self.slots
            .iter()
            .filter(|slot| !slot.is_free())
            .map(|slot| slot.started_ms.saturating_add(self.config.frag_timeout_ms))
            .min()
    }

    /// Takes one datagram from `src`, received at `now_ms`; hands every message it completes to
    /// `out` (none, one, or several basic lines). An error says why the datagram, or part of
    /// it, was dropped; it has been counted, and the receiver is ready for the next.
    ///
    /// For a receiver on one local address; one on several uses [`Receiver::receive_on`].
    pub fn receive(
        &mut self,
        now_ms: u64,
        src: SocketAddr,
        datagram: &[u8],
        out: &mut dyn FnMut(Message<'_>),
    ) -> Result<(), Error> {
        self.receive_on(now_ms, Stream::new(src, UNSPECIFIED), datagram, out)
    }

    /// [`Receiver::receive`] for a datagram that arrived on local address `stream.local`.
    ///
    /// A kernel with several extended targets sends each record to every target, back to back
    /// and from the same source port: the same sequence numbers, with or without a release
    /// prefix. Told apart only by the address they arrive on, they would look like duplicates
    /// of each other; so a stream, with its duplicates and its pending fragments, is a sender
    /// and a local address.
    pub fn receive_on(
        &mut self,
        now_ms: u64,
        stream: Stream,
        datagram: &[u8],
        out: &mut dyn FnMut(Message<'_>),
    ) -> Result<(), Error> {
        let src = stream;
        self.counters.datagrams += 1;
        match parse(datagram) {
            Err(why) => {
                self.counters.malformed += 1;
                Err(Error::Malformed(why))
            }
            Ok(Datagram::Basic(text)) => {
                self.counters.basic += 1;
                self.basic(now_ms, src, text, out);
                Ok(())
            }
            Ok(Datagram::Extended { header, fragment: None, body }) => {
                self.whole(now_ms, src, header, body, out);
                Ok(())
            }
            Ok(Datagram::Extended { header, fragment: Some(fragment), body }) => {
                self.fragment(now_ms, src, &header, fragment, body, out)
            }
        }
    }

    /// Hands out, incomplete, every line and record that has waited `frag_timeout_ms` by
    /// `now_ms`, oldest first.
    pub fn expire(&mut self, now_ms: u64, out: &mut dyn FnMut(Message<'_>)) {
        let timeout = self.config.frag_timeout_ms;
        while let Some(index) =
            self.oldest(|slot| now_ms.saturating_sub(slot.started_ms) >= timeout)
        {
            self.finish(now_ms, index, out);
        }
    }

    /// Hands out everything pending, oldest first: at shutdown, say.
    pub fn flush(&mut self, out: &mut dyn FnMut(Message<'_>)) {
        while let Some(index) = self.oldest(|_| true) {
            let started = self.slots.get(index).map_or(0, |slot| slot.started_ms);
            self.finish(started, index, out);
        }
    }

    /// The slot in use that started first among those `pick` selects.
    fn oldest(&self, pick: impl Fn(&Slot<BYTES>) -> bool) -> Option<usize> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, slot)| !slot.is_free() && pick(slot))
            .min_by_key(|(_, slot)| slot.started_ms)
            .map(|(index, _)| index)
    }

    /// Basic text: complete lines go out at once; a line's start waits in a slot for the rest,
    /// which comes in the sender's next datagram (Linux cuts long lines into 1000-byte chunks).
    fn basic(&mut self, now_ms: u64, src: Stream, text: &[u8], out: &mut dyn FnMut(Message<'_>)) {
        let mut rest = text;
        let held = self.find(src).and_then(|s| self.senders.get_mut(s)).and_then(|sender| {
            sender.last_ms = now_ms;
            sender.line()
        });
        if let Some(index) = held {
            let (head, tail) = split_line(rest);
            self.append_line(index, head, out);
            match tail {
                None => return,
                Some(tail) => {
                    if let Some(slot) = self.slots.get(index) {
                        let src = self.senders.get(slot.owner).map_or(src, |s| s.stream);
                        emit(&mut self.counters, out, Message::basic(src, slot.line(), true));
                    }
                    self.release(index);
                    rest = tail;
                }
            }
        }
        while let (line, Some(tail)) = split_line(rest) {
            emit(&mut self.counters, out, Message::basic(src, line, true));
            rest = tail;
        }
        if rest.is_empty() {
            return;
        }
        match self.claim(now_ms, src) {
            Ok((sender, index)) => {
                if let (Some(s), Some(slot)) =
                    (self.senders.get_mut(sender), self.slots.get_mut(index))
                {
                    slot.start_line(sender, now_ms);
                    s.set_line(Some(index));
                }
                self.append_line(index, rest, out);
            }
            Err(_) => {
                self.counters.unjoined += 1;
                emit(&mut self.counters, out, Message::basic(src, rest, false));
            }
        }
    }

    /// Appends to a held line; a full buffer goes out as a piece and the line goes on.
    fn append_line(&mut self, index: usize, mut bytes: &[u8], out: &mut dyn FnMut(Message<'_>)) {
        let Some(slot) = self.slots.get_mut(index) else { return };
        let src = self
            .senders
            .get(slot.owner)
            .map_or(Stream::new(UNSPECIFIED, UNSPECIFIED), |s| s.stream);
        loop {
            bytes = slot.append(bytes);
            if bytes.is_empty() {
                return;
            }
            // Every byte of the line so far is here: a piece, complete, that the next goes on.
            self.counters.split += 1;
            let piece = Message { continues: true, ..Message::basic(src, slot.line(), true) };
            emit(&mut self.counters, out, piece);
            slot.restart_line();
        }
    }

    /// A record in one datagram: out at once, unless the sender sent it before. Linux never
    /// sends a record twice, so a repeat is the network's duplicate. Remembering it needs a
    /// sender entry; when none can be had the record still goes out, unchecked.
    fn whole(
        &mut self,
        now_ms: u64,
        src: Stream,
        header: Header<'_>,
        body: &[u8],
        out: &mut dyn FnMut(Message<'_>),
    ) {
        let total = u32::try_from(body.len()).unwrap_or(u32::MAX);
        let key = Key { seq: header.seq, ts_us: header.ts_us, total };
        let sender = match self.find(src) {
            Some(sender) => Some(sender),
            None => self.admit(now_ms, src).ok(),
        };
        let mut missing_before = 0;
        if let Some(sender) = sender.and_then(|s| self.senders.get_mut(s)) {
            sender.last_ms = now_ms;
            if sender.has_finished(key) {
                self.counters.duplicates += 1;
                return;
            }
            sender.remember(key);
            let sequence = sender.sequence(header.seq, now_ms, self.config.frag_timeout_ms);
            missing_before = count_sequence(&mut self.counters, sequence);
        }
        self.counters.extended += 1;
        let message = Message { missing_before, ..Message::extended(src, header, body, true) };
        emit(&mut self.counters, out, message);
    }

    /// One `ncfrag` fragment: into its record's slot (claimed on its first fragment); the
    /// record goes out as soon as every byte is in.
    fn fragment(
        &mut self,
        now_ms: u64,
        src: Stream,
        header: &Header<'_>,
        fragment: Fragment,
        body: &[u8],
        out: &mut dyn FnMut(Message<'_>),
    ) -> Result<(), Error> {
        let key = Key { seq: header.seq, ts_us: header.ts_us, total: fragment.total };
        let known = self.find(src);
        if let Some(sender) = known.and_then(|s| self.senders.get_mut(s)) {
            sender.last_ms = now_ms;
            if sender.has_finished(key) {
                self.counters.late += 1;
                return Ok(());
            }
        }
        let existing = known.and_then(|s| {
            self.slots.iter().position(|slot| slot.owner == s && slot.key() == Some(key))
        });
        let index = match existing {
            Some(index) => index,
            None => match self.claim(now_ms, src) {
                Ok((sender, index)) => {
                    if let Some(slot) = self.slots.get_mut(index) {
                        slot.start_record(sender, now_ms, header, key);
                    }
                    index
                }
                Err(error) => {
                    let counter = match error {
                        Error::TooManySenders => &mut self.counters.refused_senders,
                        Error::TooManyPending => &mut self.counters.refused_pending,
                        _ => &mut self.counters.refused_slots,
                    };
                    *counter += 1;
                    return Err(error);
                }
            },
        };
        let Some(slot) = self.slots.get_mut(index) else { return Ok(()) };
        match slot.add_fragment(fragment.offset, body) {
            Ok(true) => self.counters.fragments += 1,
            Ok(false) => self.counters.duplicates += 1,
            Err(_) => {
                self.counters.refused_runs += 1;
                return Err(Error::TooManyRuns);
            }
        }
        if slot.is_complete() {
            self.finish(now_ms, index, out);
        }
        Ok(())
    }

    /// Hands out what slot `index` holds (a record, complete or not; a line, unfinished) at
    /// `now_ms`, and frees it.
    fn finish(&mut self, now_ms: u64, index: usize, out: &mut dyn FnMut(Message<'_>)) {
        let Some(slot) = self.slots.get_mut(index) else { return };
        let src = self
            .senders
            .get(slot.owner)
            .map_or(Stream::new(UNSPECIFIED, UNSPECIFIED), |s| s.stream);
        let len = slot.close_gaps();
        let data = slot.kept(len);
        let message = match slot.header() {
            Some(header) => {
                let truncated = slot.is_truncated();
                self.counters.truncated += u64::from(truncated);
                let timeout = self.config.frag_timeout_ms;
                let sequence = self
                    .senders
                    .get_mut(slot.owner)
                    .map_or(Sequence::InOrder, |s| s.sequence(header.seq, now_ms, timeout));
                Message {
                    missing_before: count_sequence(&mut self.counters, sequence),
                    ..Message::extended(src, header, data, slot.is_complete() && !truncated)
                }
            }
            None => Message::basic(src, data, false),
        };
        emit(&mut self.counters, out, message);
        self.release(index);
    }

    /// Frees slot `index` and updates its owner's bookkeeping.
    fn release(&mut self, index: usize) {
        let Some(slot) = self.slots.get_mut(index) else { return };
        if let Some(sender) = self.senders.get_mut(slot.owner) {
            sender.pending = sender.pending.saturating_sub(1);
            match (slot.holding, slot.key()) {
                (Holding::Line, _) => sender.set_line(None),
                (Holding::Record, Some(key)) => sender.remember(key),
                _ => {}
            }
        }
        slot.free();
    }

    /// The entry of `src`, if it has one.
    fn find(&self, src: Stream) -> Option<usize> {
        self.senders.find(&src)
    }

    /// A sender entry and a free slot for something new from `src`, within the caps. The slot is
    /// counted as the sender's; the caller fills it.
    fn claim(&mut self, now_ms: u64, src: Stream) -> Result<(usize, usize), Error> {
        let sender = match self.find(src) {
            Some(sender) => sender,
            None => self.admit(now_ms, src)?,
        };
        let entry = self.senders.get_mut(sender).ok_or(Error::TooManySenders)?;
        if entry.pending as usize >= self.config.pending_per_sender {
            return Err(Error::TooManyPending);
        }
        let index = self.slots.iter().position(Slot::is_free).ok_or(Error::NoFreeSlot)?;
        entry.pending += 1;
        entry.last_ms = now_ms;
        Ok((sender, index))
    }

    /// A new entry for `src`, in place of the least recently heard sender with nothing pending
    /// among those it could go to, if they are all taken.
    fn admit(&mut self, now_ms: u64, src: Stream) -> Result<usize, Error> {
        let admitted = self.senders.admit(src, now_ms).map_err(|_| Error::TooManySenders);
        self.counters.forgotten = self.senders.forgotten;
        admitted
    }
}

/// Stands in for a sender the table has lost; unreachable while the bookkeeping holds.
const UNSPECIFIED: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));

/// Counts what a record's sequence number said; returns how many records it found missing.
fn count_sequence(counters: &mut Counters, sequence: Sequence) -> u64 {
    match sequence {
        Sequence::InOrder => 0,
        Sequence::Gap(missing) => {
            counters.missing = counters.missing.saturating_add(missing);
            missing
        }
        Sequence::Filled => {
            counters.missing = counters.missing.saturating_sub(1);
            0
        }
        Sequence::Restart => {
            counters.restarts += 1;
            0
        }
    }
}

/// Counts a message and hands it out.
fn emit(counters: &mut Counters, out: &mut dyn FnMut(Message<'_>), message: Message<'_>) {
    counters.messages += 1;
    if message.complete {
        counters.complete += 1;
    } else {
        counters.incomplete += 1;
    }
    out(message);
}

/// The bytes before the first `\n`, and those after it if there is one.
fn split_line(text: &[u8]) -> (&[u8], Option<&[u8]>) {
    match text.iter().position(|&b| b == b'\n') {
        Some(newline) => {
            let (line, rest) = text.split_at(newline);
            (line, Some(rest.get(1..).unwrap_or_default()))
        }
        None => (text, None),
    }
}
