//! The console sink driven by arbitrary operations against the simulated NIC: writes of any
//! bytes, records with dictionaries, userdata and sysdata changes, ring faults, link flaps,
//! flushes, targets disabled and enabled again, removed and added again. Nothing may panic, every datagram must be a valid frame of at most 1000 bytes of
//! payload, and once the NIC is healed a flush must empty the backlog.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netconsole::{ExtendedRecord, Netconsole, Sysdata, SystemInfo, Target};
use netpoll_core::wire::{EtherType, EthernetFrame, Ipv4Packet, Ipv6Packet, UdpPacket};
use netpoll_core::{Endpoint, MacAddr, NicEngine, NoDelay, ResolvePolicy, RetryPolicy};
use netpoll_drivers::sim::SimNic;

struct Info;
impl SystemInfo for Info {
    fn cpu(&self) -> u32 {
        7
    }
    fn task_name(&self) -> &str {
        "fuzz"
    }
    fn release(&self) -> &str {
        "6.18.0-fuzz"
    }
}

type Console = Netconsole<SimNic<2, 256>, NoDelay, Info, 3, 512, [Option<Target<3>>; 3]>;

fn check_frames(console: &Console) {
    console
        .with_nic(|np| {
            while let Some(frame) = np.driver_mut().pop_sent() {
                let eth = EthernetFrame::new_checked(&frame[..]).expect("Ethernet");
                let (udp, src, dst) = match eth.ethertype() {
                    EtherType::Ipv4 => {
                        let ip = Ipv4Packet::new_checked(eth.payload()).expect("IPv4");
                        assert!(ip.verify_checksum());
                        (ip.payload().to_vec(), ip.src_addr().into(), ip.dst_addr().into())
                    }
                    EtherType::Ipv6 => {
                        let ip = Ipv6Packet::new_checked(eth.payload()).expect("IPv6");
                        (ip.payload().to_vec(), ip.src_addr().into(), ip.dst_addr().into())
                    }
                    EtherType::Arp => continue,
                    other => panic!("unexpected {other:?}"),
                };
                let packet = UdpPacket::new_checked(&udp[..]).expect("UDP");
                assert!(packet.verify_checksum(&src, &dst));
                assert!(packet.payload().len() <= 1000, "{} bytes", packet.payload().len());
            }
        })
        .expect("not busy");
}

fuzz_target!(|data: &[u8]| {
    let console = Console::new(Info);
    let mut np = NicEngine::new(SimNic::new(MacAddr([2, 0, 0, 0, 0, 1])));
    np.set_retry_policy(RetryPolicy { tries: 3, wait_us: 0 });
    assert!(console.attach(np).is_ok());
    for (i, (remote, extended)) in
        [("10.0.0.2", false), ("10.0.0.2", true), ("fd00::2", true)].into_iter().enumerate()
    {
        let local = if remote.contains(':') { "fd00::1" } else { "10.0.0.1" };
        let mut endpoint = Endpoint::new(local.parse().unwrap(), remote.parse().unwrap());
        endpoint.remote_port = 6666 + i as u16;
        endpoint.remote_mac = Some(MacAddr([2, 0, 0, 0, 0, 2]));
        let mut target = Target::new(endpoint);
        target.extended = extended;
        target.release = extended && i == 2;
        let t = console.add_target(target).unwrap();
        console.enable(t, ResolvePolicy::default()).unwrap();
    }

    let mut ops = data;
    while let [op, rest @ ..] = ops {
        let len = usize::from(*rest.first().unwrap_or(&0)) * 13;
        let body = rest.get(1..).unwrap_or(&[]);
        let text = &body[..len.min(body.len())];
        ops = &body[text.len()..];
        match op % 12 {
            0 => console.log(op >> 4, text),
            1 => console.write(text),
            2 => {
                let (subsystem, device) = text.split_at(text.len() / 2);
                let mut record = ExtendedRecord::new(op >> 4, u64::from(*op), 1, text);
                record.subsystem = Some(subsystem);
                record.device = Some(device);
                record.continuation = op & 0x10 != 0;
                console.write_record(&record);
            }
            3 => {
                let (key, value) = text.split_at(text.len().min(usize::from(op >> 3)));
                let _ =
                    console.with_target(usize::from(op >> 6) % 3, |t| t.userdata.set(key, value));
            }
            4 => {
                let fields = Sysdata {
                    cpu: op & 0x10 != 0,
                    taskname: op & 0x20 != 0,
                    release: op & 0x40 != 0,
                    msgid: op & 0x80 != 0,
                };
                let _ = console.with_target(1, |t| t.sysdata = fields);
            }
            5 => {
                let _ = console.with_nic(|np| np.driver_mut().fill_ring_for(u64::from(op >> 4)));
            }
            6 => {
                let _ = console.with_nic(|np| np.driver_mut().never_drain());
            }
            7 => {
                let _ = console.with_nic(|np| np.driver_mut().heal());
            }
            8 => {
                let _ = console.with_nic(|np| np.driver_mut().set_link(op & 0x10 == 0));
            }
            10 => {
                // Disable, change the format while disabled, enable again.
                let t = usize::from(op >> 4) % 3;
                let _ = console.disable(t);
                let _ = console.with_target(t, |t| t.extended = op & 0x40 != 0 || t.release);
                let _ = console.enable(t, ResolvePolicy { polls: 1, wait_us: 0, requests: 1 });
            }
            11 => {
                // Removed mid-message and added again (it gets a slot, maybe another one).
                if let Ok(target) = console.remove_target(usize::from(op >> 4) % 3) {
                    if let Ok(t) = console.add_target(target) {
                        let _ =
                            console.enable(t, ResolvePolicy { polls: 1, wait_us: 0, requests: 1 });
                    }
                }
            }
            _ => {
                console.poll();
            }
        }
        check_frames(&console);
    }

    // Healed and up, the backlog drains.
    console
        .with_nic(|np| {
            np.driver_mut().heal();
            np.driver_mut().set_link(true);
        })
        .unwrap();
    for _ in 0..64 {
        if console.poll() {
            break;
        }
        check_frames(&console);
    }
    check_frames(&console);
    assert_eq!(console.backlog_len(), 0, "{:?}", console.counters());
});
