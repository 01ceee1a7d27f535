//! virtio-net over virtio-mmio, both register layouts: legacy (version 1, QEMU's default) and
//! modern (version 2). No heap: queues and packet buffers live in a [`NetMemory`] the caller
//! places (a `static`), sized by const generics.
//!
//! - [`regs`]: the register block, read and written through [`RegisterBlock`] (volatile MMIO
//!   in [`MmioRegisters`]; a software model of the device in the host tests).
//! - [`mmio`]: the transport: probing, the status handshake, feature negotiation and queue
//!   set-up for either layout, behind one small [`Layout`] enum.
//! - [`queue`]: one split virtqueue as the driver sees it: descriptors, available and used
//!   rings, the memory barriers between them.
//! - [`net`]: [`VirtioNet`], which keeps the `NetPoll` contract.
//!
//! # What the driver negotiates, and why
//!
//! `VIRTIO_NET_F_MAC` (the device's address), `VIRTIO_NET_F_STATUS` when offered (link state),
//! `VIRTIO_F_VERSION_1` on the modern layout (required there), `VIRTIO_F_ANY_LAYOUT` on the
//! legacy one (the header and the frame share one descriptor). Nothing else: no checksum or
//! segmentation offload (every frame carries its own checksums), no mergeable RX buffers (each
//! RX buffer takes one whole frame), no event index, no indirect descriptors, no control queue.
//! The `virtio_net_hdr` in front of each frame is then 10 bytes (legacy) or 12 (modern, where
//! `num_buffers` is always present), all zero on transmit.
//!
//! # Byte order
//!
//! Modern devices are little-endian; legacy ones use the guest's own order. The driver writes
//! little-endian and refuses a legacy device on a big-endian CPU ([`ProbeError::LegacyBigEndian`]).

mod barrier;
pub mod mmio;
pub mod net;
pub mod queue;
pub mod regs;

pub use mmio::{Layout, ProbeError, Transport};
pub use net::{NetMemory, VirtioNet, VirtioNetCounters};
pub use queue::QueueMemory;
pub use regs::{MmioRegisters, RegisterBlock};

/// Turns the address of driver memory into the address the device uses for DMA.
///
/// # Safety
///
/// An implementation promises, for every pointer the driver passes (the queues and buffers of
/// one [`NetMemory`], which the driver only ever passes whole objects of):
///
/// - the returned address is where the device finds the same bytes, for the object's whole
///   length: the object is physically contiguous (it does not cross a page the mapping splits);
/// - the mapping stays the same as long as the device may use the memory (while the driver
///   lives, and after it, until the device is reset);
/// - the memory is coherent with the device, or the implementation is used on a platform whose
///   DMA is (QEMU's is); this driver does no cache maintenance.
///
/// A wrong address makes the device read or write memory the driver does not own, which no
/// safe code can prevent: that is why the trait is `unsafe` to implement.
pub unsafe trait AddressTranslation {
    /// The device-visible address of `virt`.
    fn device_address(&self, virt: *const u8) -> u64;
}

/// Physical address = virtual address: bare-metal firmware running without an MMU, or with an
/// identity map (QEMU `virt` firmware here).
#[derive(Debug, Clone, Copy, Default)]
pub struct IdentityMap;

// SAFETY: with no MMU or an identity map, a pointer's address is the physical address of the
// bytes it points to, contiguous and fixed for the program's life. Only sound on such systems;
// the type's documentation says so.
unsafe impl AddressTranslation for IdentityMap {
    fn device_address(&self, virt: *const u8) -> u64 {
        // Exposed so that a device model in host tests may turn the address back into a
        // pointer to the same memory.
        virt.expose_provenance() as u64
    }
}
