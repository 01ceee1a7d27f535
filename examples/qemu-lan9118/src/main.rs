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
            say_init_error(e);
            Board::exit(firmware_app::ExitCode::BringUp)
        }
    }
}

/// Why the NIC did not come up, on the serial port: the driver's words without its `Display`,
/// which would bring `core::fmt` (several KiB) into a firmware that has none otherwise.
fn say_init_error(e: InitError) {
    let mut hex = *b"0x00000000";
    let (what, detail): (&str, &[u8]) = match e {
        InitError::NotFound { byte_test } => {
            for (i, digit) in hex[2..].iter_mut().enumerate() {
                *digit = b"0123456789abcdef"[(byte_test >> (28 - 4 * i) & 15) as usize];
            }
            ("no LAN9118: BYTE_TEST reads ", &hex)
        }
        InitError::ResetTimeout => ("HW_CFG.SRST stuck", b""),
        InitError::NotReady => ("PMT_CTRL.READY never set", b""),
        InitError::EepromBusy => ("EEPROM load stuck", b""),
        InitError::MacCsr(step) => ("MAC CSR stuck ", step.as_bytes()),
        InitError::NoMacAddress { .. } => ("no MAC configured or in the EEPROM", b""),
    };
    for piece in [b"qemu-lan9118: lan9118: ".as_slice(), what.as_bytes(), detail, b"\n"] {
        Board::serial_write(piece);
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
