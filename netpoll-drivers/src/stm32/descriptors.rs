//! Normal (4-word) DMA descriptors in ring mode, their buffers, and the OWN-bit hand-over.
//!
//! A descriptor belongs to the DMA while its OWN bit is set and to the driver while it is
//! clear; whoever owns it may touch it and its buffer, the other may not. The driver gives a
//! descriptor away by writing word 0 with OWN set, last, after a fence, so the DMA never sees
//! OWN before the buffer, the length and the flags it describes. The last descriptor of each
//! ring carries the end-of-ring bit (TER for TX, RER for RX) that sends the DMA back to the
//! first: the rings are arrays, not chains.
//!
//! Everything the DMA reads or writes sits in [`DmaRings`], in `UnsafeCell`s, because the DMA
//! changes it behind the compiler's back; descriptor words are read and written volatile.

use core::cell::UnsafeCell;
use core::sync::atomic::{fence, Ordering};
pub(crate) use netpoll_core::wire::ethernet::MIN_FRAME_LEN;

/// Bytes per packet buffer: a full frame with its FCS (1518), rounded up to a multiple of 32
/// (the receive buffer size must be a multiple of the bus width; 32 also suits a cache line).
pub const BUFFER_LEN: usize = 1536;

/// TDES0 bits (transmit descriptor word 0).
pub mod tdes0 {
    /// Owned by the DMA.
    pub const OWN: u32 = 1 << 31;
    /// Interrupt on completion.
    pub const IC: u32 = 1 << 30;
    /// Last segment of the frame.
    pub const LS: u32 = 1 << 29;
    /// First segment of the frame.
    pub const FS: u32 = 1 << 28;
    /// Transmit end of ring: the next descriptor is the list's first.
    pub const TER: u32 = 1 << 21;
    /// Error summary: one of the error bits below is set.
    pub const ES: u32 = 1 << 15;
    /// Jabber timeout.
    pub const JT: u32 = 1 << 14;
    /// Frame flushed.
    pub const FF: u32 = 1 << 13;
    /// Loss of carrier.
    pub const LCA: u32 = 1 << 11;
    /// No carrier.
    pub const NC: u32 = 1 << 10;
    /// Late collision.
    pub const LCO: u32 = 1 << 9;
    /// Excessive collisions.
    pub const EC: u32 = 1 << 8;
    /// Excessive deferral.
    pub const ED: u32 = 1 << 2;
    /// Underflow error.
    pub const UF: u32 = 1 << 1;
}

/// RDES0 bits (receive descriptor word 0).
pub mod rdes0 {
    /// Owned by the DMA.
    pub const OWN: u32 = 1 << 31;
    /// Frame length field (bits 29:16), FCS included.
    pub const FL_SHIFT: u32 = 16;
    /// Width mask of the frame length field.
    pub const FL_MASK: u32 = 0x3FFF;
    /// Error summary.
    pub const ES: u32 = 1 << 15;
    /// Descriptor error (frame did not fit the buffer).
    pub const DE: u32 = 1 << 14;
    /// Overflow error.
    pub const OE: u32 = 1 << 11;
    /// First descriptor of the frame.
    pub const FS: u32 = 1 << 9;
    /// Last descriptor of the frame.
    pub const LS: u32 = 1 << 8;
    /// CRC error.
    pub const CE: u32 = 1 << 1;
}

/// RDES1 bits.
pub mod rdes1 {
    /// Receive end of ring.
    pub const RER: u32 = 1 << 15;
    /// Buffer 1 size mask (bits 12:0).
    pub const RBS1_MASK: u32 = 0x1FFF;
}

/// TDES1 fields.
pub mod tdes1 {
    /// Buffer 1 size mask (bits 12:0).
    pub const TBS1_MASK: u32 = 0x1FFF;
}

/// Bytes of FCS at the end of every received frame (the MAC leaves it in the buffer).
pub const FCS_LEN: usize = 4;

/// One normal descriptor: four 32-bit words shared with the DMA.
///
/// 16 bytes with no gap between descriptors, so the DMA's descriptor skip length is 0.
#[repr(C, align(16))]
pub struct Descriptor {
    words: [UnsafeCell<u32>; 4],
}

impl Descriptor {
    const fn new() -> Self {
        Descriptor { words: [const { UnsafeCell::new(0) }; 4] }
    }

    /// Reads word `i` (0..4) as the DMA left it.
    pub(crate) fn read(&self, i: usize) -> u32 {
        // SAFETY: the cell is ours to read at any time: a volatile 32-bit read of an aligned
        // word cannot tear, and the DMA writes whole words.
        unsafe { core::ptr::read_volatile(self.words[i].get()) }
    }

    /// Writes word `i`. The driver writes only descriptors it owns, and word 0 last.
    pub(crate) fn write(&self, i: usize, value: u32) {
        // SAFETY: the driver writes a descriptor only while it owns it (OWN clear) or before the
        // DMA is started, so the DMA is not writing this word at the same time.
        unsafe { core::ptr::write_volatile(self.words[i].get(), value) }
    }

    /// The address the DMA knows this descriptor by.
    pub(crate) fn dma_address(&self) -> u32 {
        dma_address(self.words.as_ptr().cast())
    }
}

/// One packet buffer.
#[repr(C, align(32))]
pub struct Buffer(UnsafeCell<[u8; BUFFER_LEN]>);

impl Buffer {
    const fn new() -> Self {
        Buffer(UnsafeCell::new([0; BUFFER_LEN]))
    }

    /// The address the DMA knows this buffer by.
    pub(crate) fn dma_address(&self) -> u32 {
        dma_address(self.0.get().cast())
    }

    /// The buffer, for the driver to fill while it owns the descriptor.
    ///
    /// # Safety
    ///
    /// The descriptor pointing here is owned by the driver (OWN clear), so the DMA does not
    /// read or write the buffer, and no other reference into it is alive.
    #[allow(clippy::mut_from_ref)] // Interior mutability; exclusivity is the caller's contract.
    pub(crate) unsafe fn bytes_mut(&self) -> &mut [u8; BUFFER_LEN] {
        // SAFETY: the caller's contract.
        unsafe { &mut *self.0.get() }
    }

    /// The buffer, for the driver to read a received frame while it owns the descriptor.
    ///
    /// # Safety
    ///
    /// As for [`bytes_mut`](Self::bytes_mut): the driver owns the descriptor and no mutable
    /// reference into the buffer is alive.
    pub(crate) unsafe fn bytes(&self) -> &[u8; BUFFER_LEN] {
        // SAFETY: the caller's contract.
        unsafe { &*self.0.get() }
    }
}

/// The 32-bit bus address of `ptr`. On the STM32 (32-bit pointers) this is the pointer itself;
/// on a 64-bit host, where only the descriptor model runs, the model uses the same truncation,
/// so both sides agree on every address.
pub(crate) fn dma_address(ptr: *const u8) -> u32 {
    ptr as usize as u32
}

/// Descriptor rings and packet buffers for `TX` transmit and `RX` receive slots: all the memory
/// the Ethernet DMA touches. The firmware puts one in a `static` (in memory the DMA can reach:
/// see the [module docs](super)) and lends it to the driver for good.
///
/// About `(TX + RX) × 1552` bytes: 4 + 4 slots take 12.1 KiB.
#[repr(C)]
pub struct DmaRings<const TX: usize, const RX: usize> {
    pub(crate) tx: [Descriptor; TX],
    pub(crate) rx: [Descriptor; RX],
    pub(crate) tx_buffers: [Buffer; TX],
    pub(crate) rx_buffers: [Buffer; RX],
}

impl<const TX: usize, const RX: usize> DmaRings<TX, RX> {
    /// All zeros, so a `static` of it sits in `.bss`.
    pub const fn new() -> Self {
        DmaRings {
            tx: [const { Descriptor::new() }; TX],
            rx: [const { Descriptor::new() }; RX],
            tx_buffers: [const { Buffer::new() }; TX],
            rx_buffers: [const { Buffer::new() }; RX],
        }
    }

    /// Every bus address the DMA will be given: the lists' and the buffers'.
    pub(crate) fn dma_addresses(&self) -> impl Iterator<Item = u32> + '_ {
        let descriptors = self.tx.iter().chain(self.rx.iter()).map(Descriptor::dma_address);
        let buffers = self.tx_buffers.iter().chain(self.rx_buffers.iter());
        descriptors.chain(buffers.map(Buffer::dma_address))
    }

    /// Writes every descriptor to its starting state: TX owned by the driver, RX owned by the
    /// DMA, each pointing at its buffer, the last of each ring marked end-of-ring.
    pub(crate) fn reset(&self) {
        for (i, (d, b)) in self.tx.iter().zip(&self.tx_buffers).enumerate() {
            d.write(1, 0);
            d.write(2, b.dma_address());
            d.write(3, 0);
            d.write(0, if i + 1 == TX { tdes0::TER } else { 0 });
        }
        for (i, (d, b)) in self.rx.iter().zip(&self.rx_buffers).enumerate() {
            let end = if i + 1 == RX { rdes1::RER } else { 0 };
            d.write(1, end | BUFFER_LEN as u32);
            d.write(2, b.dma_address());
            d.write(3, 0);
        }
        // The words above before any OWN bit below.
        fence(Ordering::SeqCst);
        for d in &self.rx {
            d.write(0, rdes0::OWN);
        }
    }
}

impl<const TX: usize, const RX: usize> Default for DmaRings<TX, RX> {
    fn default() -> Self {
        Self::new()
    }
}

/// The driver's side of the TX ring: which slot to fill next and which the DMA finishes next.
#[derive(Debug, Default)]
pub(crate) struct TxCursor {
    /// Next descriptor to fill.
    pub head: usize,
    /// Oldest descriptor handed to the DMA and not yet reclaimed.
    pub tail: usize,
    /// Descriptors handed to the DMA and not yet reclaimed.
    pub in_flight: usize,
}

/// What one reclaimed TX descriptor says.
pub(crate) enum TxOutcome {
    /// Still the DMA's: reclaim stops here.
    Pending,
    /// Sent.
    Sent,
    /// Given back with the error summary set; the word 0 status bits.
    Failed(u32),
}

impl TxCursor {
    /// Fills the next slot with `len` bytes through `fill`, pads it, and hands it to the DMA.
    /// `false` (nothing touched) when every slot is in flight.
    pub fn push(
        &mut self,
        ring: &[Descriptor],
        buffers: &[Buffer],
        len: usize,
        fill: &mut dyn FnMut(&mut [u8]),
    ) -> bool {
        let n = ring.len();
        if self.in_flight >= n {
            return false;
        }
        let (Some(d), Some(b)) = (ring.get(self.head), buffers.get(self.head)) else {
            return false;
        };
        // In flight < n means the head slot was reclaimed: the DMA gave it back (OWN clear).
        // A slot whose OWN is set anyway (a DMA that never started) is not ours to touch.
        if d.read(0) & tdes0::OWN != 0 {
            return false;
        }
        let wire_len = len.clamp(MIN_FRAME_LEN, BUFFER_LEN);
        // SAFETY: OWN is clear and the slot is not in flight, so the DMA does not touch this
        // buffer; `&mut self` makes this the only reference into it.
        let bytes = unsafe { b.bytes_mut() };
        fill(&mut bytes[..len.min(BUFFER_LEN)]);
        bytes[len.min(BUFFER_LEN)..wire_len].fill(0);
        let end = if self.head + 1 == n { tdes0::TER } else { 0 };
        d.write(1, wire_len as u32 & tdes1::TBS1_MASK);
        d.write(2, b.dma_address());
        // The frame, its length and address are in memory before the DMA may see OWN.
        fence(Ordering::SeqCst);
        d.write(0, tdes0::OWN | tdes0::FS | tdes0::LS | end);
        self.head = (self.head + 1) % n;
        self.in_flight += 1;
        true
    }

    /// Looks at the oldest slot in flight; takes it back unless the DMA still owns it.
    pub fn reclaim_one(&mut self, ring: &[Descriptor]) -> TxOutcome {
        let Some(d) = ring.get(self.tail).filter(|_| self.in_flight > 0) else {
            return TxOutcome::Pending;
        };
        let status = d.read(0);
        if status & tdes0::OWN != 0 {
            return TxOutcome::Pending;
        }
        // Status read before anything else of the slot is reused.
        fence(Ordering::SeqCst);
        self.tail = (self.tail + 1) % ring.len();
        self.in_flight -= 1;
        if status & tdes0::ES != 0 {
            TxOutcome::Failed(status)
        } else {
            TxOutcome::Sent
        }
    }
}

/// What one RX descriptor holds.
pub(crate) enum RxSlot {
    /// The DMA still owns it: nothing received.
    Empty,
    /// A whole, good frame of this many bytes (FCS removed).
    Frame(usize),
    /// A frame the MAC flagged (error summary) or that spans descriptors; status word 0.
    Bad(u32),
}

/// Reads RX descriptor `d`: what the DMA left there, if it gave it back.
pub(crate) fn rx_slot(d: &Descriptor) -> RxSlot {
    let status = d.read(0);
    if status & rdes0::OWN != 0 {
        return RxSlot::Empty;
    }
    // Status before the buffer's bytes.
    fence(Ordering::SeqCst);
    let whole = rdes0::FS | rdes0::LS;
    let len = ((status >> rdes0::FL_SHIFT) & rdes0::FL_MASK) as usize;
    let plausible = (FCS_LEN + 14..=BUFFER_LEN).contains(&len);
    if status & rdes0::ES != 0 || status & whole != whole || !plausible {
        return RxSlot::Bad(status);
    }
    RxSlot::Frame(len - FCS_LEN)
}

/// Gives RX descriptor `d` back to the DMA, its size and end-of-ring bit untouched.
pub(crate) fn rx_give_back(d: &Descriptor) {
    // Done with the buffer before the DMA may write it again.
    fence(Ordering::SeqCst);
    d.write(0, rdes0::OWN);
}
