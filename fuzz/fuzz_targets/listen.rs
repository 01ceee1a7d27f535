//! Untrusted datagrams into `netconsole::receive`, as `netconsole listen` hands them over.
//!
//! The input is a list of datagrams separated by `0x00`; each starts with a control byte and a
//! stream byte. Control: the low 2 bits pick one of 4 sender hosts, the next 4 advance the clock
//! (0 to 15 steps of 37 ms), bit 6 asks for `receive` rather than `receive_on`, bit 7 runs the
//! timeout. Stream: the low 3 bits pick the sender's source port (8 of them), bit 3 the local
//! address (two targets of one kernel), bit 4 IPv6. So up to 64 streams share a table of 16
//! entries in 2 sets: entries are taken, forgotten and taken again, and streams of one source
//! differ only by their local address. Small caps, so the fuzzer reaches them. Nothing may panic,
//! the counters must add up, and no message may be longer than what holds it.
#![no_main]

use core::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use libfuzzer_sys::fuzz_target;
use netconsole::receive::{parse, Config, Datagram, Receiver, SenderEntry, Stream};

/// Slot buffer size: larger than spec example A (1500 bytes), smaller than many totals.
const BYTES: usize = 2048;
/// Sender entries: two sets of 8.
const SENDERS: usize = 16;

fuzz_target!(|data: &[u8]| {
    let config = Config { frag_timeout_ms: 100, pending_per_sender: 2 };
    let mut receiver: Receiver<0, 4, BYTES, Vec<SenderEntry>> =
        Receiver::with_senders(config, vec![SenderEntry::EMPTY; SENDERS]);
    let mut now = 0u64;
    let mut emitted = 0u64;
    for chunk in data.split(|&b| b == 0) {
        let [control, select, datagram @ ..] = chunk else { continue };
        now += u64::from((control >> 2) & 0x0f) * 37;
        let host = 1 + (control & 3);
        let port = 6665 + u16::from(select & 7);
        let src = if select & 0x10 != 0 {
            SocketAddr::from((Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, host.into()), port))
        } else {
            SocketAddr::from((Ipv4Addr::new(192, 0, 2, host), port))
        };
        let local = SocketAddr::from(([127, 0, 0, 1], 6666 + u16::from((select >> 3) & 1)));

        // The parser alone: a fragment it accepts lies inside its total (the netconsd CVE).
        if let Ok(Datagram::Extended { fragment: Some(fragment), body, .. }) = parse(datagram) {
            assert!(fragment.total > 0 && !body.is_empty());
            assert!(u64::from(fragment.offset) + body.len() as u64 <= u64::from(fragment.total));
        }

        let limit = datagram.len().max(BYTES);
        let mut check = |m: netconsole::receive::Message<'_>| {
            emitted += 1;
            assert!(m.text.len() + m.dict.len() <= limit);
            assert!(m.fields().count() <= m.dict.len());
        };
        let _ = if control & 0x40 != 0 {
            receiver.receive(now, src, datagram, &mut check)
        } else {
            receiver.receive_on(now, Stream::new(src, local), datagram, &mut check)
        };
        if control & 0x80 != 0 {
            receiver.expire(now, &mut |m| {
                emitted += 1;
                assert!(!m.complete && m.text.len() + m.dict.len() <= BYTES);
            });
        }
        let c = receiver.counters();
        assert_eq!(c.accounted(), c.datagrams);
        assert_eq!(c.messages, c.complete + c.incomplete);
        assert_eq!(c.messages, emitted);
        assert!(receiver.pending() <= 4);
        assert!(receiver.senders() <= SENDERS);
        assert!(receiver.next_deadline().is_some() == (receiver.pending() > 0));
    }
    receiver.flush(&mut |_| emitted += 1);
    assert_eq!(receiver.pending(), 0);
    assert_eq!(receiver.counters().messages, emitted);
});
