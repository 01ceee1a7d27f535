//! netconsole on a Nucleo-F429ZI: the firmware's `log` output and its panic message as UDP
//! datagrams, Linux netconsole's format, through the board's Ethernet port (STM32F429ZI MAC,
//! LAN8742A PHY) driven by `netpoll_drivers::stm32`. See the README for flashing and listening.
#![no_std]
#![no_main]

mod board;
mod panic;

use cortex_m_rt::entry;
use netconsole::{global, MacSource, Netconsole, NoSystemInfo, Target};
use netpoll_core::{MacAddr, NicEngine, ResolvePolicy};
use netpoll_drivers::stm32::{Config, DmaRings, EthMmio, Stm32Eth, ETH_BASE};
use stm32f4xx_hal::pac;
use stm32f4xx_hal::timer::SysDelay;

/// The targets, in Linux's `netconsole=` syntax (`[+][r][src-port]@[src-ip]/[dev],[tgt-port]@
/// tgt-ip/[tgt-mac]`, several joined by `;`). `NETCONSOLE='...' cargo build --release` sets
/// others. With no target MAC, the target is found by ARP, or gets broadcast frames.
const OPTIONS: &str = match option_env!("NETCONSOLE") {
    Some(options) => options,
    None => "6665@192.168.1.50/,6666@192.168.1.1/",
};

/// TX and RX descriptors: four of each, 12.1 KiB with their buffers.
const TX_SLOTS: usize = 4;
const RX_SLOTS: usize = 4;

type Nic = Stm32Eth<'static, EthMmio, TX_SLOTS, RX_SLOTS>;

/// The console, for `log`, the main loop and the panic handler.
pub(crate) static CONSOLE: Netconsole<Nic, SysDelay> = Netconsole::new(NoSystemInfo);

/// Everything the Ethernet DMA touches. A `static` in `.bss`, so in SRAM (memory.x leaves the
/// CCM RAM out, which the DMA cannot reach); the Cortex-M4 has no data cache to keep coherent.
static mut RINGS: DmaRings<TX_SLOTS, RX_SLOTS> = DmaRings::new();

/// Core clock cycles in 10 ms: the main loop's step.
const CYCLES_10_MS: u32 = board::HCLK_HZ / 100;

#[entry]
fn main() -> ! {
    let (Some(dp), Some(cp)) = (pac::Peripherals::take(), cortex_m::Peripherals::take()) else {
        panic::halt();
    };
    let mut board = board::setup(dp, cp);

    global::set(&CONSOLE);
    if log::set_logger(&CONSOLE).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
    // Logged before the NIC is attached: it waits in the backlog and leaves first.
    log::info!(
        "stm32f4-eth: netconsole on a Nucleo-F429ZI, HCLK {} MHz",
        board.hclk_hz / 1_000_000
    );

    // SAFETY: `main` runs once and this is the only place that names RINGS: the reference is
    // the only one, handed to the driver for the rest of the program.
    let rings = unsafe { &mut *core::ptr::addr_of_mut!(RINGS) };
    // SAFETY: ETH_BASE is the STM32F429's Ethernet peripheral, `board::setup` turned its clocks
    // on, and nothing else in this program touches its registers.
    let regs = unsafe { EthMmio::new(ETH_BASE) };
    let mac = MacAddr(board::mac_address());
    let config = Config { mac, hclk_hz: board.hclk_hz, phy_address: 0 };
    let eth = match Stm32Eth::new(regs, rings, config) {
        Ok(eth) => eth,
        // Nothing can reach the network: the red LED says so.
        Err(_) => panic::halt(),
    };
    let mut engine = NicEngine::with_delay(eth, board.delay);
    // Linux waits up to 4 s for the carrier (netconsole's carrier_timeout).
    let carrier = engine.wait_for_carrier(4000);
    let mode = engine.driver().link_mode();
    if CONSOLE.attach(engine).is_err() {
        panic::halt();
    }
    add_targets(OPTIONS);
    log::info!("eth: MAC {mac}, carrier {carrier}, link {mode:?}");

    let mut line = 0u32;
    loop {
        line += 1;
        let _ = CONSOLE.with_nic(|nic| nic.refresh_link());
        log::info!("line {line}: uptime about {line} s; press B1 to panic");
        board.green.toggle();
        for _ in 0..100 {
            if board.button.is_high() {
                panic!("B1 pressed after {line} lines: panicking on purpose");
            }
            // Answers ARP for our address, sends what waits in the backlog.
            CONSOLE.poll();
            cortex_m::asm::delay(CYCLES_10_MS);
        }
    }
}

/// Adds and enables every target of `options`; says in the log what went wrong with the rest.
fn add_targets(options: &str) {
    let resolve = ResolvePolicy { polls: 1000, wait_us: 100, requests: 3 };
    for (i, parsed) in netconsole_options::targets(options).enumerate() {
        let target = match parsed {
            Ok(parsed) => Target::from_options(&parsed.target, None),
            Err(e) => {
                log::error!("netconsole: target {i}: {e}");
                continue;
            }
        };
        let enabled = match target {
            Ok(t) => CONSOLE.add_target(t).and_then(|index| CONSOLE.enable(index, resolve)),
            Err(e) => {
                log::error!("netconsole: target {i}: {e}");
                continue;
            }
        };
        match enabled {
            Ok(MacSource::Configured(mac)) => log::info!("netconsole: target {i} to {mac}"),
            Ok(MacSource::Resolved(mac)) => log::info!("netconsole: target {i} at {mac} (ARP)"),
            Ok(MacSource::Broadcast(why)) => {
                log::warn!("netconsole: target {i}: broadcast ({why:?})")
            }
            Err(e) => log::error!("netconsole: target {i}: {e}"),
        }
    }
}
