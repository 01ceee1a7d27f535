//! Extended messages cut exactly as Linux cuts them: spec section 3.3 examples A to E byte for
//! byte, and a property test that an independent reassembler gets back exactly the escaped body,
//! userdata and sysdata for arbitrary text.

mod common;

use common::{drain, reassemble, OUR_MAC, PEER_MAC};
use netconsole::{escape, needs_escape, ExtendedRecord, Netconsole, Sysdata, SystemInfo, Target};
use netpoll_core::{Endpoint, NicEngine, ResolvePolicy};
use netpoll_drivers::sim::SimNic;
use proptest::prelude::*;

struct Info;
impl SystemInfo for Info {
    fn cpu(&self) -> u32 {
        3
    }
    fn task_name(&self) -> &str {
        "echo"
    }
    fn release(&self) -> &str {
        "6.18.0"
    }
}

type Console =
    Netconsole<SimNic<4, 128>, netpoll_core::NoDelay, Info, 8, 16384, [Option<Target<8>>; 1]>;

fn console(release: bool, userdata: &[(&str, &str)], sysdata: Sysdata) -> Console {
    let console = Console::new(Info);
    assert!(console.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    let mut endpoint = Endpoint::new("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    endpoint.remote_mac = Some(PEER_MAC);
    let mut target = Target::new(endpoint);
    target.extended = true;
    target.release = release;
    target.sysdata = sysdata;
    for (k, v) in userdata {
        target.userdata.set(k.as_bytes(), v.as_bytes()).unwrap();
    }
    let i = console.add_target(target).unwrap();
    console.enable(i, ResolvePolicy::default()).unwrap();
    console
}

fn sent(console: &Console) -> Vec<Vec<u8>> {
    console.with_nic(|np| drain(np.driver_mut())).unwrap().into_iter().map(|(_, p)| p).collect()
}

fn record(facility: u8, level: u8, seq: u64, ts: u64, text: &[u8]) -> ExtendedRecord<'_> {
    let mut r = ExtendedRecord::new(level, seq, ts, text);
    r.facility = facility;
    r
}

#[test]
fn example_a() {
    let c = console(false, &[], Sysdata::default());
    let text = vec![b'a'; 1499];
    c.write_record(&record(0, 6, 416, 1_758_426, &text));
    let p = sent(&c);
    assert_eq!(p.iter().map(Vec::len).collect::<Vec<_>>(), [1000, 562]);
    assert!(p[0].starts_with(b"6,416,1758426,-,ncfrag=0/1500;aaa"));
    assert!(p[1].starts_with(b"6,416,1758426,-,ncfrag=970/1500;aaa"));
    assert!(p[1].ends_with(b"a\n"));
}

#[test]
fn example_b() {
    let c = console(false, &[], Sysdata::default());
    let text = vec![b'b'; 1134];
    c.write_record(&record(1, 5, 468, 514_729_715, &text));
    let p = sent(&c);
    assert_eq!(p.iter().map(Vec::len).collect::<Vec<_>>(), [1000, 203]);
    assert!(p[0].starts_with(b"13,468,514729715,-,ncfrag=0/1135;b"));
    assert!(p[1].starts_with(b"13,468,514729715,-,ncfrag=967/1135;b"));
}

#[test]
fn example_c_release_userdata_sysdata() {
    let c = console(true, &[("key", "value")], Sysdata::ALL);
    let text = vec![b'z'; 989];
    c.write_record(&record(0, 6, 1, 100, &text));
    let p = sent(&c);
    assert_eq!(p.iter().map(Vec::len).collect::<Vec<_>>(), [1000, 112]);
    assert!(p[0].starts_with(b"6.18.0,6,1,100,-,ncfrag=0/1048;zzz"));
    let mut second = b"6.18.0,6,1,100,-,ncfrag=969/1048;".to_vec();
    second.extend_from_slice(&[b'z'; 20]);
    second.extend_from_slice(b"\n key=value\n cpu=3\n taskname=echo\n release=6.18.0\n msgid=1\n");
    assert_eq!(p[1], second);
}

#[test]
fn example_d_exactly_1000_bytes_is_one_packet() {
    let c = console(false, &[], Sysdata::default());
    let text = vec![b'd'; 989];
    c.write_record(&record(0, 6, 1, 100, &text));
    let p = sent(&c);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].len(), 1000);
    assert!(p[0].starts_with(b"6,1,100,-;ddd") && p[0].ends_with(b"d\n"));
}

#[test]
fn example_e_1001_bytes() {
    let c = console(false, &[], Sysdata::default());
    let text = vec![b'e'; 990];
    c.write_record(&record(0, 6, 1, 100, &text));
    let p = sent(&c);
    assert_eq!(p.iter().map(Vec::len).collect::<Vec<_>>(), [1000, 39]);
    assert!(p[0].starts_with(b"6,1,100,-,ncfrag=0/991;e"));
    assert_eq!(&p[1][..25], b"6,1,100,-,ncfrag=977/991;");
}

#[test]
fn msgid_counts_messages_not_fragments() {
    let c = console(false, &[], Sysdata { msgid: true, ..Sysdata::default() });
    c.write_record(&record(0, 6, 1, 100, &[b'x'; 3000]));
    c.write_record(&record(0, 6, 2, 100, b"short"));
    let p = sent(&c);
    let (_, first) = reassemble(&p[..4], None);
    assert!(first.ends_with(b" msgid=1\n"));
    assert_eq!(p[4], b"6,2,100,-;short\n msgid=2\n");
}

fn escaped(text: &[u8]) -> Vec<u8> {
    text.iter().flat_map(|&b| if needs_escape(b) { escape(b).to_vec() } else { vec![b] }).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn fragments_reassemble_to_body_userdata_sysdata(
        text in proptest::collection::vec(any::<u8>(), 0..8192),
        userdata in proptest::collection::vec(("[a-z]{1,53}", "[ -~]{0,199}"), 0..8),
        cpu in any::<bool>(), taskname in any::<bool>(), release_line in any::<bool>(),
        msgid in any::<bool>(), release in any::<bool>(),
    ) {
        let sysdata = Sysdata { cpu, taskname, release: release_line, msgid };
        let pairs: Vec<(&str, &str)> =
            userdata.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let c = console(release, &pairs, sysdata);
        c.write_record(&record(0, 6, 7, 9, &text));
        let packets = sent(&c);

        let mut expected = escaped(&text);
        expected.push(b'\n');
        // Userdata: later duplicates of a key replace the earlier value in place.
        let mut seen: Vec<(String, String)> = Vec::new();
        for (k, v) in &userdata {
            match seen.iter_mut().find(|(sk, _)| sk == k) {
                Some(e) => e.1 = v.clone(),
                None => seen.push((k.clone(), v.clone())),
            }
        }
        for (k, v) in &seen {
            if !v.is_empty() {
                expected.extend_from_slice(format!(" {k}={v}\n").as_bytes());
            }
        }
        if cpu { expected.extend_from_slice(b" cpu=3\n"); }
        if taskname { expected.extend_from_slice(b" taskname=echo\n"); }
        if release_line { expected.extend_from_slice(b" release=6.18.0\n"); }
        if msgid { expected.extend_from_slice(b" msgid=1\n"); }

        let (header, data) = reassemble(&packets, release.then_some(&b"6.18.0"[..]));
        prop_assert_eq!(header, b"6,7,9,-".to_vec());
        prop_assert_eq!(data, expected);
        for p in &packets[..packets.len() - 1] {
            prop_assert_eq!(p.len(), 1000, "every fragment but the last is 1000 bytes");
        }
        prop_assert_eq!(c.counters().targets.messages, 1);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn basic_chunks_concatenate_to_the_input(text in proptest::collection::vec(any::<u8>(), 0..8192)) {
        let c = console(false, &[], Sysdata::default());
        // An enabled target's format is fixed, as in Linux: disable, change, enable.
        c.disable(0).unwrap();
        c.with_target(0, |t| t.extended = false).unwrap();
        c.enable(0, ResolvePolicy::default()).unwrap();
        c.write(&text);
        let packets = sent(&c);
        prop_assert!(packets.iter().all(|p| p.len() <= 1000 && !p.is_empty()));
        prop_assert_eq!(packets.len(), text.len().div_ceil(1000));
        prop_assert_eq!(packets.concat(), text);
    }
}
