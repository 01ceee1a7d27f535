//! An AF_PACKET raw socket bound to one interface.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use netpoll_core::{MacAddr, NetPoll, XmitError, MAX_FRAME_LEN};
use nix::errno::Errno;
use nix::libc;
use nix::sys::socket::{
    bind, recvfrom, send, setsockopt, socket, AddressFamily, LinkAddr, MsgFlags, SockFlag,
    SockProtocol, SockType,
};
use nix::{setsockopt_impl, sockopt_impl};

use super::interface::{self, InterfaceInfo};
use super::{context, Counters, Transmitter, RX_BUF_LEN};

sockopt_impl!(
    /// `PACKET_IGNORE_OUTGOING` (Linux 4.20): the socket does not see the frames it sends.
    IgnoreOutgoing,
    SetOnly,
    libc::SOL_PACKET,
    libc::PACKET_IGNORE_OUTGOING,
    bool
);

/// Send errors that mean the interface is down (`ENETDOWN`) or gone (`ENXIO`, `ENODEV`).
const LINK_DOWN_ERRORS: [Errno; 3] = [Errno::ENETDOWN, Errno::ENXIO, Errno::ENODEV];

/// A NIC made of an AF_PACKET raw socket bound to one interface: frames are sent as they are
/// built (Ethernet header included) and every frame the interface receives is read back by
/// `poll`, except the ones this host sends (`PACKET_IGNORE_OUTGOING`).
///
/// The source MAC is the interface's own. The kernel does not checksum, route or fragment
/// these frames: they reach the wire (or the veth peer) exactly as built. See the
/// [module documentation](super) for what a sender can and cannot know about loss.
///
/// ```no_run
/// use netpoll_core::{Endpoint, NicEngine};
/// use netpoll_drivers::linux::PacketSocket;
///
/// let nic = PacketSocket::open("eth0")?; // needs CAP_NET_RAW
/// let local = nic.info().ipv4[0];
/// let mut netpoll = NicEngine::new(nic);
/// let target = Endpoint::new(local.into(), "192.0.2.1".parse().unwrap());
/// netpoll.send_udp(&target, &[b"hello\n"]).expect("sent");
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct PacketSocket {
    fd: OwnedFd,
    info: InterfaceInfo,
    mtu: u32,
    tx: Transmitter,
    rx: Box<[u8]>,
    /// The link state as last read.
    link: bool,
}

impl PacketSocket {
    /// Opens a non-blocking AF_PACKET socket on the interface `ifname`, in the calling thread's
    /// network namespace, and reads the interface's MAC, addresses and MTU.
    ///
    /// Errors, each one line that names the interface: `no such interface 'foo0'`
    /// ([`io::ErrorKind::NotFound`], checked first, so it needs no privilege); an invalid name
    /// ([`io::ErrorKind::InvalidInput`]); no `CAP_NET_RAW` ([`io::ErrorKind::PermissionDenied`],
    /// and the message says that the capability is missing).
    pub fn open(ifname: &str) -> io::Result<PacketSocket> {
        let (info, link) = interface::lookup(ifname)?;
        let flags = SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC;
        let fd = socket(AddressFamily::Packet, SockType::Raw, flags, SockProtocol::EthAll)
            .map_err(|e| match e {
                Errno::EPERM | Errno::EACCES => context(
                    e,
                    format_args!(
                        "cannot open a packet socket on '{ifname}' (AF_PACKET needs \
                         CAP_NET_RAW: run as root or grant the capability)"
                    ),
                ),
                e => context(e, format_args!("cannot open a packet socket on '{ifname}'")),
            })?;
        bind(fd.as_raw_fd(), &link)
            .map_err(|e| context(e, format_args!("cannot bind a packet socket to '{ifname}'")))?;
        setsockopt(&fd, IgnoreOutgoing, &true).map_err(|e| {
            context(
                e,
                format_args!("cannot set PACKET_IGNORE_OUTGOING on '{ifname}' (Linux 4.20+)"),
            )
        })?;
        let mtu = interface::mtu(fd.as_fd(), ifname)?;
        let max_len = (mtu as usize).saturating_add(14).min(MAX_FRAME_LEN);
        Ok(PacketSocket {
            fd,
            info,
            mtu,
            tx: Transmitter::new(max_len),
            rx: vec![0; RX_BUF_LEN].into_boxed_slice(),
            link: false,
        }
        .with_link_read())
    }

    /// Reads the link state once, so the cache starts true to the interface.
    fn with_link_read(mut self) -> PacketSocket {
        self.refresh_link();
        self
    }

    /// The interface as it was when the socket was opened: name, index, MAC, addresses.
    pub fn info(&self) -> &InterfaceInfo {
        &self.info
    }

    /// The interface's MTU when the socket was opened; frames are at most MTU + 14 bytes.
    pub fn mtu(&self) -> u32 {
        self.mtu
    }

    /// A snapshot of what the driver has done.
    pub fn counters(&self) -> Counters {
        self.tx.counters
    }

    /// The last send error that lost a frame or found the link down, for a diagnostic.
    pub fn last_error(&self) -> Option<io::Error> {
        self.tx.last_error()
    }
}

impl std::fmt::Debug for PacketSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PacketSocket")
            .field("fd", &self.fd)
            .field("info", &self.info)
            .field("mtu", &self.mtu)
            .field("counters", &self.tx.counters)
            .finish_non_exhaustive()
    }
}

impl AsFd for PacketSocket {
    /// The socket, to wait for frames with `poll(2)` or `epoll` before calling [`NetPoll::receive`].
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl NetPoll for PacketSocket {
    fn mac_address(&self) -> MacAddr {
        self.info.mac
    }

    fn link_up(&self) -> bool {
        self.link
    }

    /// `IFF_UP` and `IFF_RUNNING` (operational state "up" or "unknown"), read with one ioctl.
    fn refresh_link(&mut self) -> bool {
        self.link = interface::is_up(self.fd.as_fd(), &self.info.name);
        self.link
    }

    /// Nothing to reclaim: the kernel owns a frame once the send returns.
    fn reclaim_tx(&mut self) {}

    fn tx_in_flight(&self) -> usize {
        0
    }

    /// Reads up to `budget` frames without waiting and hands each to `rx`.
    fn receive(&mut self, budget: usize, rx: &mut dyn FnMut(&[u8])) -> usize {
        let counters = &mut self.tx.counters;
        let mut handed = 0;
        while handed < budget {
            let (len, from) = match recvfrom::<LinkAddr>(self.fd.as_raw_fd(), &mut self.rx) {
                Ok(got) => got,
                Err(Errno::EAGAIN) => break,
                Err(Errno::EINTR) => continue,
                Err(_) => {
                    // A pending error (the interface went down) is reported once; the frames,
                    // if any, come on the next poll.
                    counters.rx_errors += 1;
                    break;
                }
            };
            // Frames that were queued before `bind` may come from another interface; a frame
            // that fills the whole buffer may have been cut.
            let ours = from.is_some_and(|a| {
                a.ifindex() == self.info.index as usize && a.pkttype() != libc::PACKET_OUTGOING
            });
            if !ours || len >= self.rx.len() {
                counters.rx_skipped += 1;
                continue;
            }
            counters.frames_received += 1;
            rx(&self.rx[..len]);
            handed += 1;
        }
        handed
    }

    /// Sends one frame with `MSG_DONTWAIT`: `Busy` when the send buffer is full (`EAGAIN`),
    /// `Dropped` on `ENOBUFS`, `LinkDown` when the interface is down or gone.
    ///
    /// The kernel says `EAGAIN` only to a send, so the first `Busy` of a run comes after `fill`
    /// has built the frame (which is then not sent: nothing is lost). Until the socket has room
    /// again (`POLLOUT`), `Busy` comes back without calling `fill`, as the contract asks.
    fn xmit_with(&mut self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> Result<(), XmitError> {
        let fd = self.fd.as_fd();
        self.tx.xmit(
            fd,
            len,
            fill,
            |frame| send(fd.as_raw_fd(), frame, MsgFlags::MSG_DONTWAIT),
            &LINK_DOWN_ERRORS,
        )
    }

    fn max_frame_len(&self) -> usize {
        self.tx.max_len
    }
}
