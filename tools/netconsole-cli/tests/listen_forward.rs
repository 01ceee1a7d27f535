//! `--format rfc5424` and `--forward`: syslog to stdout, and to a syslog server over UDP and
//! TCP (a stand-in on 127.0.0.1 here), as rsyslog and syslog-ng take it.

mod listen_common;

use std::io::Read as _;
use std::net::{TcpListener, UdpSocket};
use std::time::Duration;

use listen_common::Listener;

const RECORD: &[u8] = b"6.12.0,14,7,100,-;link \\x09up\n SUBSYSTEM=net\n";

/// Sends the record and a basic line to the listener.
fn feed(listener: &Listener) {
    let kernel = UdpSocket::bind("127.0.0.1:0").unwrap();
    kernel.send_to(RECORD, listener.addr()).unwrap();
    kernel.send_to(b"[    2.000000] basic\n", listener.addr()).unwrap();
}

/// What the two messages must look like in RFC 5424 (after the timestamp).
fn check(messages: &[String]) {
    assert_eq!(messages.len(), 2, "{messages:#?}");
    let record = messages.iter().find(|m| m.starts_with("<14>1 ")).expect("the record");
    assert!(record.contains(" 127.0.0.1 kernel - - [netconsole@32473 local=\""), "{record}");
    assert!(record.contains(r#" seq="7" ts_us="100" cont="false" release="6.12.0""#), "{record}");
    assert!(record.ends_with(r#"[fields@32473 SUBSYSTEM="net"] link #011up"#), "{record}");
    let basic = messages.iter().find(|m| m.starts_with("<6>1 ")).expect("the basic line");
    assert!(basic.ends_with(r#"complete="true"] [    2.000000] basic"#), "{basic}");
}

#[test]
fn rfc5424_on_stdout() {
    let listener = Listener::start(1, &["--format", "rfc5424", "--count", "2"]);
    feed(&listener);
    let (status, out, err) = listener.finish();
    assert!(status.success(), "{status}\n{err:#?}");
    check(&out);
}

#[test]
fn forward_over_udp() {
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    server.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let url = format!("udp://{}", server.local_addr().unwrap());
    let listener = Listener::start(1, &["--forward", &url, "--count", "2"]);
    feed(&listener);
    let mut messages = Vec::new();
    let mut buf = [0u8; 2048];
    for _ in 0..2 {
        let len = server.recv(&mut buf).expect("a datagram within 10 s");
        messages.push(String::from_utf8(buf[..len].to_vec()).unwrap());
    }
    let (status, out, err) = listener.finish();
    assert!(status.success(), "{status}\n{err:#?}");
    assert!(out.is_empty(), "{out:#?}");
    check(&messages);
}

#[test]
fn forward_over_tcp_octet_counted() {
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("tcp://{}", server.local_addr().unwrap());
    let listener = Listener::start(1, &["--forward", &url, "--count", "2"]);
    let (mut connection, _) = server.accept().unwrap();
    connection.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    feed(&listener);
    let (status, _, err) = listener.finish();
    assert!(status.success(), "{status}\n{err:#?}");
    let mut stream = Vec::new();
    connection.read_to_end(&mut stream).expect("the listener closes the connection at exit");
    // RFC 6587 octet counting: LEN SP MSG, back to back.
    let mut messages = Vec::new();
    let mut rest = &stream[..];
    while !rest.is_empty() {
        let space = rest.iter().position(|&b| b == b' ').unwrap();
        let len: usize = std::str::from_utf8(&rest[..space]).unwrap().parse().unwrap();
        messages.push(String::from_utf8(rest[space + 1..space + 1 + len].to_vec()).unwrap());
        rest = &rest[space + 1 + len..];
    }
    check(&messages);
}

#[test]
fn a_syslog_server_that_closed_the_connection_loses_nothing_unseen() {
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("tcp://{}", server.local_addr().unwrap());
    let listener = Listener::start(1, &["--forward", &url, "--count", "2"]);
    // The server restarts: it closes the listener's connection. A write into it would still
    // succeed once, the server would answer with a reset, and those messages would be gone.
    drop(server.accept().unwrap());
    // Past the listener's one-second pause between connection attempts.
    std::thread::sleep(Duration::from_millis(1200));
    server.set_nonblocking(true).unwrap();
    feed(&listener);
    let (status, _, err) = listener.finish();
    assert!(status.success(), "{status}\n{err:#?}");
    let summary = err.last().unwrap();
    let (mut connection, _) = server.accept().expect("the listener connects again");
    connection.set_nonblocking(false).unwrap();
    connection.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut stream = Vec::new();
    connection.read_to_end(&mut stream).unwrap();
    let text = String::from_utf8_lossy(&stream);
    assert!(text.contains("link #011up") && text.contains("basic"), "{text}\n{summary}");
    assert!(summary.contains(" 0 not written out"), "{summary}");
}
