//! The memory barriers the device needs, in one place.
//!
//! A virtqueue is shared memory: the driver writes descriptors and then publishes them with the
//! ring index, the device reads the index and then the descriptors, and the same in the other
//! direction for the used ring. A CPU may reorder plain memory accesses, and on RISC-V memory
//! (`rw`) and device I/O (`io`) are ordered by separate fence bits, so the barriers are the ones
//! Linux uses for DMA and MMIO (`dma_wmb`, `dma_rmb`, `virt_mb`, and the fences inside
//! `readl`/`writel`). On other architectures a sequentially consistent fence stands in.
//! The `core::sync::atomic::compiler_fence` inside each keeps the compiler from moving memory
//! accesses across it, whatever the CPU does.

use core::sync::atomic::{compiler_fence, Ordering};

/// One barrier: the compiler fence, then the RISC-V `fence` or aarch64 `dmb` instruction
/// named, or a sequentially consistent fence on any other architecture.
macro_rules! barrier {
    ($(#[$doc:meta])* $name:ident: riscv $riscv:literal, aarch64 $aarch64:literal) => {
        $(#[$doc])*
        #[inline(always)]
        pub(crate) fn $name() {
            compiler_fence(Ordering::SeqCst);
            #[cfg(any(target_arch = "riscv32", target_arch = "riscv64"))]
            // SAFETY: a fence instruction: it orders memory and device accesses and touches no
            // memory or register.
            unsafe {
                core::arch::asm!($riscv, options(nostack, preserves_flags))
            };
            #[cfg(target_arch = "aarch64")]
            // SAFETY: a barrier instruction: it orders accesses in the outer-shareable domain
            // (the device's) and touches no memory or register.
            unsafe {
                core::arch::asm!($aarch64, options(nostack, preserves_flags))
            };
            #[cfg(not(any(
                target_arch = "riscv32",
                target_arch = "riscv64",
                target_arch = "aarch64"
            )))]
            core::sync::atomic::fence(Ordering::SeqCst);
        }
    };
}

barrier! {
    /// Writes to shared memory before this are seen by the device before writes after it
    /// (descriptor, then ring entry, then ring index).
    dma_write: riscv "fence w,w", aarch64 "dmb oshst"
}

barrier! {
    /// Reads of shared memory after this see what the device wrote before the value read before
    /// it (used index, then used element, then buffer).
    dma_read: riscv "fence r,r", aarch64 "dmb oshld"
}

barrier! {
    /// A full barrier between the driver's write of the available index and its read of the
    /// device's "no notify" flag (virtio 1.x, 2.7.7.2: otherwise a notification may be missed).
    full: riscv "fence rw,rw", aarch64 "dmb osh"
}

barrier! {
    /// Before an MMIO write: memory writes before it reach the device first (`writel`'s
    /// `fence w,o`).
    io_write: riscv "fence w,o", aarch64 "dmb oshst"
}

barrier! {
    /// After an MMIO read: memory reads after it see what the device wrote before the register
    /// said so (`readl`'s `fence i,r`).
    io_read: riscv "fence i,r", aarch64 "dmb oshld"
}
