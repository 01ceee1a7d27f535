//! netconsole over virtio-net on QEMU `virt`: one program, two architectures.
//!
//! - `riscv64gc-unknown-none-elf`: `qemu-system-riscv64 -M virt -bios none`, riscv-rt boot,
//!   the CLINT's machine timer, exit through the `sifive_test` device;
//! - `aarch64-unknown-none`: `qemu-system-aarch64 -M virt -cpu cortex-a53`, boot code of its
//!   own (stack, BSS, identity-mapped MMU), the generic timer through a GICv2, a PL011, exit
//!   through semihosting.
//!
//! Everything else is `firmware-app`'s: this file finds the NIC and hands it over.
//! Legacy virtio-mmio is QEMU's default; `-global virtio-mmio.force-legacy=false` gives the
//! modern layout, and the driver speaks both.
#![no_std]
#![no_main]

#[cfg(target_arch = "aarch64")]
#[path = "aarch64/mod.rs"]
mod arch;
#[cfg(target_arch = "riscv64")]
#[path = "riscv64.rs"]
mod arch;
mod nic;

use core::fmt::Write as _;

use firmware_app::{AppConsole, Platform as _};

use arch::Board;

/// The NIC's driver type on this board.
pub type Nic = nic::Nic;

/// The console: one for the whole program, which the timer interrupt and the panic handler
/// are given.
static CONSOLE: AppConsole<Nic, Board> = AppConsole::new(firmware_app::Clock::new());

/// Called by the architecture's entry point once the CPU is set up.
fn main() -> ! {
    match nic::find(arch::VIRTIO_SLOTS) {
        Ok((driver, info)) => firmware_app::run(&CONSOLE, driver, info),
        Err(error) => {
            let mut serial = firmware_app::Serial::<Board>::new();
            let _ = match error {
                Some(e) => writeln!(serial, "qemu-virtio: virtio-net bring-up failed: {e}"),
                None => writeln!(serial, "qemu-virtio: no virtio-net device found"),
            };
            Board::exit(firmware_app::ExitCode::BringUp)
        }
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    firmware_app::panic(info, &CONSOLE)
}
