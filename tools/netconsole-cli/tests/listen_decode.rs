//! printk's `\xNN` escapes decoded by default, as dmesg and journald show the text; the wire
//! form with `--escaped`.

mod listen_common;

use std::net::UdpSocket;

use listen_common::Listener;

/// What printk puts on the wire for a record with a tab, two lines, UTF-8 and a backslash.
const RECORD: &[u8] = b"6,3,100,-;a\\x09b\\x0asecond line \\xc3\\xa9 \\x5c\n SUBSYSTEM=n\\x5cet\n";

fn listen(args: &[&str]) -> Vec<String> {
    let listener = Listener::start(1, args);
    UdpSocket::bind("127.0.0.1:0").unwrap().send_to(RECORD, listener.addr()).unwrap();
    let (status, out, err) = listener.finish();
    assert!(status.success(), "{status}\n{err:#?}");
    out
}

#[test]
fn text_is_decoded_and_a_second_line_indented() {
    let out = listen(&["--count", "1"]);
    assert_eq!(out, ["127.0.0.1 a\tb", "          second line é \\"]);
}

#[test]
fn json_is_decoded() {
    let out = listen(&["--count", "1", "--format", "json"]);
    assert!(out[0].contains(r#""text":"a\tb\nsecond line é \\""#), "{}", out[0]);
    assert!(out[0].contains(r#""fields":{"SUBSYSTEM":"n\\et"}"#), "{}", out[0]);
    assert!(!out[0].contains("invalid_utf8"), "{}", out[0]);
}

#[test]
fn escaped_keeps_the_wire_form() {
    let out = listen(&["--count", "1", "--escaped"]);
    assert_eq!(out, ["127.0.0.1 a\\x09b\\x0asecond line \\xc3\\xa9 \\x5c"]);
}
