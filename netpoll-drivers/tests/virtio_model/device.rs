//! A software virtio-net device behind a virtio-mmio register block, both layouts, written from
//! the virtio 1.x specification (4.2 virtio-mmio, 2.7 split virtqueues, 5.1 network device).
//!
//! The register side keeps the state a device keeps and records every step the driver takes
//! out of the specification's order in `violations`. The device side works the queues the
//! way a device does, but only when a test says so: take the next TX buffer, finish a buffer
//! (in any order), deliver a frame into the next RX buffer. Queue memory is reached through
//! the addresses the driver wrote, turned back into pointers (the driver exposes them).

use std::cell::RefCell;
use std::rc::Rc;

use netpoll_drivers::virtio::regs::{offset, status, MAGIC};
use netpoll_drivers::virtio::RegisterBlock;

pub const RX: usize = 0;
pub const TX: usize = 1;

const DESC_F_NEXT: u16 = 1;
const DESC_F_WRITE: u16 = 2;
const USED_F_NO_NOTIFY: u16 = 1;

#[derive(Debug, Default, Clone)]
pub struct QueueState {
    pub num: u32,
    pub align: u32,
    pub pfn: u32,
    pub desc: u64,
    pub avail: u64,
    pub used: u64,
    pub ready: bool,
    /// The next available entry the device will take.
    pub last_avail: u16,
    /// The device's used index.
    pub used_idx: u16,
}

#[derive(Debug)]
pub struct DeviceState {
    pub magic: u32,
    pub version: u32,
    pub device_id: u32,
    pub device_features: u64,
    pub device_features_sel: u32,
    pub driver_features: u64,
    pub driver_features_sel: u32,
    pub status: u32,
    pub page_size: u32,
    pub queue_sel: u32,
    pub queue_num_max: [u32; 2],
    pub queues: [QueueState; 2],
    /// virtio_net_config: mac[6], status u16.
    pub config: [u8; 8],
    pub config_generation: u32,
    /// Refuse FEATURES_OK whatever the driver asks for.
    pub refuse_features: bool,
    pub interrupt_status: u32,
    /// Queue indexes notified, in order.
    pub notifies: Vec<u32>,
    /// Each queue's available index as of its last notification.
    pub notified_avail: [u16; 2],
    /// Every register write, in order (offset, value).
    pub writes: Vec<(usize, u32)>,
    /// Steps the driver took against the specification.
    pub violations: Vec<String>,
}

impl DeviceState {
    fn modern(&self) -> bool {
        self.version == 2
    }

    fn header_len(&self) -> usize {
        if self.modern() {
            12
        } else {
            10
        }
    }

    fn reset(&mut self) {
        self.status = 0;
        self.driver_features = 0;
        self.queues = Default::default();
        self.notified_avail = [0; 2];
        self.interrupt_status = 0;
    }

    fn queue(&mut self) -> Option<&mut QueueState> {
        self.queues.get_mut(self.queue_sel as usize)
    }

    fn violation(&mut self, what: impl Into<String>) {
        self.violations.push(what.into());
    }

    /// The three addresses of queue `q`, as the device finds them.
    fn addresses(&self, q: usize) -> Option<(u64, u64, u64)> {
        let queue = &self.queues[q];
        if self.modern() {
            return queue.ready.then_some((queue.desc, queue.avail, queue.used));
        }
        if queue.pfn == 0 {
            return None;
        }
        let num = u64::from(queue.num);
        let desc = u64::from(queue.pfn) * u64::from(self.page_size);
        let avail = desc + 16 * num;
        let align = u64::from(queue.align.max(1));
        let used = (avail + 6 + 2 * num).div_ceil(align) * align;
        Some((desc, avail, used))
    }
}

/// A descriptor chain as the device read it: (address, length, flags) per descriptor.
type Chain = Vec<(u64, u32, u16)>;

/// A handle on the model: the driver gets one as its register block, the test keeps another.
#[derive(Clone)]
pub struct Model(pub Rc<RefCell<DeviceState>>);

/// A virtio-net device's features as QEMU offers them, offloads included.
pub const QEMU_NET_FEATURES: u64 = (1 << 0) // CSUM
    | (1 << 1) // GUEST_CSUM
    | (1 << 5) // MAC
    | (1 << 7) // GUEST_TSO4
    | (1 << 11) // HOST_TSO4
    | (1 << 15) // MRG_RXBUF
    | (1 << 16) // STATUS
    | (1 << 17) // CTRL_VQ
    | (1 << 28) // RING_INDIRECT_DESC
    | (1 << 29); // RING_EVENT_IDX
pub const ANY_LAYOUT: u64 = 1 << 27;
pub const VERSION_1: u64 = 1 << 32;
pub const MAC: u64 = 1 << 5;
pub const STATUS: u64 = 1 << 16;

pub const DEVICE_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x57];

impl Model {
    /// A network device of `version` (1 legacy, 2 modern) with QEMU's features, link up,
    /// queues of at most 256 entries.
    pub fn new(version: u32) -> Model {
        let features = if version == 2 {
            QEMU_NET_FEATURES | VERSION_1
        } else {
            QEMU_NET_FEATURES | ANY_LAYOUT
        };
        let mut config = [0; 8];
        config[..6].copy_from_slice(&DEVICE_MAC);
        config[6] = 1; // VIRTIO_NET_S_LINK_UP
        Model(Rc::new(RefCell::new(DeviceState {
            magic: MAGIC,
            version,
            device_id: 1,
            device_features: features,
            device_features_sel: 0,
            driver_features: 0,
            driver_features_sel: 0,
            status: 0,
            page_size: 0,
            queue_sel: 0,
            queue_num_max: [256, 256],
            queues: Default::default(),
            config,
            config_generation: 0,
            refuse_features: false,
            interrupt_status: 0,
            notifies: Vec::new(),
            notified_avail: [0; 2],
            writes: Vec::new(),
            violations: Vec::new(),
        })))
    }

    pub fn state(&self) -> std::cell::RefMut<'_, DeviceState> {
        self.0.borrow_mut()
    }

    /// Sets the link bit of the config status field (and bumps the generation).
    pub fn set_link(&self, up: bool) {
        let mut s = self.state();
        s.config[6] = u8::from(up);
        s.config_generation += 1;
        s.interrupt_status |= 2;
    }

    /// Sets or clears "no notify" in queue `q`'s used ring.
    pub fn set_no_notify(&self, q: usize, on: bool) {
        let s = self.state();
        let (_, _, used) = s.addresses(q).expect("queue set up");
        write_u16(used, if on { USED_F_NO_NOTIFY } else { 0 });
    }

    /// Entries of queue `q` published after the driver's last notification of it: a device that
    /// waits to be notified (QEMU's, once it has emptied the queue and asked for notifications
    /// again) does not know of them.
    pub fn unnotified(&self, q: usize) -> u16 {
        let s = self.state();
        let Some((_, avail, _)) = s.addresses(q) else { return 0 };
        read_u16(avail + 2).wrapping_sub(s.notified_avail[q])
    }

    /// Available entries of queue `q` the device has not taken.
    pub fn available(&self, q: usize) -> u16 {
        let s = self.state();
        let Some((_, avail, _)) = s.addresses(q) else { return 0 };
        read_u16(avail + 2).wrapping_sub(s.queues[q].last_avail)
    }

    /// Takes the next available chain of queue `q`: its head and its descriptors
    /// (address, length, flags), following `NEXT` at most `num` times.
    fn take(&self, q: usize) -> Option<(u16, Chain)> {
        let mut s = self.state();
        let (desc, avail, _) = s.addresses(q)?;
        let num = s.queues[q].num as u16;
        let last = s.queues[q].last_avail;
        if read_u16(avail + 2) == last {
            return None;
        }
        let head = read_u16(avail + 4 + 2 * u64::from(last % num));
        s.queues[q].last_avail = last.wrapping_add(1);
        let mut chain = Vec::new();
        let mut id = head;
        for _ in 0..num {
            if id >= num {
                s.violation(format!("queue {q}: descriptor {id} past the table ({num})"));
                break;
            }
            let at = desc + 16 * u64::from(id);
            let (addr, len, flags, next) =
                (read_u64(at), read_u32(at + 8), read_u16(at + 12), read_u16(at + 14));
            chain.push((addr, len, flags));
            if flags & DESC_F_NEXT == 0 {
                break;
            }
            id = next;
        }
        Some((head, chain))
    }

    /// Takes the next TX chain and returns its head and the bytes it holds (header first).
    pub fn take_tx(&self) -> Option<(u16, Vec<u8>)> {
        let (head, chain) = self.take(TX)?;
        let mut bytes = Vec::new();
        for (addr, len, flags) in chain {
            if flags & DESC_F_WRITE != 0 {
                self.state().violation("TX descriptor marked device-writable");
            }
            bytes.extend_from_slice(&read_bytes(addr, len as usize));
        }
        Some((head, bytes))
    }

    /// Takes the next TX chain, checks its header is all zero and of the negotiated size,
    /// and returns the head and the frame.
    pub fn take_tx_frame(&self) -> Option<(u16, Vec<u8>)> {
        let (head, mut bytes) = self.take_tx()?;
        let header_len = self.state().header_len();
        if bytes.len() < header_len || bytes[..header_len].iter().any(|&b| b != 0) {
            self.state().violation(format!("TX header not {header_len} zero bytes"));
        }
        let frame = bytes.split_off(header_len.min(bytes.len()));
        Some((head, frame))
    }

    /// Puts `head` in queue `q`'s used ring with `len` bytes written: element first, then the
    /// index, as a device does (2.7.8).
    pub fn complete(&self, q: usize, head: u16, len: u32) {
        let mut s = self.state();
        let (_, _, used) = s.addresses(q).expect("queue set up");
        let num = s.queues[q].num as u16;
        let idx = s.queues[q].used_idx;
        let elem = used + 4 + 8 * u64::from(idx % num);
        write_u32(elem, u32::from(head));
        write_u32(elem + 4, len);
        let idx = idx.wrapping_add(1);
        s.queues[q].used_idx = idx;
        write_u16(used + 2, idx);
        s.interrupt_status |= 1;
    }

    /// Moves queue `q`'s used index on by `by` without writing any element: a broken device
    /// (or one that lost its state) whose index jumps, perhaps by more than the ring holds.
    pub fn jump_used(&self, q: usize, by: u16) {
        let mut s = self.state();
        let (_, _, used) = s.addresses(q).expect("queue set up");
        let idx = s.queues[q].used_idx.wrapping_add(by);
        s.queues[q].used_idx = idx;
        write_u16(used + 2, idx);
    }

    /// Delivers `frame` into the next RX buffer: header (`num_buffers` = 1 on modern), frame,
    /// used entry. `false` if no buffer is available (the frame is dropped, as a NIC drops it).
    pub fn deliver(&self, frame: &[u8]) -> bool {
        self.deliver_claiming(frame, None)
    }

    /// [`Model::deliver`], but the used entry claims `claimed` bytes (a broken device).
    pub fn deliver_claiming(&self, frame: &[u8], claimed: Option<u32>) -> bool {
        let Some((head, chain)) = self.take(RX) else { return false };
        let header_len = self.state().header_len();
        let mut bytes = vec![0u8; header_len];
        if header_len == 12 {
            bytes[10] = 1;
        }
        bytes.extend_from_slice(frame);
        let Some(&(addr, len, flags)) = chain.first() else { return false };
        if chain.len() != 1 || flags & DESC_F_WRITE == 0 || (len as usize) < bytes.len() {
            self.state().violation(format!("RX buffer {head} unusable: {chain:?}"));
            return false;
        }
        write_bytes(addr, &bytes);
        self.complete(RX, head, claimed.unwrap_or(bytes.len() as u32));
        true
    }
}

impl RegisterBlock for Model {
    fn read32(&self, at: usize) -> u32 {
        let s = self.0.borrow();
        let q = s.queues.get(s.queue_sel as usize);
        match at {
            offset::MAGIC => s.magic,
            offset::VERSION => s.version,
            offset::DEVICE_ID => s.device_id,
            offset::VENDOR_ID => 0x554d_4551,
            offset::DEVICE_FEATURES => match (s.device_features_sel, s.modern()) {
                (0, _) => s.device_features as u32,
                (1, true) => (s.device_features >> 32) as u32,
                _ => 0,
            },
            offset::QUEUE_NUM_MAX => {
                s.queue_num_max.get(s.queue_sel as usize).copied().unwrap_or(0)
            }
            offset::LEGACY_QUEUE_PFN if !s.modern() => q.map_or(0, |q| q.pfn),
            offset::QUEUE_READY if s.modern() => q.map_or(0, |q| u32::from(q.ready)),
            offset::INTERRUPT_STATUS => s.interrupt_status,
            offset::STATUS => s.status,
            offset::CONFIG_GENERATION if s.modern() => s.config_generation,
            other => {
                drop(s);
                self.state().violation(format!("read of register {other:#x}"));
                0
            }
        }
    }

    fn write32(&mut self, at: usize, value: u32) {
        let mut s = self.state();
        s.writes.push((at, value));
        let modern = s.modern();
        let queue_register = matches!(
            at,
            offset::QUEUE_NUM
                | offset::LEGACY_QUEUE_ALIGN
                | offset::LEGACY_QUEUE_PFN
                | offset::QUEUE_READY
                | offset::QUEUE_DESC_LOW..=offset::QUEUE_DEVICE_HIGH
        );
        if queue_register {
            let needed = if modern { status::FEATURES_OK } else { status::DRIVER };
            if s.status & needed == 0 || s.status & status::DRIVER_OK != 0 {
                let now = s.status;
                s.violation(format!("queue register {at:#x} written in status {now:#x}"));
            }
        }
        match at {
            offset::DEVICE_FEATURES_SEL => s.device_features_sel = value,
            offset::DRIVER_FEATURES_SEL => s.driver_features_sel = value,
            offset::DRIVER_FEATURES => {
                let shift = 32 * u64::from(s.driver_features_sel.min(1));
                let mask = 0xffff_ffffu64 << shift;
                s.driver_features = (s.driver_features & !mask) | (u64::from(value) << shift);
                if s.status & status::DRIVER == 0 {
                    s.violation("features written before DRIVER");
                }
            }
            offset::LEGACY_GUEST_PAGE_SIZE if !modern => s.page_size = value,
            offset::QUEUE_SEL => s.queue_sel = value,
            offset::QUEUE_NUM => {
                let sel = s.queue_sel as usize;
                let max = s.queue_num_max.get(sel).copied().unwrap_or(0);
                if value > max || !value.is_power_of_two() {
                    s.violation(format!("queue {sel} size {value} (max {max})"));
                }
                if let Some(q) = s.queue() {
                    q.num = value;
                }
            }
            offset::LEGACY_QUEUE_ALIGN if !modern => {
                if let Some(q) = s.queue() {
                    q.align = value;
                }
            }
            offset::LEGACY_QUEUE_PFN if !modern => {
                if s.page_size == 0 {
                    s.violation("QueuePFN before GuestPageSize");
                }
                if let Some(q) = s.queue() {
                    q.pfn = value;
                }
            }
            offset::QUEUE_READY if modern => {
                if let Some(q) = s.queue() {
                    q.ready = value == 1;
                }
            }
            offset::QUEUE_DESC_LOW..=offset::QUEUE_DEVICE_HIGH if modern => {
                let Some(q) = s.queue() else { return };
                let field = match at & !0xf {
                    offset::QUEUE_DESC_LOW => &mut q.desc,
                    offset::QUEUE_DRIVER_LOW => &mut q.avail,
                    _ => &mut q.used,
                };
                let shift = if at & 4 == 0 { 0 } else { 32 };
                *field = (*field & !(0xffff_ffffu64 << shift)) | (u64::from(value) << shift);
            }
            offset::QUEUE_NOTIFY => {
                if s.status & status::DRIVER_OK == 0 {
                    s.violation("notify before DRIVER_OK");
                }
                s.notifies.push(value);
                let q = value as usize;
                if let Some((_, avail, _)) = s.addresses(q.min(1)).filter(|_| q < 2) {
                    s.notified_avail[q] = read_u16(avail + 2);
                }
            }
            offset::INTERRUPT_ACK => s.interrupt_status &= !value,
            offset::STATUS => write_status(&mut s, value),
            other => s.violation(format!("write of register {other:#x} = {value:#x}")),
        }
    }

    fn read_config8(&self, at: usize) -> u8 {
        self.0.borrow().config.get(at).copied().unwrap_or(0)
    }
}

fn write_status(s: &mut DeviceState, value: u32) {
    if value == 0 {
        s.reset();
        return;
    }
    if value & s.status != s.status {
        s.violation(format!("status bits cleared: {:#x} -> {value:#x}", s.status));
    }
    let new = value & !s.status;
    if new & status::FEATURES_OK != 0 {
        if !s.modern() {
            s.violation("FEATURES_OK on a legacy device");
        }
        let subset = s.driver_features & !s.device_features == 0;
        let version_1 = s.driver_features & VERSION_1 != 0;
        if s.refuse_features || !subset || !version_1 {
            s.status = value & !status::FEATURES_OK;
            return;
        }
    }
    if new & status::DRIVER_OK != 0 {
        for q in [RX, TX] {
            if s.addresses(q).is_none() {
                s.violation(format!("DRIVER_OK with queue {q} not set up"));
            }
        }
    }
    s.status = value;
}

thread_local! {
    /// The [`Window`] offset of the driver this thread's model serves (one per test thread).
    static DMA_OFFSET: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn ptr(addr: u64) -> *mut u8 {
    let offset = DMA_OFFSET.with(|o| o.get());
    std::ptr::with_exposed_provenance_mut(addr.wrapping_add(offset) as usize)
}

/// The driver's memory as a device at a low bus address sees it: host heap addresses are
/// beyond what the legacy layout's 32-bit page numbers reach, as high memory would be on a
/// real machine, so the tests translate, as an OS with an IOMMU window would.
pub struct Window {
    offset: u64,
}

/// Where the window puts the driver's memory on the bus.
const BUS_BASE: u64 = 0x8000_0000;

impl Window {
    /// A window that puts the page holding `memory` at [`BUS_BASE`], for this thread's model.
    pub fn over<T>(memory: *const T) -> Window {
        let page = (memory.expose_provenance() as u64) & !0xfff;
        let offset = page - BUS_BASE;
        DMA_OFFSET.with(|o| o.set(offset));
        Window { offset }
    }
}

// SAFETY: the window is one fixed offset: contiguous memory stays contiguous, the mapping never
// changes, and the model undoes it with the same offset.
unsafe impl netpoll_drivers::virtio::AddressTranslation for Window {
    fn device_address(&self, virt: *const u8) -> u64 {
        (virt.expose_provenance() as u64).wrapping_sub(self.offset)
    }
}

/// Why the accesses below are sound: the addresses are those the driver gave the device,
/// exposed from memory the test leaked, so they stay valid for the test's life; volatile
/// because the driver reads and writes the same memory.
fn read_u16(addr: u64) -> u16 {
    // SAFETY: see above.
    u16::from_le(unsafe { ptr(addr).cast::<u16>().read_volatile() })
}
fn read_u32(addr: u64) -> u32 {
    // SAFETY: see above.
    u32::from_le(unsafe { ptr(addr).cast::<u32>().read_volatile() })
}
fn read_u64(addr: u64) -> u64 {
    // SAFETY: see above.
    u64::from_le(unsafe { ptr(addr).cast::<u64>().read_volatile() })
}
fn write_u16(addr: u64, v: u16) {
    // SAFETY: see above.
    unsafe { ptr(addr).cast::<u16>().write_volatile(v.to_le()) }
}
fn write_u32(addr: u64, v: u32) {
    // SAFETY: see above.
    unsafe { ptr(addr).cast::<u32>().write_volatile(v.to_le()) }
}
fn read_bytes(addr: u64, len: usize) -> Vec<u8> {
    // SAFETY: see above.
    (0..len).map(|i| unsafe { ptr(addr + i as u64).read_volatile() }).collect()
}
fn write_bytes(addr: u64, bytes: &[u8]) {
    for (i, &b) in bytes.iter().enumerate() {
        // SAFETY: see above.
        unsafe { ptr(addr + i as u64).write_volatile(b) }
    }
}
