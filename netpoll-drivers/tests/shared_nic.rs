//! One NIC, two users: the console's engine and a smoltcp stack share a `SharedNic`.
//!
//! Against the sim: a frame for the stack survives the console's full ring and its receive
//! polls; ARP answers reach the console's resolution whichever side received them. Against the
//! kernel: a TAP in a network namespace of the test's own, a two-slot TX ring in front of it,
//! smoltcp answering UDP echo while the console logs 200 lines; every echo comes back and every
//! line arrives, in order. (The TAP part needs root and feature `linux`; it prints
//! `SKIPPED: <reason>` and passes otherwise, unless `NETCONSOLE_REQUIRE_ALL=1`.)
#![cfg(feature = "smoltcp")]

mod support;

use std::net::{IpAddr, Ipv4Addr};

use netpoll_core::wire::{ArpRepr, EtherType, EthernetFrame, EthernetRepr};
use netpoll_core::{Endpoint, MacAddr, NetPoll, NicEngine, SendError, XmitError};
use netpoll_drivers::shared::SharedNic;
use netpoll_drivers::sim::{SimNic, SimPeer};
use smoltcp::phy::{Device, RxToken};
use smoltcp::time::Instant;

const MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 1]);
const OUR_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const PEER: SimPeer =
    SimPeer { mac: MacAddr([0x02, 0, 0, 0, 0, 2]), ip: Ipv4Addr::new(10, 0, 0, 2) };

fn ipv4_frame(tag: u8) -> Vec<u8> {
    let mut frame = vec![tag; 60];
    frame[..6].copy_from_slice(&MAC.0);
    frame[6..12].copy_from_slice(&PEER.mac.0);
    frame[12..14].copy_from_slice(&[0x08, 0x00]);
    frame
}

fn arp_request_for_us() -> Vec<u8> {
    let mut frame = vec![0u8; 60];
    let mut eth = EthernetFrame::new_unchecked(&mut frame[..]);
    EthernetRepr { src_addr: PEER.mac, dst_addr: MacAddr::BROADCAST, ethertype: EtherType::Arp }
        .emit(&mut eth);
    ArpRepr::request(PEER.mac, PEER.ip, OUR_IP).emit(&mut eth.payload_mut()[..28]);
    frame
}

/// Everything the stack's side receives now.
fn stack_receives<D: NetPoll, const Q: usize>(shared: &SharedNic<D, Q>) -> Vec<Vec<u8>> {
    let mut stack = shared.stack();
    let mut got = Vec::new();
    while let Some((rx, _)) = stack.receive(Instant::ZERO) {
        got.push(rx.consume(<[u8]>::to_vec));
    }
    got
}

#[test]
fn a_frame_for_the_stack_survives_the_consoles_full_ring_and_its_receive_polls() {
    let shared: SharedNic<SimNic<2, 16>> = SharedNic::new(SimNic::new(MAC));
    shared.with_nic(|nic| {
        nic.never_drain();
        assert!(nic.inject_rx(&ipv4_frame(7)));
        assert!(nic.inject_rx(&arp_request_for_us()));
    });
    let mut np = NicEngine::new(shared.console());
    np.add_local_ipv4(OUR_IP);
    let ep = Endpoint::new(IpAddr::V4(OUR_IP), IpAddr::V4(PEER.ip));
    assert_eq!(np.send_udp(&ep, &[b"stuck"]), Err(SendError::RingFull));
    np.poll();
    assert_eq!(np.counters().rx_arp, 1, "the console's engine saw the ARP request for it");
    assert_eq!(np.counters().rx_passed + np.counters().rx_unclaimed, 0, "and nothing else");
    assert_eq!(stack_receives(&shared), vec![ipv4_frame(7), arp_request_for_us()]);
    assert_eq!(shared.counters().queued_for_stack, 2);
    assert_eq!(shared.counters().queue_full, 0);
}

#[test]
fn an_arp_answer_the_stack_received_finishes_the_consoles_resolution() {
    let shared: SharedNic<SimNic<4, 16>> = SharedNic::new(SimNic::new(MAC));
    shared.with_nic(|nic| nic.set_peer(Some(PEER)));
    let mut np = NicEngine::new(shared.console());
    np.add_local_ipv4(OUR_IP);
    let mut ep = Endpoint::new(IpAddr::V4(OUR_IP), IpAddr::V4(PEER.ip));
    np.request_mac(&ep).unwrap();
    // The stack polls first and takes the reply off the NIC.
    let got = stack_receives(&shared);
    assert_eq!(got.len(), 1);
    assert_eq!(shared.counters().queued_for_console, 1);
    np.poll();
    assert_eq!(np.learned_mac(&mut ep), Some(PEER.mac));
}

#[test]
fn the_console_takes_no_more_than_the_stacks_queue_holds_so_nothing_is_dropped() {
    let shared: SharedNic<SimNic<4, 16>, 2> = SharedNic::new(SimNic::new(MAC));
    shared.with_nic(|nic| {
        for tag in 0..3 {
            nic.inject_rx(&ipv4_frame(tag));
        }
    });
    let mut side = shared.console();
    assert_eq!(side.receive(8, &mut |_| panic!("not ARP: not the engine's")), 2);
    assert_eq!(side.receive(8, &mut |_| {}), 0, "the queue is full: the rest stay in the NIC");
    let c = shared.counters();
    assert_eq!((c.queued_for_stack, c.queue_full), (2, 0));
    assert_eq!(stack_receives(&shared), vec![ipv4_frame(0), ipv4_frame(1), ipv4_frame(2)]);
    let mut called = false;
    assert!(side.xmit_with(60, &mut |_| called = true).is_ok());
    assert!(called);
    assert_ne!(side.xmit_with(2000, &mut |_| {}), Ok(()), "too long: refused");
    assert!(matches!(side.xmit_with(2000, &mut |_| {}), Err(XmitError::TooLong { .. })));
}

#[cfg(feature = "linux")]
mod over_a_tap {
    use std::net::UdpSocket;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::thread;
    use std::time::Duration;

    use embedded_hal::delay::DelayNs;
    use netconsole::{Netconsole, NoSystemInfo, Target};
    use netpoll_core::ResolvePolicy;
    use netpoll_drivers::linux::Tap;
    use smoltcp::iface::{Config, Interface, SocketSet, SocketStorage};
    use smoltcp::socket::udp;
    use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr};

    use super::support::netns::{can_make_namespaces, wait_for, Netns};
    use super::*;

    const LINES: usize = 200;
    const ECHOES: usize = 100;

    /// A TX ring of two slots in front of the TAP, finishing one frame per reclaim: the
    /// console's sends find it full and retry, as on a small hardware ring.
    struct TwoSlots {
        tap: Tap,
        in_flight: usize,
    }

    impl NetPoll for TwoSlots {
        fn mac_address(&self) -> MacAddr {
            self.tap.mac_address()
        }
        fn link_up(&self) -> bool {
            self.tap.link_up()
        }
        fn refresh_link(&mut self) -> bool {
            self.tap.refresh_link()
        }
        fn reclaim_tx(&mut self) {
            self.in_flight = self.in_flight.saturating_sub(1);
        }
        fn tx_in_flight(&self) -> usize {
            self.in_flight
        }
        fn receive(&mut self, budget: usize, rx: &mut dyn FnMut(&[u8])) -> usize {
            self.tap.receive(budget, rx)
        }
        fn xmit_with(
            &mut self,
            len: usize,
            fill: &mut dyn FnMut(&mut [u8]),
        ) -> Result<(), XmitError> {
            if self.in_flight >= 2 {
                return Err(XmitError::Busy);
            }
            self.tap.xmit_with(len, fill)?;
            self.in_flight += 1;
            Ok(())
        }
    }

    struct Sleep;

    impl DelayNs for Sleep {
        fn delay_ns(&mut self, ns: u32) {
            thread::sleep(Duration::from_nanos(u64::from(ns)));
        }
    }

    #[test]
    fn smoltcp_answers_echo_while_the_console_logs_and_neither_loses_a_frame() {
        if !can_make_namespaces() {
            return;
        }
        let ns = Netns::new("share");
        let tap = ns.run(|| Tap::open("npshare0")).expect("open TAP");
        ns.ip(&["addr", "add", "10.202.0.1/24", "dev", "npshare0"]);
        ns.ip(&["link", "set", "npshare0", "up"]);
        let (listener, client) = ns.run(|| {
            let l = UdpSocket::bind("10.202.0.1:6666").expect("bind listener");
            l.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let c = UdpSocket::bind("10.202.0.1:0").expect("bind client");
            c.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
            (l, c)
        });
        let mac = tap.mac_address();
        let shared: SharedNic<TwoSlots> = SharedNic::new(TwoSlots { tap, in_flight: 0 });
        shared.with_nic(|n| wait_for("the TAP to be up", || n.refresh_link()));

        // The stack: 10.202.0.2, UDP echo on port 7.
        let mut device = shared.stack();
        let config = Config::new(HardwareAddress::Ethernet(EthernetAddress(mac.0)));
        let started = std::time::Instant::now();
        let now = || Instant::from_micros(started.elapsed().as_micros() as i64);
        let mut iface = Interface::new(config, &mut device, now());
        iface.update_ip_addrs(|a| a.push(IpCidr::new(IpAddress::v4(10, 202, 0, 2), 24)).unwrap());
        let mut storage = [SocketStorage::EMPTY; 1];
        let mut sockets = SocketSet::new(&mut storage[..]);
        let (mut rx_meta, mut rx_data) = ([udp::PacketMetadata::EMPTY; 16], [0u8; 4096]);
        let (mut tx_meta, mut tx_data) = ([udp::PacketMetadata::EMPTY; 16], [0u8; 4096]);
        let mut echo = udp::Socket::new(
            udp::PacketBuffer::new(&mut rx_meta[..], &mut rx_data[..]),
            udp::PacketBuffer::new(&mut tx_meta[..], &mut tx_data[..]),
        );
        echo.bind(7).unwrap();
        let echo = sockets.add(echo);

        // The console, on the same NIC and address, resolving 10.202.0.1 by ARP.
        let console: Netconsole<_, Sleep> = Netconsole::new(NoSystemInfo);
        assert!(console.attach(NicEngine::with_delay(shared.console(), Sleep)).is_ok());
        let options =
            netconsole_options::parse_target("6665@10.202.0.2/,6666@10.202.0.1/").unwrap().target;
        let t = console.add_target(Target::from_options(&options, None).unwrap()).unwrap();
        let policy = ResolvePolicy { polls: 2000, wait_us: 1000, requests: 4 };
        let source = console.enable(t, policy).unwrap();
        assert!(matches!(source, netconsole::MacSource::Resolved(_)), "{source:?}");

        let done = AtomicBool::new(false);
        let (answered, lines) = thread::scope(|s| {
            let client = s.spawn(|| {
                let mut answered = 0;
                let mut buf = [0u8; 64];
                for i in 0..ECHOES {
                    let msg = format!("echo {i}");
                    client.send_to(msg.as_bytes(), "10.202.0.2:7").unwrap();
                    match client.recv_from(&mut buf) {
                        Ok((n, _)) if &buf[..n] == msg.as_bytes() => answered += 1,
                        other => panic!("echo {i}: {other:?}"),
                    }
                }
                done.store(true, Ordering::Relaxed);
                answered
            });
            let listener = s.spawn(|| {
                let mut lines = Vec::new();
                let mut buf = [0u8; 1500];
                while lines.len() < LINES {
                    match listener.recv_from(&mut buf) {
                        Ok((n, _)) => lines.push(String::from_utf8_lossy(&buf[..n]).into_owned()),
                        Err(e) => panic!("after {} lines: {e}", lines.len()),
                    }
                }
                lines
            });
            let deadline = started + Duration::from_secs(30);
            let mut logged = 0;
            let mut reply = [0u8; 64];
            while !(done.load(Ordering::Relaxed) && logged == LINES) {
                assert!(std::time::Instant::now() < deadline, "the shared NIC stalled");
                iface.poll(now(), &mut device, &mut sockets);
                let socket = sockets.get_mut::<udp::Socket>(echo);
                while let Ok((data, meta)) = socket.recv() {
                    let n = data.len().min(reply.len());
                    reply[..n].copy_from_slice(&data[..n]);
                    socket.send_slice(&reply[..n], meta.endpoint).unwrap();
                }
                if logged < LINES {
                    console.log(6, format!("line {logged:03}").as_bytes());
                    logged += 1;
                }
                thread::sleep(Duration::from_micros(200));
            }
            (client.join().unwrap(), listener.join().unwrap())
        });
        assert_eq!(answered, ECHOES);
        let expected: Vec<String> = (0..LINES).map(|i| format!("line {i:03}\n")).collect();
        assert_eq!(lines, expected);
        let engine = console.with_nic(|n| n.counters()).unwrap();
        assert!(engine.busy_retries > 0, "the two-slot ring filled: {engine:?}");
        let counted = console.counters();
        assert_eq!(counted.targets.messages, LINES as u64);
        assert_eq!(counted.backlog_full.messages + counted.targets.ring_stuck.messages, 0);
        let c = shared.counters();
        assert_eq!((c.queue_full, c.stack_tx_dropped), (0, 0), "{c:?}");
        drop(ns);
    }
}
