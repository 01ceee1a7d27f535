//! netconsole over the LAN9118 of QEMU's `mps2-an386` (Cortex-M4, `thumbv7em-none-eabihf`).
//!
//! The board glue only: cortex-m-rt boot, a free-running CMSDK timer for the clock, SysTick
//! for the timer-interrupt lines, the CMSDK UART for the run's own log, semihosting to end
//! QEMU with a status. Everything netconsole does is `firmware-app`'s.
#![no_std]
#![no_main]

mod board;
mod critical;
mod mem;
mod semihosting;
mod vectors;

use cortex_m_rt::{entry, exception};
use firmware_app::{AppConsole, DriverInfo, Platform as _};
use netpoll_drivers::lan9118::{Config, InitError, Lan9118, Mmio};

use board::Board;

/// The LAN9220's register block on MPS2 AN385/AN386.
const LAN9118_BASE: usize = 0x4020_0000;

/// The NIC's driver on this board.
type Nic = Lan9118<Mmio>;

/// The console: one for the whole program, which SysTick and the panic handler are given.
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
        Err(e) => init_failed(e),
    }
}

/// Why the NIC did not come up, on the serial port, then the bring-up exit: the driver's words
/// in short, without its `Display`, which would bring `core::fmt` (several KiB) into a firmware
/// that has none otherwise.
fn init_failed(e: InitError) -> ! {
    const CHIP: &[u8] = b"lan9118: ";
    let (what, detail): (&[u8], &[u8]) = match e {
        InitError::NotFound { .. } => (CHIP, b"BYTE_TEST wrong, no chip"),
        InitError::ResetTimeout => (CHIP, b"HW_CFG.SRST stuck"),
        InitError::NotReady => (CHIP, b"PMT_CTRL.READY never set"),
        InitError::EepromBusy => (CHIP, b"EEPROM load stuck"),
        InitError::MacCsr(step) => (b"lan9118: MAC CSR stuck ", step.as_bytes()),
        InitError::NoMacAddress { .. } => (CHIP, b"no MAC address"),
    };
    firmware_app::bring_up_failed::<Board>(what, detail)
}

#[exception]
fn SysTick() {
    if !firmware_app::on_timer_tick(&CONSOLE) {
        Board::stop_timer();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    firmware_app::panic(info, &CONSOLE)
}
