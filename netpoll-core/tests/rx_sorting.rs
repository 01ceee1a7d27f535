//! Whatever a NIC receives (any length, ARP-shaped or not, more frames than the budget when the
//! driver breaks its contract), the engine never panics and every frame it is handed is
//! counted exactly once: ARP for us, passed to the handler, or unclaimed.

use core::net::Ipv4Addr;

use netpoll_core::wire::{ArpRepr, EtherType, EthernetFrame, EthernetRepr};
use netpoll_core::{Endpoint, MacAddr, NetPoll, NicEngine, XmitError};
use proptest::prelude::*;

const OUR_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 1]);
const OUR_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

/// Hands over the frames it was given, ignoring the budget when `greedy`.
struct Scripted {
    rx: Vec<Vec<u8>>,
    greedy: bool,
    sent: usize,
}

impl NetPoll for Scripted {
    fn mac_address(&self) -> MacAddr {
        OUR_MAC
    }
    fn link_up(&self) -> bool {
        true
    }
    fn refresh_link(&mut self) -> bool {
        true
    }
    fn reclaim_tx(&mut self) {}
    fn tx_in_flight(&self) -> usize {
        0
    }
    fn receive(&mut self, budget: usize, rx: &mut dyn FnMut(&[u8])) -> usize {
        let take = if self.greedy { self.rx.len() } else { budget.min(self.rx.len()) };
        let frames: Vec<Vec<u8>> = self.rx.drain(..take).collect();
        for frame in &frames {
            rx(frame);
        }
        take
    }
    fn xmit_with(&mut self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> Result<(), XmitError> {
        let mut slot = vec![0u8; len];
        fill(&mut slot);
        self.sent += 1;
        Ok(())
    }
}

/// An ARP frame from `sender`, about addresses in 10.0.0.0/29 so that some hit ours and the
/// watched ones.
fn arp(op_reply: bool, sender: [u8; 6], sip: u8, tmac: [u8; 6], tip: u8) -> Vec<u8> {
    let mut buf = vec![0u8; 60];
    let mut eth = EthernetFrame::new_unchecked(&mut buf[..]);
    EthernetRepr {
        src_addr: MacAddr(sender),
        dst_addr: MacAddr::BROADCAST,
        ethertype: EtherType::Arp,
    }
    .emit(&mut eth);
    let mut repr = ArpRepr::request(
        MacAddr(sender),
        Ipv4Addr::new(10, 0, 0, sip),
        Ipv4Addr::new(10, 0, 0, tip),
    );
    if op_reply {
        repr = ArpRepr { target_mac: MacAddr(tmac), ..repr.reply_to(MacAddr(sender)) };
        repr.source_ip = Ipv4Addr::new(10, 0, 0, sip);
        repr.target_ip = Ipv4Addr::new(10, 0, 0, tip);
    }
    repr.emit(&mut eth.payload_mut()[..28]);
    buf
}

fn frame() -> impl Strategy<Value = Vec<u8>> {
    let mac = prop_oneof![Just(OUR_MAC.0), Just([0x02, 0, 0, 0, 0, 2]), any::<[u8; 6]>()];
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..1600),
        (any::<bool>(), mac.clone(), 0u8..8, mac, 0u8..8)
            .prop_map(|(reply, s, sip, t, tip)| arp(reply, s, sip, t, tip)),
        // An ARP frame cut or bent somewhere.
        ((any::<bool>(), 0u8..8, 0u8..8), 0usize..60, any::<u8>()).prop_map(
            |((reply, sip, tip), at, byte)| {
                let mut f = arp(reply, [0x02, 0, 0, 0, 0, 2], sip, OUR_MAC.0, tip);
                f[at] = byte;
                f.truncate(at.max(1) + (byte as usize % 3) * 20);
                f
            }
        ),
    ]
}

proptest! {
    #[test]
    fn every_frame_handed_over_is_counted_once(
        frames in proptest::collection::vec(frame(), 0..40),
        budget in prop_oneof![Just(0usize), Just(1), 0usize..50, Just(usize::MAX)],
        greedy in any::<bool>(),
        with_handler in any::<bool>(),
    ) {
        let total = frames.len();
        let mut np = NicEngine::new(Scripted { rx: frames, greedy, sent: 0 });
        np.add_local_ipv4(OUR_IP);
        for hop in 2..6u8 {
            let ep = Endpoint::new(OUR_IP.into(), Ipv4Addr::new(10, 0, 0, hop).into());
            np.request_mac(&ep).unwrap();
        }
        let mut passed = 0u64;
        let handed = if with_handler {
            np.poll_rx_with(budget, &mut |_| passed += 1)
        } else {
            np.poll_rx(budget)
        };
        let expected = if greedy { total } else { budget.min(total) };
        prop_assert_eq!(handed, expected);
        let c = np.counters();
        prop_assert_eq!(c.rx_arp + c.rx_passed + c.rx_unclaimed, expected as u64);
        prop_assert_eq!(c.rx_passed, passed);
        prop_assert!(c.arp_replies_sent <= c.rx_arp);
        for hop in 2..6u8 {
            let mut ep = Endpoint::new(OUR_IP.into(), Ipv4Addr::new(10, 0, 0, hop).into());
            if let Some(mac) = np.learned_mac(&mut ep) {
                prop_assert!(mac != OUR_MAC && mac.is_unicast(), "learned {}", mac);
            }
        }
    }
}
