//! The netconsole stack alone on the LAN9118, for `cargo xtask size`: the console, the engine
//! and the driver with one basic target to 10.0.2.2:6666, one line, the panic path, and
//! nothing else (no option parsing, no formatting, no timer, no clock). What this costs is what
//! a firmware pays for netconsole on this NIC; the main example adds `firmware-app`'s script.
//!
//! It runs too: `cargo run --release --bin console-only`, with a listener on 127.0.0.1:6666.
#![no_std]
#![no_main]

#[path = "../critical.rs"]
mod critical;
#[path = "../mem.rs"]
mod mem;
#[path = "../semihosting.rs"]
mod semihosting;
#[path = "../vectors.rs"]
mod vectors;

use core::net::{IpAddr, Ipv4Addr};

use cortex_m_rt::entry;
use firmware_app::ExitCode;
use netconsole::{Netconsole, NoSystemInfo, Target};
use netpoll_core::{Endpoint, NicEngine, NoDelay, ResolvePolicy};
use netpoll_drivers::lan9118::{Config, Lan9118, Mmio};

/// One basic target, no userdata, a 1 KiB backlog.
type Console = Netconsole<Lan9118<Mmio>, NoDelay, NoSystemInfo, 0, 1024, [Option<Target<0>>; 1]>;

static CONSOLE: Console = Netconsole::new(NoSystemInfo);

const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 2, 15));
const HOST: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 2, 2));

#[entry]
fn main() -> ! {
    // SAFETY: the LAN9220 of MPS2 AN385/AN386 sits at this address; this is the only handle.
    let regs = unsafe { Mmio::new(0x4020_0000) };
    let Ok(nic) = Lan9118::new(regs, Config::default()) else { exit(ExitCode::BringUp) };
    if CONSOLE.attach(NicEngine::new(nic)).is_err() {
        exit(ExitCode::BringUp);
    }
    let Ok(index) = CONSOLE.add_target(Target::new(Endpoint::new(LOCAL, HOST))) else {
        exit(ExitCode::BringUp)
    };
    if CONSOLE.enable(index, ResolvePolicy::default()).is_err() {
        exit(ExitCode::BringUp);
    }
    CONSOLE.log(6, b"netconsole on the LAN9118, console only");
    panic!()
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    CONSOLE.log_panic(0, b"panic: the end of the console-only example");
    let _ = CONSOLE.with_nic(|nic| nic.wait_tx_drained(1000, 0));
    exit(ExitCode::Clean)
}

fn exit(code: ExitCode) -> ! {
    semihosting::exit(code as u32)
}
