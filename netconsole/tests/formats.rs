//! Basic and extended targets side by side, IPv4 and IPv6, byte-exact frames through the sim.

// Without the `extended` feature the tests of that format are not built, nor need their helpers.
#![cfg_attr(not(feature = "extended"), allow(dead_code, unused_imports))]

mod common;

use common::{drain, OUR_MAC, PEER_MAC};
use netconsole::{Netconsole, NoSystemInfo, Target, TargetError};
use netpoll_core::wire::UdpFrame;
use netpoll_core::{NicEngine, ResolvePolicy};
use netpoll_drivers::sim::SimNic;

type Console =
    Netconsole<SimNic<4, 64>, netpoll_core::NoDelay, NoSystemInfo, 2, 8192, [Option<Target<2>>; 4]>;

fn add(console: &Console, option: &str) -> usize {
    let options = netconsole_options::parse_target(option).unwrap().target;
    let target = Target::from_options(&options, None).unwrap();
    let i = console.add_target(target).unwrap();
    console.enable(i, ResolvePolicy { polls: 4, wait_us: 0, requests: 1 }).unwrap();
    // Forget the ARP requests a target without a MAC sends when it is enabled.
    console.with_nic(|np| np.driver_mut().clear_sent()).unwrap();
    i
}

fn console() -> Console {
    let c = Console::new(NoSystemInfo);
    assert!(c.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    c
}

#[cfg(feature = "extended")]
#[test]
fn basic_and_extended_side_by_side_byte_exact() {
    let c = console();
    add(&c, "6665@10.0.0.1/,6666@10.0.0.2/52:55:0a:00:02:02");
    add(&c, "+6665@10.0.0.1/,6667@10.0.0.2/52:55:0a:00:02:02");
    add(&c, "6665@fd00::1/,6668@fd00::2/");
    c.log(4, b"disk \\ full\n!");
    let frames = c.with_nic(|np| {
        let mut v = Vec::new();
        while let Some(f) = np.driver_mut().pop_sent() {
            v.push(f.to_vec());
        }
        v
    });
    let frames = frames.unwrap();
    assert_eq!(frames.len(), 3);

    // Whole frames, built independently with the wire builder. Newest target first, as Linux
    // walks its list: IPv6 (no ID), then the extended target with ID 1, the basic one with 2.
    let v4 = |port, ident| UdpFrame {
        src_mac: OUR_MAC,
        dst_mac: PEER_MAC,
        src_ip: "10.0.0.1".parse().unwrap(),
        dst_ip: "10.0.0.2".parse().unwrap(),
        src_port: 6665,
        dst_port: port,
        ipv4_ident: ident,
    };
    let build = |f: UdpFrame, payload: &[u8]| {
        let mut buf = vec![0u8; 1514];
        let len = f.emit(&mut buf, &[payload]).unwrap();
        buf.truncate(len.max(60));
        buf
    };
    assert_eq!(frames[2], build(v4(6666, 2), b"disk \\ full\n!\n"), "basic: raw text + newline");
    assert_eq!(
        frames[1],
        build(v4(6667, 1), b"4,0,0,-;disk \\x5c full\\x0a!\n"),
        "extended: printk escaping"
    );
    let v6 = UdpFrame {
        dst_mac: netpoll_core::MacAddr::BROADCAST,
        src_ip: "fd00::1".parse().unwrap(),
        dst_ip: "fd00::2".parse().unwrap(),
        dst_port: 6668,
        ipv4_ident: 0,
        ..v4(0, 0)
    };
    assert_eq!(frames[0], build(v6, b"disk \\ full\n!\n"), "IPv6 basic, broadcast MAC");
}

#[cfg(feature = "extended")]
#[test]
fn extended_ipv6_frame_byte_exact() {
    let c = console();
    add(&c, "+6665@fd00::1/,6666@fd00::2/52:55:0a:00:02:02");
    c.log(3, b"v6 \x7f");
    let frame = c.with_nic(|np| np.driver_mut().pop_sent().unwrap().to_vec()).unwrap();
    let want = UdpFrame {
        src_mac: OUR_MAC,
        dst_mac: PEER_MAC,
        src_ip: "fd00::1".parse().unwrap(),
        dst_ip: "fd00::2".parse().unwrap(),
        src_port: 6665,
        dst_port: 6666,
        ipv4_ident: 0,
    };
    let mut buf = vec![0u8; 1514];
    let len = want.emit(&mut buf, &[b"3,0,0,-;v6 \\x7f\n"]).unwrap();
    buf.truncate(len);
    assert_eq!(frame, buf);
}

#[cfg(feature = "extended")]
#[test]
fn basic_writes_go_to_basic_targets_only_in_1000_byte_chunks() {
    let c = console();
    add(&c, "@10.0.0.1/,6666@10.0.0.2/");
    add(&c, "+@10.0.0.1/,6667@10.0.0.2/");
    let text: Vec<u8> = (0..2500u32).map(|i| b'a' + (i % 26) as u8).collect();
    c.write(&text);
    let sent = c.with_nic(|np| drain(np.driver_mut())).unwrap();
    assert!(sent.iter().all(|(port, _)| *port == 6666), "extended targets get records only");
    let lens: Vec<usize> = sent.iter().map(|(_, p)| p.len()).collect();
    assert_eq!(lens, [1000, 1000, 500]);
    let joined: Vec<u8> = sent.into_iter().flat_map(|(_, p)| p).collect();
    assert_eq!(joined, text);
    let t = c.target_counters(0).unwrap();
    assert_eq!((t.messages, t.frames, t.bytes), (1, 3, 2500));
}

#[test]
fn disabled_targets_get_nothing_and_config_errors_are_clear() {
    let c = console();
    let i = add(&c, "@10.0.0.1/,6666@10.0.0.2/");
    c.disable(i).unwrap();
    c.log(6, b"quiet");
    assert_eq!(c.with_nic(|np| np.driver().sent().count()).unwrap(), 0);

    let no_ip = netconsole_options::parse_target("@/,@10.0.0.2/").unwrap().target;
    assert_eq!(Target::<2>::from_options(&no_ip, None).unwrap_err(), TargetError::NoLocalIp);
    let v6_dev = Some("fd00::1".parse().unwrap());
    assert_eq!(Target::<2>::from_options(&no_ip, v6_dev).unwrap_err(), TargetError::FamilyMismatch);
    let ok = Target::<2>::from_options(&no_ip, Some("10.0.0.1".parse().unwrap())).unwrap();
    assert_eq!(ok.endpoint.local_ip, "10.0.0.1".parse::<core::net::IpAddr>().unwrap());
}

#[test]
fn enable_reports_where_the_mac_came_from() {
    use netconsole::{BroadcastReason, MacSource};
    use netpoll_drivers::sim::SimPeer;
    let c = console();
    c.with_nic(|np| {
        np.driver_mut().set_peer(Some(SimPeer { mac: PEER_MAC, ip: "10.0.0.2".parse().unwrap() }))
    })
    .unwrap();
    let policy = ResolvePolicy { polls: 8, wait_us: 0, requests: 2 };
    let opts = |s| netconsole_options::parse_target(s).unwrap().target;
    let resolved =
        c.add_target(Target::from_options(&opts("@10.0.0.1/,@10.0.0.2/"), None).unwrap());
    assert_eq!(c.enable(resolved.unwrap(), policy), Ok(MacSource::Resolved(PEER_MAC)));
    let silent = c.add_target(Target::from_options(&opts("@10.0.0.1/,@10.0.0.9/"), None).unwrap());
    assert_eq!(
        c.enable(silent.unwrap(), policy),
        Ok(MacSource::Broadcast(BroadcastReason::NoReply))
    );
    let configured = c.add_target(
        Target::from_options(&opts("@10.0.0.1/,@10.0.0.9/02:00:00:00:00:09"), None).unwrap(),
    );
    assert!(matches!(c.enable(configured.unwrap(), policy), Ok(MacSource::Configured(_))));
}
