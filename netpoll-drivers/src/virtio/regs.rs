//! The virtio-mmio register block (virtio 1.x, section 4.2.2 modern, 4.2.4 legacy): offsets,
//! and the one place where registers are read and written.

use core::ptr::NonNull;

use super::barrier;

/// `0x74726976`, "virt" in little-endian ASCII.
pub const MAGIC: u32 = 0x7472_6976;

/// Register offsets from the transport's base, in bytes.
pub mod offset {
    /// Magic value, [`MAGIC`](super::MAGIC).
    pub const MAGIC: usize = 0x000;
    /// 1 = legacy, 2 = modern.
    pub const VERSION: usize = 0x004;
    /// Device type; 1 = network card, 0 = no device in this slot.
    pub const DEVICE_ID: usize = 0x008;
    /// Vendor ID.
    pub const VENDOR_ID: usize = 0x00c;
    /// 32 bits of the device's features, selected by `DEVICE_FEATURES_SEL`.
    pub const DEVICE_FEATURES: usize = 0x010;
    /// Which 32 bits `DEVICE_FEATURES` shows.
    pub const DEVICE_FEATURES_SEL: usize = 0x014;
    /// 32 bits of the features the driver accepts, selected by `DRIVER_FEATURES_SEL`.
    pub const DRIVER_FEATURES: usize = 0x020;
    /// Which 32 bits `DRIVER_FEATURES` sets.
    pub const DRIVER_FEATURES_SEL: usize = 0x024;
    /// Legacy: the guest page size, the unit of `QUEUE_PFN`.
    pub const LEGACY_GUEST_PAGE_SIZE: usize = 0x028;
    /// The queue the queue registers below refer to.
    pub const QUEUE_SEL: usize = 0x030;
    /// Largest size of the selected queue; 0 if the queue does not exist.
    pub const QUEUE_NUM_MAX: usize = 0x034;
    /// Size the driver chose for the selected queue.
    pub const QUEUE_NUM: usize = 0x038;
    /// Legacy: alignment of the used ring, in bytes.
    pub const LEGACY_QUEUE_ALIGN: usize = 0x03c;
    /// Legacy: page number of the queue; 0 means not in use.
    pub const LEGACY_QUEUE_PFN: usize = 0x040;
    /// Modern: 1 once the selected queue is set up.
    pub const QUEUE_READY: usize = 0x044;
    /// Written with a queue index: new buffers in that queue.
    pub const QUEUE_NOTIFY: usize = 0x050;
    /// Why the device interrupted (bit 0 used ring, bit 1 configuration).
    pub const INTERRUPT_STATUS: usize = 0x060;
    /// Acknowledges the interrupt causes written.
    pub const INTERRUPT_ACK: usize = 0x064;
    /// Device status; writing 0 resets the device.
    pub const STATUS: usize = 0x070;
    /// Modern: descriptor table address, low and high 32 bits.
    pub const QUEUE_DESC_LOW: usize = 0x080;
    /// See `QUEUE_DESC_LOW`.
    pub const QUEUE_DESC_HIGH: usize = 0x084;
    /// Modern: available ring ("driver area") address.
    pub const QUEUE_DRIVER_LOW: usize = 0x090;
    /// See `QUEUE_DRIVER_LOW`.
    pub const QUEUE_DRIVER_HIGH: usize = 0x094;
    /// Modern: used ring ("device area") address.
    pub const QUEUE_DEVICE_LOW: usize = 0x0a0;
    /// See `QUEUE_DEVICE_LOW`.
    pub const QUEUE_DEVICE_HIGH: usize = 0x0a4;
    /// Modern: changes whenever the configuration space changes.
    pub const CONFIG_GENERATION: usize = 0x0fc;
    /// Device-specific configuration space (virtio-net: MAC, status, ...).
    pub const CONFIG: usize = 0x100;
}

/// Bits of the device status register.
pub mod status {
    /// The guest noticed the device.
    pub const ACKNOWLEDGE: u32 = 1;
    /// The guest knows how to drive it.
    pub const DRIVER: u32 = 2;
    /// The driver is ready: queues may be used.
    pub const DRIVER_OK: u32 = 4;
    /// Modern: feature negotiation is done; the device clears it if it refuses the features.
    pub const FEATURES_OK: u32 = 8;
    /// The device hit an error it cannot recover from without a reset.
    pub const DEVICE_NEEDS_RESET: u32 = 64;
    /// The driver gave up on the device.
    pub const FAILED: u32 = 128;
}

/// 32-bit access to a register block. Implemented by [`MmioRegisters`] for real hardware and by
/// software models of the device in tests, so the driver's logic runs the same against both.
pub trait RegisterBlock {
    /// Reads the 32-bit register at byte offset `offset`.
    fn read32(&self, offset: usize) -> u32;
    /// Writes the 32-bit register at byte offset `offset`. Memory writes made before the call
    /// are visible to the device before the register write is (the `writel` ordering of Linux).
    fn write32(&mut self, offset: usize, value: u32);
    /// Reads the byte at `offset` in the device configuration space (from [`offset::CONFIG`]).
    fn read_config8(&self, offset: usize) -> u8;
}

/// A virtio-mmio register block in memory-mapped I/O.
#[derive(Debug)]
pub struct MmioRegisters {
    base: NonNull<u8>,
}

// SAFETY: the block is plain MMIO with no thread-affine state; whoever owns the value is the
// only one driving the device (the constructor's contract), wherever it runs.
unsafe impl Send for MmioRegisters {}

/// Bytes of a virtio-mmio register block up to the end of a small config space.
const BLOCK_LEN: usize = 0x200;

impl MmioRegisters {
    /// The register block at `base`.
    ///
    /// # Safety
    ///
    /// `base` is the address of a virtio-mmio register block (0x200 bytes: registers and
    /// configuration space), mapped as device memory (uncached, unbuffered) for as long as the
    /// value lives, and nothing else drives that device while it does.
    pub const unsafe fn new(base: NonNull<u8>) -> Self {
        MmioRegisters { base }
    }

    /// The register at `offset`, for a `T`-sized access; `None` outside the block or
    /// misaligned, so a bad offset is refused rather than touching other memory.
    fn register<T>(&self, offset: usize) -> Option<NonNull<T>> {
        let aligned = offset.is_multiple_of(core::mem::size_of::<T>());
        (aligned && offset + core::mem::size_of::<T>() <= BLOCK_LEN)
            // SAFETY: `offset` is inside the block `base` points to (checked above).
            .then(|| unsafe { self.base.add(offset) }.cast::<T>())
    }
}

impl RegisterBlock for MmioRegisters {
    fn read32(&self, offset: usize) -> u32 {
        let Some(register) = self.register::<u32>(offset) else { return 0 };
        // SAFETY: an aligned register inside the block, which `new`'s contract says is mapped
        // device memory; volatile, so the access happens exactly once and in program order.
        let value = unsafe { register.as_ptr().read_volatile() };
        barrier::io_read();
        value
    }

    fn write32(&mut self, offset: usize, value: u32) {
        let Some(register) = self.register::<u32>(offset) else { return };
        barrier::io_write();
        // SAFETY: as in `read32`.
        unsafe { register.as_ptr().write_volatile(value) }
    }

    fn read_config8(&self, offset: usize) -> u8 {
        let Some(register) = self.register::<u8>(offset::CONFIG + offset) else { return 0 };
        // SAFETY: as in `read32`; the config space allows byte access (virtio 1.x, 4.2.2.2).
        let value = unsafe { register.as_ptr().read_volatile() };
        barrier::io_read();
        value
    }
}

/// Reads a 64-bit feature word 32 bits at a time through a select register.
pub(crate) fn read_features(regs: &mut impl RegisterBlock) -> u64 {
    regs.write32(offset::DEVICE_FEATURES_SEL, 0);
    let low = regs.read32(offset::DEVICE_FEATURES);
    regs.write32(offset::DEVICE_FEATURES_SEL, 1);
    let high = regs.read32(offset::DEVICE_FEATURES);
    u64::from(high) << 32 | u64::from(low)
}

/// Writes the driver's features, both halves.
pub(crate) fn write_features(regs: &mut impl RegisterBlock, features: u64) {
    regs.write32(offset::DRIVER_FEATURES_SEL, 0);
    regs.write32(offset::DRIVER_FEATURES, features as u32);
    regs.write32(offset::DRIVER_FEATURES_SEL, 1);
    regs.write32(offset::DRIVER_FEATURES, (features >> 32) as u32);
}
