//! The receiver at the edges of its numbers: sequence numbers and counts near `u64::MAX`,
//! which a hostile or broken sender can put in any header.

use core::net::SocketAddr;

use super::*;

fn record(seq: u64) -> Vec<u8> {
    format!("6,{seq},100,-;r\n").into_bytes()
}

fn marks(receiver: &mut Receiver<8, 8, 4096>, src: SocketAddr, seqs: &[u64]) -> Vec<u64> {
    let mut marks = Vec::new();
    for (t, &seq) in seqs.iter().enumerate() {
        let out = &mut |m: Message<'_>| marks.push(m.missing_before);
        receiver.receive(t as u64, src, &record(seq), out).unwrap();
    }
    marks
}

#[test]
fn a_record_just_below_the_highest_u64_sequence_is_late_not_a_panic() {
    let src: SocketAddr = "192.0.2.1:6665".parse().unwrap();
    let mut receiver = Receiver::<8, 8, 4096>::new(Config::DEFAULT);
    let marks = marks(&mut receiver, src, &[u64::MAX, u64::MAX - 1]);
    // Reordered, well inside the window: late, no restart.
    assert_eq!(marks, [0, 0]);
    let c = receiver.counters();
    assert_eq!((c.missing, c.restarts, c.extended), (0, 0, 2));
}

#[test]
fn the_missing_count_saturates_instead_of_overflowing() {
    let (one, two): (SocketAddr, SocketAddr) =
        ("192.0.2.1:6665".parse().unwrap(), "192.0.2.2:6665".parse().unwrap());
    let mut receiver = Receiver::<8, 8, 4096>::new(Config::DEFAULT);
    assert_eq!(marks(&mut receiver, one, &[0, u64::MAX]), [0, u64::MAX - 1]);
    assert_eq!(marks(&mut receiver, two, &[0, 3]), [0, 2]);
    assert_eq!(receiver.counters().missing, u64::MAX);
}
