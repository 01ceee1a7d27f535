//! A NIC that receives a frame longer than `MAX_FRAME_LEN` (a VLAN-tagged full frame, 1518
//! bytes; the STM32 driver's buffers take up to 1532): a `SharedNic` has no room for it on
//! either side, so it drops it and counts it, and never hands the stack a cut frame.
#![cfg(feature = "smoltcp")]

use std::collections::VecDeque;

use netpoll_core::{MacAddr, NetPoll, XmitError, MAX_FRAME_LEN};
use netpoll_drivers::shared::SharedNic;
use smoltcp::phy::{Device, RxToken};
use smoltcp::time::Instant;

const MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 1]);

/// Hands over whatever frames the test queued, of any length.
struct LongFrames(VecDeque<Vec<u8>>);

impl NetPoll for LongFrames {
    fn mac_address(&self) -> MacAddr {
        MAC
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
        let mut handed = 0;
        while handed < budget {
            let Some(frame) = self.0.pop_front() else { break };
            rx(&frame);
            handed += 1;
        }
        handed
    }
    fn xmit_with(&mut self, _: usize, _: &mut dyn FnMut(&mut [u8])) -> Result<(), XmitError> {
        Ok(())
    }
}

/// An IPv4 frame behind an 802.1Q tag, `len` bytes long.
fn tagged(len: usize) -> Vec<u8> {
    let mut frame = vec![0x5a; len];
    frame[..6].copy_from_slice(&MAC.0);
    frame[12..18].copy_from_slice(&[0x81, 0x00, 0x00, 0x05, 0x08, 0x00]);
    frame
}

#[test]
fn the_stack_never_gets_a_cut_frame() {
    let shared: SharedNic<LongFrames> =
        SharedNic::new(LongFrames(VecDeque::from([tagged(MAX_FRAME_LEN + 4), tagged(100)])));
    let mut stack = shared.stack();
    let mut got = Vec::new();
    for _ in 0..4 {
        if let Some((rx, _)) = stack.receive(Instant::ZERO) {
            got.push(rx.consume(<[u8]>::to_vec));
        }
    }
    assert_eq!(got, vec![tagged(100)], "the long frame dropped whole, not cut to fit");
    assert_eq!(shared.counters().rx_too_long, 1);
}

#[test]
fn the_consoles_side_counts_a_long_frame_as_too_long_not_as_a_full_queue() {
    let shared: SharedNic<LongFrames> =
        SharedNic::new(LongFrames(VecDeque::from([tagged(MAX_FRAME_LEN + 4)])));
    let mut side = shared.console();
    side.receive(8, &mut |_| panic!("not ARP: not the engine's"));
    let c = shared.counters();
    assert_eq!((c.rx_too_long, c.queue_full, c.queued_for_stack), (1, 0, 0));
}
