//! Streams are (sender, local address): a kernel with two extended targets sends every record to
//! both, back to back, from one source port. Replayed here as the kernel sends them, to two
//! bound ports, one target with the release prepended; nothing of either may be lost.

mod listen_common;

use std::net::UdpSocket;
use std::time::Duration;

use listen_common::{fragments, record, Listener};

/// Records the kernel logs: every third one longer than a datagram, so fragmented.
const RECORDS: u64 = 40;

#[test]
fn two_targets_from_one_source_port_are_two_streams() {
    let listener = Listener::start(2, &["--format", "json", "--idle-exit", "1"]);
    let (plain, with_release) = (listener.addrs[0], listener.addrs[1]);
    let kernel = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..RECORDS {
        let len = if i % 3 == 0 { 1400 } else { 60 };
        let msg = record(&format!("6,{},{},-;", 5000 + i, 1_000_000 + i * 17), len, b'a');
        // netconsole's write_ext_msg: every target in turn, all of one record's fragments each.
        for packet in fragments(None, &msg, b"") {
            kernel.send_to(&packet, plain).unwrap();
        }
        for packet in fragments(Some("6.12.0"), &msg, b"") {
            kernel.send_to(&packet, with_release).unwrap();
        }
        // Paced as a kernel logging now and then, so that the listener reads the two targets'
        // datagrams interleaved too, not one socket's backlog after the other's.
        std::thread::sleep(Duration::from_millis(2));
    }
    let (status, out, err) = listener.finish();
    assert!(status.success(), "{status}\n{err:#?}");
    let summary = err.last().unwrap();
    let released = out.iter().filter(|l| l.contains(r#""release":"6.12.0""#)).count();
    let plain_count = out.len() - released;
    assert_eq!((plain_count, released), (RECORDS as usize, RECORDS as usize), "{summary}");
    assert!(out.iter().all(|l| l.ends_with(r#""complete":true}"#)), "{out:#?}");
    for (local, release) in [(plain, false), (with_release, true)] {
        let mine: Vec<_> =
            out.iter().filter(|l| l.contains(&format!(r#""local":"{local}""#))).collect();
        assert_eq!(mine.len(), RECORDS as usize, "records to {local}");
        assert!(mine.iter().all(|l| l.contains(r#""release":"#) == release), "{mine:#?}");
    }
    assert!(summary.contains(" 0 duplicate, 0 late"), "{summary}");
}

/// The `"seq":N` of a JSON line.
fn seq_of(line: &str) -> u64 {
    let start = line.find(r#""seq":"#).unwrap() + 6;
    let end = start + line[start..].find(',').unwrap();
    line[start..end].parse().unwrap()
}

#[test]
fn threads_keep_each_senders_records_in_order() {
    const SENDERS: usize = 64;
    const EACH: u64 = 30;
    let listener = Listener::start(1, &["--format", "json", "--threads", "4", "--idle-exit", "1"]);
    let kernels: Vec<_> = (0..SENDERS).map(|_| UdpSocket::bind("127.0.0.1:0").unwrap()).collect();
    for seq in 0..EACH {
        for kernel in &kernels {
            let msg = record(&format!("6,{},{},-;", 100 + seq, 5000 + seq), 40, b's');
            kernel.send_to(&msg, listener.addr()).unwrap();
        }
    }
    let (status, out, err) = listener.finish();
    assert!(status.success(), "{status}\n{err:#?}");
    let summary = err.last().unwrap();
    assert_eq!(out.len(), SENDERS * EACH as usize, "{summary}");
    for kernel in &kernels {
        let src = format!(r#""src":"{}""#, kernel.local_addr().unwrap());
        let seqs: Vec<u64> = out.iter().filter(|l| l.contains(&src)).map(|l| seq_of(l)).collect();
        assert_eq!(seqs, (100..100 + EACH).collect::<Vec<_>>(), "{src}");
    }
    assert!(summary.contains(" 0 missing by sequence"), "{summary}");
    assert!(!out.iter().any(|l| l.contains("missing_before")));
}
