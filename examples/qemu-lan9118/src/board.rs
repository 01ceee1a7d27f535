//! MPS2 AN385/AN386 as QEMU models it: 25 MHz system clock, CMSDK APB timer 0 free-running
//! as the clock, SysTick for the periodic interrupt, CMSDK UART 0 as the serial port.

use core::sync::atomic::{AtomicU32, Ordering};

use firmware_app::{ExitCode, Platform};

/// System (and SysTick, and APB timer) clock.
const CLOCK_HZ: u32 = 25_000_000;
const TICKS_PER_US: u32 = CLOCK_HZ / 1_000_000;

/// CMSDK APB timer 0: CTRL, VALUE (counts down), RELOAD.
const TIMER0: usize = 0x4000_0000;
const TIMER_CTRL: usize = 0x0;
const TIMER_VALUE: usize = 0x4;
const TIMER_RELOAD: usize = 0x8;
const TIMER_ENABLE: u32 = 1 << 0;

/// SysTick (the Cortex-M's own timer): CSR (control and status), RVR (reload), CVR (current).
/// Written whole, one store each, where cortex-m's `SYST` methods read-modify-write CSR once
/// per bit.
const SYST: usize = 0xE000_E010;
const SYST_CSR: usize = 0x0;
const SYST_RVR: usize = 0x4;
const SYST_CVR: usize = 0x8;
const SYST_ENABLE: u32 = 1 << 0;
const SYST_TICKINT: u32 = 1 << 1;
const SYST_CLKSOURCE_CORE: u32 = 1 << 2;

/// CMSDK APB UART 0: DATA, STATE (bit 0: TX full), CTRL (bit 0: TX enable), BAUDDIV.
const UART0: usize = 0x4000_4000;
const UART_DATA: usize = 0x0;
const UART_STATE: usize = 0x4;
const UART_CTRL: usize = 0x8;
const UART_BAUDDIV: usize = 0x10;
const UART_TX_FULL: u32 = 1 << 0;
const UART_TX_ENABLE: u32 = 1 << 0;

/// The clock's state: the timer reading up to which time is counted (whole microseconds
/// only: the ticks of a microsecond begun wait for the next reading), and the microseconds
/// since `init`. Kept so that `now_us` needs no 64-bit division (a software routine on
/// Cortex-M, about 900 bytes): one 32-bit divide per call.
static COUNTED_TICKS: AtomicU32 = AtomicU32::new(0);
static MICROS_LOW: AtomicU32 = AtomicU32::new(0);
static MICROS_HIGH: AtomicU32 = AtomicU32::new(0);

fn write(addr: usize, value: u32) {
    // SAFETY: `addr` is a register of the CMSDK timer or UART on MPS2, or of the core's SysTick
    // (device memory, always mapped); only this module touches them.
    unsafe { (addr as *mut u32).write_volatile(value) }
}

fn read(addr: usize) -> u32 {
    // SAFETY: as in `write`; these reads have no side effects.
    unsafe { (addr as *const u32).read_volatile() }
}

/// Starts the clock and the serial port. Called once, first thing.
pub fn init() {
    write(TIMER0 + TIMER_RELOAD, u32::MAX);
    write(TIMER0 + TIMER_VALUE, u32::MAX);
    write(TIMER0 + TIMER_CTRL, TIMER_ENABLE);
    write(UART0 + UART_BAUDDIV, 16);
    write(UART0 + UART_CTRL, UART_TX_ENABLE);
}

/// This board.
pub struct Board;

impl Platform for Board {
    fn now_us() -> u64 {
        // Interrupts off for the read-update, so that SysTick's reading cannot interleave; a
        // handful of instructions. The counter wraps every 171 s; the program reads it far
        // more often than that.
        cortex_m::interrupt::free(|_| {
            let now = u32::MAX - read(TIMER0 + TIMER_VALUE);
            let counted = COUNTED_TICKS.load(Ordering::Relaxed);
            let micros = now.wrapping_sub(counted) / TICKS_PER_US;
            COUNTED_TICKS.store(counted.wrapping_add(micros * TICKS_PER_US), Ordering::Relaxed);
            let total = (u64::from(MICROS_HIGH.load(Ordering::Relaxed)) << 32
                | u64::from(MICROS_LOW.load(Ordering::Relaxed)))
                + u64::from(micros);
            MICROS_LOW.store(total as u32, Ordering::Relaxed);
            MICROS_HIGH.store((total >> 32) as u32, Ordering::Relaxed);
            total
        })
    }

    // Not inlined: `say` writes its prefix, its pieces and its newline with three calls here,
    // each of which was a copy of this loop.
    #[inline(never)]
    fn serial_write(bytes: &[u8]) {
        for &b in bytes {
            // Bounded: QEMU's UART drains at once; a real one within a character time.
            for _ in 0..100_000 {
                if read(UART0 + UART_STATE) & UART_TX_FULL == 0 {
                    break;
                }
            }
            write(UART0 + UART_DATA, u32::from(b));
        }
    }

    fn start_timer(period_us: u32) {
        write(SYST + SYST_RVR, period_us.saturating_mul(TICKS_PER_US).clamp(1, 0x00FF_FFFF) - 1);
        write(SYST + SYST_CVR, 0);
        write(SYST + SYST_CSR, SYST_CLKSOURCE_CORE | SYST_TICKINT | SYST_ENABLE);
    }

    fn stop_timer() {
        write(SYST + SYST_CSR, 0);
    }

    fn exit(code: ExitCode) -> ! {
        crate::semihosting::exit(code as u32)
    }
}
