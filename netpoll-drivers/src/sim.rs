//! A simulated NIC for tests: TX slots in memory, every transmitted frame recorded, received
//! frames injectable, call counts, and faults on demand.
//!
//! It keeps the driver contract like a real driver (no allocation, bounded work per call, short
//! frames padded to 60 bytes), so a test against it says something about real drivers. The frame
//! record and the receive queue are fixed-size (`RECORD` frames and [`RX_QUEUE`] frames): a frame
//! past the record's capacity is counted in [`SimCounters::not_recorded`], never lost silently.

use core::net::Ipv4Addr;

use heapless::{Deque, Vec};
use netpoll_core::wire::{arp, ethernet, ArpOperation, ArpPacket, ArpRepr, EtherType};
use netpoll_core::wire::{EthernetFrame, EthernetRepr};
use netpoll_core::{MacAddr, NetPoll, XmitError, MAX_FRAME_LEN};

/// One frame as it left (or reaches) the simulated NIC.
pub type SimFrame = Vec<u8, MAX_FRAME_LEN>;

/// Frames waiting to be received, at most.
pub const RX_QUEUE: usize = 8;

/// A station on the simulated wire that answers ARP requests for its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimPeer {
    /// The peer's MAC address.
    pub mac: MacAddr,
    /// The peer's IPv4 address.
    pub ip: Ipv4Addr,
}

/// What the simulated NIC has been asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SimCounters {
    /// Calls of `reclaim_tx`.
    pub reclaims: u64,
    /// Calls of `receive`.
    pub receives: u64,
    /// Calls of `refresh_link`: reads of the simulated PHY.
    pub link_reads: u64,
    /// Calls of `xmit_with` (and so of `xmit_raw`).
    pub xmit_calls: u64,
    /// Calls that found no free slot.
    pub busy: u64,
    /// Frames accepted.
    pub frames: u64,
    /// Accepted frames that did not fit the record.
    pub not_recorded: u64,
    /// Injected frames that did not fit the receive queue.
    pub rx_dropped: u64,
    /// ARP replies the peer sent.
    pub peer_replies: u64,
}

/// A hook run inside `xmit_with`, before the frame is written: it can do what an interrupt
/// arriving mid-transmit would do, such as writing to a `static` console. A plain function
/// pointer, so it needs no heap and cannot borrow the NIC.
pub type XmitHook = fn();

/// The simulated NIC: `SLOTS` TX slots, a record of the last `RECORD` transmitted frames.
pub struct SimNic<const SLOTS: usize = 4, const RECORD: usize = 64> {
    mac: MacAddr,
    /// The link state as the driver last read it.
    link: bool,
    /// The PHY's link state, read by `refresh_link`.
    phy_link: bool,
    /// PHY reads left before a negotiating PHY reports carrier.
    negotiating: u64,
    /// Slots holding a frame the "hardware" has not finished with.
    in_flight: usize,
    /// Reclaims left during which finished slots are not freed.
    stalled_reclaims: u64,
    sent: Deque<SimFrame, RECORD>,
    rx: Deque<SimFrame, RX_QUEUE>,
    peer: Option<SimPeer>,
    hook: Option<XmitHook>,
    counters: SimCounters,
}

impl<const SLOTS: usize, const RECORD: usize> SimNic<SLOTS, RECORD> {
    /// A NIC with this MAC address, link up, every slot free.
    pub const fn new(mac: MacAddr) -> Self {
        SimNic {
            mac,
            link: true,
            phy_link: true,
            negotiating: 0,
            in_flight: 0,
            stalled_reclaims: 0,
            sent: Deque::new(),
            rx: Deque::new(),
            peer: None,
            hook: None,
            counters: SimCounters {
                reclaims: 0,
                receives: 0,
                link_reads: 0,
                xmit_calls: 0,
                busy: 0,
                frames: 0,
                not_recorded: 0,
                rx_dropped: 0,
                peer_replies: 0,
            },
        }
    }

    /// The counts so far.
    pub fn counters(&self) -> SimCounters {
        self.counters
    }

    /// Frames transmitted and not yet taken, oldest first.
    pub fn sent(&self) -> impl Iterator<Item = &[u8]> {
        self.sent.iter().map(|f| f.as_slice())
    }

    /// Takes the oldest recorded frame.
    pub fn pop_sent(&mut self) -> Option<SimFrame> {
        self.sent.pop_front()
    }

    /// Forgets every recorded frame.
    pub fn clear_sent(&mut self) {
        self.sent.clear();
    }

    /// Queues a frame to be handed to the next `receive`. `false` (and counted)
    /// if the queue is full or the frame longer than an Ethernet frame.
    pub fn inject_rx(&mut self, frame: &[u8]) -> bool {
        let queued = SimFrame::from_slice(frame).ok().and_then(|f| self.rx.push_back(f).ok());
        if queued.is_none() {
            self.counters.rx_dropped += 1;
        }
        queued.is_some()
    }

    /// Sets the link state, as a driver told by a link-change interrupt would: the cached state
    /// and the PHY's alike.
    pub fn set_link(&mut self, up: bool) {
        self.link = up;
        self.phy_link = up;
        self.negotiating = 0;
    }

    /// Sets the PHY's link state only: the driver sees it at the next `refresh_link`.
    pub fn set_phy_link(&mut self, up: bool) {
        self.phy_link = up;
        self.negotiating = 0;
    }

    /// A PHY still negotiating: the link is down, and the `reads`-th `refresh_link` from now is
    /// the first to find carrier.
    pub fn negotiate_for(&mut self, reads: u64) {
        self.link = false;
        self.phy_link = false;
        self.negotiating = reads;
    }

    /// Frames queued and not yet reclaimed.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Fault: every slot is busy, and the next `reclaims` reclaims free none; the reclaim after them
    /// frees the ring.
    pub fn fill_ring_for(&mut self, reclaims: u64) {
        self.in_flight = SLOTS;
        self.stalled_reclaims = reclaims;
    }

    /// Fault: every slot is busy and reclaims never free them, until [`heal`](Self::heal).
    pub fn never_drain(&mut self) {
        self.fill_ring_for(u64::MAX);
    }

    /// Ends a ring fault: the next reclaim frees every slot.
    pub fn heal(&mut self) {
        self.stalled_reclaims = 0;
    }

    /// Puts a peer on the wire that answers ARP requests for its address.
    pub fn set_peer(&mut self, peer: Option<SimPeer>) {
        self.peer = peer;
    }

    /// Runs `hook` inside every `xmit_with` that has a free slot, before the frame is written.
    pub fn set_xmit_hook(&mut self, hook: Option<XmitHook>) {
        self.hook = hook;
    }

    /// The peer's answer to a frame we sent, if it is an ARP request that parses and asks for
    /// the peer's address.
    fn peer_answer(&self, frame: &[u8]) -> Option<SimFrame> {
        let peer = self.peer?;
        let eth = EthernetFrame::new_checked(frame).ok()?;
        if eth.ethertype() != EtherType::Arp {
            return None;
        }
        let request = ArpRepr::parse(&ArpPacket::new_checked(eth.payload()).ok()?).ok()?;
        if request.operation != ArpOperation::Request || request.target_ip != peer.ip {
            return None;
        }
        let reply = request.reply_to(peer.mac);
        let mut out = SimFrame::new();
        out.resize(ethernet::MIN_FRAME_LEN, 0).ok()?;
        let mut out_eth = EthernetFrame::new_unchecked(&mut out[..]);
        EthernetRepr {
            src_addr: peer.mac,
            dst_addr: request.source_mac,
            ethertype: EtherType::Arp,
        }
        .emit(&mut out_eth);
        reply.emit(&mut out_eth.payload_mut()[..arp::PACKET_LEN]);
        Some(out)
    }
}

impl<const SLOTS: usize, const RECORD: usize> NetPoll for SimNic<SLOTS, RECORD> {
    fn mac_address(&self) -> MacAddr {
        self.mac
    }

    fn link_up(&self) -> bool {
        self.link
    }

    fn refresh_link(&mut self) -> bool {
        self.counters.link_reads += 1;
        if self.negotiating > 0 {
            self.negotiating -= 1;
            if self.negotiating == 0 {
                self.phy_link = true;
            }
        }
        self.link = self.phy_link;
        self.link
    }

    fn reclaim_tx(&mut self) {
        self.counters.reclaims += 1;
        if self.stalled_reclaims > 0 {
            self.stalled_reclaims -= 1;
        } else {
            self.in_flight = 0;
        }
    }

    fn tx_in_flight(&self) -> usize {
        self.in_flight
    }

    fn receive(&mut self, budget: usize, rx: &mut dyn FnMut(&[u8])) -> usize {
        self.counters.receives += 1;
        // At most one queue's worth, like a real ring: frames injected by `rx` wait for the next.
        let mut handed = 0;
        while handed < budget.min(RX_QUEUE) {
            let Some(frame) = self.rx.pop_front() else { break };
            rx(&frame);
            handed += 1;
        }
        handed
    }

    fn xmit_with(&mut self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> Result<(), XmitError> {
        self.counters.xmit_calls += 1;
        if !self.link {
            return Err(XmitError::LinkDown);
        }
        if len > MAX_FRAME_LEN {
            return Err(XmitError::TooLong { len, max: MAX_FRAME_LEN });
        }
        if self.in_flight >= SLOTS {
            self.counters.busy += 1;
            return Err(XmitError::Busy);
        }
        if let Some(hook) = self.hook {
            hook();
        }
        let mut frame = SimFrame::new();
        // Cannot fail: len <= MAX_FRAME_LEN was checked above.
        let _ = frame.resize(len, 0);
        fill(&mut frame);
        if len < ethernet::MIN_FRAME_LEN {
            let _ = frame.resize(ethernet::MIN_FRAME_LEN, 0);
        }
        self.in_flight += 1;
        self.counters.frames += 1;
        if let Some(answer) = self.peer_answer(&frame) {
            if self.rx.push_back(answer).is_ok() {
                self.counters.peer_replies += 1;
            } else {
                self.counters.rx_dropped += 1;
            }
        }
        if self.sent.push_back(frame).is_err() {
            self.counters.not_recorded += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod test {
    use super::*;

    const MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 1]);

    #[test]
    fn pads_records_and_counts() {
        let mut nic: SimNic<2, 4> = SimNic::new(MAC);
        nic.xmit_raw(&[7u8; 20]).unwrap();
        let frame = nic.pop_sent().unwrap();
        assert_eq!(frame.len(), 60);
        assert!(frame[..20].iter().all(|&b| b == 7) && frame[20..].iter().all(|&b| b == 0));
        assert_eq!(nic.counters().frames, 1);
        assert_eq!(nic.counters().xmit_calls, 1);
    }

    #[test]
    fn ring_fills_and_drains_on_reclaim_not_on_receive() {
        let mut nic: SimNic<2, 4> = SimNic::new(MAC);
        nic.xmit_raw(&[0; 60]).unwrap();
        nic.xmit_raw(&[0; 60]).unwrap();
        assert_eq!(nic.tx_in_flight(), 2);
        assert_eq!(nic.xmit_raw(&[0; 60]), Err(XmitError::Busy));
        nic.receive(8, &mut |_| {});
        assert_eq!(nic.xmit_raw(&[0; 60]), Err(XmitError::Busy));
        nic.reclaim_tx();
        assert_eq!(nic.tx_in_flight(), 0);
        assert!(nic.xmit_raw(&[0; 60]).is_ok());
    }

    #[test]
    fn a_negotiating_phy_finds_carrier_on_the_nth_read_and_reads_are_counted() {
        let mut nic: SimNic = SimNic::new(MAC);
        nic.negotiate_for(3);
        assert!(!nic.link_up());
        assert!(!nic.refresh_link());
        assert!(!nic.refresh_link());
        assert!(!nic.link_up(), "the cache says what the last read said");
        assert!(nic.refresh_link());
        assert!(nic.link_up());
        assert_eq!(nic.counters().link_reads, 3);
        nic.set_phy_link(false);
        assert!(nic.link_up(), "not read yet");
        assert!(!nic.refresh_link());
    }

    #[test]
    fn fill_ring_for_k_polls() {
        let mut nic: SimNic<2, 4> = SimNic::new(MAC);
        nic.fill_ring_for(3);
        for _ in 0..3 {
            assert_eq!(nic.xmit_raw(&[0; 60]), Err(XmitError::Busy));
            nic.reclaim_tx();
        }
        assert_eq!(nic.xmit_raw(&[0; 60]), Err(XmitError::Busy));
        nic.reclaim_tx();
        assert!(nic.xmit_raw(&[0; 60]).is_ok());
    }

    #[test]
    fn record_overflow_is_counted() {
        let mut nic: SimNic<8, 2> = SimNic::new(MAC);
        for _ in 0..3 {
            nic.xmit_raw(&[0; 60]).unwrap();
        }
        assert_eq!(nic.sent().count(), 2);
        assert_eq!(nic.counters().not_recorded, 1);
    }

    #[test]
    fn link_down_refuses() {
        let mut nic: SimNic = SimNic::new(MAC);
        nic.set_link(false);
        assert!(!nic.link_up());
        assert_eq!(nic.xmit_raw(&[0; 60]), Err(XmitError::LinkDown));
    }

    #[test]
    fn injected_frames_arrive_in_order_bounded_per_poll() {
        let mut nic: SimNic = SimNic::new(MAC);
        for i in 0..RX_QUEUE as u8 {
            assert!(nic.inject_rx(&[i; 60]));
        }
        assert!(!nic.inject_rx(&[0xff; 60]));
        assert_eq!(nic.counters().rx_dropped, 1);
        let mut seen = Vec::<u8, 16>::new();
        assert_eq!(nic.receive(3, &mut |f| seen.push(f[0]).unwrap()), 3);
        assert_eq!(nic.receive(100, &mut |f| seen.push(f[0]).unwrap()), 5);
        assert_eq!(seen.as_slice(), &[0, 1, 2, 3, 4, 5, 6, 7]);
    }

    #[test]
    fn peer_answers_only_parseable_requests_for_its_address() {
        let peer = SimPeer { mac: MacAddr([0x02, 0, 0, 0, 0, 2]), ip: Ipv4Addr::new(10, 0, 0, 2) };
        let mut nic: SimNic = SimNic::new(MAC);
        nic.set_peer(Some(peer));
        let request = |target: Ipv4Addr| {
            let mut buf = [0u8; 42];
            let repr = ArpRepr::request(MAC, Ipv4Addr::new(10, 0, 0, 1), target);
            let mut eth = EthernetFrame::new_unchecked(&mut buf[..]);
            EthernetRepr { src_addr: MAC, dst_addr: MacAddr::BROADCAST, ethertype: EtherType::Arp }
                .emit(&mut eth);
            repr.emit(&mut eth.payload_mut()[..28]);
            buf
        };
        nic.xmit_raw(&request(Ipv4Addr::new(10, 0, 0, 3))).unwrap();
        let mut bad = request(peer.ip);
        bad[14 + 4] = 8; // hardware length 8: does not parse
        nic.xmit_raw(&bad).unwrap();
        assert_eq!(nic.counters().peer_replies, 0);
        nic.xmit_raw(&request(peer.ip)).unwrap();
        assert_eq!(nic.counters().peer_replies, 1);
        let mut replies = 0;
        nic.receive(RX_QUEUE, &mut |f| {
            let eth = EthernetFrame::new_checked(f).unwrap();
            let reply = ArpRepr::parse(&ArpPacket::new_checked(eth.payload()).unwrap()).unwrap();
            assert_eq!(reply.operation, ArpOperation::Reply);
            assert_eq!((reply.source_mac, reply.source_ip), (peer.mac, peer.ip));
            assert_eq!(eth.dst_addr(), MAC);
            replies += 1;
        });
        assert_eq!(replies, 1);
    }
}
