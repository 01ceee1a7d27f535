//! `linux::PacketSocket` against the kernel: two network namespaces joined by a veth pair, the
//! driver in one, a plain `UdpSocket` in the other; 1000 frames built by `NicEngine::send_udp`
//! must all arrive, byte-exact and in order, over IPv4 and over IPv6. Also what `poll` reads,
//! the link state, and the errors for a bad interface.
//!
//! Needs root (prints `SKIPPED: <reason>` and passes otherwise, unless
//! `NETCONSOLE_REQUIRE_ALL=1`), except the bad-input tests, which run anywhere.
#![cfg(feature = "linux")]

mod support;

use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::process::Command;
use std::time::Duration;

use netpoll_core::{Endpoint, MacAddr, NetPoll, NicEngine, XmitError};
use netpoll_drivers::linux::{InterfaceInfo, PacketSocket};
use nix::sys::socket::{setsockopt, sockopt};
use support::netns::{can_make_namespaces, payloads, wait_for, Netns};
use support::skip;

const FRAMES: usize = 1000;

/// Two namespaces joined by veth `va` (in `a`) and `vb` (in `b`), both up, with addresses:
/// 10.200.0.1/24 and fd00:200::1/64 on `va`, .2 and ::2 on `vb` (no duplicate address
/// detection, so the IPv6 ones are usable at once).
struct Pair {
    a: Netns,
    b: Netns,
}

impl Pair {
    fn new() -> Pair {
        let a = Netns::new("a");
        let b = Netns::new("b");
        a.ip(&["link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", &b.name]);
        a.ip(&["addr", "add", "10.200.0.1/24", "dev", "va"]);
        a.ip(&["addr", "add", "fd00:200::1/64", "dev", "va", "nodad"]);
        b.ip(&["addr", "add", "10.200.0.2/24", "dev", "vb"]);
        b.ip(&["addr", "add", "fd00:200::2/64", "dev", "vb", "nodad"]);
        a.ip(&["link", "set", "va", "up"]);
        b.ip(&["link", "set", "vb", "up"]);
        Pair { a, b }
    }
}

/// A UDP socket bound in `ns` at `addr`, with a receive buffer large enough for every frame.
fn receiver(ns: &Netns, addr: SocketAddr) -> UdpSocket {
    ns.run(|| {
        let sock = UdpSocket::bind(addr).expect("bind receiver");
        setsockopt(&sock, sockopt::RcvBufForce, &(16 << 20)).expect("SO_RCVBUFFORCE");
        sock.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        sock
    })
}

/// Sends `FRAMES` datagrams from `local` to `remote` through a `PacketSocket` on `va` and checks
/// that the receiver gets each one, byte-exact, in order, from the right address and port.
fn send_and_check(local: IpAddr, remote: IpAddr, max_payload: usize) {
    if !can_make_namespaces() {
        return;
    }
    let pair = Pair::new();
    let rx = receiver(&pair.b, SocketAddr::new(remote, 6666));
    let peer = pair.b.run(|| InterfaceInfo::query("vb")).expect("vb");
    let nic = pair.a.run(|| PacketSocket::open("va")).expect("open va");
    let info = nic.info().clone();
    assert_eq!(info.name, "va");
    assert!(info.ipv4.contains(&"10.200.0.1".parse().unwrap()), "{info:?}");
    assert!(info.ipv6.contains(&"fd00:200::1".parse().unwrap()), "{info:?}");
    assert_ne!(info.mac, MacAddr::ZERO);
    assert_eq!(nic.mtu(), 1500);

    let mut netpoll = NicEngine::new(nic);
    wait_for("va to be up", || netpoll.driver_mut().refresh_link());
    let mut to = Endpoint::new(local, remote);
    to.remote_mac = Some(peer.mac);
    let sent = payloads(FRAMES, max_payload);
    for p in &sent {
        netpoll.send_udp(&to, &[p]).expect("send_udp");
    }
    let counters = netpoll.driver().counters();
    assert_eq!(counters.frames_sent, FRAMES as u64, "{counters:?}");
    assert_eq!((counters.dropped, counters.errors), (0, 0), "{counters:?}");

    let mut buf = [0u8; 2048];
    for (i, expected) in sent.iter().enumerate() {
        let (n, from) = rx.recv_from(&mut buf).unwrap_or_else(|e| {
            panic!("datagram {i} of {FRAMES} did not arrive: {e}");
        });
        assert_eq!(from, SocketAddr::new(local, 6665), "datagram {i}");
        assert_eq!(&buf[..n], &expected[..], "datagram {i} differs");
    }
    rx.set_nonblocking(true).expect("nonblocking");
    assert!(rx.recv_from(&mut buf).is_err(), "more datagrams than were sent");
}

#[test]
fn a_thousand_ipv4_datagrams_arrive_in_order() {
    send_and_check("10.200.0.1".parse().unwrap(), "10.200.0.2".parse().unwrap(), 1472);
}

#[test]
fn a_thousand_ipv6_datagrams_arrive_in_order() {
    send_and_check("fd00:200::1".parse().unwrap(), "fd00:200::2".parse().unwrap(), 1452);
}

#[test]
fn poll_reads_what_the_interface_receives_but_not_what_it_sends() {
    if !can_make_namespaces() {
        return;
    }
    let pair = Pair::new();
    let mut nic = pair.a.run(|| PacketSocket::open("va")).expect("open va");
    let our_mac = nic.mac_address();
    wait_for("va to be up", || nic.refresh_link());
    // From b, a datagram to a: b's kernel resolves 10.200.0.1 (ARP) and sends the frame; a's
    // kernel, with no socket on the port, answers with an ICMP error: an outgoing frame of `va`
    // that the driver must not read back, and neither may it read the frame it sends itself.
    let marker = b"poll marker 7f3a";
    pair.b.run(|| {
        let s = UdpSocket::bind("10.200.0.2:0").expect("bind");
        s.send_to(marker, "10.200.0.1:7777").expect("send_to");
    });
    nic.xmit_raw(&[0xff; 60]).expect("our own frame");
    let mut frames: Vec<Vec<u8>> = Vec::new();
    wait_for("the marker datagram", || {
        nic.receive(64, &mut |f| frames.push(f.to_vec()));
        frames.iter().any(|f| f.windows(marker.len()).any(|w| w == marker))
    });
    for f in &frames {
        assert_ne!(&f[6..12], &our_mac.0, "read back a frame we sent: {f:02x?}");
    }
    let c = nic.counters();
    assert_eq!(c.frames_received, frames.len() as u64);
    // PACKET_IGNORE_OUTGOING keeps outgoing frames out of the socket altogether: the driver's
    // own check (`sll_pkttype`) had nothing to skip.
    assert_eq!(c.rx_skipped, 0, "{c:?}");
    assert!(c.frames_received >= 2, "an ARP request and the datagram at least: {c:?}");
}

#[test]
fn link_down_is_reported_and_refused() {
    if !can_make_namespaces() {
        return;
    }
    let pair = Pair::new();
    let mut nic = pair.a.run(|| PacketSocket::open("va")).expect("open va");
    wait_for("va to be up", || nic.refresh_link());
    // The peer down: `va` loses its carrier (IFF_RUNNING), the driver says the link is down.
    pair.b.ip(&["link", "set", "vb", "down"]);
    wait_for("va to lose its carrier", || !nic.refresh_link());
    pair.b.ip(&["link", "set", "vb", "up"]);
    wait_for("va to be up again", || nic.refresh_link());
    // `va` itself down: sends fail with ENETDOWN, which the driver reports as LinkDown.
    pair.a.ip(&["link", "set", "va", "down"]);
    wait_for("va to be down", || !nic.refresh_link());
    assert_eq!(nic.xmit_raw(&[0xff; 60]), Err(XmitError::LinkDown));
    assert_eq!(nic.counters().link_down, 1);
    let mut netpoll = NicEngine::new(nic);
    let to = Endpoint::new("10.200.0.1".parse().unwrap(), "10.200.0.2".parse().unwrap());
    assert_eq!(netpoll.send_udp(&to, &[b"x"]), Err(netpoll_core::SendError::LinkDown));
}

#[test]
fn namespaces_are_deleted_even_when_a_test_panics() {
    if !can_make_namespaces() {
        return;
    }
    let mut name = String::new();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let ns = Netns::new("panic");
        name = ns.name.clone();
        panic!("on purpose");
    }));
    assert!(result.is_err());
    let list = support::netns::ip(&["netns", "list"]);
    assert!(!list.lines().any(|l| l.split_whitespace().next() == Some(&name)), "{list}");
}

// Bad input: these need no privilege.

#[test]
fn unknown_interface_is_one_clear_line() {
    let err = PacketSocket::open("nosuchif0").expect_err("no such interface");
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
    assert_eq!(err.to_string(), "no such interface 'nosuchif0'");
    let err = InterfaceInfo::query("nosuchif0").expect_err("no such interface");
    assert_eq!(err.to_string(), "no such interface 'nosuchif0'");
}

#[test]
fn impossible_interface_names_are_refused() {
    for (name, why) in [
        ("", "is empty"),
        ("a-name-of-16-byt", "is longer than 15 bytes"),
        ("eth0/x", "contains a NUL, a '/' or white space"),
    ] {
        let err = PacketSocket::open(name).expect_err("invalid name");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{name:?}");
        assert_eq!(err.to_string(), format!("interface name '{name}' {why}"));
    }
}

#[test]
fn lo_is_found_with_its_addresses() {
    let lo = InterfaceInfo::query("lo").expect("lo");
    assert_eq!(lo.mac, MacAddr::ZERO);
    assert!(lo.index > 0);
}

/// Without CAP_NET_RAW, opening a packet socket fails and the message says why. As root the
/// check runs in a child process in a new user namespace, where root has no capability over
/// the host's network namespace.
#[test]
fn without_cap_net_raw_the_error_says_so() {
    if !nix::unistd::geteuid().is_root() {
        return check_permission_error();
    }
    match support::run(Command::new("unshare").args(["--user", "true"]), Duration::from_secs(10)) {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            let why = String::from_utf8_lossy(&out.stderr);
            return skip(&format!("`unshare --user` fails here: {}", why.trim()));
        }
        Err(e) => return skip(&format!("cannot run `unshare --user` (util-linux): {e}")),
    }
    let exe = std::env::current_exe().expect("test binary");
    let out = support::run(
        Command::new("unshare")
            .arg("--user")
            .arg(exe)
            .args(["--exact", "unprivileged_child", "--nocapture", "--test-threads=1"])
            .env("NETPOLL_TEST_UNPRIVILEGED_CHILD", "1"),
        Duration::from_secs(60),
    );
    let out = out.expect("run the unprivileged child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "unprivileged child failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 passed"), "the child ran no test:\n{stdout}");
}

/// The child half of the test above; does nothing unless run by it.
#[test]
fn unprivileged_child() {
    if std::env::var_os("NETPOLL_TEST_UNPRIVILEGED_CHILD").is_some() {
        check_permission_error();
    }
}

fn check_permission_error() {
    let err = PacketSocket::open("lo").expect_err("no CAP_NET_RAW");
    assert_eq!(err.kind(), io::ErrorKind::PermissionDenied, "{err}");
    let msg = err.to_string();
    assert!(msg.starts_with("cannot open a packet socket on 'lo' (AF_PACKET needs CAP_NET_RAW"));
    assert!(!msg.contains('\n'), "{msg}");
}
