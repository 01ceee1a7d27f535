//! The GICv2 of QEMU `virt`: distributor at 0x0800_0000, CPU interface at 0x0801_0000.

const GICD: usize = 0x0800_0000;
const GICC: usize = 0x0801_0000;
const GICD_CTLR: usize = GICD;
const GICD_ISENABLER: usize = GICD + 0x100;
const GICD_ICPENDR: usize = GICD + 0x280;
const GICD_IPRIORITYR: usize = GICD + 0x400;
const GICC_CTLR: usize = GICC;
const GICC_PMR: usize = GICC + 0x4;
const GICC_IAR: usize = GICC + 0xc;
const GICC_EOIR: usize = GICC + 0x10;
const GICC_RPR: usize = GICC + 0x14;
/// The running priority with no interrupt active.
const IDLE_PRIORITY: u32 = 0xff;
/// INTIDs from 1020 up are special ("spurious").
const SPURIOUS: u32 = 1020;

fn write(at: usize, value: u32) {
    // SAFETY: `at` is a register of the GIC on QEMU `virt` (device memory, identity-mapped).
    unsafe { (at as *mut u32).write_volatile(value) }
}

fn read(at: usize) -> u32 {
    // SAFETY: as in `write`.
    unsafe { (at as *const u32).read_volatile() }
}

/// Turns the distributor and this core's interface on, every priority let through.
pub fn init() {
    write(GICD_CTLR, 1);
    write(GICC_PMR, 0xff);
    write(GICC_CTLR, 1);
}

/// Enables interrupt `intid` at a middle priority.
pub fn enable(intid: u32) {
    let n = intid as usize;
    // SAFETY: the priority byte of `intid` in the distributor (byte access is allowed).
    unsafe { ((GICD_IPRIORITYR + n) as *mut u8).write_volatile(0x80) };
    write(GICD_ISENABLER + 4 * (n / 32), 1 << (n % 32));
}

/// Clears a pending `intid` that was never taken.
pub fn clear_pending(intid: u32) {
    let n = intid as usize;
    write(GICD_ICPENDR + 4 * (n / 32), 1 << (n % 32));
}

/// Takes the pending interrupt; `None` if it was spurious.
pub fn acknowledge() -> Option<u32> {
    let intid = read(GICC_IAR) & 0x3ff;
    (intid < SPURIOUS).then_some(intid)
}

/// Whether an interrupt is active on this core (taken, not yet ended): while one is, the CPU
/// interface signals only interrupts of a higher priority, and never that one again.
pub fn handling() -> bool {
    read(GICC_RPR) & 0xff != IDLE_PRIORITY
}

/// Ends the handling of `intid`.
pub fn end(intid: u32) {
    write(GICC_EOIR, intid);
}
