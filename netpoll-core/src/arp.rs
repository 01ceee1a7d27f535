//! ARP, where this goes beyond Linux netpoll (which lost it in 3.15): answers to requests for our
//! own IPv4 addresses while polling, and a bounded resolution of a target's MAC address.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr};

use embedded_hal::delay::DelayNs;

use crate::driver::NetPoll;
use crate::endpoint::Endpoint;
use crate::engine::NicEngine;
use crate::wire::{arp, ethernet, ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetFrame};
use crate::wire::{EthernetRepr, MacAddr};

/// How many of our own IPv4 addresses the engine answers ARP for.
pub const MAX_LOCAL_IPV4: usize = 8;
/// Answers waiting to be sent after one poll; more requests in one poll go unanswered (the peer
/// asks again).
const MAX_PENDING_REPLIES: usize = 4;
/// Next hops whose MAC address is asked for at once: one per target a console may have; a request
/// for one more forgets the oldest.
pub const MAX_WATCHED: usize = 32;
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
    /// The next hops asked for, oldest first, and what was heard for each: an answer may come
    /// polls after the request, in a later call.
    watched: heapless::Vec<(Ipv4Addr, Option<MacAddr>), MAX_WATCHED>,
}

impl ArpState {
    pub(crate) fn new() -> Self {
        ArpState::default()
    }

    pub(crate) fn add_local(&mut self, addr: Ipv4Addr) -> bool {
        self.locals.contains(&addr) || self.locals.push(addr).is_ok()
    }

    /// Starts (or restarts) watching for `ip`'s MAC address, forgetting the oldest watch if
    /// the table is full.
    pub(crate) fn watch(&mut self, ip: Ipv4Addr) {
        if let Some(entry) = self.watched.iter_mut().find(|(w, _)| *w == ip) {
            entry.1 = None;
            return;
        }
        if self.watched.is_full() {
            self.watched.remove(0);
        }
        let _ = self.watched.push((ip, None));
    }

    /// The MAC address heard for a watched `ip`; `None` while nothing was. The watch stays, so
    /// every target behind the same next hop learns it; a new request starts it afresh.
    pub(crate) fn heard(&self, ip: Ipv4Addr) -> Option<MacAddr> {
        self.watched.iter().find(|(w, _)| *w == ip).and_then(|(_, mac)| *mac)
    }

    /// Looks at one received frame; anything that is not well-formed ARP changes nothing.
    /// Returns whether the frame was ARP meant for us (a request for one of our addresses, or a
    /// reply to us), which nobody else needs to see.
    pub(crate) fn receive(&mut self, frame: &[u8], our_mac: MacAddr) -> bool {
        let Ok(eth) = EthernetFrame::new_checked(frame) else { return false };
        if eth.ethertype() != EtherType::Arp {
            return false;
        }
        let Ok(packet) = ArpPacket::new_checked(eth.payload()) else { return false };
        let Ok(repr) = ArpRepr::parse(&packet) else { return false };
        // Not a station's (a group address), or our own frame come back (a loop, an echoing
        // TAP): answering it would answer ourselves, learning from it would send our frames to
        // ourselves.
        if !repr.source_mac.is_unicast() || repr.source_mac == our_mac {
            return false;
        }
        let watched = self.watched.iter_mut().find(|(w, _)| *w == repr.source_ip);
        let answers_a_watch = watched.is_some();
        if let Some(entry) = watched {
            // A reply, or the next hop's own request: either tells where it is.
            entry.1 = Some(repr.source_mac);
        }
        match repr.operation {
            ArpOperation::Request if self.locals.contains(&repr.target_ip) => {
                // Full queue: this request goes unanswered; the peer will ask again.
                let _ = self.pending_replies.push(repr.reply_to(our_mac));
                true
            }
            // A reply we did not ask for (the firmware's stack asked, from the same address) is
            // the stack's to see.
            ArpOperation::Reply => repr.target_mac == our_mac && answers_a_watch,
            _ => false,
        }
    }
}

/// The MAC address of a target that is a group (the limited broadcast or a multicast address):
/// no station owns such an address, so none may answer for it, and its frames go to broadcast,
/// as Linux sends every target without a configured MAC. `None` for an address to ask for.
fn group_mac(to: &Endpoint) -> Option<MacAddr> {
    match (to.local_ip, to.remote_ip) {
        (IpAddr::V4(_), IpAddr::V4(ip)) if ip.is_broadcast() || ip.is_multicast() => {
            Some(MacAddr::BROADCAST)
        }
        _ => None,
    }
}

/// Writes an ARP frame for `repr` into `buf` (at least [`ARP_FRAME_LEN`] bytes).
fn emit_arp_frame(buf: &mut [u8], repr: &ArpRepr, eth_dst: MacAddr) {
    let mut eth = EthernetFrame::new_unchecked(&mut buf[..]);
    EthernetRepr { src_addr: repr.source_mac, dst_addr: eth_dst, ethertype: EtherType::Arp }
        .emit(&mut eth);
    repr.emit(&mut eth.payload_mut()[..arp::PACKET_LEN]);
}

impl<D: NetPoll, W: DelayNs> NicEngine<D, W> {
    /// Sends the replies the last poll queued, in the order the requests came; one try each,
    /// since the peer will ask again.
    pub(crate) fn send_arp_replies(&mut self) {
        // By index, each reply copied out as it goes, rather than the queue moved out whole:
        // the queue is only cleared once all are sent (nothing can add to it meanwhile).
        let mut next = 0;
        while let Some(&reply) = self.arp.pending_replies.get(next) {
            next += 1;
            let mut frame = [0u8; ARP_FRAME_LEN];
            emit_arp_frame(&mut frame, &reply, reply.target_mac);
            if self.xmit_once(&frame).is_ok() {
                self.count_arp_reply();
            }
        }
        self.arp.pending_replies.clear();
    }

    /// Finds the MAC address of `to`'s next hop (its gateway, or the target itself) by ARP, within
    /// `policy`'s bound on polls, and stores it in `to.remote_mac`. On time-out `to` is left
    /// unchanged (its frames keep going to the configured MAC, or to broadcast) and the engine
    /// keeps listening: an answer that comes later is kept for [`learned_mac`](Self::learned_mac).
    /// A broadcast or multicast target is not asked for (no station owns it, so an answer could
    /// only be a spoof): it gets the broadcast MAC at once.
    pub fn resolve(
        &mut self,
        to: &mut Endpoint,
        policy: ResolvePolicy,
    ) -> Result<MacAddr, ResolveError> {
        if let Some(mac) = group_mac(to) {
            to.remote_mac = Some(mac);
            return Ok(mac);
        }
        let requests = policy.requests.max(1);
        let every = (policy.polls / requests).max(1);
        let mut sent = 0;
        for i in 0..policy.polls.max(1) {
            if i % every == 0 && sent < requests {
                sent += 1;
                self.request_mac(to)?;
            }
            self.poll();
            if let Some(mac) = self.learned_mac(to) {
                return Ok(mac);
            }
            self.wait_us(policy.wait_us);
        }
        Err(ResolveError::Timeout)
    }

    /// Sends one ARP request for `to`'s next hop and listens for the answer, which any later
    /// receive ([`poll_rx`](Self::poll_rx), [`poll`](Self::poll)) notes and
    /// [`learned_mac`](Self::learned_mac) then gives. For resolving without waiting: a console
    /// retries a target left on broadcast this way from its idle-loop poll.
    pub fn request_mac(&mut self, to: &Endpoint) -> Result<(), ResolveError> {
        let (Some(next_hop), IpAddr::V4(local_ip)) = (to.next_hop_ipv4(), to.local_ip) else {
            return Err(ResolveError::NotIpv4);
        };
        if group_mac(to).is_some() {
            // Nothing to ask: `learned_mac` gives its MAC.
            return Ok(());
        }
        self.arp.watch(next_hop);
        let request = ArpRepr::request(self.driver().mac_address(), local_ip, next_hop);
        let mut frame = [0u8; ARP_FRAME_LEN];
        emit_arp_frame(&mut frame, &request, MacAddr::BROADCAST);
        if self.xmit_once(&frame).is_ok() {
            self.count_arp_request();
        }
        Ok(())
    }

    /// The MAC address of `to`'s next hop, if an answer to [`request_mac`](Self::request_mac)
    /// has been received (at once for a broadcast or multicast target, which is not asked for):
    /// stores it in `to.remote_mac`. The answer is kept for other targets behind the same next
    /// hop until a new request for it.
    pub fn learned_mac(&mut self, to: &mut Endpoint) -> Option<MacAddr> {
        let mac = match group_mac(to) {
            Some(mac) => mac,
            None => self.arp.heard(to.next_hop_ipv4()?)?,
        };
        to.remote_mac = Some(mac);
        Some(mac)
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
        assert!(!state.receive(&arp_frame(&not_us), OURS), "not for us: the stack's to see");
        assert!(state.pending_replies.is_empty());
        assert!(state.receive(&arp_frame(&for_us), OURS));
        assert_eq!(state.pending_replies.as_slice(), &[for_us.reply_to(OURS)]);
    }

    #[test]
    fn malformed_or_truncated_arp_changes_nothing() {
        let mut state = ArpState::new();
        state.add_local(Ipv4Addr::new(10, 0, 0, 1));
        state.watch(Ipv4Addr::new(10, 0, 0, 2));
        let good = arp_frame(&ArpRepr::request(
            PEER,
            Ipv4Addr::new(10, 0, 0, 2),
            Ipv4Addr::new(10, 0, 0, 1),
        ));
        for len in 0..good.len() {
            assert!(!state.receive(&good[..len], OURS));
        }
        for (at, value) in [(12, 0x08), (15, 6), (16, 0x86), (18, 8), (21, 9)] {
            let mut bad = good;
            bad[at] = value;
            bad[at + 1] ^= 0x55;
            assert!(!state.receive(&bad, OURS));
        }
        let mut multicast_sender = good;
        multicast_sender[22] = 0x01;
        assert!(!state.receive(&multicast_sender, OURS));
        assert!(state.pending_replies.is_empty());
        assert_eq!(state.heard(Ipv4Addr::new(10, 0, 0, 2)), None);
    }

    #[test]
    fn a_watched_answer_is_kept_and_the_watch_table_is_bounded() {
        let mut state = ArpState::new();
        state.add_local(Ipv4Addr::new(10, 0, 0, 1));
        let peer_ip = Ipv4Addr::new(10, 0, 0, 2);
        let reply = ArpRepr::request(OURS, Ipv4Addr::new(10, 0, 0, 1), peer_ip).reply_to(PEER);
        assert!(!state.receive(&arp_frame(&reply), OURS), "not asked for: the stack's");
        assert_eq!(state.heard(peer_ip), None, "not watched: not kept");
        state.watch(peer_ip);
        for i in 0..MAX_WATCHED as u8 - 1 {
            state.watch(Ipv4Addr::new(10, 0, 1, i));
        }
        assert!(state.receive(&arp_frame(&reply), OURS), "asked for: ours");
        assert_eq!(state.heard(peer_ip), Some(PEER));
        assert_eq!(state.heard(peer_ip), Some(PEER), "kept for every target behind it");
        state.watch(peer_ip);
        assert_eq!(state.heard(peer_ip), None, "a new request starts afresh");
        state.watch(Ipv4Addr::new(10, 0, 2, 0));
        state.receive(&arp_frame(&reply), OURS);
        assert_eq!(state.heard(peer_ip), None, "full: the oldest watch went");
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
