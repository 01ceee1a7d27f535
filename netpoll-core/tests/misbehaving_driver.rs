//! A driver that breaks its contract by handing `fill` a slot of the wrong length: no path of the
//! engine panics (ARP answers and requests, raw and UDP sends), and every such frame is counted
//! as an error and reported, not as sent.

use core::net::Ipv4Addr;

use netpoll_core::wire::{ArpRepr, EtherType, EthernetFrame, EthernetRepr};
use netpoll_core::{Endpoint, MacAddr, NetPoll, NicEngine, ResolvePolicy, SendError, XmitError};

const OUR_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 1]);
const PEER_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 2]);

/// A driver that hands `fill` one byte more than it was asked for (a slot rounded up, say).
struct LongSlot {
    rx: Option<[u8; 42]>,
    frames: u32,
}

impl NetPoll for LongSlot {
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
    fn receive(&mut self, _budget: usize, rx: &mut dyn FnMut(&[u8])) -> usize {
        match self.rx.take() {
            Some(frame) => {
                rx(&frame);
                1
            }
            None => 0,
        }
    }
    fn xmit_with(&mut self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> Result<(), XmitError> {
        let mut slot = [0u8; 1600];
        fill(&mut slot[..len + 1]);
        self.frames += 1;
        Ok(())
    }
}

fn arp_request_for(ip: Ipv4Addr) -> [u8; 42] {
    let mut buf = [0u8; 42];
    let mut eth = EthernetFrame::new_unchecked(&mut buf[..]);
    EthernetRepr { src_addr: PEER_MAC, dst_addr: MacAddr::BROADCAST, ethertype: EtherType::Arp }
        .emit(&mut eth);
    ArpRepr::request(PEER_MAC, Ipv4Addr::new(10, 0, 0, 2), ip).emit(&mut eth.payload_mut()[..28]);
    buf
}

#[test]
fn send_udp_to_a_driver_with_a_longer_slot_is_an_error_not_a_frame_sent() {
    let mut np = NicEngine::new(LongSlot { rx: None, frames: 0 });
    let ep = Endpoint::new("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    assert_eq!(np.send_udp(&ep, &[b"hi"]), Err(SendError::SlotLength { expected: 44, got: 45 }));
    let c = np.counters();
    assert_eq!((c.frames_sent, c.errors), (0, 1));
}

#[test]
fn answering_arp_with_a_driver_that_hands_a_longer_slot_does_not_panic() {
    let mut np = NicEngine::new(LongSlot { rx: None, frames: 0 });
    np.add_local_ipv4(Ipv4Addr::new(10, 0, 0, 1));
    np.driver_mut().rx = Some(arp_request_for(Ipv4Addr::new(10, 0, 0, 1)));
    // An idle-loop poll answers the request.
    np.poll();
    assert_eq!(np.driver().frames, 1, "an answer was attempted");
    assert_eq!(np.counters().arp_replies_sent, 0, "but not counted as sent");
    assert_eq!(np.counters().errors, 1);
}

#[test]
fn resolving_with_a_driver_that_hands_a_longer_slot_does_not_panic() {
    let mut np = NicEngine::new(LongSlot { rx: None, frames: 0 });
    let mut ep = Endpoint::new("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    // Netconsole::enable calls this for every target without a configured MAC.
    let _ = np.resolve(&mut ep, ResolvePolicy { polls: 1, wait_us: 0, requests: 1 });
    assert_eq!(np.counters().arp_requests_sent, 0);
    assert_eq!(np.counters().errors, 1);
}

#[test]
fn send_raw_with_a_driver_that_hands_a_longer_slot_does_not_panic() {
    let mut np = NicEngine::new(LongSlot { rx: None, frames: 0 });
    assert_eq!(np.send_raw(&[0u8; 60]), Err(SendError::SlotLength { expected: 60, got: 61 }));
}

#[test]
fn the_default_xmit_raw_does_not_panic_either() {
    let mut nic = LongSlot { rx: None, frames: 0 };
    assert!(nic.xmit_raw(&[1u8; 60]).is_ok());
}

/// A driver that says a frame was queued without ever asking for its bytes: whatever its slot
/// held (the previous frame, say) goes out in place of the message.
struct NeverFills {
    rx: Option<[u8; 42]>,
    frames: u32,
}

impl NetPoll for NeverFills {
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
    fn receive(&mut self, _budget: usize, rx: &mut dyn FnMut(&[u8])) -> usize {
        self.rx.take().map(|frame| rx(&frame)).map_or(0, |()| 1)
    }
    fn xmit_with(
        &mut self,
        _len: usize,
        _fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(), XmitError> {
        self.frames += 1;
        Ok(())
    }
}

#[test]
fn a_driver_that_never_fills_its_slot_has_sent_nothing_and_says_so() {
    let mut np = NicEngine::new(NeverFills { rx: None, frames: 0 });
    let ep = Endpoint::new("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    assert_eq!(np.send_udp(&ep, &[b"hi"]), Err(SendError::NotFilled));
    assert_eq!(np.send_raw(&[0u8; 60]), Err(SendError::NotFilled));
    np.add_local_ipv4(Ipv4Addr::new(10, 0, 0, 1));
    np.driver_mut().rx = Some(arp_request_for(Ipv4Addr::new(10, 0, 0, 1)));
    np.poll();
    assert_eq!(np.driver().frames, 3, "every frame was attempted");
    let c = np.counters();
    assert_eq!((c.frames_sent, c.arp_replies_sent, c.errors), (0, 0, 3));
}
