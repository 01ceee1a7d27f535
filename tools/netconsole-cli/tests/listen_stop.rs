//! How `netconsole listen` ends and what it says on stderr: SIGINT and SIGTERM flush what is
//! pending and print the summary (also when SIGINT was inherited as ignored), `--stats`, and
//! reports of bad datagrams limited to one a second per cause.

mod listen_common;

use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use listen_common::{fragments, free_port, lines, record, Listener, CHILD_TIMEOUT};

/// Sends a partial line and the first fragment of a record, and waits until the listener has
/// read them (its `--stats` line counts 2 datagrams).
fn leave_pending(listener: &Listener) {
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    sender.send_to(b"no newline yet", listener.addr()).unwrap();
    let first = fragments(None, &record("6,77,100,-;", 1500, b'r'), b"").remove(0);
    sender.send_to(&first, listener.addr()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(line) = listener.stderr.recv_timeout(Duration::from_millis(100)) {
            if line.contains(" 2 datagrams,") {
                return;
            }
        }
    }
    panic!("the listener never counted 2 datagrams");
}

fn stops_cleanly_on(listener: Listener, signal: &str) {
    leave_pending(&listener);
    listener.signal(signal);
    let (status, out, err) = listener.finish();
    assert!(status.success(), "SIG{signal}: {status}\n{err:#?}");
    assert_eq!(out.len(), 2, "{out:#?}");
    assert!(out.contains(&"127.0.0.1 no newline yet [incomplete]".to_owned()), "{out:#?}");
    assert!(out.iter().any(|l| l.ends_with("rrrr [incomplete]")), "{out:#?}");
    let summary = err.last().unwrap();
    assert!(summary.contains("2 datagrams, 2 messages (0 complete, 2 incomplete)"), "{summary}");
}

#[test]
fn sigint_and_sigterm_flush_pending_and_summarise() {
    for signal in ["INT", "TERM"] {
        // --frag-timeout long enough that only the signal can hand the two out.
        let listener = Listener::start(1, &["--frag-timeout", "60000", "--stats", "0.05"]);
        stops_cleanly_on(listener, signal);
    }
}

#[test]
fn sigint_inherited_as_ignored_still_stops_it() {
    let addr = format!("127.0.0.1:{}", free_port());
    let script = format!(
        "trap '' INT; exec '{}' listen --bind {addr} --frag-timeout 60000 --stats 0.05",
        env!("CARGO_BIN_EXE_netconsole")
    );
    let mut command = Command::new("sh");
    command.args(["-c", &script]);
    let listener = Listener::spawn(&mut command, vec![addr.parse().unwrap()]);
    stops_cleanly_on(listener, "INT");
}

#[test]
fn stats_line_names_rates_senders_and_drops() {
    let listener = Listener::start(1, &["--stats", "0.2", "--idle-exit", "1"]);
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..10 {
        sender.send_to(format!("line {i}\n").as_bytes(), listener.addr()).unwrap();
    }
    let (status, out, err) = listener.finish();
    assert!(status.success(), "{status}\n{err:#?}");
    assert_eq!(out.len(), 10);
    let stats: Vec<_> = err.iter().filter(|l| l.contains(": stats: ")).collect();
    assert!(!stats.is_empty(), "{err:#?}");
    let last = stats.last().unwrap();
    for needle in [
        "datagrams/s",
        "messages/s",
        " senders, 10 datagrams, 10 messages",
        "dropped by the kernel",
    ] {
        assert!(last.contains(needle), "{needle}: {last}");
    }
}

#[test]
fn a_flood_of_bad_datagrams_is_counted_not_echoed() {
    let listener = Listener::start(1, &["--idle-exit", "1"]);
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    for _ in 0..300 {
        sender.send_to(b"", listener.addr()).unwrap();
        sender.send_to(b"6,1,100,-,ncfrag=2000/1000;x", listener.addr()).unwrap();
    }
    let (status, _, err) = listener.finish();
    assert!(status.success(), "{status}\n{err:#?}");
    let reports = |needle: &str| err.iter().filter(|l| l.contains(needle)).count();
    // One each, perhaps another if the flood spans a second or two on a busy machine; without
    // the limit, 300 each.
    assert!((1..=3).contains(&reports("empty datagram")), "{err:#?}");
    assert!((1..=3).contains(&reports("runs past total")), "{err:#?}");
    let summary = err.last().unwrap();
    assert!(summary.contains("600 datagrams") && summary.contains("600 malformed"), "{summary}");
}

#[test]
fn a_stop_while_stdout_is_blocked_still_ends_with_the_summary() {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_netconsole"))
        .args(["listen", "--bind", &addr])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("netconsole runs");
    // Held and never read: a consumer that stopped (a paused pager, a wedged pipeline).
    let _stdout = child.stdout.take().unwrap();
    let stderr = lines(child.stderr.take().unwrap());
    let started = Instant::now();
    let listening = stderr.recv_timeout(Duration::from_secs(10));
    assert!(listening.as_ref().is_ok_and(|l| l.starts_with("listening on ")), "{listening:?}");
    // 360 KB of lines: several times what a pipe holds.
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    let line = format!("{}\n", "x".repeat(900));
    for _ in 0..400 {
        sender.send_to(line.as_bytes(), &addr).unwrap();
    }
    std::thread::sleep(Duration::from_millis(500));
    let kill = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > CHILD_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            let err: Vec<String> = stderr.try_iter().collect();
            panic!("SIGTERM did not end a listener whose stdout is blocked\n{err:#?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let err: Vec<String> = stderr.iter().collect();
    assert!(status.success(), "{status}\n{err:#?}");
    let summary = err.last().expect("a summary");
    assert!(summary.contains("400 datagrams, 400 messages"), "{summary}");
    // What could not be written is counted, not lost silently.
    assert!(!summary.contains(" 0 not written"), "{summary}");
}
