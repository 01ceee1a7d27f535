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

/// `memmove`: the direction keeps an overlap right.
///
/// # Safety
/// As [`copy_up`].
#[inline(never)]
unsafe fn move_bytes(dest: *mut u8, src: *const u8, n: usize) {
    // SAFETY: the caller's contract.
    unsafe {
        if (dest as usize) <= (src as usize) {
            copy_up(dest, src, n);
        } else {
            copy_down(dest, src, n);
        }
    }
}

/// `memcpy`, out of line so that every entry point shares it.
///
/// # Safety
/// As [`copy_up`].
#[inline(never)]
unsafe fn copy_bytes(dest: *mut u8, src: *const u8, n: usize) {
    // SAFETY: the caller's contract.
    unsafe { copy_up(dest, src, n) }
}

/// `memset`, out of line so that every entry point shares it.
///
/// # Safety
/// As [`fill`].
#[inline(never)]
unsafe fn fill_bytes(dest: *mut u8, byte: u8, n: usize) {
    // SAFETY: the caller's contract.
    unsafe { fill(dest, byte, n) }
}

/// The C entry points and the ARM EABI ones LLVM calls (note `memset`'s argument order: length
/// first). They call the functions above, never each other: LLVM knows these names, and a
/// call to `memcpy` from `__aeabi_memcpy` would be lowered back to `__aeabi_memcpy`.
macro_rules! entry {
    ($($name:ident($($arg:ident: $ty:ty),*) => $target:ident($($pass:expr),*);)*) => {$(
        /// # Safety
        /// As the C function of that name.
        #[no_mangle]
        pub unsafe extern "C" fn $name($($arg: $ty),*) {
            // SAFETY: the caller's contract is the C function's.
            unsafe { $target($($pass),*) };
        }
    )*};
}

/// # Safety
/// As C's `memcpy`.
#[no_mangle]
pub unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller's contract.
    unsafe { copy_bytes(dest, src, n) };
    dest
}

/// # Safety
/// As C's `memmove`.
#[no_mangle]
pub unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller's contract.
    unsafe { move_bytes(dest, src, n) };
    dest
}

/// # Safety
/// As C's `memset` (the byte passed as an `int`).
#[no_mangle]
pub unsafe extern "C" fn memset(dest: *mut u8, byte: i32, n: usize) -> *mut u8 {
    // SAFETY: the caller's contract.
    unsafe { fill_bytes(dest, byte as u8, n) };
    dest
}

entry! {
    __aeabi_memcpy(d: *mut u8, s: *const u8, n: usize) => copy_bytes(d, s, n);
    __aeabi_memcpy4(d: *mut u8, s: *const u8, n: usize) => copy_bytes(d, s, n);
    __aeabi_memcpy8(d: *mut u8, s: *const u8, n: usize) => copy_bytes(d, s, n);
    __aeabi_memmove(d: *mut u8, s: *const u8, n: usize) => move_bytes(d, s, n);
    __aeabi_memmove4(d: *mut u8, s: *const u8, n: usize) => move_bytes(d, s, n);
    __aeabi_memmove8(d: *mut u8, s: *const u8, n: usize) => move_bytes(d, s, n);
    __aeabi_memset(d: *mut u8, n: usize, c: i32) => fill_bytes(d, c as u8, n);
    __aeabi_memset4(d: *mut u8, n: usize, c: i32) => fill_bytes(d, c as u8, n);
    __aeabi_memset8(d: *mut u8, n: usize, c: i32) => fill_bytes(d, c as u8, n);
    __aeabi_memclr(d: *mut u8, n: usize) => fill_bytes(d, 0, n);
    __aeabi_memclr4(d: *mut u8, n: usize) => fill_bytes(d, 0, n);
    __aeabi_memclr8(d: *mut u8, n: usize) => fill_bytes(d, 0, n);
}
