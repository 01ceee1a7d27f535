//! Linux host drivers (feature `linux`, std): an AF_PACKET socket bound to one interface
//! ([`PacketSocket`]) and a TAP device ([`Tap`]).
//!
//! Both keep the [`NetPoll`](netpoll_core::NetPoll) contract as a host can: no call blocks
//! (the file descriptors are non-blocking and every send carries `MSG_DONTWAIT`), `receive`
//! reads at most its budget of frames, the link state is cached and read again (one ioctl) only
//! by `refresh_link`, short frames are padded to 60 bytes with zeros, and the
//! buffers are allocated once, when the driver is opened. The syscalls go through [`nix`].
//!
//! # What the sender can see
//!
//! A frame counts as sent when the kernel has taken it. [`XmitError::Busy`] means the socket's
//! send buffer is full (`EAGAIN`): nothing was sent and nothing is lost; try again.
//! `ENOBUFS` (the interface's queue discipline dropped the frame) is counted in
//! [`Counters::dropped`] and returned as [`XmitError::Dropped`]. Loss after that, at a switch or
//! at the receiver (a full socket buffer, a checksum the receiver rejects, no socket bound to the
//! port), is invisible to the sender: it shows only in the receiver's counters (`nstat`:
//! `UdpRcvbufErrors`, `UdpInCsumErrors`, `UdpNoPorts`). A TAP write is taken whole by the kernel,
//! which may still drop the frame on its side (the interface's `rx_dropped`).
//!
//! # Network namespaces
//!
//! A driver lives in the network namespace of the thread that opened it (the namespace of its
//! socket or TAP), and stays there whichever thread uses it afterwards. Interface facts are read
//! with `getifaddrs` and interface ioctls, never from `/sys/class/net`, which shows the namespace
//! that mounted sysfs rather than the thread's.
//!
//! # Privileges
//!
//! [`PacketSocket::open`] needs `CAP_NET_RAW`; [`Tap::open`] needs `CAP_NET_ADMIN` to create a
//! TAP (or to be the owner of a persistent one). The errors say so.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use netpoll_core::{XmitError, MAX_FRAME_LEN};
use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

mod interface;
mod packet;
mod tap;

pub use interface::{InterfaceInfo, MAX_NAME_LEN};
use netpoll_core::wire::ethernet::MIN_FRAME_LEN;
pub use packet::PacketSocket;
pub use tap::{Tap, DEFAULT_TAP_MAC};

/// Receive buffer size: more than any frame of an interface with a 64 KiB MTU (`lo`), VLAN tag
/// included. A frame that fills it whole is taken as truncated and skipped.
const RX_BUF_LEN: usize = 65_536 + 64;

/// What a host driver has done since it was opened. Plain integers: a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    /// Frames the kernel took.
    pub frames_sent: u64,
    /// Bytes of those frames, padding included.
    pub bytes_sent: u64,
    /// Transmit attempts refused with [`XmitError::Busy`] (send buffer full; nothing lost).
    pub busy: u64,
    /// Frames lost to `ENOBUFS` (the interface's queue was full).
    pub dropped: u64,
    /// Transmit attempts refused because the interface was down or gone.
    pub link_down: u64,
    /// Frames lost to any other send error (see `last_error`).
    pub errors: u64,
    /// Received frames handed to `poll`'s callback.
    pub frames_received: u64,
    /// Received frames not handed on: truncated, or queued before the socket was bound.
    pub rx_skipped: u64,
    /// Receive errors other than "nothing to read".
    pub rx_errors: u64,
}

/// The transmit side both drivers share: one frame buffer, the padding, the error accounting.
struct Transmitter {
    slot: Box<[u8; MAX_FRAME_LEN]>,
    max_len: usize,
    /// The last send found the buffer full: check for room before building the next frame, so
    /// that `Busy` comes back without calling `fill` while the socket stays full.
    blocked: bool,
    counters: Counters,
    last_error: Option<Errno>,
}

impl Transmitter {
    /// A transmitter for frames of at most `max_len` bytes (capped at [`MAX_FRAME_LEN`]).
    fn new(max_len: usize) -> Transmitter {
        Transmitter {
            slot: Box::new([0; MAX_FRAME_LEN]),
            max_len: max_len.clamp(MIN_FRAME_LEN, MAX_FRAME_LEN),
            blocked: false,
            counters: Counters::default(),
            last_error: None,
        }
    }

    /// Builds the frame in the slot (padded to 60 bytes), hands it to `send`, and accounts for
    /// the outcome. `link_down` says which errors mean the interface is down or gone.
    fn xmit(
        &mut self,
        fd: BorrowedFd<'_>,
        len: usize,
        fill: &mut dyn FnMut(&mut [u8]),
        send: impl FnOnce(&[u8]) -> Result<usize, Errno>,
        link_down: &[Errno],
    ) -> Result<(), XmitError> {
        if len > self.max_len {
            return Err(XmitError::TooLong { len, max: self.max_len });
        }
        if self.blocked && !writable(fd) {
            self.counters.busy += 1;
            return Err(XmitError::Busy);
        }
        fill(&mut self.slot[..len]);
        let wire_len = len.max(MIN_FRAME_LEN);
        self.slot[len..wire_len].fill(0);
        match send(&self.slot[..wire_len]) {
            Ok(_) => {
                self.blocked = false;
                self.counters.frames_sent += 1;
                self.counters.bytes_sent += wire_len as u64;
                Ok(())
            }
            Err(Errno::EAGAIN | Errno::EINTR) => {
                self.blocked = true;
                self.counters.busy += 1;
                Err(XmitError::Busy)
            }
            Err(Errno::ENOBUFS) => {
                self.counters.dropped += 1;
                Err(XmitError::Dropped)
            }
            Err(e) if link_down.contains(&e) => {
                self.last_error = Some(e);
                self.counters.link_down += 1;
                Err(XmitError::LinkDown)
            }
            Err(Errno::EMSGSIZE) => {
                self.last_error = Some(Errno::EMSGSIZE);
                self.counters.errors += 1;
                Err(XmitError::TooLong { len, max: self.max_len })
            }
            Err(e) => {
                self.last_error = Some(e);
                self.counters.errors += 1;
                Err(XmitError::Dropped)
            }
        }
    }

    fn last_error(&self) -> Option<io::Error> {
        self.last_error.map(io::Error::from)
    }
}

/// Whether `fd` has room for a frame now (`POLLOUT`), without waiting.
fn writable(fd: BorrowedFd<'_>) -> bool {
    let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLOUT)];
    match poll(&mut fds, PollTimeout::ZERO) {
        Ok(n) if n > 0 => fds[0].revents().is_some_and(|r| r.contains(PollFlags::POLLOUT)),
        // An error here is the send's to report: let it try.
        Err(_) => true,
        Ok(_) => false,
    }
}

/// `error` with `what` in front, keeping its kind: `cannot open ...: Operation not permitted`.
fn context(error: impl Into<io::Error>, what: impl std::fmt::Display) -> io::Error {
    let error = error.into();
    io::Error::new(error.kind(), format!("{what}: {error}"))
}

#[cfg(test)]
mod test {
    use super::*;
    use std::os::fd::OwnedFd;

    fn pipe_writer() -> (OwnedFd, OwnedFd) {
        nix::unistd::pipe().expect("pipe")
    }

    #[test]
    fn pads_short_frames_with_zeros_and_counts() {
        let (_r, w) = pipe_writer();
        let mut tx = Transmitter::new(MAX_FRAME_LEN);
        tx.slot.fill(0xa5);
        let mut sent = Vec::new();
        let r = tx.xmit(
            w.as_fd(),
            42,
            &mut |s: &mut [u8]| s.fill(1),
            |f| {
                sent = f.to_vec();
                Ok(f.len())
            },
            &[],
        );
        assert_eq!(r, Ok(()));
        assert_eq!(sent.len(), 60);
        assert!(sent[..42].iter().all(|&b| b == 1));
        assert!(sent[42..].iter().all(|&b| b == 0));
        assert_eq!(tx.counters.frames_sent, 1);
        assert_eq!(tx.counters.bytes_sent, 60);
    }

    #[test]
    fn too_long_is_refused_without_fill() {
        let (_r, w) = pipe_writer();
        let mut tx = Transmitter::new(1000 + 14);
        let r = tx.xmit(w.as_fd(), 1015, &mut |_: &mut [u8]| panic!("filled"), |_| Ok(0), &[]);
        assert_eq!(r, Err(XmitError::TooLong { len: 1015, max: 1014 }));
    }

    #[test]
    fn errors_map_to_the_contract() {
        let (_r, w) = pipe_writer();
        let mut tx = Transmitter::new(MAX_FRAME_LEN);
        let mut fill = |_: &mut [u8]| {};
        let mut try_with = |tx: &mut Transmitter, e: Errno| {
            tx.xmit(w.as_fd(), 60, &mut fill, |_| Err(e), &[Errno::ENETDOWN])
        };
        assert_eq!(try_with(&mut tx, Errno::ENOBUFS), Err(XmitError::Dropped));
        assert_eq!(try_with(&mut tx, Errno::ENETDOWN), Err(XmitError::LinkDown));
        assert_eq!(try_with(&mut tx, Errno::EINVAL), Err(XmitError::Dropped));
        assert_eq!(tx.last_error().and_then(|e| e.raw_os_error()), Some(Errno::EINVAL as i32));
        assert_eq!(try_with(&mut tx, Errno::EAGAIN), Err(XmitError::Busy));
        let c = tx.counters;
        assert_eq!((c.dropped, c.link_down, c.errors, c.busy, c.frames_sent), (1, 1, 1, 1, 0));
    }

    #[test]
    fn busy_while_full_does_not_call_fill() {
        // A pipe whose buffer is full is not writable: after one EAGAIN the transmitter checks
        // for room first and answers Busy without building the frame.
        let (_r, w) = pipe_writer();
        nix::fcntl::fcntl(&w, nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK))
            .expect("O_NONBLOCK");
        let chunk = [0u8; 4096];
        while nix::unistd::write(&w, &chunk).is_ok() {}
        let mut tx = Transmitter::new(MAX_FRAME_LEN);
        let mut fill = |_: &mut [u8]| {};
        let r = tx.xmit(w.as_fd(), 60, &mut fill, |_| Err(Errno::EAGAIN), &[]);
        assert_eq!(r, Err(XmitError::Busy));
        let r = tx.xmit(w.as_fd(), 60, &mut |_: &mut [u8]| panic!("filled"), |_| Ok(60), &[]);
        assert_eq!(r, Err(XmitError::Busy));
        assert_eq!(tx.counters.busy, 2);
    }
}
