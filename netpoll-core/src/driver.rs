//! The driver contract: what a NIC driver gives the send engine.
//!
//! The rules, with their reasons, are on [`NetPoll`], where implementers read them.

use core::fmt;

use crate::wire::MacAddr;

/// Longest Ethernet frame without FCS and VLAN tag: 14 + 1500.
pub const MAX_FRAME_LEN: usize = 1514;

/// Why a frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum XmitError {
    /// No free TX slot. Nothing was written; reclaim slots and retry.
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
///
/// Read the rules before implementing it: every method may be called with interrupts disabled
/// and must return in bounded time.
///
/// # Rules
///
/// Every rule below exists because the engine may run in an interrupt handler, with interrupts
/// disabled, or in a panic handler, where nothing else makes progress; and because the
/// firmware's own network stack may use the same NIC:
///
/// - **Callable with interrupts disabled.** No call waits for an interrupt, takes a lock that an
///   interrupt handler may hold, sleeps, or allocates: with interrupts off, any of those hangs.
/// - **Bounded time per call.** Each call does at most one pass over its rings and returns;
///   waiting and retrying is the engine's business, which bounds it by a budget.
/// - **TX reclaim apart from receive.** [`reclaim_tx`](NetPoll::reclaim_tx) only frees finished
///   TX slots; it never consumes a received frame. The engine's retry loop calls it while the ring
///   is full, and a frame consumed there would be lost to the firmware's stack (Linux polls NAPI
///   with a budget of 0 for the same reason). Frames are received only by
///   [`receive`](NetPoll::receive), with a budget, when the caller asks.
/// - **Cheap link state.** [`link_up`](NetPoll::link_up) returns a cached value and touches no
///   register; [`refresh_link`](NetPoll::refresh_link) reads the PHY (an MDIO read costs tens of
///   µs, more behind LAN9118's indirect MII access). The engine asks the cache per message and
///   refreshes only when told to.
/// - **Nothing is lost on `Busy`.** [`xmit_with`](NetPoll::xmit_with) returns
///   [`XmitError::Busy`] when no TX slot is free, having queued nothing; the caller may reclaim
///   and try again. A ring driver knows before it calls `fill`; a host socket only learns it from
///   the send, so it may have called `fill` (into its own buffer) first. Either way the frame was
///   not sent.
/// - **TX drained is observable.** [`tx_in_flight`](NetPoll::tx_in_flight) says how many queued
///   frames the NIC has not finished with, so a panic handler can wait, bounded, before it resets
///   the chip.
/// - **Short frames are padded** to 60 bytes (without FCS) with zeros by the driver; `fill`
///   writes exactly the `len` bytes it was asked for.
/// - **Caller-provided, statically sized rings.** A driver owns buffers its constructor was given
///   (or sized by const generics); it never allocates.
/// - **Every frame notified by the end of a batch.** Between
///   [`begin_tx_batch`](NetPoll::begin_tx_batch) and [`end_tx_batch`](NetPoll::end_tx_batch) a
///   driver may hold back the device notification (a doorbell write, which under a hypervisor
///   is a trap each) of the frames it queues; `end_tx_batch` notifies for all of them before it
///   returns, and outside a batch every queued frame is notified before `xmit_with` returns. A
///   driver never holds a notification past an `Err(Busy)`: the caller then waits for slots that
///   the device frees only once it knows of the frames. A caller ends every batch it began in
///   the same call (the console: one batch per message, all its targets and fragments), so no
///   frame waits for a later one; a batch begun again, or ended without a begin, is harmless.
///   Both methods default to nothing, for drivers whose frames leave as they are queued.
/// - **Never calls back into the console.** A driver does not log through netconsole: a log line
///   from inside `xmit_with` would re-enter the console (which survives it, by deferring the
///   line, but the driver must not rely on that).
/// - **`unsafe` only for register and DMA access**, each block with a `// SAFETY:` comment,
///   memory ordering toward the device explicit, and the driver's logic tested on the host
///   against a model of its registers and descriptors.
pub trait NetPoll {
    /// The NIC's own MAC address: the source of every frame sent.
    fn mac_address(&self) -> MacAddr;

    /// The link state as last read: a cached value, no register access.
    fn link_up(&self) -> bool;

    /// Reads the link state from the hardware (a PHY register through MDIO, say), caches it for
    /// [`link_up`](Self::link_up) and returns it.
    fn refresh_link(&mut self) -> bool;

    /// Frees the TX slots the NIC has finished with. Never touches received frames; at most one
    /// pass over the TX ring.
    fn reclaim_tx(&mut self);

    /// Frames queued and not yet finished by the NIC, as of the last
    /// [`reclaim_tx`](Self::reclaim_tx) (0 for a driver that cannot tell, such as a host
    /// socket, whose kernel owns the frame once the send returns).
    fn tx_in_flight(&self) -> usize;

    /// Hands at most `budget` received frames to `rx`, oldest first, each buffer going back to
    /// the NIC once `rx` returns. Returns how many frames were handed over.
    fn receive(&mut self, budget: usize, rx: &mut dyn FnMut(&[u8])) -> usize;

    /// Builds one frame of `len` bytes in place in a free TX slot and queues it: `fill` gets a
    /// slice of exactly `len` bytes, and `Ok` means it was called (the engine reports a frame
    /// queued without it as an error, not as sent). `Err(Busy)` when no slot is free: nothing
    /// was queued.
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

    /// Frames queued from now until [`end_tx_batch`](Self::end_tx_batch) may share one device
    /// notification (see the rules). A hint: the default does nothing.
    fn begin_tx_batch(&mut self) {}

    /// Notifies the device of every frame queued since
    /// [`begin_tx_batch`](Self::begin_tx_batch) and not yet notified, and ends the batch.
    /// The default does nothing: without a batch, nothing is held back.
    fn end_tx_batch(&mut self) {}
}

impl<T: NetPoll + ?Sized> NetPoll for &mut T {
    fn mac_address(&self) -> MacAddr {
        (**self).mac_address()
    }
    fn link_up(&self) -> bool {
        (**self).link_up()
    }
    fn refresh_link(&mut self) -> bool {
        (**self).refresh_link()
    }
    fn reclaim_tx(&mut self) {
        (**self).reclaim_tx()
    }
    fn tx_in_flight(&self) -> usize {
        (**self).tx_in_flight()
    }
    fn receive(&mut self, budget: usize, rx: &mut dyn FnMut(&[u8])) -> usize {
        (**self).receive(budget, rx)
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
    fn begin_tx_batch(&mut self) {
        (**self).begin_tx_batch()
    }
    fn end_tx_batch(&mut self) {
        (**self).end_tx_batch()
    }
}
