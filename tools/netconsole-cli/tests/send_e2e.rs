//! `netconsole send --via packet` end to end, through a veth pair between two network namespaces
//! made for the test: 1000 random lines to an IPv4 and an IPv6 basic target on different ports
//! must all arrive, byte-exact and in order, at each.
//!
//! Needs root (network namespaces, AF_PACKET). Without it the test prints `SKIPPED: needs root`
//! and passes, unless `NETCONSOLE_REQUIRE_ALL=1`, where it fails.
//!
//! The receiver is this test binary itself, run again inside the receiving namespace with
//! `ip netns exec` (test `receiver_helper`, steered by an environment variable): std cannot
//! enter a namespace from a thread.

mod common;

use common::{skip, unhex, wait_timeout};

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::UdpSocket;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Set in the receiver process: `ADDR:PORT` to bind, one per comma-separated item.
const RECEIVER_ENV: &str = "NETCONSOLE_E2E_RECEIVE";
/// Lines sent.
const LINES: usize = 1000;

/// The receiving half: binds every address in `NETCONSOLE_E2E_RECEIVE`, prints `READY` on
/// stderr, collects datagrams until none came for 3 s (or 30 s in all), then prints each as
/// `DGRAM <port> <hex>` on stdout. Does nothing when the variable is not set.
#[test]
fn receiver_helper() {
    let Ok(spec) = std::env::var(RECEIVER_ENV) else { return };
    let sockets: Vec<UdpSocket> = spec
        .split(',')
        .map(|addr| {
            let socket = UdpSocket::bind(addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
            grow_receive_buffer(&socket);
            socket
        })
        .collect();
    eprintln!("READY");
    let handles: Vec<_> = sockets
        .into_iter()
        .map(|socket| {
            thread::spawn(move || {
                let port = socket.local_addr().unwrap().port();
                socket.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
                let start = Instant::now();
                let mut last = Instant::now();
                let mut got = Vec::new();
                let mut buf = vec![0u8; 65536];
                while last.elapsed() < Duration::from_secs(3)
                    && start.elapsed() < Duration::from_secs(30)
                {
                    if let Ok(n) = socket.recv(&mut buf) {
                        got.push(buf[..n].to_vec());
                        last = Instant::now();
                    }
                }
                (port, got)
            })
        })
        .collect();
    let mut out = std::io::stdout().lock();
    for h in handles {
        let (port, got) = h.join().unwrap();
        for d in got {
            let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
            writeln!(out, "DGRAM {port} {hex}").unwrap();
        }
    }
}

/// Gives `socket` an 8 MiB receive buffer (`SO_RCVBUFFORCE`, root only, past `rmem_max`), so
/// that a burst of 2000 datagrams waits in the kernel while this process is descheduled on a
/// busy machine.
fn grow_receive_buffer(socket: &UdpSocket) {
    nix::sys::socket::setsockopt(socket, nix::sys::socket::sockopt::RcvBufForce, &(8 << 20))
        .expect("setsockopt(SO_RCVBUFFORCE)");
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs `ip ARGS`, panicking with its stderr on failure.
fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

/// Two namespaces joined by a veth pair; deleted on drop, even when the test fails.
struct Netns {
    send: String,
    recv: String,
    send_if: String,
}

impl Netns {
    fn new() -> Netns {
        let id = std::process::id();
        let ns = Netns {
            send: format!("nce2e-s{id}"),
            recv: format!("nce2e-r{id}"),
            send_if: format!("nce2e-a{id}"),
        };
        let recv_if = format!("nce2e-b{id}");
        ip(&["netns", "add", &ns.send]);
        ip(&["netns", "add", &ns.recv]);
        ip(&[
            "link",
            "add",
            &ns.send_if,
            "netns",
            &ns.send,
            "type",
            "veth",
            "peer",
            "name",
            &recv_if,
            "netns",
            &ns.recv,
        ]);
        for (n, dev, v4, v6) in [
            (&ns.send, &ns.send_if, "10.99.0.1/24", "fd99::1/64"),
            (&ns.recv, &recv_if, "10.99.0.2/24", "fd99::2/64"),
        ] {
            ip(&["-n", n, "addr", "add", v4, "dev", dev]);
            ip(&["-n", n, "addr", "add", v6, "dev", dev, "nodad"]);
            ip(&["-n", n, "link", "set", "lo", "up"]);
            ip(&["-n", n, "link", "set", dev, "up"]);
        }
        // Until the kernel activates the link (linkwatch, up to a second), frames sent on it are
        // dropped silently: wait until both ends are UP with a real qdisc.
        let deadline = Instant::now() + Duration::from_secs(10);
        for (n, dev) in [(&ns.send, &ns.send_if), (&ns.recv, &recv_if)] {
            loop {
                let out =
                    Command::new("ip").args(["-n", n, "-o", "link", "show", "dev", dev]).output();
                let text = out
                    .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                    .unwrap_or_default();
                if text.contains("state UP") && !text.contains("qdisc noop") {
                    break;
                }
                assert!(Instant::now() < deadline, "{dev} did not come up: {text}");
                thread::sleep(Duration::from_millis(50));
            }
        }
        ns
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        for n in [&self.send, &self.recv] {
            let _ = Command::new("ip").args(["netns", "del", n]).status();
        }
    }
}

/// Kills the child on drop (a failed assertion must not leave it running).
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits for `child` at most `limit`; `None` when it had to be killed.
/// `LINES` random printable lines (space to `~`, 1 to 300 bytes), from a fixed seed.
fn random_lines() -> Vec<Vec<u8>> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..LINES)
        .map(|i| {
            let len = 1 + (next() % 300) as usize;
            let mut line = format!("{i:04} ").into_bytes();
            line.extend((0..len).map(|_| b' ' + (next() % 95) as u8));
            line
        })
        .collect()
}

#[test]
fn send_1000_lines_over_veth_ipv4_and_ipv6() {
    if std::env::var(RECEIVER_ENV).is_ok() {
        return; // this process is the receiver
    }
    if !is_root() {
        return skip("needs root (network namespaces and AF_PACKET)");
    }
    // NETCONSOLE_BIN overrides the binary under test (for a build of it elsewhere).
    let netconsole =
        std::env::var("NETCONSOLE_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_netconsole").into());
    let ns = Netns::new();

    let me = std::env::current_exe().unwrap();
    let mut receiver = Reaper(
        Command::new("ip")
            .args(["netns", "exec", &ns.recv])
            .arg(&me)
            .args(["--exact", "receiver_helper", "--nocapture", "--test-threads=1"])
            .env(RECEIVER_ENV, "10.99.0.2:6666,[fd99::2]:6667")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the receiver"),
    );
    let mut stderr = BufReader::new(receiver.0.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        let n = stderr.read_line(&mut line).unwrap();
        assert!(n > 0, "the receiver exited before it was ready");
        if line.trim() == "READY" {
            break;
        }
    }
    let mut stdout = receiver.0.stdout.take().unwrap();
    let collector = thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).unwrap();
        s
    });

    let lines = random_lines();
    let target =
        format!("6665@10.99.0.1/{dev},6666@10.99.0.2/;6665@/{dev},6667@fd99::2/", dev = ns.send_if);
    let mut sender = Reaper(
        Command::new("ip")
            .args(["netns", "exec", &ns.send, &netconsole, "send", "--via", "packet", "--target"])
            .arg(&target)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start netconsole send"),
    );
    {
        let mut stdin = sender.0.stdin.take().unwrap();
        for l in &lines {
            stdin.write_all(l).unwrap();
            stdin.write_all(b"\n").unwrap();
        }
    }
    let status = wait_timeout(&mut sender.0, Duration::from_secs(60)).expect("send timed out");
    let mut err = String::new();
    sender.0.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(status.success(), "netconsole send failed ({status}): {err}");

    assert!(
        wait_timeout(&mut receiver.0, Duration::from_secs(40)).is_some(),
        "the receiver timed out"
    );
    let out = collector.join().unwrap();
    let mut by_port: [Vec<Vec<u8>>; 2] = [Vec::new(), Vec::new()];
    // The harness may print `test receiver_helper ... ` before the first line: look inside.
    for l in out.lines().filter_map(|l| l.find("DGRAM ").map(|at| &l[at + 6..])) {
        let (port, hex) = l.split_once(' ').unwrap();
        let slot = match port {
            "6666" => 0,
            "6667" => 1,
            other => panic!("datagram on unexpected port {other}"),
        };
        by_port[slot].push(unhex(hex));
    }
    let expected: Vec<Vec<u8>> = lines
        .iter()
        .map(|l| {
            let mut d = l.clone();
            d.push(b'\n');
            d
        })
        .collect();
    for (slot, name) in [(0, "IPv4 10.99.0.2:6666"), (1, "IPv6 [fd99::2]:6667")] {
        let got = &by_port[slot];
        if let Some(i) = got.iter().zip(&expected).position(|(g, e)| g != e) {
            eprintln!(
                "{name}: first difference at datagram {i}: got {:?}",
                String::from_utf8_lossy(&got[i])
            );
        }
        assert_eq!(
            got.len(),
            LINES,
            "{name}: {} of {LINES} lines arrived; sender: {err}",
            got.len()
        );
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(
                g,
                e,
                "{name}: datagram {i} differs:\n got {:?}\nwant {:?}",
                String::from_utf8_lossy(g),
                String::from_utf8_lossy(e)
            );
        }
    }
    println!(
        "{LINES} lines arrived byte-exact and in order at both targets; sender: {}",
        err.trim()
    );
}
