//! netconsole over the LAN9118 of QEMU's `mps2-an386` (Cortex-M4, `thumbv7em-none-eabihf`).
//!
//! The board glue only: cortex-m-rt boot, a free-running CMSDK timer for the clock, SysTick
//! for the timer-interrupt lines, the CMSDK UART for the run's own log, semihosting to end
//! QEMU with a status. Everything netconsole does is `firmware-app`'s.
#![no_std]
#![no_main]

mod board;
mod semihosting;
mod vectors;

use cortex_m_rt::{entry, exception};
use firmware_app::{AppConsole, DriverInfo, Platform as _};
use netpoll_drivers::lan9118::{Config, Lan9118, Mmio};

use board::Board;

/// The LAN9220's register block on MPS2 AN385/AN386.
const LAN9118_BASE: usize = 0x4020_0000;

/// The NIC's driver on this board.
type Nic = Lan9118<Mmio>;

/// The console: one for the whole program, reached from SysTick and the panic handler through
/// `netconsole::global`.
static CONSOLE: AppConsole<Nic, Board> = AppConsole::new(firmware_app::Clock::new());

#[entry]
fn main() -> ! {
    board::init();
    // SAFETY: the LAN9220 of MPS2 AN385/AN386 sits at this address; this is the only handle.
    let regs = unsafe { Mmio::new(LAN9118_BASE) };
    match Lan9118::new(regs, Config::default()) {
        Ok(nic) => {
            let info = DriverInfo { name: "lan9118", layout: "32-bit PIO" };
            firmware_app::run(&CONSOLE, nic, info)
        }
        Err(e) => {
            use core::fmt::Write as _;
            let _ = writeln!(firmware_app::Serial::<Board>::new(), "qemu-lan9118: {e}");
            Board::exit(firmware_app::ExitCode::BringUp)
        }
    }
}

#[exception]
fn SysTick() {
    if !firmware_app::on_timer_tick() {
        Board::stop_timer();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    firmware_app::panic(info, &CONSOLE)
}
