//! `linux::Tap` against the kernel: a TAP created in a network namespace of the test's own,
//! given an address on the namespace's side; 1000 frames built by `NicEngine::send_udp` through
//! the driver must reach a plain `UdpSocket` there, byte-exact and in order, over IPv4 and IPv6.
//! Also what `poll` reads, the link state, and the errors.
//!
//! Needs root (prints `SKIPPED: <reason>` and passes otherwise, unless
//! `NETCONSOLE_REQUIRE_ALL=1`).
#![cfg(feature = "linux")]

mod support;

use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::Duration;

use netpoll_core::{Endpoint, MacAddr, NetPoll, NicEngine, SendError};
use netpoll_drivers::linux::{Tap, DEFAULT_TAP_MAC};
use nix::sys::socket::{setsockopt, sockopt};
use support::netns::{can_make_namespaces, payloads, wait_for, Netns};

const FRAMES: usize = 1000;

/// A namespace with the TAP `nptap0` in it, the driver holding the TAP, the namespace's side
/// of it at 10.201.0.1/24 and fd00:201::1/64 (no duplicate address detection) and up.
fn tap_in_namespace() -> (Netns, Tap) {
    let ns = Netns::new("tap");
    let tap = ns.run(|| Tap::open("nptap0")).expect("open TAP");
    assert_eq!(tap.name(), "nptap0");
    ns.ip(&["addr", "add", "10.201.0.1/24", "dev", "nptap0"]);
    ns.ip(&["addr", "add", "fd00:201::1/64", "dev", "nptap0", "nodad"]);
    ns.ip(&["link", "set", "nptap0", "up"]);
    (ns, tap)
}

fn receiver(ns: &Netns, addr: SocketAddr) -> UdpSocket {
    ns.run(|| {
        let sock = UdpSocket::bind(addr).expect("bind receiver");
        setsockopt(&sock, sockopt::RcvBufForce, &(16 << 20)).expect("SO_RCVBUFFORCE");
        sock.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        sock
    })
}

/// Sends `FRAMES` datagrams from `local` (our side of the TAP) to `remote` (the namespace's
/// side) and checks that each arrives, byte-exact, in order.
fn send_and_check(local: IpAddr, remote: IpAddr, max_payload: usize) {
    if !can_make_namespaces() {
        return;
    }
    let (ns, tap) = tap_in_namespace();
    let rx = receiver(&ns, SocketAddr::new(remote, 6666));
    assert_eq!(tap.mac_address(), DEFAULT_TAP_MAC);
    assert_ne!(tap.interface_mac(), DEFAULT_TAP_MAC);
    assert_eq!(tap.mtu(), 1500);
    let mut to = Endpoint::new(local, remote);
    to.remote_mac = Some(tap.interface_mac());
    let mut netpoll = NicEngine::new(tap);
    wait_for("the TAP to be up", || netpoll.driver_mut().refresh_link());

    let sent = payloads(FRAMES, max_payload);
    let mut buf = [0u8; 2048];
    let mut received = 0;
    for (i, p) in sent.iter().enumerate() {
        netpoll.send_udp(&to, &[p]).expect("send_udp");
        // A TAP write is taken whole and queued to the namespace's backlog, which holds 1000
        // frames: read as we go rather than count on the backlog (a drop there is invisible
        // to the sender, as the driver documents).
        if i % 100 == 99 {
            while received <= i {
                let (n, from) = rx.recv_from(&mut buf).unwrap_or_else(|e| {
                    panic!("datagram {received} of {FRAMES} did not arrive: {e}");
                });
                assert_eq!(from, SocketAddr::new(local, 6665), "datagram {received}");
                assert_eq!(&buf[..n], &sent[received][..], "datagram {received} differs");
                received += 1;
            }
        }
    }
    assert_eq!(received, FRAMES);
    let counters = netpoll.driver().counters();
    assert_eq!(counters.frames_sent, FRAMES as u64, "{counters:?}");
    assert_eq!((counters.dropped, counters.errors), (0, 0), "{counters:?}");
    rx.set_nonblocking(true).expect("nonblocking");
    assert!(rx.recv_from(&mut buf).is_err(), "more datagrams than were sent");
}

#[test]
fn a_thousand_ipv4_datagrams_arrive_in_order() {
    send_and_check("10.201.0.2".parse().unwrap(), "10.201.0.1".parse().unwrap(), 1472);
}

#[test]
fn a_thousand_ipv6_datagrams_arrive_in_order() {
    send_and_check("fd00:201::2".parse().unwrap(), "fd00:201::1".parse().unwrap(), 1452);
}

#[test]
fn poll_reads_what_the_host_sends_to_our_mac() {
    if !can_make_namespaces() {
        return;
    }
    let (ns, tap) = tap_in_namespace();
    let ours = MacAddr([0x02, 0, 0, 0, 0x20, 0x01]);
    let mut tap = tap.with_mac(ours);
    wait_for("the TAP to be up", || tap.refresh_link());
    // The namespace knows our MAC (a static neighbour), so it sends the datagram straight away.
    ns.ip(&["neigh", "add", "10.201.0.2", "lladdr", "02:00:00:00:20:01", "dev", "nptap0"]);
    let marker = b"tap poll marker 51c2";
    ns.run(|| {
        let s = UdpSocket::bind("10.201.0.1:0").expect("bind");
        s.send_to(marker, "10.201.0.2:7777").expect("send_to");
    });
    let mut found = None;
    wait_for("the marker datagram", || {
        tap.receive(64, &mut |f| {
            if f.windows(marker.len()).any(|w| w == marker) {
                found = Some(f.to_vec());
            }
        });
        found.is_some()
    });
    let frame = found.expect("found");
    assert_eq!(&frame[..6], &ours.0, "sent to our MAC");
    assert_eq!(&frame[6..12], &tap.interface_mac().0, "from the TAP interface");
    assert!(tap.counters().frames_received >= 1);
}

#[test]
fn link_follows_the_interface_and_down_is_refused() {
    if !can_make_namespaces() {
        return;
    }
    let ns = Netns::new("tapdown");
    let tap = ns.run(|| Tap::open("nptap%d")).expect("open TAP");
    assert_eq!(tap.name(), "nptap0", "the kernel picks the number");
    let mut netpoll = NicEngine::new(tap);
    assert!(!netpoll.driver_mut().refresh_link(), "a new TAP is down");
    let to = Endpoint::new("10.201.0.2".parse().unwrap(), "10.201.0.1".parse().unwrap());
    assert_eq!(netpoll.send_udp(&to, &[b"x"]), Err(SendError::LinkDown));
    // Written anyway, the frame is refused by the kernel (EIO) and reported as LinkDown.
    assert_eq!(netpoll.driver_mut().xmit_raw(&[0xff; 60]), Err(netpoll_core::XmitError::LinkDown));
    assert_eq!(netpoll.driver().counters().link_down, 1);
    ns.ip(&["link", "set", "nptap0", "up"]);
    wait_for("the TAP to be up", || netpoll.driver_mut().refresh_link());
    netpoll.send_udp(&to, &[b"x"]).expect("sent once up");
}

#[test]
fn a_name_taken_by_another_kind_of_interface_is_one_clear_line() {
    if !can_make_namespaces() {
        return;
    }
    let ns = Netns::new("tapname");
    let err = ns.run(|| Tap::open("lo")).expect_err("lo is not a TAP");
    let msg = err.to_string();
    assert!(msg.starts_with("cannot create TAP device 'lo' (does another kind"), "{msg}");
    assert!(!msg.contains('\n'), "{msg}");
    let err = Tap::open("a-name-of-16-byt").expect_err("too long");
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
}

#[test]
fn the_tap_disappears_with_the_driver() {
    if !can_make_namespaces() {
        return;
    }
    let ns = Netns::new("tapgone");
    let tap = ns.run(|| Tap::open("nptap0")).expect("open TAP");
    assert!(ns.ip(&["link", "show"]).contains("nptap0"));
    drop(tap);
    assert!(!ns.ip(&["link", "show"]).contains("nptap0"));
}
