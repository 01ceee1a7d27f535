//! ARP, where this goes beyond Linux netpoll (which lost it in 3.15): answers to requests for our
//! own IPv4 addresses while polling, and a bounded resolution of a target's MAC address.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr};

use embedded_hal::delay::DelayNs;

use crate::driver::NetPoll;
use crate::endpoint::Endpoint;
use crate::engine::Netpoll;
use crate::wire::{arp, ethernet, ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetFrame};
use crate::wire::{EthernetRepr, MacAddr};

/// How many of our own IPv4 addresses the engine answers ARP for.
pub const MAX_LOCAL_IPV4: usize = 8;
/// Answers waiting to be sent after one poll; more requests in one poll go unanswered (the peer
/// asks again).
const MAX_PENDING_REPLIES: usize = 4;
/// Length of an ARP frame before padding.
const ARP_FRAME_LEN: usize = ethernet::HEADER_LEN + arp::PACKET_LEN;

/// How long a resolution may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ResolvePolicy {
    /// Polls of the device in all; the bound on the work done.
    pub polls: u32,
    /// Microseconds to wait after each poll, when the engine has a delay.
    pub wait_us: u32,
    /// Requests sent, spread evenly over the polls (at least one).
    pub requests: u32,
}

impl Default for ResolvePolicy {
    /// 3 requests over 1000 polls, 100 µs apart: 100 ms with a delay.
    fn default() -> Self {
        ResolvePolicy { polls: 1000, wait_us: 100, requests: 3 }
    }
}

/// Why a resolution did not give a MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ResolveError {
    /// IPv6 target or source: ARP is IPv4 only (neighbour discovery is not implemented).
    NotIpv4,
    /// No reply within the budget; the endpoint's MAC is left as it was.
    Timeout,
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResolveError::NotIpv4 => "ARP resolves IPv4 addresses only",
            ResolveError::Timeout => "no ARP reply within the budget",
        })
    }
}

impl core::error::Error for ResolveError {}

/// What the engine remembers between polls for ARP.
#[derive(Debug, Default)]
pub(crate) struct ArpState {
    locals: heapless::Vec<Ipv4Addr, MAX_LOCAL_IPV4>,
    pending_replies: heapless::Vec<ArpRepr, MAX_PENDING_REPLIES>,
    /// The address a resolution waits for, and what was heard for it.
    resolving: Option<Ipv4Addr>,
    resolved: Option<MacAddr>,
}

impl ArpState {
    pub(crate) fn new() -> Self {
        ArpState::default()
    }

    pub(crate) fn add_local(&mut self, addr: Ipv4Addr) -> bool {
        self.locals.contains(&addr) || self.locals.push(addr).is_ok()
    }

    /// Looks at one received frame; anything that is not well-formed ARP changes nothing.
    pub(crate) fn receive(&mut self, frame: &[u8], our_mac: MacAddr) {
        let Ok(eth) = EthernetFrame::new_checked(frame) else { return };
        if eth.ethertype() != EtherType::Arp {
            return;
        }
        let Ok(packet) = ArpPacket::new_checked(eth.payload()) else { return };
        let Ok(repr) = ArpRepr::parse(&packet) else { return };
        if !repr.source_mac.is_unicast() {
            return;
        }
        if self.resolving == Some(repr.source_ip) {
            // A reply, or the target's own request: either tells where it is.
            self.resolved = Some(repr.source_mac);
        }
        if repr.operation == ArpOperation::Request && self.locals.contains(&repr.target_ip) {
            // Full queue: this request goes unanswered; the peer will ask again.
            let _ = self.pending_replies.push(repr.reply_to(our_mac));
        }
    }
}

/// Writes an ARP frame for `repr` into `buf` (at least [`ARP_FRAME_LEN`] bytes).
fn emit_arp_frame(buf: &mut [u8], repr: &ArpRepr, eth_dst: MacAddr) {
    let mut eth = EthernetFrame::new_unchecked(&mut buf[..]);
    EthernetRepr { src_addr: repr.source_mac, dst_addr: eth_dst, ethertype: EtherType::Arp }
        .emit(&mut eth);
    repr.emit(&mut eth.payload_mut()[..arp::PACKET_LEN]);
}

impl<D: NetPoll, W: DelayNs> Netpoll<D, W> {
    /// Sends the replies the last poll queued, in the order the requests came; one try each,
    /// since the peer will ask again.
    pub(crate) fn send_arp_replies(&mut self) {
        let replies = core::mem::take(&mut self.arp.pending_replies);
        for reply in replies {
            let mut frame = [0u8; ARP_FRAME_LEN];
            emit_arp_frame(&mut frame, &reply, reply.target_mac);
            if self.xmit_once(&frame).is_ok() {
                self.count_arp_reply();
            }
        }
    }

    /// Finds the MAC address of `to`'s next hop (its gateway, or the target itself) by ARP, within
    /// `policy`'s bound on polls, and stores it in `to.remote_mac`. On time-out `to` is left
    /// unchanged: its frames keep going to the configured MAC, or to broadcast.
    pub fn resolve(
        &mut self,
        to: &mut Endpoint,
        policy: ResolvePolicy,
    ) -> Result<MacAddr, ResolveError> {
        let (Some(next_hop), IpAddr::V4(local_ip)) = (to.next_hop_ipv4(), to.local_ip) else {
            return Err(ResolveError::NotIpv4);
        };
        let request = ArpRepr::request(self.driver().mac_address(), local_ip, next_hop);
        let mut frame = [0u8; ARP_FRAME_LEN];
        emit_arp_frame(&mut frame, &request, MacAddr::BROADCAST);

        self.arp.resolving = Some(next_hop);
        self.arp.resolved = None;
        let requests = policy.requests.max(1);
        let every = (policy.polls / requests).max(1);
        let mut sent = 0;
        let mut result = Err(ResolveError::Timeout);
        for i in 0..policy.polls.max(1) {
            if i % every == 0 && sent < requests {
                sent += 1;
                if self.xmit_once(&frame).is_ok() {
                    self.count_arp_request();
                }
            }
            self.poll();
            if let Some(mac) = self.arp.resolved {
                to.remote_mac = Some(mac);
                result = Ok(mac);
                break;
            }
            self.wait_us(policy.wait_us);
        }
        self.arp.resolving = None;
        self.arp.resolved = None;
        result
    }
}

#[cfg(test)]
mod test {
    use super::*;

    const OURS: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 1]);
    const PEER: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 2]);

    fn arp_frame(repr: &ArpRepr) -> [u8; ARP_FRAME_LEN] {
        let mut buf = [0u8; ARP_FRAME_LEN];
        emit_arp_frame(&mut buf, repr, MacAddr::BROADCAST);
        buf
    }

    #[test]
    fn queues_a_reply_only_for_our_addresses() {
        let mut state = ArpState::new();
        assert!(state.add_local(Ipv4Addr::new(10, 0, 0, 1)));
        let for_us = ArpRepr::request(PEER, Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 1));
        let not_us = ArpRepr::request(PEER, Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 9));
        state.receive(&arp_frame(&not_us), OURS);
        assert!(state.pending_replies.is_empty());
        state.receive(&arp_frame(&for_us), OURS);
        assert_eq!(state.pending_replies.as_slice(), &[for_us.reply_to(OURS)]);
    }

    #[test]
    fn malformed_or_truncated_arp_changes_nothing() {
        let mut state = ArpState::new();
        state.add_local(Ipv4Addr::new(10, 0, 0, 1));
        state.resolving = Some(Ipv4Addr::new(10, 0, 0, 2));
        let good = arp_frame(&ArpRepr::request(
            PEER,
            Ipv4Addr::new(10, 0, 0, 2),
            Ipv4Addr::new(10, 0, 0, 1),
        ));
        for len in 0..good.len() {
            state.receive(&good[..len], OURS);
        }
        for (at, value) in [(12, 0x08), (15, 6), (16, 0x86), (18, 8), (21, 9)] {
            let mut bad = good;
            bad[at] = value;
            bad[at + 1] ^= 0x55;
            state.receive(&bad, OURS);
        }
        let mut multicast_sender = good;
        multicast_sender[22] = 0x01;
        state.receive(&multicast_sender, OURS);
        assert!(state.pending_replies.is_empty());
        assert_eq!(state.resolved, None);
    }

    #[test]
    fn local_table_is_bounded() {
        let mut state = ArpState::new();
        for i in 0..MAX_LOCAL_IPV4 as u8 {
            assert!(state.add_local(Ipv4Addr::new(10, 0, 0, i)));
        }
        assert!(state.add_local(Ipv4Addr::new(10, 0, 0, 0)), "already known");
        assert!(!state.add_local(Ipv4Addr::new(10, 0, 1, 0)));
    }
}
