//! `src/mem.rs` on the core it is for: every `__aeabi_mem*` entry point (the `4` and `8`
//! names too, with the alignment they promise) and the C functions, against a byte loop, for
//! every source and destination offset from 0 to 11 and length from 0 to 48: both directions of
//! an overlapping `memmove`, zero and odd lengths, unaligned pointers, and the bytes around the
//! destination left alone. Exits 0 when all agree, otherwise with the failing function's number
//! (1 to 22, see `main`; 255 for a panic) in the status's low byte. The functions are called
//! through pointers the compiler cannot see through, so it is their code that runs, not LLVM's
//! idea of them.
//!
//! `cargo xtask qemu mem-check`, or `cargo run --release --example mem-check` here.
#![no_std]
#![no_main]

#[path = "../src/mem.rs"]
mod mem;
#[path = "../src/semihosting.rs"]
mod semihosting;
#[path = "../src/vectors.rs"]
mod vectors;

use core::hint::black_box;

use cortex_m_rt::entry;

unsafe extern "C" {
    fn __aeabi_memcpy(dest: *mut u8, src: *const u8, n: usize);
    fn __aeabi_memcpy4(dest: *mut u8, src: *const u8, n: usize);
    fn __aeabi_memcpy8(dest: *mut u8, src: *const u8, n: usize);
    fn __aeabi_memmove4(dest: *mut u8, src: *const u8, n: usize);
    fn __aeabi_memmove8(dest: *mut u8, src: *const u8, n: usize);
    fn __aeabi_memset4(dest: *mut u8, n: usize, byte: i32);
    fn __aeabi_memset8(dest: *mut u8, n: usize, byte: i32);
    fn __aeabi_memclr4(dest: *mut u8, n: usize);
    fn __aeabi_memclr8(dest: *mut u8, n: usize);
}

type Copy = unsafe extern "C" fn(*mut u8, *const u8, usize);
type Set = unsafe extern "C" fn(*mut u8, usize, i32);
type Clear = unsafe extern "C" fn(*mut u8, usize);

const LEN: usize = 64;
const MAX_OFFSET: usize = 12;
const MAX_N: usize = 48;

#[repr(C, align(8))]
struct Buf([u8; LEN]);

/// A byte pattern that differs at every place and from one round to the next.
fn pattern(salt: usize) -> Buf {
    let mut b = Buf([0; LEN]);
    for (i, x) in b.0.iter_mut().enumerate() {
        *x = (i * 7 + salt * 13 + 1) as u8;
    }
    b
}

/// Exits with the case: `kind` in the low byte (what a shell sees of QEMU's exit status), then
/// the source offset (or the byte), the destination offset and the length.
fn fail(kind: u32, s: usize, d: usize, n: usize) -> ! {
    semihosting::exit(kind | (s as u32) << 8 | (d as u32) << 16 | (n as u32) << 24)
}

/// `memmove` (and `memcpy` when the ranges cannot overlap) in one buffer, against a copy made
/// through a second buffer; `step` is the alignment the entry point promises.
fn check_copy(kind: u32, f: Copy, step: usize, overlapping: bool) {
    for s in (0..MAX_OFFSET).step_by(step) {
        for d in (0..MAX_OFFSET).step_by(step) {
            for n in 0..=MAX_N {
                let salt = s + d + n;
                let (mut got, want) = if overlapping {
                    let mut buf = pattern(salt);
                    let mut want = pattern(salt);
                    let mut tmp = [0u8; LEN];
                    tmp[..n].copy_from_slice(&buf.0[s..s + n]);
                    want.0[d..d + n].copy_from_slice(&tmp[..n]);
                    let base = buf.0.as_mut_ptr();
                    // SAFETY: both ranges inside `buf` (offsets + n < LEN).
                    unsafe { black_box(f)(base.add(d), base.add(s), n) };
                    (buf, want)
                } else {
                    let src = pattern(salt);
                    let mut dst = Buf([0xEE; LEN]);
                    let mut want = Buf([0xEE; LEN]);
                    want.0[d..d + n].copy_from_slice(&src.0[s..s + n]);
                    // SAFETY: both ranges inside their buffers, which do not overlap.
                    unsafe { black_box(f)(dst.0.as_mut_ptr().add(d), src.0.as_ptr().add(s), n) };
                    (dst, want)
                };
                if black_box(&mut got).0 != want.0 {
                    fail(kind, s, d, n);
                }
            }
        }
    }
}

fn check_set(kind: u32, f: Set, step: usize) {
    for d in (0..MAX_OFFSET).step_by(step) {
        for n in 0..=MAX_N {
            for byte in [0i32, 0xA5, 0x1FF, -1, 0x7F] {
                let mut buf = pattern(d + n);
                let mut want = pattern(d + n);
                want.0[d..d + n].fill(byte as u8);
                // SAFETY: the range is inside `buf`.
                unsafe { black_box(f)(buf.0.as_mut_ptr().add(d), n, byte) };
                if black_box(&mut buf).0 != want.0 {
                    fail(kind, byte as u8 as usize, d, n);
                }
            }
        }
    }
}

fn check_clear(kind: u32, f: Clear, step: usize) {
    for d in (0..MAX_OFFSET).step_by(step) {
        for n in 0..=MAX_N {
            let mut buf = pattern(d + n);
            let mut want = pattern(d + n);
            want.0[d..d + n].fill(0);
            // SAFETY: the range is inside `buf`.
            unsafe { black_box(f)(buf.0.as_mut_ptr().add(d), n) };
            if black_box(&mut buf).0 != want.0 {
                fail(kind, 0, d, n);
            }
        }
    }
}

unsafe extern "C" fn c_memcpy(dest: *mut u8, src: *const u8, n: usize) {
    // SAFETY: the caller's contract; the C function must give back `dest`.
    if unsafe { black_box(mem::memcpy as unsafe extern "C" fn(_, _, _) -> _)(dest, src, n) } != dest
    {
        fail(20, 0, 0, n);
    }
}

unsafe extern "C" fn c_memmove(dest: *mut u8, src: *const u8, n: usize) {
    // SAFETY: as `c_memcpy`.
    if unsafe { black_box(mem::memmove as unsafe extern "C" fn(_, _, _) -> _)(dest, src, n) }
        != dest
    {
        fail(21, 0, 0, n);
    }
}

unsafe extern "C" fn c_memset(dest: *mut u8, n: usize, byte: i32) {
    // SAFETY: as `c_memcpy`.
    if unsafe { black_box(mem::memset as unsafe extern "C" fn(_, _, _) -> _)(dest, byte, n) }
        != dest
    {
        fail(22, 0, 0, n);
    }
}

#[entry]
fn main() -> ! {
    check_copy(1, __aeabi_memcpy, 1, false);
    check_copy(2, __aeabi_memcpy4, 4, false);
    check_copy(3, __aeabi_memcpy8, 8, false);
    check_copy(4, mem::__aeabi_memmove, 1, true);
    check_copy(5, __aeabi_memmove4, 4, true);
    check_copy(6, __aeabi_memmove8, 8, true);
    check_copy(7, c_memcpy, 1, false);
    check_copy(8, c_memmove, 1, true);
    check_set(9, mem::__aeabi_memset, 1);
    check_set(10, __aeabi_memset4, 4);
    check_set(11, __aeabi_memset8, 8);
    check_set(12, c_memset, 1);
    check_clear(13, mem::__aeabi_memclr, 1);
    check_clear(14, __aeabi_memclr4, 4);
    check_clear(15, __aeabi_memclr8, 8);
    semihosting::exit(0)
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    semihosting::exit(0xFF)
}
