//! QEMU `virt`, riscv64, machine mode: NS16550 UART, CLINT timer, `sifive_test` exit.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use firmware_app::{ExitCode, Platform};
use riscv::register::{mie, mstatus};

/// The eight virtio-mmio transports; a `-device` lands in the last one.
pub const VIRTIO_SLOTS: &[usize] = &[
    0x1000_8000,
    0x1000_7000,
    0x1000_6000,
    0x1000_5000,
    0x1000_4000,
    0x1000_3000,
    0x1000_2000,
    0x1000_1000,
];

const UART: usize = 0x1000_0000;
const UART_LSR: usize = 5;
const UART_LSR_THRE: u8 = 1 << 5;
const SIFIVE_TEST: usize = 0x10_0000;
const CLINT_MTIMECMP: usize = 0x0200_4000;
/// `mtime` ticks per microsecond on `virt` (10 MHz).
const TICKS_PER_US: u64 = 10;

/// The timer period in `mtime` ticks, for re-arming.
static PERIOD: AtomicU32 = AtomicU32::new(0);
/// The periodic timer runs: a wait must not take `mtimecmp` from it.
static TICKING: AtomicBool = AtomicBool::new(false);

/// This board.
pub struct Board;

/// The machine timer's count, through the `time` CSR (`rdtime`) rather than the CLINT's
/// `mtime` register: the same counter, but an MMIO read of `mtime` makes QEMU take its global
/// lock, which the main loop needs to move the virtio-net frames out; a retry wait spinning
/// on `mtime` would slow the very device it waits for.
fn mtime() -> u64 {
    riscv::register::time::read64()
}

fn set_mtimecmp(value: u64) {
    // SAFETY: hart 0's `mtimecmp` on QEMU `virt`; only this module writes it.
    unsafe { (CLINT_MTIMECMP as *mut u64).write_volatile(value) }
}

impl Platform for Board {
    fn now_us() -> u64 {
        mtime() / TICKS_PER_US
    }

    /// Stops the hart (`wfi`) until `mtimecmp` says the time is up, with the machine timer's
    /// interrupt enabled but interrupts off, so that it wakes the hart and runs no handler.
    /// Under QEMU TCG a spinning hart keeps a host core busy that the main loop, which moves
    /// the frames the wait is for, needs. While the periodic timer runs, it spins instead.
    fn wait_us(us: u32) {
        if TICKING.load(Ordering::Acquire) {
            return firmware_app::spin_us::<Self>(u64::from(us));
        }
        let deadline = mtime() + u64::from(us) * TICKS_PER_US;
        let enabled = mstatus::read().mie();
        // SAFETY: masks interrupts globally for the wait; restored below.
        unsafe { mstatus::clear_mie() };
        set_mtimecmp(deadline);
        // SAFETY: the machine timer's interrupt is enabled only as a wake-up source: with
        // interrupts masked, no handler runs. Cleared again before they are unmasked.
        unsafe { mie::set_mtimer() };
        // `wfi` may return early (another source, or none: it may be a no-op); the clock
        // bounds the loop either way.
        while mtime() < deadline {
            riscv::asm::wfi();
        }
        // SAFETY: as above. `mtimecmp` stays in the past, its interrupt disabled; the next
        // `start_timer` sets it before enabling.
        unsafe { mie::clear_mtimer() };
        if enabled {
            // SAFETY: restores the state found on entry.
            unsafe { mstatus::set_mie() };
        }
    }

    fn serial_write(bytes: &[u8]) {
        for &b in bytes {
            // Bounded: QEMU's UART is always ready; a real one drains in microseconds.
            for _ in 0..100_000 {
                // SAFETY: the NS16550's line status register on QEMU `virt`.
                let lsr = unsafe { ((UART + UART_LSR) as *const u8).read_volatile() };
                if lsr & UART_LSR_THRE != 0 {
                    break;
                }
            }
            // SAFETY: the NS16550's transmit holding register.
            unsafe { (UART as *mut u8).write_volatile(b) }
        }
    }

    fn start_timer(period_us: u32) {
        let ticks = u64::from(period_us) * TICKS_PER_US;
        PERIOD.store(ticks as u32, Ordering::Relaxed);
        TICKING.store(true, Ordering::Release);
        set_mtimecmp(mtime() + ticks);
        // SAFETY: enabling the machine timer interrupt, whose handler is below; the console it
        // writes to is safe to re-enter.
        unsafe {
            mie::set_mtimer();
            mstatus::set_mie();
        }
    }

    fn stop_timer() {
        // SAFETY: masking an interrupt source has no other effect.
        unsafe { mie::clear_mtimer() };
        set_mtimecmp(u64::MAX);
        TICKING.store(false, Ordering::Release);
    }

    fn exit(code: ExitCode) -> ! {
        let value = match code {
            ExitCode::Clean => 0x5555,
            other => 0x3333 | (other as u32) << 16,
        };
        // SAFETY: the `sifive_test` finisher: QEMU exits with the status in the upper half.
        unsafe { (SIFIVE_TEST as *mut u32).write_volatile(value) };
        loop {
            riscv::asm::wfi();
        }
    }
}

#[riscv_rt::core_interrupt(riscv::interrupt::Interrupt::MachineTimer)]
fn machine_timer() {
    if firmware_app::on_timer_tick(&crate::CONSOLE) {
        set_mtimecmp(mtime() + u64::from(PERIOD.load(Ordering::Relaxed)));
    } else {
        Board::stop_timer();
    }
}

#[riscv_rt::entry]
fn entry() -> ! {
    crate::main()
}
