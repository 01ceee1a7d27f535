//! The virtio-mmio transport: probing, the status handshake, feature negotiation and queue
//! set-up, for both register layouts (virtio 1.x, section 4.2).
//!
//! The two layouts differ only in three places, each a `match` on [`Layout`] here:
//! features (legacy devices have 32 feature bits and no `FEATURES_OK` step), queue addresses
//! (legacy: one page number with a page size and a used-ring alignment; modern: three 64-bit
//! addresses and a ready flag) and the configuration space (modern has a generation counter).

use core::fmt;

use super::queue::{QueueAddresses, PAGE_SIZE};
use super::regs::{self, offset, status, RegisterBlock, MAGIC};

/// Which register layout the device speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Version 1: the pre-1.0 ("legacy") interface, QEMU's default for virtio-mmio.
    Legacy,
    /// Version 2: the virtio 1.x interface.
    Modern,
}

impl Layout {
    /// "legacy" or "modern".
    pub const fn name(self) -> &'static str {
        match self {
            Layout::Legacy => "legacy",
            Layout::Modern => "modern",
        }
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Device type of a network card.
pub const DEVICE_ID_NET: u32 = 1;

/// Times the driver reads the status back after a reset before it gives up (modern devices
/// may take a moment; QEMU's is immediate).
const RESET_POLLS: usize = 1000;
/// Times a multi-byte config read is retried while the configuration generation changes.
const CONFIG_TRIES: usize = 8;

/// Why a transport does not give a working network device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeError {
    /// The magic register did not read `0x74726976`: no virtio-mmio block at this address.
    BadMagic(u32),
    /// A version other than 1 (legacy) or 2 (modern).
    UnsupportedVersion(u32),
    /// A transport with no device behind it (device ID 0).
    NoDevice,
    /// A device of another type (the ID read).
    NotNetwork(u32),
    /// The device does not offer a feature the driver needs.
    MissingFeature(&'static str),
    /// The modern device cleared `FEATURES_OK`: it refused the features the driver chose.
    FeaturesRefused,
    /// The device did not read back status 0 after a reset.
    ResetTimeout,
    /// A queue the driver needs is absent (`QueueNumMax` 0).
    QueueMissing(u16),
    /// A queue is smaller on the device than the driver's memory.
    QueueTooSmall {
        /// The queue.
        queue: u16,
        /// Its largest size on the device.
        max: u32,
        /// The size the driver's memory has.
        wanted: u16,
    },
    /// Queue memory the legacy layout cannot address: not page-aligned, or beyond 2^44.
    QueueAddress(u64),
    /// A legacy device on a big-endian CPU (legacy rings are in the guest's byte order).
    LegacyBigEndian,
    /// The device set `DEVICE_NEEDS_RESET` or `FAILED`.
    DeviceFailed(u32),
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ProbeError::BadMagic(m) => write!(f, "no virtio-mmio device (magic {m:#010x})"),
            ProbeError::UnsupportedVersion(v) => write!(f, "virtio-mmio version {v} unsupported"),
            ProbeError::NoDevice => f.write_str("empty virtio-mmio slot"),
            ProbeError::NotNetwork(id) => {
                write!(f, "virtio device type {id} is not a network card")
            }
            ProbeError::MissingFeature(name) => write!(f, "device lacks feature {name}"),
            ProbeError::FeaturesRefused => f.write_str("device refused the negotiated features"),
            ProbeError::ResetTimeout => f.write_str("device did not finish its reset"),
            ProbeError::QueueMissing(q) => write!(f, "virtqueue {q} missing"),
            ProbeError::QueueTooSmall { queue, max, wanted } => {
                write!(f, "virtqueue {queue} holds {max} entries, driver has {wanted}")
            }
            ProbeError::QueueAddress(a) => {
                write!(f, "queue memory at {a:#x} not addressable by the legacy layout")
            }
            ProbeError::LegacyBigEndian => f.write_str("legacy virtio on a big-endian CPU"),
            ProbeError::DeviceFailed(s) => write!(f, "device failed (status {s:#x})"),
        }
    }
}

impl core::error::Error for ProbeError {}

/// A probed virtio-mmio transport with some device behind it.
#[derive(Debug)]
pub struct Transport<R: RegisterBlock> {
    regs: R,
    layout: Layout,
    device_id: u32,
}

impl<R: RegisterBlock> Transport<R> {
    /// Checks that `regs` is a virtio-mmio block of a known version with a device behind it.
    /// Reads three registers and writes none, so probing every slot is harmless.
    pub fn probe(regs: R) -> Result<Self, ProbeError> {
        let magic = regs.read32(offset::MAGIC);
        if magic != MAGIC {
            return Err(ProbeError::BadMagic(magic));
        }
        let layout = match regs.read32(offset::VERSION) {
            1 => Layout::Legacy,
            2 => Layout::Modern,
            other => return Err(ProbeError::UnsupportedVersion(other)),
        };
        let device_id = regs.read32(offset::DEVICE_ID);
        if device_id == 0 {
            return Err(ProbeError::NoDevice);
        }
        Ok(Transport { regs, layout, device_id })
    }

    /// The register layout the device speaks.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The device type (1 for a network card).
    pub fn device_id(&self) -> u32 {
        self.device_id
    }

    /// The register block.
    pub fn regs(&self) -> &R {
        &self.regs
    }

    /// The register block, mutable (a test reaches its device model this way).
    pub fn regs_mut(&mut self) -> &mut R {
        &mut self.regs
    }

    /// Resets the device (status 0) and waits, bounded, until it says it is done.
    pub(crate) fn reset(&mut self) -> Result<(), ProbeError> {
        self.regs.write32(offset::STATUS, 0);
        for _ in 0..RESET_POLLS {
            if self.regs.read32(offset::STATUS) == 0 {
                return Ok(());
            }
        }
        Err(ProbeError::ResetTimeout)
    }

    /// The device status.
    pub fn status(&self) -> u32 {
        self.regs.read32(offset::STATUS)
    }

    /// Sets `bits` in the device status, keeping those set.
    pub(crate) fn add_status(&mut self, bits: u32) {
        let now = self.regs.read32(offset::STATUS);
        self.regs.write32(offset::STATUS, now | bits);
    }

    /// Tells the device the driver gave up on it.
    pub(crate) fn fail(&mut self) {
        self.add_status(status::FAILED);
    }

    /// The device's features (only the low 32 bits on the legacy layout, which has no more).
    pub(crate) fn device_features(&mut self) -> u64 {
        let features = regs::read_features(&mut self.regs);
        match self.layout {
            Layout::Legacy => features & 0xffff_ffff,
            Layout::Modern => features,
        }
    }

    /// Accepts `features` (a subset of the device's). The modern layout then sets
    /// `FEATURES_OK` and checks that the device kept it (3.1.1, steps 5 and 6).
    pub(crate) fn accept_features(&mut self, features: u64) -> Result<(), ProbeError> {
        regs::write_features(&mut self.regs, features);
        if self.layout == Layout::Modern {
            self.add_status(status::FEATURES_OK);
            if self.status() & status::FEATURES_OK == 0 {
                return Err(ProbeError::FeaturesRefused);
            }
        }
        Ok(())
    }

    /// Legacy only: the unit of the queue page numbers (4.2.4, `GuestPageSize`).
    pub(crate) fn set_page_size(&mut self) {
        if self.layout == Layout::Legacy {
            self.regs.write32(offset::LEGACY_GUEST_PAGE_SIZE, PAGE_SIZE as u32);
        }
    }

    /// Gives queue `index` its `size` entries at `at`.
    pub(crate) fn setup_queue(
        &mut self,
        index: u16,
        size: u16,
        at: QueueAddresses,
    ) -> Result<(), ProbeError> {
        self.regs.write32(offset::QUEUE_SEL, u32::from(index));
        let in_use = match self.layout {
            Layout::Legacy => self.regs.read32(offset::LEGACY_QUEUE_PFN),
            Layout::Modern => self.regs.read32(offset::QUEUE_READY),
        };
        if in_use != 0 {
            // A reset device has no queue in use; one that does is not behaving.
            return Err(ProbeError::DeviceFailed(self.status()));
        }
        let max = self.regs.read32(offset::QUEUE_NUM_MAX);
        if max == 0 {
            return Err(ProbeError::QueueMissing(index));
        }
        if max < u32::from(size) {
            return Err(ProbeError::QueueTooSmall { queue: index, max, wanted: size });
        }
        self.regs.write32(offset::QUEUE_NUM, u32::from(size));
        match self.layout {
            Layout::Legacy => {
                let page = PAGE_SIZE as u64;
                let pfn = at.desc / page;
                // One page number must locate all three parts, the used ring on the next
                // `QueueAlign` boundary (2.7, legacy interfaces).
                let expected_used = (at.avail + 6 + 2 * u64::from(size)).div_ceil(page) * page;
                if !at.desc.is_multiple_of(page)
                    || pfn > u64::from(u32::MAX)
                    || at.used != expected_used
                {
                    return Err(ProbeError::QueueAddress(at.desc));
                }
                self.regs.write32(offset::LEGACY_QUEUE_ALIGN, PAGE_SIZE as u32);
                self.regs.write32(offset::LEGACY_QUEUE_PFN, pfn as u32);
            }
            Layout::Modern => {
                let pairs = [
                    (offset::QUEUE_DESC_LOW, at.desc),
                    (offset::QUEUE_DRIVER_LOW, at.avail),
                    (offset::QUEUE_DEVICE_LOW, at.used),
                ];
                for (low, address) in pairs {
                    self.regs.write32(low, address as u32);
                    self.regs.write32(low + 4, (address >> 32) as u32);
                }
                self.regs.write32(offset::QUEUE_READY, 1);
            }
        }
        Ok(())
    }

    /// Tells the device that queue `index` has new buffers.
    pub(crate) fn notify(&mut self, index: u16) {
        self.regs.write32(offset::QUEUE_NOTIFY, u32::from(index));
    }

    /// Acknowledges whatever the device raised (the driver polls; this only keeps the
    /// interrupt line quiet for firmware that shares it).
    pub(crate) fn ack_interrupts(&mut self) {
        let pending = self.regs.read32(offset::INTERRUPT_STATUS);
        if pending != 0 {
            self.regs.write32(offset::INTERRUPT_ACK, pending);
        }
    }

    /// Reads `out.len()` bytes of the configuration space from `at`. The modern layout
    /// retries, bounded, while the configuration generation changes under the read, so a
    /// multi-byte field is not torn (4.2.2.2); the last read is kept if it never settles.
    pub(crate) fn read_config(&self, at: usize, out: &mut [u8]) {
        for _ in 0..CONFIG_TRIES {
            let before = self.generation();
            for (i, byte) in out.iter_mut().enumerate() {
                *byte = self.regs.read_config8(at + i);
            }
            if self.generation() == before {
                return;
            }
        }
    }

    fn generation(&self) -> u32 {
        match self.layout {
            Layout::Legacy => 0,
            Layout::Modern => self.regs.read32(offset::CONFIG_GENERATION),
        }
    }
}
