//! `netconsole listen` as a process: fed by test senders with Linux's framing (spec 3.3
//! examples A to E, shuffled, duplicated, one fragment missing), two senders interleaved, basic
//! lines, many senders, and bad input. Every child runs under a timeout.

mod common;
mod listen_common;

use std::net::{SocketAddr, UdpSocket};
use std::process::{Command, ExitStatus, Stdio};

use listen_common::{fragments, free_port, lines, record, repeat, Listener, CHILD_TIMEOUT};

const SYSDATA: &[u8] = b" cpu=3\n taskname=echo\n release=6.18.0\n msgid=1\n";

/// What the two test senders send, interleaved: examples A, C, E and two basic lines from the
/// first; B, D and one 2500-byte basic line in 1000-byte chunks from the second. A's second
/// fragment is lost; the rest come last fragment first, and some twice.
fn feed(listener: SocketAddr) -> (SocketAddr, SocketAddr) {
    let one = UdpSocket::bind("127.0.0.1:0").unwrap();
    let two = UdpSocket::bind("127.0.0.1:0").unwrap();

    let mut a = fragments(None, &record("6,416,1758426,-;", 1500, b'a'), b"");
    a.pop(); // lost
    let c_extra = [&b" key=value\n"[..], SYSDATA].concat();
    let c = fragments(Some("6.18.0"), &record("6,1,100,-;", 990, b'z'), &c_extra);
    let e = fragments(None, &record("6,1,100,-;", 991, b'e'), b"");
    let b = fragments(None, &record("13,468,514729715,-;", 1135, b'b'), b"");
    let d = fragments(None, &record("6,1,100,-;", 990, b'd'), b"");
    assert_eq!((a.len(), b.len(), c.len(), d.len(), e.len()), (1, 2, 2, 1, 2));

    let mut from_one: Vec<Vec<u8>> = Vec::new();
    from_one.push(b"[    1.000000] first line\n[    1.000001] split ".to_vec());
    for packets in [&c, &e] {
        from_one.extend(packets.iter().rev().cloned());
    }
    from_one.push(c[1].clone()); // duplicate
    from_one.extend(a.iter().cloned());
    from_one.push(b"line\n".to_vec());
    from_one.push(e[0].clone()); // late duplicate, after E completed

    let long: Vec<u8> = (0..2500).map(|i| b'A' + (i % 26) as u8).chain([b'\n']).collect();
    let from_two: Vec<Vec<u8>> = vec![
        b[1].clone(),
        long[..1000].to_vec(),
        d[0].clone(),
        b[1].clone(), // duplicate
        long[1000..2000].to_vec(),
        b[0].clone(),
        long[2000..].to_vec(),
        d[0].clone(), // duplicate of a whole record
    ];

    let longest = from_one.len().max(from_two.len());
    for i in 0..longest {
        if let Some(datagram) = from_one.get(i) {
            one.send_to(datagram, listener).unwrap();
        }
        if let Some(datagram) = from_two.get(i) {
            two.send_to(datagram, listener).unwrap();
        }
    }
    (one.local_addr().unwrap(), two.local_addr().unwrap())
}

/// The eight messages `feed` makes: (sender 1 or 2, JSON line).
fn expected_json(local: SocketAddr, one: SocketAddr, two: SocketAddr) -> Vec<String> {
    let ext = |src: SocketAddr, text: String, hdr: &str, rest: &str| {
        format!(
            r#"{{"src":"{src}","local":"{local}","kind":"extended","text":"{text}",{hdr}{rest}}}"#
        )
    };
    let basic = |src: SocketAddr, text: &str| {
        format!(
            r#"{{"src":"{src}","local":"{local}","kind":"basic","text":"{text}","complete":true}}"#
        )
    };
    let long: String = (0..2500).map(|i| (b'A' + (i % 26) as u8) as char).collect();
    let mut want = vec![
        ext(
            one,
            repeat('a', 970),
            r#""facility":0,"level":6,"seq":416,"ts_us":1758426,"cont":false"#,
            // Sender one's records C and E (seq 1) went out first.
            r#","fields":{},"missing_before":414,"complete":false"#,
        ),
        ext(
            two,
            repeat('b', 1134),
            r#""facility":1,"level":5,"seq":468,"ts_us":514729715,"cont":false"#,
            // Sender two's record D (seq 1) went out first.
            r#","fields":{},"missing_before":466,"complete":true"#,
        ),
        ext(
            one,
            repeat('z', 989),
            r#""facility":0,"level":6,"seq":1,"ts_us":100,"cont":false,"release":"6.18.0""#,
            r#","fields":{"key":"value","cpu":"3","taskname":"echo","release":"6.18.0","msgid":"1"},"complete":true"#,
        ),
        ext(
            two,
            repeat('d', 989),
            r#""facility":0,"level":6,"seq":1,"ts_us":100,"cont":false"#,
            r#","fields":{},"complete":true"#,
        ),
        ext(
            one,
            repeat('e', 990),
            r#""facility":0,"level":6,"seq":1,"ts_us":100,"cont":false"#,
            r#","fields":{},"complete":true"#,
        ),
        basic(one, "[    1.000000] first line"),
        basic(one, "[    1.000001] split line"),
        basic(two, &long),
    ];
    want.sort();
    want
}

#[test]
fn examples_two_senders_and_basic_lines_as_json() {
    let listener =
        Listener::start(1, &["--format", "json", "--count", "8", "--frag-timeout", "300"]);
    let listener_addr = listener.addr();
    let (one, two) = feed(listener.addr());
    let (status, mut out, err) = listener.finish();
    assert!(status.success(), "{status}\n{err:#?}");
    out.sort();
    assert_eq!(out, expected_json(listener_addr, one, two), "{err:#?}");
}

#[test]
fn examples_two_senders_and_basic_lines_as_text() {
    let listener = Listener::start(1, &["--count", "8", "--frag-timeout", "300"]);
    feed(listener.addr());
    let (status, mut out, err) = listener.finish();
    assert!(status.success(), "{status}\n{err:#?}");
    out.sort();
    let long: String = (0..2500).map(|i| (b'A' + (i % 26) as u8) as char).collect();
    let mut want = vec![
        format!("127.0.0.1 {} [incomplete]", repeat('a', 970)),
        format!("127.0.0.1 {}", repeat('b', 1134)),
        format!("127.0.0.1 {}", repeat('z', 989)),
        format!("127.0.0.1 {}", repeat('d', 989)),
        format!("127.0.0.1 {}", repeat('e', 990)),
        "127.0.0.1 [    1.000000] first line".to_owned(),
        "127.0.0.1 [    1.000001] split line".to_owned(),
        format!("127.0.0.1 {long}"),
    ];
    want.sort();
    assert_eq!(out, want, "{err:#?}");
}

#[test]
fn malformed_datagrams_get_one_line_each_and_the_listener_goes_on() {
    let listener = Listener::start(1, &["--count", "1"]);
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    // The netconsd CVE (an offset past the total), then an empty datagram, then a good line.
    for datagram in [&b"6,1,100,-,ncfrag=2000/1000;x"[..], b"", b"still here\n"] {
        sender.send_to(datagram, listener.addr()).unwrap();
    }
    let (status, out, err) = listener.finish();
    assert!(status.success(), "{status}\n{err:#?}");
    assert_eq!(out, ["127.0.0.1 still here"]);
    let src = sender.local_addr().unwrap();
    assert_eq!(
        &err[..2],
        [
            format!(
                "netconsole listen: dropped datagram from {src}: malformed: ncfrag offset 2000 + 1 \
                 bytes runs past total 1000"
            ),
            format!("netconsole listen: dropped datagram from {src}: malformed: empty datagram"),
        ]
    );
    let summary = err.last().unwrap();
    assert!(summary.contains("3 datagrams") && summary.contains("2 malformed"), "{summary}");
}

#[test]
fn many_senders_at_once() {
    const SENDERS: usize = 40;
    let listener = Listener::start(1, &["--format", "json", "--count", "40"]);
    let sockets: Vec<_> = (0..SENDERS).map(|_| UdpSocket::bind("127.0.0.1:0").unwrap()).collect();
    let packets: Vec<_> = (0..SENDERS)
        .map(|i| fragments(None, &record(&format!("6,{i},{i},-;"), 1135, b'x'), b""))
        .collect();
    // Every sender's first fragment, then every second one: 40 records pending at once.
    for fragment in 0..2 {
        for (socket, packets) in sockets.iter().zip(&packets) {
            socket.send_to(&packets[fragment], listener.addr()).unwrap();
        }
    }
    let (status, out, err) = listener.finish();
    assert!(status.success(), "{status}\n{err:#?}");
    assert_eq!(out.len(), SENDERS, "{err:#?}");
    assert!(out.iter().all(|line| line.ends_with(r#""complete":true}"#)));
    for (i, socket) in sockets.iter().enumerate() {
        let src = socket.local_addr().unwrap();
        let seq = format!(r#""seq":{i},"#);
        assert!(
            out.iter()
                .any(|line| line.contains(&format!(r#""src":"{src}""#)) && line.contains(&seq)),
            "sender {i}"
        );
    }
}

#[test]
fn dual_stack_default_shows_ipv4_senders_as_ipv4() {
    if UdpSocket::bind("[::1]:0").is_err() {
        eprintln!("skipped: no IPv6 on this host");
        return;
    }
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_netconsole"));
    command.args(["listen", "--bind", &format!("[::]:{port}"), "--idle-exit", "0.5"]);
    let listener = Listener::spawn(&mut command, vec![SocketAddr::from(([127, 0, 0, 1], port))]);
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    sender.send_to(b"over v4\n", listener.addr()).unwrap();
    sender.send_to(b"no newline", listener.addr()).unwrap();
    let (status, out, err) = listener.finish();
    assert!(status.success(), "{status}\n{err:#?}");
    // The unfinished line is flushed at the idle exit, marked.
    assert_eq!(out, ["127.0.0.1 over v4", "127.0.0.1 no newline [incomplete]"]);
}

#[test]
fn several_binds() {
    let listener = Listener::start(2, &["--count", "2"]);
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    sender.send_to(b"to the first\n", listener.addrs[0]).unwrap();
    sender.send_to(b"to the second\n", listener.addrs[1]).unwrap();
    let (status, mut out, err) = listener.finish();
    assert!(status.success(), "{status}\n{err:#?}");
    out.sort();
    assert_eq!(out, ["127.0.0.1 to the first", "127.0.0.1 to the second"]);
}

/// Runs `netconsole <args>` to its end (under the timeout): status and stderr.
fn run(args: &[&str]) -> (ExitStatus, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_netconsole"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = lines(child.stderr.take().unwrap());
    let Some(status) = common::wait_timeout(&mut child, CHILD_TIMEOUT) else {
        panic!("netconsole {args:?} did not exit");
    };
    (status, stderr.iter().collect::<Vec<_>>().join("\n"))
}

#[test]
fn bad_arguments_exit_2_with_one_line() {
    for (args, needle) in [
        (&["listen", "--count", "x"][..], "--count"),
        (&["listen", "--bind", "nowhere"], "--bind"),
        (&["listen", "--format", "xml"], "--format"),
        (&["listen", "--nope"], "--nope"),
        (&["frobnicate"], "frobnicate"),
    ] {
        let (status, stderr) = run(args);
        assert_eq!(status.code(), Some(2), "{args:?}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        if args[0] == "listen" {
            assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        }
    }
}
