//! One target: where messages go, in which format, with which extras.

use core::fmt;
use core::net::IpAddr;

use netpoll_core::{Endpoint, MacAddr};

use crate::counters::TargetCounters;
use crate::sysdata::Sysdata;
use crate::userdata::Userdata;

/// Where a target's destination MAC came from when it was enabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum MacSource {
    /// Given in the configuration.
    Configured(MacAddr),
    /// Found by ARP.
    Resolved(MacAddr),
    /// No MAC: frames go to broadcast, as Linux sends them. Says why.
    Broadcast(BroadcastReason),
}

/// Why a target's frames go to the broadcast MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BroadcastReason {
    /// The link had no carrier within the console's carrier timeout (or there is no delay to
    /// wait with). The console's [`poll`](crate::Netconsole::poll) retries the resolution.
    NoCarrier,
    /// Nobody answered ARP within the resolve policy. The console's
    /// [`poll`](crate::Netconsole::poll) retries the resolution.
    NoReply,
    /// IPv6: neighbour discovery is not implemented.
    NotIpv4,
}

/// Why a configuration does not make a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TargetError {
    /// No source IP in the options and none given by the firmware (Linux takes the device's).
    NoLocalIp,
    /// Source and destination IP families differ.
    FamilyMismatch,
    /// `r` without `+`: Linux refuses to enable such a target.
    ReleaseWithoutExtended,
    /// `+` in a build without netconsole's `extended` feature.
    ExtendedNotBuilt,
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TargetError::NoLocalIp => "no source IP address: give one in the options or the device",
            TargetError::FamilyMismatch => "source and target IP addresses of different families",
            TargetError::ReleaseWithoutExtended => "Release feature requires extended log message",
            TargetError::ExtendedNotBuilt => crate::error::EXTENDED_NOT_BUILT,
        })
    }
}

impl core::error::Error for TargetError {}

/// A target with up to `U` userdata entries.
#[derive(Debug, Clone)]
pub struct Target<const U: usize> {
    /// Addresses and ports.
    pub endpoint: Endpoint,
    /// Extended format (`+`). Only with netconsole's `extended` feature: without it the console
    /// refuses a target with this set ([`ConsoleError::ExtendedNotBuilt`](crate::ConsoleError)).
    pub extended: bool,
    /// Release prefix (`r`), extended only.
    pub release: bool,
    /// Userdata appended to extended messages.
    pub userdata: Userdata<U>,
    /// Sysdata lines appended to extended messages.
    pub sysdata: Sysdata,
    pub(crate) enabled: bool,
    pub(crate) msgid: u32,
    /// As of the last time the console lent the target out (it keeps the live counts apart).
    pub(crate) counters: TargetCounters,
    /// On broadcast because the resolution failed: the console's poll asks again.
    pub(crate) retry_resolve: bool,
    #[allow(dead_code)] // never read: its layout is its job
    present: Present,
}

/// A field whose only valid value is `u32::MAX`: its invalid values outnumber any other
/// field's, so the compiler stores `None` of an `Option` around the struct there, as 0. A
/// console in a `static` starts with its NIC (and its target slots) `None`; with `None` all zero
/// bytes the whole console lands in `.bss` (zeroed at boot) instead of `.data` (a copy of its
/// image in flash, as large as the backlog). `cargo xtask size` checks the firmware's `.data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
enum Present {
    Yes = u32::MAX,
}

impl<const U: usize> Target<U> {
    /// A basic target for this endpoint, disabled.
    pub const fn new(endpoint: Endpoint) -> Self {
        Target {
            endpoint,
            extended: false,
            release: false,
            userdata: Userdata::new(),
            sysdata: Sysdata { cpu: false, taskname: false, release: false, msgid: false },
            enabled: false,
            msgid: 0,
            counters: TargetCounters::ZERO,
            retry_resolve: false,
            present: Present::Yes,
        }
    }

    /// A target from a parsed `netconsole=` piece. `device_ip` is the address Linux would take
    /// from the device when the options give none (or give `0.0.0.0` / `::`).
    pub fn from_options(
        options: &netconsole_options::Target,
        device_ip: Option<IpAddr>,
    ) -> Result<Self, TargetError> {
        if options.release && !options.extended {
            return Err(TargetError::ReleaseWithoutExtended);
        }
        if options.extended && !crate::EXTENDED {
            return Err(TargetError::ExtendedNotBuilt);
        }
        let local_ip = match options.local_ip {
            Some(ip) if !ip.is_unspecified() => ip,
            _ => device_ip.ok_or(TargetError::NoLocalIp)?,
        };
        if local_ip.is_ipv4() != options.remote_ip.is_ipv4() {
            return Err(TargetError::FamilyMismatch);
        }
        let endpoint = Endpoint {
            local_ip,
            local_port: options.local_port,
            remote_ip: options.remote_ip,
            remote_port: options.remote_port,
            remote_mac: options.remote_mac,
            gateway: None,
        };
        let mut target = Target::new(endpoint);
        target.extended = options.extended;
        target.release = options.release;
        Ok(target)
    }

    /// Whether messages go to this target.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// What was sent to this target and what was lost, and why: as of when the console lent it
    /// out ([`Netconsole::with_target`](crate::Netconsole::with_target),
    /// [`remove_target`](crate::Netconsole::remove_target)).
    pub fn counters(&self) -> TargetCounters {
        self.counters
    }

    /// The last `msgid` sent (0 before the first message with msgid on).
    pub fn msgid(&self) -> u32 {
        self.msgid
    }
}
