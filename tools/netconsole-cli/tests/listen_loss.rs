//! Every loss counted: what the kernel drops because the socket buffer is full is read from the
//! socket (`SO_RXQ_OVFL`) and reported; with the datagrams read it adds up to what was sent.

mod listen_common;

use std::net::UdpSocket;
use std::time::Duration;

use listen_common::Listener;

#[test]
fn kernel_drops_are_counted() {
    // A small buffer, and a listener stopped while the sender overruns it.
    let listener = Listener::start(1, &["--rcvbuf", "64K", "--idle-exit", "1"]);
    listener.signal("STOP");
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    const SENT: u64 = 3000;
    for i in 0..SENT - 1 {
        sender.send_to(format!("line {i} {:0200}\n", 0).as_bytes(), listener.addr()).unwrap();
    }
    listener.signal("CONT");
    std::thread::sleep(Duration::from_millis(200));
    // The drop count comes with the next datagram read.
    sender.send_to(b"last\n", listener.addr()).unwrap();
    let (status, out, err) = listener.finish();
    assert!(status.success(), "{status}\n{err:#?}");
    let summary = err.last().unwrap();
    let number = |suffix: &str| -> u64 {
        let end = summary.find(suffix).unwrap_or_else(|| panic!("{suffix}: {summary}"));
        let start = summary[..end].rfind(' ').map_or(0, |i| i + 1);
        summary[start..end].parse().unwrap()
    };
    let (datagrams, dropped) = (number(" datagrams,"), number(" dropped by the kernel"));
    assert!(dropped > 0, "{summary}");
    assert_eq!(datagrams, out.len() as u64, "{summary}");
    assert_eq!(datagrams + dropped, SENT, "{summary}");
}
