//! One split virtqueue (virtio 1.x, section 2.7), the driver's side: a descriptor table, the
//! available ring the driver writes and the used ring the device writes.
//!
//! The memory is laid out so that one object serves both register layouts: the descriptor
//! table and the available ring fill the first 4096-byte page, the used ring starts on the
//! next page. That is the legacy layout for a 4096-byte `QueueAlign` (the legacy device finds
//! all three from one page number), and modern devices take the three addresses as they are.

use core::mem::{offset_of, size_of};
use core::ptr::{addr_of, addr_of_mut, NonNull};

use super::barrier;

/// Largest queue this driver sets up: the descriptor table (16 bytes each) and the available
/// ring (2 bytes each, plus 6) must share one page.
pub const MAX_QUEUE_SIZE: usize = 128;

/// The page size and used-ring alignment the legacy layout is given.
pub const PAGE_SIZE: usize = 4096;

/// Descriptor flags.
pub mod flags {
    /// The buffer continues in the descriptor `next` names.
    pub const NEXT: u16 = 1;
    /// The device writes this buffer (RX); otherwise it reads it (TX).
    pub const WRITE: u16 = 2;
    /// The buffer holds a table of descriptors.
    pub const INDIRECT: u16 = 4;
}

/// `avail.flags`: the driver does not want interrupts for this queue (it polls).
pub const AVAIL_F_NO_INTERRUPT: u16 = 1;
/// `used.flags`: the device does not need a notification for new available buffers.
pub const USED_F_NO_NOTIFY: u16 = 1;

/// One descriptor: a buffer the device reads or writes.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Descriptor {
    /// Device address of the buffer.
    pub addr: u64,
    /// Length of the buffer, in bytes.
    pub len: u32,
    /// [`flags`].
    pub flags: u16,
    /// The next descriptor of a chain (with [`flags::NEXT`]).
    pub next: u16,
}

#[repr(C)]
struct AvailRing<const N: usize> {
    flags: u16,
    idx: u16,
    ring: [u16; N],
    used_event: u16,
}

/// One entry of the used ring: a chain the device finished and how many bytes it wrote.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UsedElem {
    /// The head descriptor of the chain.
    pub id: u32,
    /// Bytes the device wrote into the chain (0 for a transmitted buffer).
    pub len: u32,
}

#[repr(C)]
struct UsedRing<const N: usize> {
    flags: u16,
    idx: u16,
    ring: [UsedElem; N],
    avail_event: u16,
}

#[repr(C, align(4096))]
struct DriverPage<const N: usize> {
    desc: [Descriptor; N],
    avail: AvailRing<N>,
}

#[repr(C, align(4096))]
struct DevicePage<const N: usize> {
    used: UsedRing<N>,
}

/// The memory of one queue of `N` entries (a power of two, at most [`MAX_QUEUE_SIZE`]): two
/// pages, page-aligned. Place it in a `static` (see [`NetMemory`](super::NetMemory)).
#[repr(C)]
pub struct QueueMemory<const N: usize> {
    driver: DriverPage<N>,
    device: DevicePage<N>,
}

impl<const N: usize> QueueMemory<N> {
    const SIZE_OK: () = assert!(
        N.is_power_of_two() && N <= MAX_QUEUE_SIZE,
        "a virtqueue's size is a power of two, at most 128"
    );

    /// Zeroed queue memory, for a `static`.
    pub const fn new() -> Self {
        let () = Self::SIZE_OK;
        QueueMemory {
            driver: DriverPage {
                desc: [Descriptor { addr: 0, len: 0, flags: 0, next: 0 }; N],
                avail: AvailRing { flags: 0, idx: 0, ring: [0; N], used_event: 0 },
            },
            device: DevicePage {
                used: UsedRing {
                    flags: 0,
                    idx: 0,
                    ring: [UsedElem { id: 0, len: 0 }; N],
                    avail_event: 0,
                },
            },
        }
    }
}

impl<const N: usize> Default for QueueMemory<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// Where the three parts of a queue are, as offsets from the start of its [`QueueMemory`]:
/// what a device model needs to find them from the addresses the driver gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueLayout {
    /// The descriptor table (always at 0).
    pub desc: usize,
    /// The available ring.
    pub avail: usize,
    /// The used ring.
    pub used: usize,
}

impl QueueLayout {
    /// The layout of a queue of `N` entries.
    pub const fn of<const N: usize>() -> QueueLayout {
        QueueLayout {
            desc: 0,
            avail: offset_of!(DriverPage<N>, avail),
            used: size_of::<DriverPage<N>>(),
        }
    }
}

/// The device addresses of a queue's three parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueAddresses {
    /// Descriptor table.
    pub desc: u64,
    /// Available ring ("driver area").
    pub avail: u64,
    /// Used ring ("device area").
    pub used: u64,
}

/// The driver's handle on one queue: the memory, and the indexes only the driver keeps.
pub(crate) struct Queue<const N: usize> {
    mem: NonNull<QueueMemory<N>>,
    /// The next available index to publish (free-running, mod 2^16).
    avail_idx: u16,
    /// The next used index to read.
    last_used: u16,
}

// SAFETY: the queue owns its memory exclusively (it came from a `&'static mut`); nothing in
// it is tied to a thread.
unsafe impl<const N: usize> Send for Queue<N> {}

impl<const N: usize> Queue<N> {
    /// Takes the memory for good: the device may use it until it is reset, which may be after
    /// the driver is gone, so only `'static` memory will do.
    pub(crate) fn new(mem: &'static mut QueueMemory<N>) -> Self {
        let () = QueueMemory::<N>::SIZE_OK;
        // A queue set up again (after a reset) starts from zero, as the device does.
        *mem = QueueMemory::new();
        Queue { mem: NonNull::from(mem), avail_idx: 0, last_used: 0 }
    }

    pub(crate) fn addresses(&self, dma: &impl super::AddressTranslation) -> QueueAddresses {
        let base = self.mem.as_ptr().cast::<u8>().cast_const();
        let layout = QueueLayout::of::<N>();
        let at = |offset: usize| dma.device_address(base.wrapping_add(offset));
        QueueAddresses { desc: at(layout.desc), avail: at(layout.avail), used: at(layout.used) }
    }

    /// Writes descriptor `id` (only while the device does not own it).
    pub(crate) fn set_descriptor(&mut self, id: usize, descriptor: Descriptor) {
        let id = id % N;
        // SAFETY: `mem` is the queue memory this queue owns (from a `&'static mut`); `id < N`
        // keeps the pointer inside the table. Volatile: the device reads it behind the
        // compiler's back.
        unsafe {
            let desc = addr_of_mut!((*self.mem.as_ptr()).driver.desc).cast::<Descriptor>();
            desc.add(id).write_volatile(descriptor);
        }
    }

    /// Puts descriptor `id` in the next slot of the available ring, not yet visible to the
    /// device: [`Queue::publish`] makes it so.
    pub(crate) fn push_avail(&mut self, id: u16) {
        let slot = usize::from(self.avail_idx) % N;
        // SAFETY: as in `set_descriptor`; `slot < N`.
        unsafe {
            let ring = addr_of_mut!((*self.mem.as_ptr()).driver.avail.ring).cast::<u16>();
            ring.add(slot).write_volatile(id.to_le());
        }
        self.avail_idx = self.avail_idx.wrapping_add(1);
    }

    /// Makes every pushed entry visible to the device, without asking whether it wants a
    /// notification: [`Queue::publish`] does both.
    pub(crate) fn expose(&mut self) {
        // Descriptors and ring entries first, then the index that publishes them (2.7.13).
        barrier::dma_write();
        // SAFETY: as in `set_descriptor`.
        unsafe {
            addr_of_mut!((*self.mem.as_ptr()).driver.avail.idx)
                .write_volatile(self.avail_idx.to_le());
        }
    }

    /// Makes every pushed entry visible to the device. Returns whether the device wants a
    /// notification (it has not set "no notify").
    pub(crate) fn publish(&mut self) -> bool {
        self.expose();
        // The index must be visible before the flag is read, or a device that just went to
        // sleep would miss the buffers (2.7.7.2).
        barrier::full();
        // SAFETY: as in `set_descriptor`; the device writes this field, hence volatile.
        let used_flags = u16::from_le(unsafe {
            addr_of!((*self.mem.as_ptr()).device.used.flags).read_volatile()
        });
        used_flags & USED_F_NO_NOTIFY == 0
    }

    /// Asks the device not to interrupt for this queue: the driver polls.
    pub(crate) fn suppress_interrupts(&mut self) {
        // SAFETY: as in `set_descriptor`.
        unsafe {
            addr_of_mut!((*self.mem.as_ptr()).driver.avail.flags)
                .write_volatile(AVAIL_F_NO_INTERRUPT.to_le());
        }
    }

    /// Entries the device has added to the used ring and the driver not yet read. More than
    /// `N` means the device is broken.
    pub(crate) fn used_pending(&self) -> u16 {
        // SAFETY: as in `publish`.
        let used_idx =
            u16::from_le(unsafe { addr_of!((*self.mem.as_ptr()).device.used.idx).read_volatile() });
        used_idx.wrapping_sub(self.last_used)
    }

    /// Takes the next used entry, if the device has added one.
    pub(crate) fn pop_used(&mut self) -> Option<UsedElem> {
        if self.used_pending() == 0 {
            return None;
        }
        // The element and the buffer it names are read only after the index that says they
        // are there (2.7.14).
        barrier::dma_read();
        let slot = usize::from(self.last_used) % N;
        // SAFETY: as in `set_descriptor`; `slot < N`.
        let elem = unsafe {
            addr_of!((*self.mem.as_ptr()).device.used.ring)
                .cast::<UsedElem>()
                .add(slot)
                .read_volatile()
        };
        self.last_used = self.last_used.wrapping_add(1);
        Some(UsedElem { id: u32::from_le(elem.id), len: u32::from_le(elem.len) })
    }
}
