//! QEMU `virt`, aarch64 (`-cpu cortex-a53`), EL1: boot code of our own, an identity-mapped
//! MMU, a PL011, the virtual generic timer through a GICv2, exit through semihosting.

mod gic;
mod mmu;

use core::arch::{asm, global_asm};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use firmware_app::{ExitCode, Platform};

global_asm!(include_str!("boot.s"));

/// The 32 virtio-mmio transports, last first: a `-device` lands in the last one.
pub const VIRTIO_SLOTS: &[usize] = &{
    let mut slots = [0usize; 32];
    let mut i = 0;
    while i < 32 {
        slots[i] = 0x0a00_3e00 - i * 0x200;
        i += 1;
    }
    slots
};

const PL011_DR: usize = 0x0900_0000;
const PL011_FR: usize = 0x0900_0018;
const PL011_FR_TXFF: u32 = 1 << 5;
/// The EL1 virtual timer's interrupt: PPI 11.
const TIMER_INTID: u32 = 27;

/// The timer period in counter ticks, for re-arming.
static PERIOD: AtomicU64 = AtomicU64::new(0);
/// The periodic timer runs: a wait must not take the virtual timer from it.
static TICKING: AtomicBool = AtomicBool::new(false);

/// This board.
pub struct Board;

fn counter() -> u64 {
    let value: u64;
    // SAFETY: reads the virtual counter (accessible at EL1); `isb` keeps it from being read
    // early. No memory is touched.
    unsafe { asm!("isb", "mrs {}, cntvct_el0", out(reg) value, options(nomem, nostack)) };
    value
}

fn frequency() -> u64 {
    let value: u64;
    // SAFETY: reads the counter frequency register; no memory is touched.
    unsafe { asm!("mrs {}, cntfrq_el0", out(reg) value, options(nomem, nostack)) };
    value.max(1)
}

fn arm_timer(ticks: u64) {
    // SAFETY: programs the EL1 virtual timer: a countdown, then enabled and unmasked. Its
    // interrupt goes to `aarch64_irq`.
    unsafe {
        asm!("msr cntv_tval_el0, {}", "msr cntv_ctl_el0, {}", "isb",
             in(reg) ticks, in(reg) 1u64, options(nomem, nostack));
    }
}

impl Platform for Board {
    fn now_us() -> u64 {
        let (count, freq) = (counter(), frequency());
        count / freq * 1_000_000 + count % freq * 1_000_000 / freq
    }

    /// Stops the core (`wfi`) until the virtual timer fires, with IRQs masked: a pending
    /// interrupt wakes a `wfi` even then, and no handler runs. Under QEMU TCG a spinning core
    /// keeps a host core busy that the main loop, which moves the frames the wait is for,
    /// needs. While the periodic timer runs, it spins instead; so it does inside an interrupt
    /// handler (a panic in the timer's): the GIC does not signal the timer's interrupt while
    /// that one, or any of its priority, is active, and `wfi` would never return.
    fn wait_us(us: u32) {
        if TICKING.load(Ordering::Acquire) || gic::handling() {
            return firmware_app::spin_us::<Self>(u64::from(us));
        }
        let ticks = (u64::from(us) * frequency()).div_ceil(1_000_000).max(1);
        let daif: u64;
        // SAFETY: reads the interrupt masks and masks IRQs for the wait (restored below); no
        // memory is touched.
        unsafe { asm!("mrs {}, daif", "msr daifset, #2", out(reg) daif, options(nomem, nostack)) };
        let start = counter();
        arm_timer(ticks);
        // `wfi` may return early (another source, or none: it may be a no-op); the counter
        // bounds the loop either way.
        while counter().wrapping_sub(start) < ticks {
            // SAFETY: waits for an interrupt; no memory is touched.
            unsafe { asm!("wfi", options(nomem, nostack)) };
        }
        Board::stop_timer();
        // The GIC latched the timer's interrupt as pending: clear it, or it would be taken as
        // a tick once IRQs are unmasked.
        gic::clear_pending(TIMER_INTID);
        // SAFETY: restores the masks found on entry; no memory is touched.
        unsafe { asm!("msr daif, {}", in(reg) daif, options(nomem, nostack)) };
    }

    fn serial_write(bytes: &[u8]) {
        for &b in bytes {
            // Bounded: QEMU's PL011 never fills; a real one drains in microseconds.
            for _ in 0..100_000 {
                // SAFETY: the PL011's flag register on QEMU `virt` (device memory).
                let flags = unsafe { (PL011_FR as *const u32).read_volatile() };
                if flags & PL011_FR_TXFF == 0 {
                    break;
                }
            }
            // SAFETY: the PL011's data register.
            unsafe { (PL011_DR as *mut u32).write_volatile(u32::from(b)) }
        }
    }

    fn start_timer(period_us: u32) {
        let ticks = u64::from(period_us) * frequency() / 1_000_000;
        PERIOD.store(ticks, Ordering::Relaxed);
        TICKING.store(true, Ordering::Release);
        gic::enable(TIMER_INTID);
        arm_timer(ticks);
        // SAFETY: unmasks IRQs at EL1; the only enabled source is the timer, whose handler is
        // `aarch64_irq` and writes to a console that is safe to re-enter.
        unsafe { asm!("msr daifclr, #2", options(nomem, nostack)) };
    }

    fn stop_timer() {
        TICKING.store(false, Ordering::Release);
        // SAFETY: disables the virtual timer; no memory is touched.
        unsafe { asm!("msr cntv_ctl_el0, {}", "isb", in(reg) 0u64, options(nomem, nostack)) };
    }

    fn exit(code: ExitCode) -> ! {
        // ADP_Stopped_ApplicationExit and the status: QEMU exits with the status.
        let block: [u64; 2] = [0x2_0026, code as u64];
        // SAFETY: the semihosting SYS_EXIT call (QEMU runs with -semihosting); it reads the
        // two words `block` points to and does not return.
        unsafe {
            asm!("hlt #0xf000", in("w0") 0x18u32, in("x1") block.as_ptr(), options(nostack));
        }
        loop {
            // SAFETY: waits for an event; no memory is touched. Reached only without semihosting.
            unsafe { asm!("wfe", options(nomem, nostack)) };
        }
    }
}

/// Called by `boot.s` on core 0 with a stack and a zeroed `.bss`.
#[no_mangle]
extern "C" fn aarch64_start() -> ! {
    mmu::enable_identity_map();
    gic::init();
    // The timer's interrupt also wakes `wait_us`, before the periodic timer ever runs.
    gic::enable(TIMER_INTID);
    crate::main()
}

/// Called by `boot.s` for every IRQ, with IRQs masked.
#[no_mangle]
extern "C" fn aarch64_irq() {
    let Some(intid) = gic::acknowledge() else { return };
    if intid == TIMER_INTID {
        if firmware_app::on_timer_tick(&crate::CONSOLE) {
            arm_timer(PERIOD.load(Ordering::Relaxed));
        } else {
            Board::stop_timer();
        }
    }
    gic::end(intid);
}

/// Called by `boot.s` for any other exception: says what happened and ends the run.
#[no_mangle]
extern "C" fn aarch64_fault(esr: u64, elr: u64, far: u64) -> ! {
    use core::fmt::Write as _;
    let mut serial = firmware_app::Serial::<Board>::new();
    let _ = writeln!(serial, "qemu-virtio: exception: ESR {esr:#x} ELR {elr:#x} FAR {far:#x}");
    Board::exit(ExitCode::UnexpectedPanic)
}

/// Interrupts off for a critical section: the timer interrupt is the only other context.
struct SingleCore;
critical_section::set_impl!(SingleCore);

// SAFETY: one core runs (the others are parked in `boot.s`), so masking IRQs excludes every
// other context; `release` restores the mask `acquire` found, so sections nest.
unsafe impl critical_section::Impl for SingleCore {
    unsafe fn acquire() -> critical_section::RawRestoreState {
        let daif: u64;
        // SAFETY: reads the interrupt mask, then masks IRQs; no memory is touched.
        unsafe { asm!("mrs {}, daif", "msr daifset, #2", out(reg) daif, options(nomem, nostack)) };
        daif & (1 << 7) == 0
    }

    unsafe fn release(irqs_were_enabled: critical_section::RawRestoreState) {
        if irqs_were_enabled {
            // SAFETY: unmasks IRQs, as they were before `acquire`.
            unsafe { asm!("msr daifclr, #2", options(nomem, nostack)) };
        }
    }
}
