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
    /// An IPv6 socket (`local` may still read as IPv4: an IPv4-mapped bind).
    ipv6: bool,
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
    let ipv6 = addr.is_ipv6();
    Ok((Socket { udp, local, drops: 0, ipv6 }, Buffer { asked: rcvbuf, granted }))
}

/// Memory for one batch, allocated once and reused for every `recvmmsg`.
///
/// Headers per address family: the kernel writes each header's address length back (16 for
/// IPv4) and nix passes it in again as the room for the next sender's address, so an IPv6
/// socket read with headers an IPv4 one used got its senders cut after 16 of 28 bytes
/// (`[::1]` came out as `[::]`, and the receiver took one sender for two).
pub struct Batch {
    v4: MultiHeaders<SockaddrStorage>,
    v6: MultiHeaders<SockaddrStorage>,
    room: Box<[u8]>,
}

fn headers() -> MultiHeaders<SockaddrStorage> {
    MultiHeaders::preallocate(BATCH, Some(nix::cmsg_space!(u32)))
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
        Batch {
            v4: headers(),
            v6: headers(),
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
        let headers = if socket.ipv6 { &mut self.v6 } else { &mut self.v4 };
        let results = match socket::recvmmsg(
            fd,
            &mut *headers,
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
            *headers = self::headers();
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

#[cfg(test)]
mod test {
    use super::*;

    /// The sender of each datagram a read hands over.
    fn senders(batch: &mut Batch, socket: &mut Socket) -> Vec<SocketAddr> {
        let mut got = Vec::new();
        // Bounded: the datagrams were sent before, over the loopback.
        for _ in 0..100 {
            batch.read(socket, &mut |d| got.push(d.src)).unwrap();
            if !got.is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        got
    }

    // The kernel writes each header's address length back (16 for IPv4): an IPv6 read after
    // an IPv4 one must not get its senders' addresses cut to that length.
    #[test]
    fn an_ipv6_read_after_an_ipv4_one_gets_whole_sender_addresses() {
        let (Ok((mut v4, _)), Ok((mut v6, _))) = (
            open("127.0.0.1:0".parse().unwrap(), false, 0),
            open("[::1]:0".parse().unwrap(), false, 0),
        ) else {
            eprintln!("skipped: no IPv4 or IPv6 loopback here");
            return;
        };
        let from4 = UdpSocket::bind("127.0.0.1:0").unwrap();
        let from6 = UdpSocket::bind("[::1]:0").unwrap();
        let mut batch = Batch::new();
        for round in 0..2 {
            from4.send_to(b"over ipv4\n", v4.udp.local_addr().unwrap()).unwrap();
            assert_eq!(senders(&mut batch, &mut v4), [from4.local_addr().unwrap()], "{round}");
            from6.send_to(b"over ipv6\n", v6.udp.local_addr().unwrap()).unwrap();
            assert_eq!(senders(&mut batch, &mut v6), [from6.local_addr().unwrap()], "{round}");
        }
    }
}
