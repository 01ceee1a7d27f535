//! The receiver against Linux's framing: the spec's examples in any order, several senders,
//! basic lines, the caps, and property tests over arbitrary input.

use core::net::SocketAddr;

use proptest::prelude::*;

use super::fragmenter::{examples, fragments};
use super::*;

/// A message copied out of the callback.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Got {
    src: SocketAddr,
    local: SocketAddr,
    kind: Kind,
    seq: Option<u64>,
    release: Option<Vec<u8>>,
    text: Vec<u8>,
    dict: Vec<u8>,
    fields: Vec<(Vec<u8>, Vec<u8>)>,
    complete: bool,
    continues: bool,
    missing_before: u64,
}

impl Got {
    /// A record's data as sent, when it holds a `\n`: the text, the `\n`, the dict.
    fn joined(&self) -> Vec<u8> {
        [&self.text[..], b"\n", &self.dict[..]].concat()
    }
}

fn got(m: Message<'_>) -> Got {
    Got {
        src: m.src,
        local: m.local,
        kind: m.kind(),
        seq: m.header.map(|h| h.seq),
        release: m.header.and_then(|h| h.release).map(<[u8]>::to_vec),
        text: m.text.to_vec(),
        dict: m.dict.to_vec(),
        fields: m.fields().map(|(k, v)| (k.to_vec(), v.to_vec())).collect(),
        complete: m.complete,
        continues: m.continues,
        missing_before: m.missing_before,
    }
}

type Small = Receiver<8, 8, 4096>;

fn run<const A: usize, const B: usize, const C: usize>(
    receiver: &mut Receiver<A, B, C>,
    datagrams: &[(u64, SocketAddr, Vec<u8>)],
) -> Vec<Got> {
    let mut out = Vec::new();
    for (now, src, datagram) in datagrams {
        let _ = receiver.receive(*now, *src, datagram, &mut |m| out.push(got(m)));
    }
    out
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// The record data the fragments carry: body after the header's `;`, then the extradata.
fn record_data(msg: &[u8], extra: &[u8]) -> Vec<u8> {
    let semicolon = msg.iter().position(|&b| b == b';').unwrap();
    [&msg[semicolon + 1..], extra].concat()
}

#[test]
fn examples_a_to_e_shuffled_duplicated_two_senders() {
    let (one, two) = (addr("192.0.2.1:6665"), addr("[fc00::1]:6665"));
    let mut plan = Vec::new();
    for (i, example) in examples().into_iter().enumerate() {
        // C and E share seq 1 and D is whole: give each sender some of each.
        let src = if i % 2 == 0 { one } else { two };
        for packet in example.fragments() {
            plan.push((src, packet));
        }
    }
    // Reverse (last fragments first), then duplicate every other packet.
    plan.reverse();
    let dups: Vec<_> = plan.iter().step_by(2).cloned().collect();
    plan.extend(dups);
    let datagrams: Vec<_> = plan.into_iter().map(|(s, p)| (0, s, p)).collect();

    let mut receiver = Small::new(Config::DEFAULT);
    let out = run(&mut receiver, &datagrams);
    assert_eq!(out.len(), 5, "{out:#?}");
    for (i, example) in examples().into_iter().enumerate() {
        let (name, want) = (example.name, record_data(&example.msg, &example.extra));
        let m = out
            .iter()
            .find(|m| m.joined() == want)
            .unwrap_or_else(|| panic!("example {name} not reassembled"));
        assert!(m.complete, "{name}");
        assert_eq!(m.src, if i % 2 == 0 { one } else { two }, "{name}");
        assert_eq!(m.release.as_deref(), example.release, "{name}");
    }
    let c = out.iter().find(|m| m.release.is_some()).unwrap();
    let keys: Vec<_> = c.fields.iter().map(|(k, _)| k.as_slice()).collect();
    assert_eq!(keys, [&b"key"[..], b"cpu", b"taskname", b"release", b"msgid"]);
    let counters = receiver.counters();
    assert_eq!(counters.accounted(), counters.datagrams);
    assert_eq!((counters.complete, counters.incomplete, counters.extended), (5, 0, 1));
    assert_eq!(counters.late + counters.duplicates, 5);
    assert_eq!(receiver.pending(), 0);
}

#[test]
fn two_targets_of_one_kernel_are_two_streams() {
    // One kernel, one source port, two extended targets (the second with the release): every
    // record to both, back to back, as netconsole's write_ext_msg sends it.
    let kernel = addr("192.0.2.1:6665");
    let (plain, released) = (addr("192.0.2.9:6667"), addr("192.0.2.9:6668"));
    let mut datagrams = Vec::new();
    for i in 0..30u64 {
        let len = if i % 3 == 0 { 1400 } else { 50 };
        let mut msg = format!("6,{},{},-;", 700 + i, 5_000 + i).into_bytes();
        msg.resize(msg.len() + len, b'k');
        for (local, release) in [(plain, None), (released, Some(&b"6.12.0"[..]))] {
            for packet in fragments(release, &msg, b"") {
                datagrams.push((local, packet));
            }
        }
    }
    let mut receiver = Small::new(Config::DEFAULT);
    let mut out = Vec::new();
    for (local, datagram) in &datagrams {
        let stream = Stream::new(kernel, *local);
        receiver.receive_on(0, stream, datagram, &mut |m| out.push(got(m))).unwrap();
    }
    for (local, release) in [(plain, None), (released, Some(b"6.12.0".to_vec()))] {
        let mine: Vec<_> = out.iter().filter(|m| m.local == local).collect();
        let seqs: Vec<_> = mine.iter().filter_map(|m| m.seq).collect();
        assert_eq!(seqs, (700..730).collect::<Vec<_>>(), "{local}");
        assert!(mine.iter().all(|m| m.complete && m.release == release && m.src == kernel));
    }
    let c = receiver.counters();
    assert_eq!((c.duplicates, c.late, c.messages), (0, 0, 60));

    // On one local address the second copy of a record is what it looks like: a duplicate.
    let mut receiver = Small::new(Config::DEFAULT);
    let mut out = Vec::new();
    for (_, datagram) in &datagrams {
        let _ = receiver.receive(0, kernel, datagram, &mut |m| out.push(got(m)));
    }
    assert_eq!(out.len(), 30);
    assert!(out.iter().all(|m| m.local == addr("0.0.0.0:0")));
}

#[test]
fn missing_fragment_goes_out_incomplete_at_the_timeout() {
    let src = addr("192.0.2.1:6665");
    let packets = examples()[0].fragments();
    let mut receiver = Small::new(Config { frag_timeout_ms: 500, ..Config::DEFAULT });
    let out = run(&mut receiver, &[(100, src, packets[1].clone())]);
    assert!(out.is_empty());
    assert_eq!(receiver.next_deadline(), Some(600));
    let mut out = Vec::new();
    receiver.expire(599, &mut |m| out.push(got(m)));
    assert!(out.is_empty());
    receiver.expire(600, &mut |m| out.push(got(m)));
    assert_eq!(out.len(), 1);
    let m = &out[0];
    assert!(!m.complete);
    assert_eq!((m.seq, m.src), (Some(416), src));
    // What arrived: the last 530 bytes (529 'a' and the '\n'), closed up.
    assert_eq!(m.joined(), [&[b'a'; 529][..], b"\n"].concat());
    // The first fragment, late, is dropped rather than starting a record that can never finish.
    let out = run(&mut receiver, &[(700, src, packets[0].clone())]);
    assert!(out.is_empty());
    let counters = receiver.counters();
    assert_eq!((counters.late, counters.incomplete, counters.messages), (1, 1, 1));
}

#[test]
fn basic_lines_are_split_and_joined_per_sender() {
    let (one, two) = (addr("192.0.2.1:6665"), addr("192.0.2.2:6665"));
    let long: Vec<u8> = (0..2500).map(|i| b'a' + (i % 26) as u8).collect();
    let mut with_newline = long.clone();
    with_newline.push(b'\n');
    let mut datagrams = vec![
        (0, one, b"first\nsecond\nthi".to_vec()),
        (0, two, with_newline[..1000].to_vec()),
        (0, one, b"rd\n".to_vec()),
        (0, two, with_newline[1000..2000].to_vec()),
        (0, one, b"\n".to_vec()),
    ];
    datagrams.push((0, two, with_newline[2000..].to_vec()));
    let mut receiver = Small::new(Config::DEFAULT);
    let out = run(&mut receiver, &datagrams);
    let lines: Vec<_> = out.iter().map(|m| (m.src, m.text.clone(), m.complete)).collect();
    assert_eq!(
        lines,
        [
            (one, b"first".to_vec(), true),
            (one, b"second".to_vec(), true),
            (one, b"third".to_vec(), true),
            (one, b"".to_vec(), true),
            (two, long, true),
        ]
    );
    assert!(out.iter().all(|m| m.kind == Kind::Basic && m.fields.is_empty()));
    assert_eq!(receiver.pending(), 0);
}

#[test]
fn unfinished_line_is_flushed_incomplete() {
    let src = addr("192.0.2.1:6665");
    let mut receiver = Small::new(Config { frag_timeout_ms: 50, ..Config::DEFAULT });
    run(&mut receiver, &[(0, src, b"no newline".to_vec())]);
    let mut out = Vec::new();
    receiver.expire(50, &mut |m| out.push(got(m)));
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].text.as_slice(), out[0].complete), (&b"no newline"[..], false));
    run(&mut receiver, &[(60, src, b"more".to_vec())]);
    receiver.flush(&mut |m| out.push(got(m)));
    assert_eq!(out[1].text, b"more");
}

#[test]
fn line_longer_than_a_slot_goes_out_in_pieces() {
    let src = addr("192.0.2.1:6665");
    let mut receiver: Receiver<2, 2, 16> = Receiver::new(Config::DEFAULT);
    let out = run(&mut receiver, &[(0, src, [&[b'x'; 40][..], b"\n"].concat())]);
    // A whole line inside one datagram needs no slot at all.
    assert_eq!(out.len(), 1);
    let out = run(&mut receiver, &[(0, src, vec![b'y'; 20]), (0, src, b"yy\n".to_vec())]);
    // Every byte arrived: the pieces are complete, and nothing is counted as truncated.
    let pieces: Vec<_> = out.iter().map(|m| (m.text.len(), m.complete, m.continues)).collect();
    assert_eq!(pieces, [(16, true, true), (6, true, false)]);
    let c = receiver.counters();
    assert_eq!((c.truncated, c.split, c.incomplete), (0, 1, 0));
}

#[test]
fn a_long_basic_line_over_many_datagrams_is_not_truncated() {
    // Linux cuts a 20000-byte console line into 1000-byte datagrams; the slots hold 8 KiB.
    let src = addr("192.0.2.1:6665");
    let line: Vec<u8> = (0..20_000).map(|i| b'a' + (i % 26) as u8).chain([b'\n']).collect();
    let datagrams: Vec<_> = line.chunks(1000).map(|c| (0, src, c.to_vec())).collect();
    let mut receiver: Receiver<4, 4, 8192> = Receiver::new(Config::DEFAULT);
    let out = run(&mut receiver, &datagrams);
    let joined: Vec<u8> = out.iter().flat_map(|m| m.text.clone()).collect();
    assert_eq!(joined, line[..20_000]);
    assert!(out.iter().all(|m| m.complete));
    assert_eq!(out.iter().filter(|m| m.continues).count(), 2);
    let c = receiver.counters();
    assert_eq!((c.truncated, c.incomplete, c.split), (0, 0, 2));
}

#[test]
fn gaps_are_counted_and_marked_and_a_restart_is_not_one() {
    let src = addr("192.0.2.1:6665");
    let record = |seq: u64, ts: u64| format!("6,{seq},{ts},-;r{seq}\n").into_bytes();
    let mut receiver = Small::new(Config { frag_timeout_ms: 100, ..Config::DEFAULT });
    let sent = [(0, 1), (0, 2), (10, 6), (50, 4), (500, 5), (510, 7), (520, 0), (530, 1)];
    // After the restart at 520, the kernel's clock starts again too.
    let ts = |t: u64, seq: u64| if t < 520 { 1000 + seq } else { 10 + seq };
    let datagrams: Vec<_> =
        sent.iter().map(|&(t, seq)| (t, src, record(seq, ts(t, seq)))).collect();
    let out = run(&mut receiver, &datagrams);
    let marks: Vec<_> = out.iter().map(|m| (m.seq.unwrap(), m.missing_before)).collect();
    // 6 finds 3, 4 and 5 missing; 4 fills in time, 5 too late; 0 is the sender restarting.
    assert_eq!(marks, [(1, 0), (2, 0), (6, 3), (4, 0), (5, 0), (7, 0), (0, 0), (1, 0)]);
    let c = receiver.counters();
    assert_eq!((c.missing, c.restarts), (2, 1));
}

#[test]
fn duplicates_are_caught_for_thousands_of_senders() {
    // A table a fifth larger than the senders it holds: none forgotten.
    const SENDERS: u32 = 1700;
    let src = |i: u32| SocketAddr::from(([10, 1, (i >> 8) as u8, i as u8], 6665));
    let mut receiver: Box<Receiver<2048, 2, 64>> = Box::default();
    for round in 0..2 {
        for i in 0..SENDERS {
            let datagram = format!("6,{i},{i},-;from {i}\n");
            receiver.receive(round, src(i), datagram.as_bytes(), &mut |_| {}).unwrap();
        }
    }
    let c = receiver.counters();
    assert_eq!((c.extended, c.duplicates), (u64::from(SENDERS), u64::from(SENDERS)));
    assert_eq!((c.forgotten, receiver.senders()), (0, SENDERS as usize));
}

#[test]
fn the_netconsd_cve_is_refused() {
    let src = addr("192.0.2.1:6665");
    let mut receiver = Small::new(Config::DEFAULT);
    let mut out = Vec::new();
    for bad in [&b"6,1,100,-,ncfrag=2000/1000;x"[..], b"6,1,100,-,ncfrag=999/1000;xy"] {
        let err = receiver.receive(0, src, bad, &mut |m| out.push(got(m))).unwrap_err();
        assert!(matches!(err, Error::Malformed(Malformed::BeyondTotal { .. })), "{err}");
    }
    assert!(out.is_empty());
    assert_eq!(receiver.counters().malformed, 2);
    assert_eq!(receiver.pending(), 0);
}

#[test]
fn record_longer_than_a_slot_is_cut_and_marked() {
    let src = addr("192.0.2.1:6665");

    let mut receiver: Receiver<2, 2, 1024> = Receiver::new(Config::DEFAULT);
    let datagrams: Vec<_> =
        examples()[0].fragments().into_iter().rev().map(|p| (0, src, p)).collect(); // 1500 bytes
    let out = run(&mut receiver, &datagrams);
    assert_eq!(out.len(), 1);
    assert!(!out[0].complete);
    assert_eq!(out[0].text, [b'a'; 1024]);
    assert_eq!(receiver.counters().truncated, 1);
}

#[test]
fn caps_refuse_and_count() {
    let frag = |seq: u64| format!("6,{seq},100,-,ncfrag=0/10;abc").into_bytes();
    let senders: Vec<SocketAddr> = (1..=4).map(|i| addr(&format!("192.0.2.{i}:6665"))).collect();

    // Pending per sender.
    let mut receiver: Receiver<4, 4, 64> =
        Receiver::new(Config { pending_per_sender: 2, ..Config::DEFAULT });
    let mut nothing = |_: Message<'_>| panic!("nothing completes");
    assert!(receiver.receive(0, senders[0], &frag(1), &mut nothing).is_ok());
    assert!(receiver.receive(0, senders[0], &frag(2), &mut nothing).is_ok());
    assert_eq!(receiver.receive(0, senders[0], &frag(3), &mut nothing), Err(Error::TooManyPending));
    // Slots.
    assert!(receiver.receive(0, senders[1], &frag(1), &mut nothing).is_ok());
    assert!(receiver.receive(0, senders[1], &frag(2), &mut nothing).is_ok());
    assert_eq!(receiver.receive(0, senders[2], &frag(1), &mut nothing), Err(Error::NoFreeSlot));
    // Whole records and lines need no slot, even now.
    let mut out = Vec::new();
    receiver.receive(0, senders[3], b"6,9,100,-;whole\n", &mut |m| out.push(got(m))).unwrap();
    receiver.receive(0, senders[3], b"a line\n", &mut |m| out.push(got(m))).unwrap();
    // A line start with no slot goes out at once.
    receiver.receive(0, senders[3], b"partial", &mut |m| out.push(got(m))).unwrap();
    assert_eq!(out.iter().map(|m| m.complete).collect::<Vec<_>>(), [true, true, false]);
    let c = receiver.counters();
    assert_eq!((c.refused_pending, c.refused_slots, c.unjoined), (1, 1, 1));
    assert_eq!(c.accounted(), c.datagrams);

    // Senders: a table of 2, both with something pending.
    let mut receiver: Receiver<2, 4, 64> = Receiver::new(Config::DEFAULT);
    receiver.receive(0, senders[0], &frag(1), &mut nothing).unwrap();
    receiver.receive(0, senders[1], &frag(1), &mut nothing).unwrap();
    assert_eq!(receiver.receive(0, senders[2], &frag(1), &mut nothing), Err(Error::TooManySenders));
    // Once one has nothing pending, it makes room.
    receiver.expire(10_000, &mut |_| {});
    receiver.receive(10_001, senders[2], &frag(1), &mut nothing).unwrap();
    assert_eq!(receiver.counters().refused_senders, 1);
}

#[test]
fn scattered_fragments_hit_the_run_cap() {
    let src = addr("192.0.2.1:6665");
    let mut receiver = Small::new(Config::DEFAULT);
    let mut refused = 0;
    for i in 0..(MAX_RUNS as u32 + 5) {
        let datagram = format!("6,1,100,-,ncfrag={}/4000;x", i * 2);
        if receiver.receive(0, src, datagram.as_bytes(), &mut |_| {}) == Err(Error::TooManyRuns) {
            refused += 1;
        }
    }
    assert_eq!(refused, 5);
    assert_eq!(receiver.counters().refused_runs, 5);
}

#[test]
fn default_receiver_footprint() {
    let size = core::mem::size_of::<Receiver>();
    // 64 slots of 8 KiB plus bookkeeping; printed for the docs, bounded so it cannot creep.
    println!("size_of::<Receiver>() = {size}");
    assert!(size < 640 * 1024, "{size}");
}

/// Shuffles `items` with a seed, duplicating some, the way a lossy network might deliver them.
fn deliver(items: &[Vec<u8>], seed: u64, dup_every: usize) -> Vec<Vec<u8>> {
    let mut all: Vec<_> = items.to_vec();
    all.extend(items.iter().step_by(dup_every.max(1)).cloned());
    let mut state = seed | 1;
    for i in (1..all.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        all.swap(i, (state % (i as u64 + 1)) as usize);
    }
    all
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_datagrams_never_panic(
        datagrams in prop::collection::vec(
            (0u64..3000, 0u8..4, prop_oneof![
                prop::collection::vec(any::<u8>(), 0..1200),
                "[0-9]{1,3},[0-9]{1,3},[0-9]{1,3},[-c+](,ncfrag=[0-9]{1,5}/[0-9]{1,5})?;[a-z\n ]{0,40}"
                    .prop_map(String::into_bytes),
            ]),
            0..40,
        )
    ) {
        let mut receiver: Receiver<3, 3, 256> = Receiver::new(Config::DEFAULT);
        let mut now = 0;
        let mut emitted = 0u64;
        for (step, sender, bytes) in datagrams {
            now += step;
            let src = SocketAddr::from(([10, 0, 0, sender], 6665));
            let _ = receiver.receive(now, src, &bytes, &mut |m| {
                emitted += 1;
                assert!(m.text.len() + m.dict.len() <= bytes.len().max(256) + 1);
            });
            receiver.expire(now, &mut |_| emitted += 1);
            let c = receiver.counters();
            prop_assert_eq!(c.accounted(), c.datagrams);
            prop_assert_eq!(c.messages, c.complete + c.incomplete);
            prop_assert_eq!(c.messages, emitted);
        }
        receiver.flush(&mut |_| {});
        prop_assert_eq!(receiver.pending(), 0);
    }

    #[test]
    fn linux_fragments_reassemble_exactly(
        body in prop::collection::vec(prop_oneof![9 => 0x20u8..0x7f, 1 => Just(b'\n')], 0..6000),
        extra in prop::collection::vec(0x20u8..0x7f, 0..300),
        release in prop::option::of("[0-9]\\.[0-9]{1,2}\\.[0-9]-[a-z0-9_]{0,20}"),
        seq in any::<u64>(),
        seed in any::<u64>(),
        dup_every in 1usize..5,
    ) {
        let mut msg = format!("6,{seq},123456,-;").into_bytes();
        msg.extend_from_slice(&body);
        let packets = fragments(release.as_deref().map(str::as_bytes), &msg, &extra);
        let mut receiver: Receiver<2, 2, 8192> = Receiver::new(Config::DEFAULT);
        let src = SocketAddr::from(([10, 0, 0, 1], 6665));
        let mut out = Vec::new();
        for packet in deliver(&packets, seed, dup_every) {
            receiver.receive(0, src, &packet, &mut |m| out.push(got(m))).unwrap();
        }
        prop_assert_eq!(out.len(), 1);
        let data = [&body[..], &extra[..]].concat();
        let m = &out[0];
        prop_assert!(m.complete);
        prop_assert_eq!(m.seq, Some(seq));
        if data.contains(&b'\n') {
            prop_assert_eq!(m.joined(), data);
        } else {
            prop_assert_eq!((&m.text, m.dict.is_empty()), (&data, true));
        }
        prop_assert_eq!(receiver.pending(), 0);
    }
}
