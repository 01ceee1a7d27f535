//! A TAP device (`/dev/net/tun`) as a NIC.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;

use netpoll_core::{MacAddr, NetPoll, XmitError, MAX_FRAME_LEN};
use nix::errno::Errno;
use nix::libc;
use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};

use super::interface::{self, InterfaceInfo};
use super::{context, Counters, Transmitter, RX_BUF_LEN};

/// The MAC a [`Tap`] sends from unless told otherwise: locally administered (bit 1 of the first
/// octet set), unicast.
pub const DEFAULT_TAP_MAC: MacAddr = MacAddr([0x02, 0x6e, 0x63, 0x00, 0x00, 0x01]);

/// Write errors that mean the TAP is down (`EIO`) or gone.
const LINK_DOWN_ERRORS: [Errno; 4] = [Errno::EIO, Errno::ENETDOWN, Errno::ENXIO, Errno::EBADFD];

/// A NIC made of a TAP device: the driver is the far end of a virtual Ethernet cable whose near
/// end is the TAP interface in the host's network stack. Frames the driver sends arrive at the
/// host as received on the TAP interface; frames the host sends out of the TAP are what `poll`
/// reads.
///
/// Two MACs are involved. [`mac_address`](NetPoll::mac_address) is the driver's own, the
/// source of its frames: the TAP interface does not own it, so it is ours to choose
/// ([`DEFAULT_TAP_MAC`], or [`with_mac`](Tap::with_mac)). [`interface_mac`](Tap::interface_mac)
/// is the host side's, the TAP interface's (random unless set with `ip link set ... address`):
/// the destination of frames meant for the host.
///
/// The TAP is created (or a persistent one attached) when opened, and a TAP that was not made
/// persistent disappears when the driver is dropped. The host must bring it up and give it an
/// address (`ip link set tap0 up`, `ip addr add ... dev tap0`); until then
/// [`link_up`](NetPoll::link_up) is false.
pub struct Tap {
    file: File,
    /// A datagram socket in the TAP's namespace, for the interface ioctls.
    probe: OwnedFd,
    mac: MacAddr,
    info: InterfaceInfo,
    mtu: u32,
    tx: Transmitter,
    rx: Box<[u8]>,
    /// The link state as last read.
    link: bool,
}

impl Tap {
    /// Creates the TAP `name` (or attaches to a persistent one) in the calling thread's network
    /// namespace, non-blocking, without packet information (`IFF_TAP | IFF_NO_PI`). A name with
    /// `%d` (`"tap%d"`) lets the kernel pick the number; [`name`](Tap::name) tells which.
    ///
    /// Errors, each one line that names the device: no `/dev/net/tun`; no `CAP_NET_ADMIN`
    /// ([`io::ErrorKind::PermissionDenied`], saying so); a name taken by another kind of
    /// interface or by another process.
    pub fn open(name: &str) -> io::Result<Tap> {
        interface::check_name(name)?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open("/dev/net/tun")
            .map_err(|e| context(e, "cannot open /dev/net/tun"))?;
        let mut req = interface::ifreq(name);
        req.ifr_ifru.ifru_flags = (libc::IFF_TAP | libc::IFF_NO_PI) as libc::c_short;
        // SAFETY: `req` is a valid, initialised `ifreq` that lives across the call; TUNSETIFF
        // reads it and writes the interface's name back into `ifr_name`, within the struct.
        unsafe { interface::tunsetiff(file.as_raw_fd(), &mut req) }.map_err(|e| match e {
            Errno::EPERM | Errno::EACCES => context(
                e,
                format_args!(
                    "cannot create TAP device '{name}' (needs CAP_NET_ADMIN: run as root, or \
                     make it persistent for this user first)"
                ),
            ),
            Errno::EBUSY => context(e, format_args!("TAP device '{name}' is in use")),
            Errno::EINVAL => context(
                e,
                format_args!("cannot create TAP device '{name}' (does another kind of interface have that name?)"),
            ),
            e => context(e, format_args!("cannot create TAP device '{name}'")),
        })?;
        let name = interface::ifreq_name(&req);
        let probe = socket(AddressFamily::Inet, SockType::Datagram, SockFlag::SOCK_CLOEXEC, None)
            .map_err(|e| context(e, "cannot open a socket for interface ioctls"))?;
        let (info, _) = interface::lookup(&name)?;
        let mtu = interface::mtu(probe.as_fd(), &name)?;
        let max_len = (mtu as usize).saturating_add(14).min(MAX_FRAME_LEN);
        Ok(Tap {
            file,
            probe,
            mac: DEFAULT_TAP_MAC,
            info,
            mtu,
            tx: Transmitter::new(max_len),
            rx: vec![0; RX_BUF_LEN].into_boxed_slice(),
            link: false,
        }
        .with_link_read())
    }

    /// Reads the link state once, so the cache starts true to the interface.
    fn with_link_read(mut self) -> Tap {
        self.refresh_link();
        self
    }

    /// The same TAP, sending from `mac`.
    pub fn with_mac(mut self, mac: MacAddr) -> Tap {
        self.mac = mac;
        self
    }

    /// Sends from `mac` from now on.
    pub fn set_mac(&mut self, mac: MacAddr) {
        self.mac = mac;
    }

    /// The TAP interface's name (the one the kernel chose, for a `%d` pattern).
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// The host side's MAC, the TAP interface's, as it was when the TAP was opened: where frames
    /// for the host go.
    pub fn interface_mac(&self) -> MacAddr {
        self.info.mac
    }

    /// The TAP interface as it was when opened (its addresses are usually added later).
    pub fn info(&self) -> &InterfaceInfo {
        &self.info
    }

    /// The TAP's MTU when opened; frames are at most MTU + 14 bytes.
    pub fn mtu(&self) -> u32 {
        self.mtu
    }

    /// A snapshot of what the driver has done.
    pub fn counters(&self) -> Counters {
        self.tx.counters
    }

    /// The last write error that lost a frame or found the link down, for a diagnostic.
    pub fn last_error(&self) -> Option<io::Error> {
        self.tx.last_error()
    }
}

impl std::fmt::Debug for Tap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tap")
            .field("file", &self.file)
            .field("mac", &self.mac)
            .field("info", &self.info)
            .field("mtu", &self.mtu)
            .field("counters", &self.tx.counters)
            .finish_non_exhaustive()
    }
}

impl AsFd for Tap {
    /// The TAP file, to wait for frames with `poll(2)` or `epoll` before calling
    /// [`NetPoll::receive`].
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

impl NetPoll for Tap {
    fn mac_address(&self) -> MacAddr {
        self.mac
    }

    fn link_up(&self) -> bool {
        self.link
    }

    /// The TAP interface is `IFF_UP` and `IFF_RUNNING` (up on the host side, and attached).
    fn refresh_link(&mut self) -> bool {
        self.link = interface::is_up(self.probe.as_fd(), &self.info.name);
        self.link
    }

    /// Nothing to reclaim: the kernel owns a frame once the send returns.
    fn reclaim_tx(&mut self) {}

    fn tx_in_flight(&self) -> usize {
        0
    }

    /// Reads up to `budget` frames the host sent out of the TAP, without waiting.
    fn receive(&mut self, budget: usize, rx: &mut dyn FnMut(&[u8])) -> usize {
        let counters = &mut self.tx.counters;
        let mut handed = 0;
        while handed < budget {
            match nix::unistd::read(&self.file, &mut self.rx) {
                Ok(len) if len >= self.rx.len() => counters.rx_skipped += 1,
                Ok(len) => {
                    counters.frames_received += 1;
                    rx(&self.rx[..len]);
                    handed += 1;
                }
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => break,
                Err(_) => {
                    counters.rx_errors += 1;
                    break;
                }
            }
        }
        handed
    }

    /// Writes one frame: `LinkDown` while the TAP interface is down (`EIO`).
    fn xmit_with(&mut self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> Result<(), XmitError> {
        let file = &self.file;
        self.tx.xmit(
            file.as_fd(),
            len,
            fill,
            |frame| nix::unistd::write(file, frame),
            &LINK_DOWN_ERRORS,
        )
    }

    fn max_frame_len(&self) -> usize {
        self.tx.max_len
    }
}
