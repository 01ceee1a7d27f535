//! The driver contract: what a NIC driver gives the send engine.
//!
//! Every driver keeps these rules, because the engine may run in an interrupt handler, with
//! interrupts disabled, or in a panic handler, where nothing else can make progress:
//!
//! - **Callable with interrupts disabled.** No call waits for an interrupt, takes a lock that an
//!   interrupt handler may hold, sleeps, or allocates.
//! - **Bounded time per call.** `poll` and `xmit_with` do a bounded amount of work (at most one
//!   pass over the rings) and return; waiting and retrying is the engine's business.
//! - **Nothing is lost on `Busy`.** `xmit_with` returns [`XmitError::Busy`] when no TX slot is
//!   free, having queued nothing; the caller may `poll` to reclaim slots and try again. A ring
//!   driver knows before it calls `fill`; a host socket only learns it from the send, so it may
//!   have called `fill` (into its own buffer) first. Either way the frame was not sent.
//! - **Short frames are padded** to 60 bytes (without FCS) with zeros by the driver; `fill` writes
//!   exactly the `len` bytes it was asked for.
//! - **Caller-provided, statically sized rings.** A driver owns buffers its constructor was given
//!   (or sized by const generics); it never allocates.
//! - **Never calls back into the console.** A driver does not log through netconsole: a log line
//!   from inside `xmit_with` would re-enter the console (which survives it, by deferring the
//!   line, but the driver must not rely on that).
//! - **`unsafe` only for register and DMA access**, each block with a `// SAFETY:` comment, and
//!   the driver's logic tested on the host against a model of its registers.

use core::fmt;

use crate::wire::MacAddr;

/// Longest Ethernet frame without FCS and VLAN tag: 14 + 1500.
pub const MAX_FRAME_LEN: usize = 1514;

/// Why a frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum XmitError {
    /// No free TX slot. Nothing was written; poll to reclaim slots and retry.
    Busy,
    /// The link is down; the frame was not queued.
    LinkDown,
    /// The frame is longer than the driver's slots.
    TooLong {
        /// Length asked for.
        len: usize,
        /// Longest frame the driver takes.
        max: usize,
    },
    /// The device refused the frame and it is lost (a host socket's `ENOBUFS`, a DMA error).
    Dropped,
}

impl fmt::Display for XmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            XmitError::Busy => f.write_str("no free TX slot"),
            XmitError::LinkDown => f.write_str("link down"),
            XmitError::TooLong { len, max } => write!(f, "frame of {len} bytes exceeds {max}"),
            XmitError::Dropped => f.write_str("device dropped the frame"),
        }
    }
}

impl core::error::Error for XmitError {}

/// A NIC as the send engine sees it: raw frames out, raw frames in, by polling.
pub trait NetPoll {
    /// The NIC's own MAC address: the source of every frame sent.
    fn mac_address(&self) -> MacAddr;

    /// Whether the link is up. May read a PHY register, so it takes `&mut self`.
    fn link_up(&mut self) -> bool;

    /// Reclaims finished TX slots and hands each received frame to `rx`. Never blocks, sleeps or
    /// allocates; handles at most one ring's worth of frames per call.
    fn poll(&mut self, rx: &mut dyn FnMut(&[u8]));

    /// Builds one frame of `len` bytes in place in a free TX slot and queues it: `fill` gets a
    /// slice of exactly `len` bytes. `Err(Busy)` when no slot is free: nothing was queued.
    fn xmit_with(&mut self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> Result<(), XmitError>;

    /// Queues a frame that is already built, by copying it into a TX slot. (A slot of another
    /// length than asked for, which breaks the contract, gets what fits and zeros.)
    fn xmit_raw(&mut self, frame: &[u8]) -> Result<(), XmitError> {
        self.xmit_with(frame.len(), &mut |slot| {
            let n = slot.len().min(frame.len());
            slot[..n].copy_from_slice(&frame[..n]);
            slot[n..].fill(0);
        })
    }

    /// The longest frame (without FCS) the driver takes; [`MAX_FRAME_LEN`] unless it says less.
    fn max_frame_len(&self) -> usize {
        MAX_FRAME_LEN
    }
}

impl<T: NetPoll + ?Sized> NetPoll for &mut T {
    fn mac_address(&self) -> MacAddr {
        (**self).mac_address()
    }
    fn link_up(&mut self) -> bool {
        (**self).link_up()
    }
    fn poll(&mut self, rx: &mut dyn FnMut(&[u8])) {
        (**self).poll(rx)
    }
    fn xmit_with(&mut self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> Result<(), XmitError> {
        (**self).xmit_with(len, fill)
    }
    fn xmit_raw(&mut self, frame: &[u8]) -> Result<(), XmitError> {
        (**self).xmit_raw(frame)
    }
    fn max_frame_len(&self) -> usize {
        (**self).max_frame_len()
    }
}
