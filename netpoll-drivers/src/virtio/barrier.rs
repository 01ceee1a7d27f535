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

/// Writes to shared memory before this are seen by the device before writes after it
/// (descriptor, then ring entry, then ring index).
#[inline(always)]
pub(crate) fn dma_write() {
    compiler_fence(Ordering::SeqCst);
    #[cfg(any(target_arch = "riscv32", target_arch = "riscv64"))]
    // SAFETY: a fence instruction: orders memory writes, touches no memory or register.
    unsafe {
        core::arch::asm!("fence w,w", options(nostack, preserves_flags))
    };
    #[cfg(target_arch = "aarch64")]
    // SAFETY: a barrier instruction: orders stores to the outer-shareable domain (the device's).
    unsafe {
        core::arch::asm!("dmb oshst", options(nostack, preserves_flags))
    };
    #[cfg(not(any(target_arch = "riscv32", target_arch = "riscv64", target_arch = "aarch64")))]
    core::sync::atomic::fence(Ordering::SeqCst);
}

/// Reads of shared memory after this see what the device wrote before the value read before it
/// (used index, then used element, then buffer).
#[inline(always)]
pub(crate) fn dma_read() {
    compiler_fence(Ordering::SeqCst);
    #[cfg(any(target_arch = "riscv32", target_arch = "riscv64"))]
    // SAFETY: a fence instruction: orders memory reads, touches no memory or register.
    unsafe {
        core::arch::asm!("fence r,r", options(nostack, preserves_flags))
    };
    #[cfg(target_arch = "aarch64")]
    // SAFETY: a barrier instruction: orders loads from the outer-shareable domain.
    unsafe {
        core::arch::asm!("dmb oshld", options(nostack, preserves_flags))
    };
    #[cfg(not(any(target_arch = "riscv32", target_arch = "riscv64", target_arch = "aarch64")))]
    core::sync::atomic::fence(Ordering::SeqCst);
}

/// A full barrier between the driver's write of the available index and its read of the
/// device's "no notify" flag (virtio 1.x, 2.7.7.2: otherwise a notification may be missed).
#[inline(always)]
pub(crate) fn full() {
    compiler_fence(Ordering::SeqCst);
    #[cfg(any(target_arch = "riscv32", target_arch = "riscv64"))]
    // SAFETY: a fence instruction: orders all memory accesses, touches no memory or register.
    unsafe {
        core::arch::asm!("fence rw,rw", options(nostack, preserves_flags))
    };
    #[cfg(target_arch = "aarch64")]
    // SAFETY: a barrier instruction: orders all accesses in the outer-shareable domain.
    unsafe {
        core::arch::asm!("dmb osh", options(nostack, preserves_flags))
    };
    #[cfg(not(any(target_arch = "riscv32", target_arch = "riscv64", target_arch = "aarch64")))]
    core::sync::atomic::fence(Ordering::SeqCst);
}

/// Before an MMIO write: memory writes before it reach the device first (`writel`'s `fence w,o`).
#[inline(always)]
pub(crate) fn io_write() {
    compiler_fence(Ordering::SeqCst);
    #[cfg(any(target_arch = "riscv32", target_arch = "riscv64"))]
    // SAFETY: a fence instruction: orders memory writes before device output; no side effect.
    unsafe {
        core::arch::asm!("fence w,o", options(nostack, preserves_flags))
    };
    #[cfg(target_arch = "aarch64")]
    // SAFETY: a barrier instruction: stores complete before the MMIO store that follows.
    unsafe {
        core::arch::asm!("dmb oshst", options(nostack, preserves_flags))
    };
    #[cfg(not(any(target_arch = "riscv32", target_arch = "riscv64", target_arch = "aarch64")))]
    core::sync::atomic::fence(Ordering::SeqCst);
}

/// After an MMIO read: memory reads after it see what the device wrote before the register
/// said so (`readl`'s `fence i,r`).
#[inline(always)]
pub(crate) fn io_read() {
    compiler_fence(Ordering::SeqCst);
    #[cfg(any(target_arch = "riscv32", target_arch = "riscv64"))]
    // SAFETY: a fence instruction: orders device input before later memory reads; no side effect.
    unsafe {
        core::arch::asm!("fence i,r", options(nostack, preserves_flags))
    };
    #[cfg(target_arch = "aarch64")]
    // SAFETY: a barrier instruction: the MMIO load completes before later loads.
    unsafe {
        core::arch::asm!("dmb oshld", options(nostack, preserves_flags))
    };
    #[cfg(not(any(target_arch = "riscv32", target_arch = "riscv64", target_arch = "aarch64")))]
    core::sync::atomic::fence(Ordering::SeqCst);
}
