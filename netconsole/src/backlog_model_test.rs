//! The backlog against a plain model (a list of entries, each with its message, mask and resume
//! records): random pushes, put-backs at the front carrying the records of the entry last taken
//! out, pops and target clears, in a buffer small enough to fill. Whether an insert is taken is
//! decided by the model's own arithmetic of the entry format; an insert refused changes nothing.
//! Then the edges of the format: parts of exactly 65535 and 65536 bytes, an entry filling the
//! buffer to its last byte.

use proptest::prelude::*;

use crate::backlog::{decode, Backlog, Extras, Resume, Resumes};
use crate::message::Message;
use crate::record::{Caller, ExtendedRecord};

/// Bytes of an entry's fixed header and of a resume record's fixed part, as the format says.
const HEADER: usize = 34;
const RECORD: usize = 8;
/// Small, so that inserts are refused for room.
const B: usize = 600;

#[derive(Clone, Debug, PartialEq)]
struct Record {
    index: u8,
    offset: u32,
    release: Vec<u8>,
    extras: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq)]
enum Msg {
    Basic(Vec<u8>),
    Record { level: u8, seq: u64, ts: u64, caller: Option<Caller>, parts: [Vec<u8>; 3] },
}

impl Msg {
    fn as_message(&self) -> Message<'_> {
        match self {
            Msg::Basic(text) => Message::Basic(text),
            Msg::Record { level, seq, ts, caller, parts: [text, subsystem, device] } => {
                let mut r = ExtendedRecord::new(*level, *seq, *ts, text);
                r.caller = *caller;
                r.continuation = seq % 2 == 1;
                r.facility = (*ts % 256) as u8;
                r.subsystem = (!subsystem.is_empty()).then_some(&subsystem[..]);
                r.device = (!device.is_empty()).then_some(&device[..]);
                Message::Record(r)
            }
        }
    }

    fn stored(&self) -> usize {
        match self {
            Msg::Basic(text) => text.len(),
            Msg::Record { parts, .. } => parts.iter().map(Vec::len).sum(),
        }
    }
}

#[derive(Clone, Debug)]
struct Entry {
    msg: Msg,
    mask: u32,
    records: Vec<Record>,
}

impl Entry {
    fn len(&self) -> usize {
        let records: usize =
            self.records.iter().map(|r| RECORD + r.release.len() + r.extras.len()).sum();
        HEADER + self.msg.stored() + if self.records.is_empty() { 0 } else { 1 + records }
    }
}

#[derive(Clone, Debug)]
enum Op {
    Push(Msg, u32),
    /// A put-back: the message, its mask, where it stopped now (extras given live or frozen),
    /// and whether it carries the records of the entry last taken out.
    PushFront(Msg, u32, Option<(Record, bool)>, bool),
    /// A write's own message kept behind all but the last this many entries appended.
    PushAheadOf(Msg, u32, usize),
    Pop,
    Clear(usize),
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

fn msg() -> impl Strategy<Value = Msg> {
    prop_oneof![
        bytes(120).prop_map(Msg::Basic),
        (
            0u8..8,
            any::<u64>(),
            any::<u64>(),
            prop_oneof![
                Just(None),
                any::<u32>().prop_map(|i| Some(Caller::Task(i))),
                any::<u32>().prop_map(|i| Some(Caller::Cpu(i)))
            ],
            [bytes(100), bytes(12), bytes(12)],
        )
            .prop_map(|(level, seq, ts, caller, parts)| Msg::Record {
                level,
                seq,
                ts,
                caller,
                parts
            }),
    ]
}

fn record() -> impl Strategy<Value = Record> {
    (
        0u8..34,
        any::<u32>(),
        prop_oneof![8 => bytes(20), 1 => proptest::collection::vec(any::<u8>(), 250..260)],
        bytes(60),
    )
        .prop_map(|(index, offset, release, extras)| Record { index, offset, release, extras })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (msg(), 1u32..).prop_map(|(m, mask)| Op::Push(m, mask)),
        3 => (msg(), 1u32.., proptest::option::of((record(), any::<bool>())), any::<bool>())
            .prop_map(|(m, mask, stop, carry)| Op::PushFront(m, mask, stop, carry)),
        2 => (msg(), 1u32.., 0usize..5).prop_map(|(m, mask, later)| Op::PushAheadOf(m, mask, later)),
        3 => Just(Op::Pop),
        1 => (0usize..34).prop_map(Op::Clear),
    ]
}

fn bit(index: u8) -> u32 {
    1u32.checked_shl(u32::from(index)).unwrap_or(0)
}

/// The decoded front entry as the model spells it.
fn decoded(copy: &[u8], mask: u32) -> Option<Entry> {
    let (message, resumes) = decode(copy)?;
    let msg = match message {
        Message::Basic(text) => Msg::Basic(text.to_vec()),
        Message::Record(r) => Msg::Record {
            level: r.level,
            seq: r.seq,
            ts: r.timestamp_us,
            caller: r.caller,
            parts: [
                r.text.to_vec(),
                r.subsystem.unwrap_or_default().to_vec(),
                r.device.unwrap_or_default().to_vec(),
            ],
        },
    };
    let records = resumes
        .iter()
        .map(|r| {
            let Extras::Frozen(extras) = r.extras else { return None };
            Some(Record {
                index: r.index,
                offset: r.offset,
                release: r.release.to_vec(),
                extras: extras.to_vec(),
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Entry { msg, mask, records })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_backlog_behaves_as_a_list_of_entries(ops in proptest::collection::vec(op(), 1..60)) {
        let mut b: Backlog<B> = Backlog::new();
        let mut model: Vec<Entry> = Vec::new();
        // The copy of the entry last taken out and its model: what a put-back carries.
        let mut last: heapless::Vec<u8, B> = heapless::Vec::new();
        let mut last_model: Option<Entry> = None;
        for op in ops {
            let before = b.used();
            let appended = b.appended();
            match op {
                Op::Push(msg, mask) => {
                    let entry = Entry { msg, mask, records: Vec::new() };
                    let fits = before + entry.len() <= B;
                    prop_assert_eq!(b.push(&entry.msg.as_message(), mask), fits);
                    let grew = if fits { entry.len() } else { 0 };
                    prop_assert_eq!(b.appended(), appended.wrapping_add(grew));
                    if fits {
                        model.push(entry);
                    }
                }
                Op::PushAheadOf(msg, mask, later) => {
                    // Ahead of the last `later` entries (as if appended since), by their bytes.
                    let entry = Entry { msg, mask, records: Vec::new() };
                    let fits = before + entry.len() <= B;
                    let at = model.len().saturating_sub(later);
                    let behind: usize = model[at..].iter().map(Entry::len).sum();
                    let since = appended.wrapping_sub(behind);
                    prop_assert_eq!(b.push_ahead_of(&entry.msg.as_message(), mask, since), fits);
                    let grew = if fits { entry.len() } else { 0 };
                    prop_assert_eq!(b.appended(), appended.wrapping_add(grew));
                    if fits {
                        model.insert(at, entry);
                    }
                }
                Op::PushFront(msg, mask, stop, carry) => {
                    let carried = match (&last_model, carry) {
                        (Some(e), true) => e.records.clone(),
                        _ => Vec::new(),
                    };
                    let mut records: Vec<Record> = stop.iter().map(|(r, _)| r.clone()).collect();
                    let stopped_index = stop.as_ref().map(|(r, _)| r.index);
                    records.extend(
                        carried
                            .into_iter()
                            .filter(|r| Some(r.index) != stopped_index && mask & bit(r.index) != 0),
                    );
                    let entry = Entry { msg, mask, records };
                    let release_ok = stop.as_ref().is_none_or(|(r, _)| r.release.len() <= 255);
                    let fits = release_ok && entry.records.len() <= 255 && before + entry.len() <= B;
                    let carried = if carry && last_model.is_some() {
                        decode(&last).map_or(Resumes::NONE, |d| d.1)
                    } else {
                        Resumes::NONE
                    };
                    let stopped = stop.as_ref().map(|(r, live)| Resume {
                        index: r.index,
                        offset: r.offset,
                        extras: if *live {
                            Extras::Live { userdata: &[], sysdata: &r.extras }
                        } else {
                            Extras::Frozen(&r.extras)
                        },
                        release: &r.release,
                    });
                    let entries = b.entries();
                    let ok = b.push_front(&entry.msg.as_message(), mask, stopped, carried);
                    prop_assert_eq!(ok, fits, "entry of {} bytes at {} used", entry.len(), before);
                    if ok {
                        model.insert(0, entry);
                    } else {
                        prop_assert_eq!(b.entries(), entries);
                    }
                }
                Op::Pop => {
                    let mask = b.copy_front(&mut last);
                    let Some(front) = model.first().cloned() else {
                        prop_assert_eq!(mask, None);
                        continue;
                    };
                    prop_assert_eq!(mask, Some(front.mask));
                    prop_assert_eq!(last.len(), front.len());
                    let got = decoded(&last, front.mask);
                    prop_assert_eq!(got.as_ref().map(|e| (&e.msg, &e.records)), Some((&front.msg, &front.records)));
                    b.pop_front();
                    model.remove(0);
                    last_model = Some(front);
                }
                Op::Clear(index) => {
                    b.clear_target(index);
                    if index < 32 {
                        for e in &mut model {
                            e.mask &= !(1 << index);
                        }
                        model.retain(|e| e.mask != 0);
                    }
                }
            }
            prop_assert_eq!(b.entries(), model.len());
            prop_assert_eq!(b.used(), model.iter().map(Entry::len).sum::<usize>());
        }
        // Everything left comes out as the model says.
        let mut scratch: heapless::Vec<u8, B> = heapless::Vec::new();
        for e in &model {
            prop_assert_eq!(b.copy_front(&mut scratch), Some(e.mask));
            let got = decoded(&scratch, e.mask);
            prop_assert_eq!(got.as_ref().map(|g| (&g.msg, &g.records)), Some((&e.msg, &e.records)));
            b.pop_front();
        }
        prop_assert!(b.is_empty());
        prop_assert_eq!(b.used(), 0);
    }
}

proptest! {
    /// `decode` reads the header as an array now: any bytes at all (a short entry, lengths
    /// past its end, a record cut short) give `None` or a message and records, never a panic.
    #[test]
    fn decode_takes_any_bytes(
        mut entry in proptest::collection::vec(any::<u8>(), 0..120),
        lengths in proptest::option::of((0u16..40, 0u16..40, 0u16..40)),
        kind in 0u8..4,
    ) {
        if let (Some((t, s, d)), true) = (lengths, entry.len() >= HEADER) {
            entry[0] = if kind & 1 == 1 { 0x80 } else { 0 } | kind >> 1;
            entry[28..30].copy_from_slice(&t.to_le_bytes());
            entry[30..32].copy_from_slice(&s.to_le_bytes());
            entry[32..34].copy_from_slice(&d.to_le_bytes());
        }
        if let Some((message, resumes)) = decode(&entry) {
            let stored = match message {
                Message::Basic(text) => text.len(),
                Message::Record(r) => {
                    r.text.len() + r.subsystem.map_or(0, <[u8]>::len) + r.device.map_or(0, <[u8]>::len)
                }
            };
            prop_assert!(HEADER + stored <= entry.len());
            for r in resumes.iter() {
                prop_assert!(r.release.len() <= 255);
            }
            let _ = resumes.find(usize::from(entry[0]));
        }
    }
}

/// Room for three parts of 65535 bytes, a resume record with a 255-byte release, and a little.
const BIG: usize = HEADER + 3 * 65535 + 1 + RECORD + 255 + 16;

fn big_record<'a>(parts: [&'a [u8]; 3]) -> Message<'a> {
    let [text, subsystem, device] = parts;
    let mut r = ExtendedRecord::new(3, u64::MAX, u64::MAX, text);
    r.subsystem = Some(subsystem);
    r.device = Some(device);
    r.caller = Some(Caller::Task(u32::MAX));
    Message::Record(r)
}

#[test]
fn parts_of_65535_bytes_are_kept_and_of_65536_refused() {
    let max = vec![b'a'; 65535];
    let over = vec![b'b'; 65536];
    let mut b: Box<Backlog<BIG>> = Box::new(Backlog::new());
    for parts in [[&over[..], b"", b""], [b"", &over[..], b""], [b"", b"", &over[..]]] {
        assert!(!b.push(&big_record(parts), 1));
        assert!(!b.push_front(&big_record(parts), 1, None, Resumes::NONE));
        assert_eq!((b.used(), b.entries()), (0, 0), "a refused insert leaves nothing");
    }
    let release = [b'r'; 255];
    let stopped =
        Resume { index: 31, offset: u32::MAX, extras: Extras::Frozen(b"x=1\n"), release: &release };
    let whole = big_record([&max, &max, &max]);
    assert!(b.push_front(&whole, 1 << 31, Some(stopped), Resumes::NONE));
    assert_eq!(b.used(), HEADER + 3 * 65535 + 1 + RECORD + 255 + 4);
    // The 12 bytes left: a basic message of text 0 (34 bytes) does not fit, and changes nothing.
    assert!(!b.push(&Message::Basic(b""), 1));
    let mut copy: Box<heapless::Vec<u8, BIG>> = Box::new(heapless::Vec::new());
    assert_eq!(b.copy_front(&mut copy), Some(1 << 31));
    let (message, resumes) = decode(&copy).unwrap();
    assert_eq!(message, whole);
    let r = resumes.find(31).unwrap();
    assert_eq!((r.offset, r.release), (u32::MAX, &release[..]));
    assert!(matches!(r.extras, Extras::Frozen(b"x=1\n")));
    b.pop_front();
    assert_eq!((b.used(), b.entries()), (0, 0));
}

#[test]
fn an_entry_filling_the_buffer_to_its_last_byte_is_kept_and_put_in_front() {
    let mut b: Backlog<100> = Backlog::new();
    let first = [b'1'; 100 - HEADER - 40];
    assert!(b.push(&Message::Basic(&first), 1));
    // Exactly the room left, then one byte more.
    assert!(!b.push_front(&Message::Basic(&[b'2'; 40 - HEADER + 1]), 2, None, Resumes::NONE));
    assert!(b.push_front(&Message::Basic(&[b'2'; 40 - HEADER]), 2, None, Resumes::NONE));
    assert_eq!(b.used(), 100);
    let mut copy: heapless::Vec<u8, 100> = heapless::Vec::new();
    assert_eq!(b.copy_front(&mut copy), Some(2));
    assert_eq!(decode(&copy).map(|d| d.0), Some(Message::Basic(&[b'2'; 40 - HEADER])));
    b.pop_front();
    assert_eq!(b.copy_front(&mut copy), Some(1));
    assert_eq!(decode(&copy).map(|d| d.0), Some(Message::Basic(&first)));
    b.clear_target(0);
    assert!(b.is_empty());
    assert_eq!(b.used(), 0);
}

/// The largest extras a put-back can be given live: 256 userdata entries of a 53-byte key and
/// a 199-byte value, and sysdata as long as its buffer. The resume record keeps their length in
/// 16 bits (`as u16`, unchecked): they must fit, or the entry would say fewer bytes than it
/// holds.
// Userdata, extended targets' only, are written into a record only with the extended format.
#[cfg(feature = "extended")]
#[test]
fn the_largest_live_extras_fit_a_record_s_16_bit_length() {
    use crate::sysdata::Rendered;
    use crate::userdata::{Userdata, MAX_ENTRIES, MAX_KEY_LEN, MAX_VALUE_LEN};

    let mut userdata: Box<Userdata<MAX_ENTRIES>> = Box::new(Userdata::new());
    for i in 0..MAX_ENTRIES {
        let key = format!("{i:0width$}", width = MAX_KEY_LEN);
        userdata.set(key.as_bytes(), &[b'v'; MAX_VALUE_LEN - 1]).unwrap();
    }
    let mut sysdata = Rendered::new();
    sysdata.resize(sysdata.capacity(), b's').unwrap();
    let mut want = Vec::new();
    for e in userdata.entries() {
        want.extend_from_slice(e.rendered());
    }
    want.extend_from_slice(&sysdata);
    assert!(want.len() <= usize::from(u16::MAX), "{} bytes of extras", want.len());

    const ROOM: usize = HEADER + 4 + 1 + RECORD + 64 + 65535;
    let mut b: Box<Backlog<ROOM>> = Box::new(Backlog::new());
    let extras = Extras::Live { userdata: userdata.entries(), sysdata: &sysdata };
    let stopped = Resume { index: 2, offset: 999, extras, release: &[b'r'; 64] };
    let message = Message::Record(ExtendedRecord::new(6, 1, 2, b"text"));
    assert!(b.push_front(&message, 0b100, Some(stopped), Resumes::NONE));
    let mut copy: Box<heapless::Vec<u8, ROOM>> = Box::new(heapless::Vec::new());
    assert_eq!(b.copy_front(&mut copy), Some(0b100));
    let (decoded, resumes) = decode(&copy).unwrap();
    assert_eq!(decoded, message);
    let r = resumes.find(2).unwrap();
    let Extras::Frozen(got) = r.extras else { panic!("decoded extras are frozen") };
    assert_eq!(got, &want[..]);
    assert_eq!((r.offset, r.release.len()), (999, 64));
}
