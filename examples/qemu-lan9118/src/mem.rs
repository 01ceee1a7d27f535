//! Small `memcpy`, `memmove` and `memset` (and their `__aeabi_` entry points) in place of
//! compiler-builtins' weak ones.
//!
//! compiler-builtins' are tuned for speed on large copies: 3.3 KiB of flash on a Cortex-M4
//! (`memmove` alone 1.6 KiB, with unaligned-shift paths), a fifth of this firmware's budget.
//! Its copies are short (a record, a frame header, a 1.5 KiB frame at most) and the LAN9118
//! is fed word by word from the bounce buffer anyway, so a word loop when both sides are
//! aligned and a byte loop otherwise cost little time and about 200 bytes.
//!
//! The loads are volatile so that LLVM does not recognise a loop as a copy and turn it back
//! into a call to the very function it is in.

use core::ptr::read_volatile;

/// Copies `n` bytes from `src` to `dest`, lowest address first: right for `memcpy` and for a
/// `memmove` whose destination is below its source.
///
/// # Safety
/// `src` readable and `dest` writable for `n` bytes.
#[inline(always)]
unsafe fn copy_up(dest: *mut u8, src: *const u8, n: usize) {
    let mut i = 0;
    if (dest as usize | src as usize) & 3 == 0 {
        while n - i >= 4 {
            // SAFETY: both aligned to 4 and `i + 4 <= n`, within the caller's ranges.
            unsafe { dest.add(i).cast::<u32>().write(read_volatile(src.add(i).cast::<u32>())) };
            i += 4;
        }
    }
    while i < n {
        // SAFETY: `i < n`, within the caller's ranges.
        unsafe { dest.add(i).write(read_volatile(src.add(i))) };
        i += 1;
    }
}

/// Copies `n` bytes from `src` to `dest`, highest address first: for a `memmove` whose
/// destination is above its source.
///
/// # Safety
/// As [`copy_up`].
#[inline(always)]
unsafe fn copy_down(dest: *mut u8, src: *const u8, n: usize) {
    let mut i = n;
    if (dest as usize | src as usize | n) & 3 == 0 {
        while i >= 4 {
            i -= 4;
            // SAFETY: both aligned to 4 (`n` too) and `i + 4 <= n`.
            unsafe { dest.add(i).cast::<u32>().write(read_volatile(src.add(i).cast::<u32>())) };
        }
    }
    while i > 0 {
        i -= 1;
        // SAFETY: `i < n`.
        unsafe { dest.add(i).write(read_volatile(src.add(i))) };
    }
}

/// Fills `n` bytes at `dest` with `byte`.
///
/// # Safety
/// `dest` writable for `n` bytes.
#[inline(always)]
unsafe fn fill(dest: *mut u8, byte: u8, n: usize) {
    let mut i = 0;
    if dest as usize & 3 == 0 {
        let word = u32::from(byte) * 0x0101_0101;
        while n - i >= 4 {
            // SAFETY: aligned to 4 and `i + 4 <= n`. Volatile: see the module's docs.
            unsafe { dest.add(i).cast::<u32>().write_volatile(word) };
            i += 4;
        }
    }
    while i < n {
        // SAFETY: `i < n`.
        unsafe { dest.add(i).write_volatile(byte) };
        i += 1;
    }
}

/// `__aeabi_memmove`: the direction keeps an overlap right. `__aeabi_memcpy` is another name
/// for it (see the end of this file): a copy between ranges that do not overlap is right in
/// either direction, and a body of its own was 72 bytes for a compare saved per copy.
///
/// # Safety
/// As C's `memmove`.
#[no_mangle]
pub unsafe extern "C" fn __aeabi_memmove(dest: *mut u8, src: *const u8, n: usize) {
    // SAFETY: the caller's contract.
    unsafe {
        if (dest as usize) <= (src as usize) {
            copy_up(dest, src, n);
        } else {
            copy_down(dest, src, n);
        }
    }
}

/// `__aeabi_memset` (note the argument order: length first).
///
/// # Safety
/// As C's `memset`.
#[no_mangle]
pub unsafe extern "C" fn __aeabi_memset(dest: *mut u8, n: usize, byte: i32) {
    // SAFETY: the caller's contract.
    unsafe { fill(dest, byte as u8, n) }
}

/// `__aeabi_memclr`: `__aeabi_memset` with a zero byte.
///
/// # Safety
/// As C's `memset`.
#[no_mangle]
pub unsafe extern "C" fn __aeabi_memclr(dest: *mut u8, n: usize) {
    // SAFETY: the caller's contract.
    unsafe { __aeabi_memset(dest, n, 0) }
}

/// # Safety
/// As C's `memcpy`.
#[no_mangle]
pub unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller's contract (ranges that do not overlap are moved right too).
    unsafe { __aeabi_memmove(dest, src, n) };
    dest
}

/// # Safety
/// As C's `memmove`.
#[no_mangle]
pub unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller's contract.
    unsafe { __aeabi_memmove(dest, src, n) };
    dest
}

/// # Safety
/// As C's `memset` (the byte passed as an `int`).
#[no_mangle]
pub unsafe extern "C" fn memset(dest: *mut u8, byte: i32, n: usize) -> *mut u8 {
    // SAFETY: the caller's contract.
    unsafe { __aeabi_memset(dest, n, byte) };
    dest
}

// The EABI entry points for aligned pointers, which these functions do not need: each is
// another name for the plain one (`.thumb_set` keeps the address's Thumb bit), where a function
// of its own was a call and return of a dozen bytes.
core::arch::global_asm!(
    ".globl __aeabi_memcpy",
    ".thumb_set __aeabi_memcpy, __aeabi_memmove",
    ".globl __aeabi_memcpy4",
    ".thumb_set __aeabi_memcpy4, __aeabi_memmove",
    ".globl __aeabi_memcpy8",
    ".thumb_set __aeabi_memcpy8, __aeabi_memmove",
    ".globl __aeabi_memmove4",
    ".thumb_set __aeabi_memmove4, __aeabi_memmove",
    ".globl __aeabi_memmove8",
    ".thumb_set __aeabi_memmove8, __aeabi_memmove",
    ".globl __aeabi_memset4",
    ".thumb_set __aeabi_memset4, __aeabi_memset",
    ".globl __aeabi_memset8",
    ".thumb_set __aeabi_memset8, __aeabi_memset",
    ".globl __aeabi_memclr4",
    ".thumb_set __aeabi_memclr4, __aeabi_memclr",
    ".globl __aeabi_memclr8",
    ".thumb_set __aeabi_memclr8, __aeabi_memclr",
);
