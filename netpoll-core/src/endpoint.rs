//! One target's addresses: where a frame comes from and where it goes.

use core::net::{IpAddr, Ipv4Addr};

use crate::wire::MacAddr;

/// Linux netconsole's default source port.
pub const DEFAULT_LOCAL_PORT: u16 = 6665;
/// Linux netconsole's default destination port.
pub const DEFAULT_REMOTE_PORT: u16 = 6666;

/// The addresses and ports of one target. The source MAC is the NIC's own
/// ([`NetPoll::mac_address`](crate::NetPoll::mac_address)), so it is not stored here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Endpoint {
    /// Our IP address; same family as `remote_ip`.
    pub local_ip: IpAddr,
    /// Our UDP port.
    pub local_port: u16,
    /// The receiver's IP address.
    pub remote_ip: IpAddr,
    /// The receiver's UDP port.
    pub remote_port: u16,
    /// The next hop's MAC address; `None` until configured or resolved, and frames go to
    /// broadcast meanwhile, as Linux sends them when no MAC is configured.
    pub remote_mac: Option<MacAddr>,
    /// The router to resolve instead of `remote_ip` when the receiver is off-link (IPv4 only).
    pub gateway: Option<Ipv4Addr>,
}

impl Endpoint {
    /// An endpoint with Linux's default ports, no MAC yet and no gateway.
    pub const fn new(local_ip: IpAddr, remote_ip: IpAddr) -> Endpoint {
        Endpoint {
            local_ip,
            local_port: DEFAULT_LOCAL_PORT,
            remote_ip,
            remote_port: DEFAULT_REMOTE_PORT,
            remote_mac: None,
            gateway: None,
        }
    }

    /// The destination MAC a frame gets now: the known one, or broadcast.
    pub fn dst_mac(&self) -> MacAddr {
        self.remote_mac.unwrap_or(MacAddr::BROADCAST)
    }

    /// The IPv4 address whose MAC is the next hop's: the gateway if any, else the receiver.
    /// `None` for IPv6, which has no ARP.
    pub fn next_hop_ipv4(&self) -> Option<Ipv4Addr> {
        match (self.gateway, self.remote_ip) {
            (Some(gw), IpAddr::V4(_)) => Some(gw),
            (None, IpAddr::V4(ip)) => Some(ip),
            (_, IpAddr::V6(_)) => None,
        }
    }
}
