//! The listener's UDP sockets: bound with the receive buffer asked for, the kernel's drop
//! count switched on, and read in batches with `recvmmsg` into memory allocated once.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd as _;

use nix::errno::Errno;
use nix::sys::socket::{
    self, sockopt, AddressFamily, ControlMessageOwned, MsgFlags, MultiHeaders, SockFlag, SockType,
    SockaddrLike as _, SockaddrStorage,
};
use std::io::IoSliceMut;

use crate::output::unmapped;

/// Datagrams one `recvmmsg` call may return.
pub const BATCH: usize = 64;
/// Room for one datagram. Linux's netconsole sends at most 1000 bytes plus a release prefix;
/// a jumbo frame's payload fits too. A longer datagram arrives cut and is counted as oversized.
pub const DATAGRAM_ROOM: usize = 9216;

/// Stands in for a sender address the kernel did not give.
const UNKNOWN: SocketAddr =
    SocketAddr::V4(std::net::SocketAddrV4::new(std::net::Ipv4Addr::UNSPECIFIED, 0));

/// One bound socket and what its kernel has dropped.
#[derive(Debug)]
pub struct Socket {
    pub udp: UdpSocket,
    /// The address it is bound to: what datagrams on it arrived at.
    pub local: SocketAddr,
    /// The kernel's count of datagrams dropped on this socket (`SO_RXQ_OVFL`), as of the last
    /// datagram read: the socket buffer was full, or memory short.
    pub drops: u32,
}

/// What a socket's receive buffer became: the kernel reports twice what it allows for data,
/// and caps `SO_RCVBUF` at `net.core.rmem_max` unless `SO_RCVBUFFORCE` (root) is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buffer {
    pub asked: usize,
    pub granted: usize,
}

/// Binds `addr` for non-blocking batch reads; `share` sets `SO_REUSEPORT` so that several
/// sockets (one per thread) share the port, the kernel spreading senders over them by address.
pub fn open(addr: SocketAddr, share: bool, rcvbuf: usize) -> Result<(Socket, Buffer), String> {
    let fail = |what: &str, e: Errno| format!("cannot bind {addr}: {what}: {e}");
    let family = if addr.is_ipv4() { AddressFamily::Inet } else { AddressFamily::Inet6 };
    let fd = socket::socket(family, SockType::Datagram, SockFlag::SOCK_CLOEXEC, None)
        .map_err(|e| fail("socket", e))?;
    if share {
        socket::setsockopt(&fd, sockopt::ReusePort, &true).map_err(|e| fail("SO_REUSEPORT", e))?;
    }
    socket::setsockopt(&fd, sockopt::RxqOvfl, &1).map_err(|e| fail("SO_RXQ_OVFL", e))?;
    if rcvbuf > 0 && socket::setsockopt(&fd, sockopt::RcvBufForce, &rcvbuf).is_err() {
        // Not root: as much as net.core.rmem_max allows.
        let _ = socket::setsockopt(&fd, sockopt::RcvBuf, &rcvbuf);
    }
    let granted = socket::getsockopt(&fd, sockopt::RcvBuf).map_or(0, |doubled| doubled / 2);
    socket::bind(fd.as_raw_fd(), &SockaddrStorage::from(addr)).map_err(|e| fail("bind", e))?;
    let udp = UdpSocket::from(fd);
    udp.set_nonblocking(true).map_err(|e| format!("cannot bind {addr}: non-blocking: {e}"))?;
    let local = udp.local_addr().map(unmapped).unwrap_or(addr);
    Ok((Socket { udp, local, drops: 0 }, Buffer { asked: rcvbuf, granted }))
}

/// Memory for one batch, allocated once and reused for every `recvmmsg`.
pub struct Batch {
    headers: MultiHeaders<SockaddrStorage>,
    room: Box<[u8]>,
}

/// One datagram of a batch.
#[derive(Debug)]
pub struct Datagram<'a> {
    pub src: SocketAddr,
    pub bytes: &'a [u8],
    /// Longer than [`DATAGRAM_ROOM`]: `bytes` is its start.
    pub oversized: bool,
}

impl Batch {
    pub fn new() -> Self {
        let cmsg = nix::cmsg_space!(u32);
        Batch {
            headers: MultiHeaders::preallocate(BATCH, Some(cmsg)),
            room: vec![0; BATCH * DATAGRAM_ROOM].into_boxed_slice(),
        }
    }

    /// Reads what `socket` has waiting, up to [`BATCH`] datagrams, without blocking; hands
    /// each to `each` and returns how many there were (0: nothing waiting).
    pub fn read(
        &mut self,
        socket: &mut Socket,
        each: &mut dyn FnMut(Datagram<'_>),
    ) -> io::Result<usize> {
        let mut rooms = self.room.chunks_exact_mut(DATAGRAM_ROOM);
        let mut slices: [[IoSliceMut<'_>; 1]; BATCH] =
            std::array::from_fn(|_| [IoSliceMut::new(rooms.next().unwrap_or_default())]);
        let fd = socket.udp.as_raw_fd();
        let results = match socket::recvmmsg(
            fd,
            &mut self.headers,
            slices.iter_mut(),
            MsgFlags::MSG_DONTWAIT,
            None,
        ) {
            Ok(results) => results,
            Err(Errno::EAGAIN | Errno::EINTR) => return Ok(0),
            Err(e) => return Err(e.into()),
        };
        let mut count = 0;
        let mut truncated_cmsgs = false;
        for message in results {
            count += 1;
            match message.cmsgs() {
                Ok(cmsgs) => {
                    for cmsg in cmsgs {
                        if let ControlMessageOwned::RxqOvfl(drops) = cmsg {
                            socket.drops = socket.drops.max(drops);
                        }
                    }
                }
                Err(_) => truncated_cmsgs = true,
            }
            // UDP always says who sent; should it not, the datagram is still taken and counted.
            let src = message.address.as_ref().and_then(socket_addr).unwrap_or(UNKNOWN);
            let bytes = message.iovs().next().unwrap_or_default();
            let oversized = message.flags.contains(MsgFlags::MSG_TRUNC);
            each(Datagram { src: unmapped(src), bytes, oversized });
        }
        if truncated_cmsgs {
            // The kernel writes back each header's control length: 0 after a datagram that
            // came without a drop count, which leaves no room for the count once drops begin.
            // Fresh headers, then; the count is cumulative, so nothing is lost but a moment.
            self.headers = MultiHeaders::preallocate(BATCH, Some(nix::cmsg_space!(u32)));
        }
        Ok(count)
    }
}

/// The inode of `socket`, which `/proc/net/udp` lists it by.
pub fn inode(socket: &UdpSocket) -> Option<u64> {
    use std::os::unix::fs::MetadataExt as _;
    let path = format!("/proc/self/fd/{}", socket.as_raw_fd());
    std::fs::metadata(path).ok().map(|m| m.ino())
}

/// The kernel's drop counts of the sockets with these inodes, added up, from `/proc/net/udp`
/// and `udp6`: current, where `SO_RXQ_OVFL` only comes with the next datagram read.
pub fn proc_drops(inodes: &[u64]) -> Option<u64> {
    let mut total = None;
    for table in ["/proc/net/udp", "/proc/net/udp6"] {
        let Ok(text) = std::fs::read_to_string(table) else { continue };
        for line in text.lines().skip(1) {
            let columns: Vec<&str> = line.split_whitespace().collect();
            let inode = columns.get(9).and_then(|c| c.parse::<u64>().ok());
            let drops = columns.last().and_then(|c| c.parse::<u64>().ok());
            if let (Some(inode), Some(drops)) = (inode, drops) {
                if inodes.contains(&inode) {
                    total = Some(total.unwrap_or(0) + drops);
                }
            }
        }
    }
    total
}

/// A sender's address as std has it; `None` for a family UDP does not use.
fn socket_addr(addr: &SockaddrStorage) -> Option<SocketAddr> {
    match addr.family()? {
        AddressFamily::Inet => addr.as_sockaddr_in().map(|a| SocketAddr::from(*a)),
        AddressFamily::Inet6 => addr.as_sockaddr_in6().map(|a| SocketAddr::from(*a)),
        _ => None,
    }
}
