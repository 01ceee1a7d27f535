//! What the system knows about one network interface: its index, MAC and addresses
//! (`getifaddrs`), its flags and MTU (`SIOCGIFFLAGS`, `SIOCGIFMTU`).
//!
//! Everything is read in the network namespace of the calling thread (for the ioctls: of the
//! socket they go through), never from `/sys/class/net`, which shows the namespace that mounted
//! sysfs: a thread that entered another namespace with `setns` would read the wrong interface.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, BorrowedFd};

use netpoll_core::MacAddr;
use nix::ifaddrs::getifaddrs;
use nix::libc;
use nix::sys::socket::LinkAddr;

/// Longest interface name, without the terminating NUL (`IFNAMSIZ - 1`).
pub const MAX_NAME_LEN: usize = libc::IFNAMSIZ - 1;

/// One interface, as `getifaddrs` reported it when it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceInfo {
    /// The interface's name, as given.
    pub name: String,
    /// The interface index (`if_nametoindex`).
    pub index: u32,
    /// The interface's own MAC address (all zeros on `lo`).
    pub mac: MacAddr,
    /// Its IPv4 addresses, in the order the kernel lists them.
    pub ipv4: Vec<Ipv4Addr>,
    /// Its IPv6 addresses, link-local ones included, in the order the kernel lists them.
    pub ipv6: Vec<Ipv6Addr>,
}

impl InterfaceInfo {
    /// Reads the interface `name` in the calling thread's network namespace. Needs no privilege.
    ///
    /// Errors: [`io::ErrorKind::InvalidInput`] for a name that cannot be an interface's,
    /// [`io::ErrorKind::NotFound`] (`no such interface 'foo0'`) when there is none of that name.
    pub fn query(name: &str) -> io::Result<InterfaceInfo> {
        lookup(name).map(|(info, _)| info)
    }

    /// Finds the interface whose MAC address is `mac` (Linux's `dev_getbyhwaddr`, which the
    /// `netconsole=` option uses when `dev` is a MAC), in the calling thread's namespace.
    ///
    /// Errors: [`io::ErrorKind::NotFound`] (`no interface with MAC address ..`).
    pub fn find_by_mac(mac: MacAddr) -> io::Result<InterfaceInfo> {
        let addrs = getifaddrs().map_err(|e| {
            let e = io::Error::from(e);
            io::Error::new(e.kind(), format!("cannot list network interfaces (getifaddrs): {e}"))
        })?;
        let name = addrs
            .filter_map(|entry| {
                let link = entry.address.as_ref()?.as_link_addr()?.addr()?;
                (link == mac.0).then_some(entry.interface_name)
            })
            .next()
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("no interface with MAC address {mac}"),
                )
            })?;
        Self::query(&name)
    }
}

/// Reads the interface and keeps its link-layer address, which is what `bind` takes for an
/// AF_PACKET socket (its `sll_ifindex` names the interface; its `sll_protocol` is 0, which makes
/// `bind` keep the protocol the socket was opened with).
pub(crate) fn lookup(name: &str) -> io::Result<(InterfaceInfo, LinkAddr)> {
    check_name(name)?;
    let addrs = getifaddrs().map_err(|e| {
        let e = io::Error::from(e);
        io::Error::new(e.kind(), format!("cannot list network interfaces (getifaddrs): {e}"))
    })?;
    let mut link = None;
    let mut ipv4 = Vec::new();
    let mut ipv6 = Vec::new();
    for entry in addrs.filter(|a| a.interface_name == name) {
        let Some(addr) = entry.address else { continue };
        if let Some(l) = addr.as_link_addr() {
            link = Some(*l);
        } else if let Some(v4) = addr.as_sockaddr_in() {
            ipv4.push(v4.ip());
        } else if let Some(v6) = addr.as_sockaddr_in6() {
            ipv6.push(v6.ip());
        }
    }
    let Some(link) = link else {
        return Err(io::Error::new(io::ErrorKind::NotFound, format!("no such interface '{name}'")));
    };
    let info = InterfaceInfo {
        name: name.to_owned(),
        index: link.ifindex() as u32,
        mac: MacAddr(link.addr().unwrap_or_default()),
        ipv4,
        ipv6,
    };
    Ok((info, link))
}

/// Rejects what no interface can be called: empty, too long, with a NUL or a `/`.
pub(crate) fn check_name(name: &str) -> io::Result<()> {
    let why = if name.is_empty() {
        "is empty"
    } else if name.len() > MAX_NAME_LEN {
        "is longer than 15 bytes"
    } else if name.bytes().any(|b| b == 0 || b == b'/' || b.is_ascii_whitespace()) {
        "contains a NUL, a '/' or white space"
    } else {
        return Ok(());
    };
    Err(io::Error::new(io::ErrorKind::InvalidInput, format!("interface name '{name}' {why}")))
}

nix::ioctl_read_bad!(
    /// `SIOCGIFFLAGS`: the interface's `IFF_*` flags into `ifr_flags`.
    siocgifflags,
    libc::SIOCGIFFLAGS,
    libc::ifreq
);
nix::ioctl_read_bad!(
    /// `SIOCGIFMTU`: the interface's MTU into `ifr_mtu`.
    siocgifmtu,
    libc::SIOCGIFMTU,
    libc::ifreq
);
nix::ioctl_readwrite_bad!(
    /// `TUNSETIFF`: attach a `/dev/net/tun` file to the interface named in `ifr_name` (creating
    /// it if need be) with `ifr_flags`; the kernel writes the name it chose back.
    tunsetiff,
    libc::TUNSETIFF,
    libc::ifreq
);

/// An `ifreq` naming `name` (checked by [`check_name`]), every other byte zero.
pub(crate) fn ifreq(name: &str) -> libc::ifreq {
    // SAFETY: `ifreq` is a C struct of a `c_char` array and a union of integers, arrays of
    // integers, C structs of integers and a raw pointer: all zero bytes is a valid value of each.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    // `check_name` keeps the name within IFNAMSIZ - 1 bytes, so the last byte stays NUL.
    for (dst, &src) in req.ifr_name.iter_mut().zip(name.as_bytes()) {
        *dst = src as libc::c_char;
    }
    req
}

/// The name the kernel wrote back into an `ifreq` (after `TUNSETIFF`).
pub(crate) fn ifreq_name(req: &libc::ifreq) -> String {
    let bytes: Vec<u8> = req.ifr_name.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Whether the interface is up and running (`IFF_UP` and `IFF_RUNNING`), through any socket of
/// its namespace. `IFF_RUNNING` means the operational state is "up" or "unknown" (which TAP and
/// some virtual devices report), so "unknown" counts as up. `false` if the interface is gone.
pub(crate) fn is_up(socket: BorrowedFd<'_>, name: &str) -> bool {
    let mut req = ifreq(name);
    // SAFETY: `req` is a valid, initialised `ifreq` that lives across the call; SIOCGIFFLAGS
    // reads `ifr_name` and writes only `ifr_flags` within it.
    if unsafe { siocgifflags(socket.as_raw_fd(), &mut req) }.is_err() {
        return false;
    }
    // SAFETY: every field of the union is plain integers, so any bit pattern is a valid
    // `c_short`; the kernel has just written `ifr_flags`.
    let flags = libc::c_int::from(unsafe { req.ifr_ifru.ifru_flags } as u16);
    let want = libc::IFF_UP | libc::IFF_RUNNING;
    flags & want == want
}

/// The interface's MTU, through any socket of its namespace.
pub(crate) fn mtu(socket: BorrowedFd<'_>, name: &str) -> io::Result<u32> {
    let mut req = ifreq(name);
    // SAFETY: as in `is_up`: a valid `ifreq` for the duration of the call; SIOCGIFMTU writes
    // only `ifr_mtu` within it.
    unsafe { siocgifmtu(socket.as_raw_fd(), &mut req) }.map_err(|e| {
        let e = io::Error::from(e);
        io::Error::new(e.kind(), format!("cannot read the MTU of '{name}': {e}"))
    })?;
    // SAFETY: every field of the union is plain integers, so any bit pattern is a valid `c_int`;
    // the kernel has just written `ifr_mtu`.
    let mtu = unsafe { req.ifr_ifru.ifru_mtu };
    Ok(mtu.max(0) as u32)
}
