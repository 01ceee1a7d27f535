//! QEMU `virt`, riscv64, machine mode: NS16550 UART, CLINT timer, `sifive_test` exit.

use core::sync::atomic::{AtomicU32, Ordering};

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
const CLINT_MTIME: usize = 0x0200_bff8;
/// `mtime` ticks per microsecond on `virt` (10 MHz).
const TICKS_PER_US: u64 = 10;

/// The timer period in `mtime` ticks, for re-arming.
static PERIOD: AtomicU32 = AtomicU32::new(0);

/// This board.
pub struct Board;

fn mtime() -> u64 {
    // SAFETY: the CLINT's `mtime` register on QEMU `virt`: device memory, always mapped in
    // machine mode, read-only here.
    unsafe { (CLINT_MTIME as *const u64).read_volatile() }
}

fn set_mtimecmp(value: u64) {
    // SAFETY: hart 0's `mtimecmp` on QEMU `virt`; only this module writes it.
    unsafe { (CLINT_MTIMECMP as *mut u64).write_volatile(value) }
}

impl Platform for Board {
    fn now_us() -> u64 {
        mtime() / TICKS_PER_US
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
    if firmware_app::on_timer_tick() {
        set_mtimecmp(mtime() + u64::from(PERIOD.load(Ordering::Relaxed)));
    } else {
        Board::stop_timer();
    }
}

#[riscv_rt::entry]
fn entry() -> ! {
    crate::main()
}
