//! An identity map with 1 GiB blocks: with the MMU off, every data access is to Device memory,
//! where unaligned accesses and exclusives are not allowed; with it on, RAM is Normal memory.

use core::arch::asm;

/// Level-1 table for a 39-bit address space: entry `i` maps `i` GiB.
#[repr(C, align(4096))]
struct Table([u64; 512]);

static mut TABLE: Table = Table([0; 512]);

/// MAIR: attribute 0 Device-nGnRnE, attribute 1 Normal write-back.
const MAIR: u64 = 0xff << 8;
const BLOCK: u64 = 0b01;
const ACCESS_FLAG: u64 = 1 << 10;
const INNER_SHAREABLE: u64 = 0b11 << 8;
const ATTR_NORMAL: u64 = 1 << 2;
const EXECUTE_NEVER: u64 = (1 << 54) | (1 << 53);
/// TCR: T0SZ 25 (39 bits), walks cached write-back inner shareable, 4 KiB granule, no TTBR1.
const TCR: u64 = 25 | (1 << 8) | (1 << 10) | (0b11 << 12) | (1 << 23);
/// SCTLR: MMU, data cache, instruction cache.
const SCTLR_ON: u64 = 1 | (1 << 2) | (1 << 12);

/// Maps 0-1 GiB (devices) as Device memory and 1-2 GiB (RAM) as Normal memory, and turns the
/// MMU on.
pub fn enable_identity_map() {
    // SAFETY: runs once, on one core, before anything else touches `TABLE`; the MMU is off, so
    // nothing walks the table while it is written.
    let table = unsafe { &mut *core::ptr::addr_of_mut!(TABLE) };
    table.0[0] = BLOCK | ACCESS_FLAG | EXECUTE_NEVER;
    table.0[1] = 0x4000_0000 | BLOCK | ACCESS_FLAG | INNER_SHAREABLE | ATTR_NORMAL;
    let base = table.0.as_ptr() as u64;
    // SAFETY: the translation registers are set before the MMU is turned on, and the map is
    // the identity for the code, stack and data in use, so execution continues unchanged.
    unsafe {
        asm!(
            "msr mair_el1, {mair}",
            "msr tcr_el1, {tcr}",
            "msr ttbr0_el1, {ttbr}",
            "dsb ish",
            "isb",
            "tlbi vmalle1",
            "dsb ish",
            "isb",
            "mrs {tmp}, sctlr_el1",
            "orr {tmp}, {tmp}, {on}",
            "msr sctlr_el1, {tmp}",
            "isb",
            mair = in(reg) MAIR,
            tcr = in(reg) TCR,
            ttbr = in(reg) base,
            on = in(reg) SCTLR_ON,
            tmp = out(reg) _,
            options(nostack),
        );
    }
}
