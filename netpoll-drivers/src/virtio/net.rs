//! The virtio-net driver: one TX queue, one RX queue, every buffer one descriptor.
//!
//! TX: slot `i` is descriptor `i` and packet buffer `i`, for good. A free slot is built in
//! place (`virtio_net_hdr` zeroed, then the frame), published in the available ring, and the
//! device notified unless it said it does not need to be. Within a batch
//! ([`NetPoll::begin_tx_batch`]) each frame is published as it is queued, so a device already at
//! work takes it at once, but the notification waits for the batch's end: under QEMU each one
//! is a trap that takes the emulator's global lock, which its network backend holds while it
//! sends, so a notification per frame keeps the guest waiting on the host. The device may
//! finish slots in any order; [`VirtioNet::reclaim_tx`] takes what the used ring reports back
//! onto the free list, and a send that finds no free slot does so itself before it answers
//! `Busy`.
//!
//! RX: every buffer is given to the device at start-up; [`VirtioNet::receive`] hands the
//! frames of at most `budget` used entries to the caller, oldest first, and gives each buffer
//! straight back.
//!
//! A device that reports a descriptor it was not given, twice, or a length past its buffer is
//! not trusted with that entry: the entry is skipped and counted in [`VirtioNetCounters`].

use core::ptr::NonNull;

use netpoll_core::{MacAddr, NetPoll, XmitError, MAX_FRAME_LEN};

use super::mmio::{Layout, ProbeError, Transport, DEVICE_ID_NET};
use super::queue::{flags, Descriptor, Queue, QueueMemory};
use super::regs::{status, RegisterBlock};
use super::{AddressTranslation, IdentityMap};
use netpoll_core::wire::ethernet::MIN_FRAME_LEN;

/// Feature bits (virtio 1.x, 5.1.3 and 6).
pub mod feature {
    /// Device handles packets with partial checksum (an offload: not taken).
    pub const CSUM: u64 = 1 << 0;
    /// Driver handles packets with partial checksum (not taken).
    pub const GUEST_CSUM: u64 = 1 << 1;
    /// The device has a MAC address in its configuration space.
    pub const MAC: u64 = 1 << 5;
    /// Mergeable receive buffers (not taken: each RX buffer takes a whole frame).
    pub const MRG_RXBUF: u64 = 1 << 15;
    /// The configuration space has a link status field.
    pub const STATUS: u64 = 1 << 16;
    /// Legacy: header and data may share a descriptor.
    pub const ANY_LAYOUT: u64 = 1 << 27;
    /// The virtio 1.x interface (required by the modern layout).
    pub const VERSION_1: u64 = 1 << 32;
}

/// `virtio_net_config.status` bit: the link is up.
const NET_S_LINK_UP: u16 = 1;
/// Offsets in `virtio_net_config`.
const CONFIG_MAC: usize = 0;
const CONFIG_STATUS: usize = 6;

/// Queue indexes of a virtio-net device.
const RX_QUEUE: u16 = 0;
const TX_QUEUE: u16 = 1;

/// Bytes of one packet buffer: the largest header (12) and frame (1514), rounded up.
pub const BUFFER_LEN: usize = 1536;

/// One packet buffer: `virtio_net_hdr` then the frame.
#[repr(C, align(64))]
#[derive(Clone, Copy)]
pub struct PacketBuffer([u8; BUFFER_LEN]);

/// Everything the device reads or writes, in one object to place in a `static`: the two
/// queues (`TX` and `RX` entries, powers of two up to 128) and a packet buffer per entry.
/// `NetMemory<8, 8>` is 4 pages of queues plus 16 buffers: 40 KiB.
#[repr(C)]
pub struct NetMemory<const TX: usize, const RX: usize> {
    tx_queue: QueueMemory<TX>,
    rx_queue: QueueMemory<RX>,
    tx_buffers: [PacketBuffer; TX],
    rx_buffers: [PacketBuffer; RX],
}

impl<const TX: usize, const RX: usize> NetMemory<TX, RX> {
    /// Zeroed memory, for a `static`.
    pub const fn new() -> Self {
        NetMemory {
            tx_queue: QueueMemory::new(),
            rx_queue: QueueMemory::new(),
            tx_buffers: [PacketBuffer([0; BUFFER_LEN]); TX],
            rx_buffers: [PacketBuffer([0; BUFFER_LEN]); RX],
        }
    }
}

impl<const TX: usize, const RX: usize> Default for NetMemory<TX, RX> {
    fn default() -> Self {
        Self::new()
    }
}

/// What the driver saw that the `NetPoll` contract has no place for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VirtioNetCounters {
    /// Frames queued for transmission.
    pub tx_frames: u64,
    /// TX slots the device finished and the driver took back.
    pub tx_reclaimed: u64,
    /// Frames handed to the receive callback.
    pub rx_frames: u64,
    /// Queue notifications written to the device.
    pub notifies: u64,
    /// Notifications left out because the device said it did not need them.
    pub notifies_suppressed: u64,
    /// Frames queued within a batch, whose notification was left to the batch's end.
    pub notifies_batched: u64,
    /// Used entries the device should not have written (unknown or finished descriptor,
    /// length past the buffer): skipped. Also each reclaim or receive that found the used
    /// index more than a ring ahead, and so read nothing.
    pub bad_used: u64,
}

/// A virtio-net device over virtio-mmio, keeping the `NetPoll` contract.
pub struct VirtioNet<R: RegisterBlock, const TX: usize = 8, const RX: usize = 8, A = IdentityMap>
where
    A: AddressTranslation,
{
    transport: Transport<R>,
    dma: A,
    tx: Queue<TX>,
    rx: Queue<RX>,
    tx_buffers: NonNull<PacketBuffer>,
    rx_buffers: NonNull<PacketBuffer>,
    /// TX slots free to build in: a queue of `free_len` from `free_head`, taken from the
    /// front and given back at the end, so that a slot just taken back is reused last. A
    /// device that reports a finished slot again then names one it does not own, which is
    /// caught, rather than the slot of the frame just queued in it.
    free: [u16; TX],
    free_head: usize,
    free_len: usize,
    /// Which TX slots the device owns.
    owned_by_device: [bool; TX],
    /// Which RX buffers the device owns (all of them, but between a receive and its repost).
    rx_owned_by_device: [bool; RX],
    header_len: usize,
    mac: MacAddr,
    has_status: bool,
    link: bool,
    /// Within a batch: notifications wait for its end.
    batch: bool,
    /// Frames published and not yet notified (within a batch).
    tx_unnotified: bool,
    counters: VirtioNetCounters,
}

// SAFETY: the raw pointers are to the `'static` memory the driver owns alone (it took a
// `&'static mut`); the transport is `Send` when its register block is.
unsafe impl<R: RegisterBlock + Send, A: AddressTranslation + Send, const TX: usize, const RX: usize>
    Send for VirtioNet<R, TX, RX, A>
{
}

impl<R: RegisterBlock, const TX: usize, const RX: usize> VirtioNet<R, TX, RX, IdentityMap> {
    /// Brings up the network device behind `regs`, identity-mapped (bare metal).
    pub fn new(regs: R, memory: &'static mut NetMemory<TX, RX>) -> Result<Self, ProbeError> {
        Self::with_translation(regs, memory, IdentityMap)
    }
}

impl<R: RegisterBlock, const TX: usize, const RX: usize, A: AddressTranslation>
    VirtioNet<R, TX, RX, A>
{
    /// Brings up the network device behind `regs` (virtio 1.x, 3.1.1): probe, reset,
    /// negotiate, set up both queues, give the device every RX buffer, `DRIVER_OK`. On error
    /// the device is marked `FAILED` (if it was a network card) and left alone.
    pub fn with_translation(
        regs: R,
        memory: &'static mut NetMemory<TX, RX>,
        dma: A,
    ) -> Result<Self, ProbeError> {
        let transport = Transport::probe(regs)?;
        if transport.device_id() != DEVICE_ID_NET {
            return Err(ProbeError::NotNetwork(transport.device_id()));
        }
        if transport.layout() == Layout::Legacy && cfg!(target_endian = "big") {
            return Err(ProbeError::LegacyBigEndian);
        }
        let NetMemory { tx_queue, rx_queue, tx_buffers, rx_buffers } = memory;
        let mut net = VirtioNet {
            transport,
            dma,
            tx: Queue::new(tx_queue),
            rx: Queue::new(rx_queue),
            tx_buffers: NonNull::from(tx_buffers).cast(),
            rx_buffers: NonNull::from(rx_buffers).cast(),
            free: [0; TX],
            free_head: 0,
            free_len: 0,
            owned_by_device: [false; TX],
            rx_owned_by_device: [false; RX],
            header_len: 0,
            mac: MacAddr([0; 6]),
            has_status: false,
            link: false,
            batch: false,
            tx_unnotified: false,
            counters: VirtioNetCounters::default(),
        };
        match net.bring_up() {
            Ok(()) => Ok(net),
            Err(e) => {
                net.transport.fail();
                Err(e)
            }
        }
    }

    fn bring_up(&mut self) -> Result<(), ProbeError> {
        let t = &mut self.transport;
        t.reset()?;
        t.add_status(status::ACKNOWLEDGE | status::DRIVER);
        let offered = t.device_features();
        let layout = t.layout();
        let required = match layout {
            Layout::Legacy => [("MAC", feature::MAC), ("ANY_LAYOUT", feature::ANY_LAYOUT)],
            Layout::Modern => [("MAC", feature::MAC), ("VERSION_1", feature::VERSION_1)],
        };
        let mut accepted = offered & feature::STATUS;
        for (name, bit) in required {
            if offered & bit == 0 {
                return Err(ProbeError::MissingFeature(name));
            }
            accepted |= bit;
        }
        t.accept_features(accepted)?;
        self.has_status = accepted & feature::STATUS != 0;
        // `num_buffers` is in the header when VERSION_1 (or MRG_RXBUF, never taken) is.
        self.header_len = match layout {
            Layout::Legacy => 10,
            Layout::Modern => 12,
        };

        t.set_page_size();
        let rx_at = self.rx.addresses(&self.dma);
        let tx_at = self.tx.addresses(&self.dma);
        self.transport.setup_queue(RX_QUEUE, RX as u16, rx_at)?;
        self.transport.setup_queue(TX_QUEUE, TX as u16, tx_at)?;
        self.tx.suppress_interrupts();
        self.rx.suppress_interrupts();

        for id in 0..TX {
            self.free[id] = id as u16;
        }
        self.free_head = 0;
        self.free_len = TX;
        for id in 0..RX {
            let addr = self.dma.device_address(self.rx_buffer(id).cast_const().cast());
            let descriptor =
                Descriptor { addr, len: BUFFER_LEN as u32, flags: flags::WRITE, next: 0 };
            self.rx.set_descriptor(id, descriptor);
            self.rx.push_avail(id as u16);
            self.rx_owned_by_device[id] = true;
        }
        let notify = self.rx.publish();

        let mut mac = [0; 6];
        self.transport.read_config(CONFIG_MAC, &mut mac);
        self.mac = MacAddr(mac);
        self.transport.add_status(status::DRIVER_OK);
        let now = self.transport.status();
        if now & (status::DEVICE_NEEDS_RESET | status::FAILED) != 0 {
            return Err(ProbeError::DeviceFailed(now));
        }
        // Buffers made available before DRIVER_OK may go unseen until a notification.
        if notify {
            self.notify(RX_QUEUE);
        }
        self.refresh_link();
        Ok(())
    }

    /// The register layout in use.
    pub fn layout(&self) -> Layout {
        self.transport.layout()
    }

    /// Bytes of `virtio_net_hdr` in front of each frame: 10 (legacy) or 12 (modern).
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// What the driver has done and seen.
    pub fn counters(&self) -> VirtioNetCounters {
        self.counters
    }

    /// The transport (registers, layout).
    pub fn transport(&self) -> &Transport<R> {
        &self.transport
    }

    /// The transport, mutable.
    pub fn transport_mut(&mut self) -> &mut Transport<R> {
        &mut self.transport
    }

    fn notify(&mut self, queue: u16) {
        self.transport.notify(queue);
        self.counters.notifies += 1;
    }

    /// Publishes the TX frames queued and not yet notified (a batch's, or the one frame just
    /// queued outside a batch) and notifies the device if it wants to hear of them now. Asked
    /// once for all of them, as at the end of Linux's `xmit_more` batch: a device
    /// that has set "no notify" since will see them when it looks at the ring again (2.7.7.2).
    fn notify_unnotified_tx(&mut self) {
        if !self.tx_unnotified {
            return;
        }
        self.tx_unnotified = false;
        if self.tx.publish() {
            self.notify(TX_QUEUE);
        } else {
            self.counters.notifies_suppressed += 1;
        }
    }

    fn tx_buffer(&self, id: usize) -> *mut PacketBuffer {
        self.tx_buffers.as_ptr().wrapping_add(id % TX)
    }

    fn rx_buffer(&self, id: usize) -> *mut PacketBuffer {
        self.rx_buffers.as_ptr().wrapping_add(id % RX)
    }
}

impl<R: RegisterBlock, const TX: usize, const RX: usize, A: AddressTranslation> NetPoll
    for VirtioNet<R, TX, RX, A>
{
    fn mac_address(&self) -> MacAddr {
        self.mac
    }

    /// Whether the link is up, as last read: no register access.
    fn link_up(&self) -> bool {
        self.link
    }

    /// Reads the link state from the configuration space (always up if the device has no
    /// status field) and caches it.
    fn refresh_link(&mut self) -> bool {
        // A configuration change (the link) raises an interrupt cause even when the driver
        // polls; taking it here keeps a shared interrupt line quiet. Not in the TX path: a
        // register read there would cost a trap per frame under a hypervisor.
        self.transport.ack_interrupts();
        self.link = if self.has_status {
            let mut bytes = [0; 2];
            self.transport.read_config(CONFIG_STATUS, &mut bytes);
            u16::from_le_bytes(bytes) & NET_S_LINK_UP != 0
        } else {
            true
        };
        self.link
    }

    /// TX slots queued and not yet taken back by [`reclaim_tx`](Self::reclaim_tx).
    fn tx_in_flight(&self) -> usize {
        TX - self.free_len
    }

    /// Takes back the TX slots the device has finished, in the order it finished them. At most
    /// one pass over the used ring.
    fn reclaim_tx(&mut self) {
        if usize::from(self.tx.used_pending()) > TX {
            // More finished than were ever queued: the ring holds stale entries, which could
            // name slots the device owns again. Trust none of them.
            self.counters.bad_used += 1;
            return;
        }
        for _ in 0..TX {
            let Some(elem) = self.tx.pop_used() else { break };
            let id = elem.id as usize;
            if id >= TX || !self.owned_by_device[id] {
                self.counters.bad_used += 1;
                continue;
            }
            self.owned_by_device[id] = false;
            self.free[(self.free_head + self.free_len) % TX] = id as u16;
            self.free_len += 1;
            self.counters.tx_reclaimed += 1;
        }
    }

    /// Hands at most `budget` received frames to `rx`, oldest first, and gives their buffers
    /// back to the device. Returns how many were handed over.
    fn receive(&mut self, budget: usize, rx: &mut dyn FnMut(&[u8])) -> usize {
        let mut handed = 0;
        let mut reposted = false;
        if usize::from(self.rx.used_pending()) > RX {
            // As in `reclaim_tx`: stale entries, which would hand over buffers the device may
            // be writing and give them to it twice.
            self.counters.bad_used += 1;
            return 0;
        }
        for _ in 0..budget.min(RX) {
            let Some(elem) = self.rx.pop_used() else { break };
            let id = elem.id as usize;
            let len = elem.len as usize;
            if id >= RX || !self.rx_owned_by_device[id] {
                self.counters.bad_used += 1;
                continue;
            }
            self.rx_owned_by_device[id] = false;
            if (self.header_len..=BUFFER_LEN).contains(&len) {
                // SAFETY: buffer `id` is in the memory the driver owns, the device has handed
                // it back (used ring) and does not touch it until it is reposted below; `len`
                // is within the buffer.
                let frame = unsafe {
                    core::slice::from_raw_parts(
                        self.rx_buffer(id).cast::<u8>().add(self.header_len),
                        len - self.header_len,
                    )
                };
                rx(frame);
                handed += 1;
                self.counters.rx_frames += 1;
            } else {
                self.counters.bad_used += 1;
            }
            self.rx.push_avail(id as u16);
            self.rx_owned_by_device[id] = true;
            reposted = true;
        }
        if reposted && self.rx.publish() {
            self.notify(RX_QUEUE);
        }
        handed
    }

    /// Builds a frame of `len` bytes in a free TX slot with `fill` and queues it.
    fn xmit_with(&mut self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> Result<(), XmitError> {
        let max = self.max_frame_len();
        if len > max {
            return Err(XmitError::TooLong { len, max });
        }
        if !self.link {
            return Err(XmitError::LinkDown);
        }
        if self.free_len == 0 {
            // A full ring within a batch: the device must hear of the frames now, or it frees
            // no slot for the caller's retries.
            self.notify_unnotified_tx();
            // The device may have finished slots since the caller last reclaimed: take them
            // back now (one pass, bounded) rather than answer `Busy` and have the caller wait
            // out a retry delay for a slot that is free already.
            self.reclaim_tx();
        }
        if self.free_len == 0 {
            return Err(XmitError::Busy);
        }
        let id = usize::from(self.free[self.free_head]);
        self.free_head = (self.free_head + 1) % TX;
        self.free_len -= 1;
        let wire_len = len.max(MIN_FRAME_LEN);
        let total = self.header_len + wire_len;
        // SAFETY: buffer `id` is in the memory the driver owns and is free (the device gave it
        // back, or never had it), so this is the only reference to it until it is queued.
        let buffer = unsafe { &mut (*self.tx_buffer(id)).0 };
        let (header, rest) = buffer.split_at_mut(self.header_len);
        // No offload, no segmentation: an all-zero header (5.1.6.2).
        header.fill(0);
        let (frame, padding) = rest.split_at_mut(len);
        fill(frame);
        padding[..wire_len - len].fill(0);
        let addr = self.dma.device_address(self.tx_buffer(id).cast_const().cast());
        self.tx.set_descriptor(id, Descriptor { addr, len: total as u32, flags: 0, next: 0 });
        self.tx.push_avail(id as u16);
        self.owned_by_device[id] = true;
        self.tx_unnotified = true;
        if self.batch {
            // Published now, notified at the batch's end (or at a full ring).
            self.tx.expose();
            self.counters.notifies_batched += 1;
        } else {
            self.notify_unnotified_tx();
        }
        self.counters.tx_frames += 1;
        Ok(())
    }

    /// The notifications of the frames queued until [`end_tx_batch`](Self::end_tx_batch) wait
    /// for it (or for a full ring).
    fn begin_tx_batch(&mut self) {
        self.batch = true;
    }

    /// One notification for every frame the batch queued, if the device wants one.
    fn end_tx_batch(&mut self) {
        self.batch = false;
        self.notify_unnotified_tx();
    }

    /// The longest frame the buffers take: 1514 bytes.
    fn max_frame_len(&self) -> usize {
        MAX_FRAME_LEN.min(BUFFER_LEN - self.header_len)
    }
}
