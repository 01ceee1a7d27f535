//! Untrusted datagrams into `netconsole::receive`, as `netconsole listen` hands them over.
//!
//! The input is a list of datagrams separated by `0x00`; each starts with a control byte: the
//! low 2 bits pick one of 4 senders, the next 4 advance the clock (0 to 15 steps of 37 ms), and
//! bit 7 runs the timeout. Small caps, so the fuzzer reaches them. Nothing may panic, the
//! counters must add up, and no message may be longer than what holds it.
#![no_main]

use core::net::SocketAddr;

use libfuzzer_sys::fuzz_target;
use netconsole::receive::{parse, Config, Datagram, Receiver};

/// Slot buffer size: larger than spec example A (1500 bytes), smaller than many totals.
const BYTES: usize = 2048;

fuzz_target!(|data: &[u8]| {
    let config = Config { frag_timeout_ms: 100, pending_per_sender: 2 };
    let mut receiver: Receiver<3, 4, BYTES> = Receiver::new(config);
    let mut now = 0u64;
    let mut emitted = 0u64;
    for chunk in data.split(|&b| b == 0) {
        let Some((&control, datagram)) = chunk.split_first() else { continue };
        now += u64::from((control >> 2) & 0x0f) * 37;
        let src = SocketAddr::from(([192, 0, 2, 1 + (control & 3)], 6665));

        // The parser alone: a fragment it accepts lies inside its total (the netconsd CVE).
        if let Ok(Datagram::Extended { fragment: Some(fragment), body, .. }) = parse(datagram) {
            assert!(fragment.total > 0 && !body.is_empty());
            assert!(u64::from(fragment.offset) + body.len() as u64 <= u64::from(fragment.total));
        }

        let limit = datagram.len().max(BYTES);
        let _ = receiver.receive(now, src, datagram, &mut |m| {
            emitted += 1;
            assert!(m.text.len() + m.dict.len() <= limit);
            assert!(m.fields().count() <= m.dict.len());
        });
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
        assert!(receiver.next_deadline().is_some() == (receiver.pending() > 0));
    }
    receiver.flush(&mut |_| emitted += 1);
    assert_eq!(receiver.pending(), 0);
    assert_eq!(receiver.counters().messages, emitted);
});
