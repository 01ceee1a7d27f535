//! Userdata limits refused with a clear error; the message writer cuts and counts.

use core::fmt::Write as _;

use netconsole::{MessageWriter, Netconsole, NoSystemInfo, Target, UserdataError};
use netpoll_core::Endpoint;
use netpoll_drivers::sim::SimNic;

#[test]
fn userdata_limits() {
    let endpoint = Endpoint::new("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    let mut target: Target<256> = Target::new(endpoint);
    for i in 1..=256 {
        target.userdata.set(format!("key{i}").as_bytes(), b"v").unwrap();
    }
    let err = target.userdata.set(b"key257", b"v").unwrap_err();
    assert_eq!(err, UserdataError::Full { capacity: 256 });
    assert_eq!(err.to_string(), "userdata is full (256 entries)");
    let err = target.userdata.set(&[b'k'; 54], b"v").unwrap_err();
    assert_eq!(err.to_string(), "userdata key of 54 bytes is longer than 53");
    let err = target.userdata.set(b"key1", &[b'v'; 200]).unwrap_err();
    assert_eq!(err.to_string(), "userdata value of 200 bytes is not shorter than 200");
}

#[test]
fn writer_cuts_and_counts_overflow() {
    static CONSOLE: Netconsole<SimNic> = Netconsole::new(NoSystemInfo);
    let mut w = MessageWriter::<16>::new(&CONSOLE, 6);
    write!(w, "{}", "y".repeat(40)).unwrap();
    w.end();
    let c = CONSOLE.counters();
    assert_eq!((c.messages, c.truncated), (1, 1));
}
