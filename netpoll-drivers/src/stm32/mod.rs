//! The STM32F4/F7 Ethernet MAC (a Synopsys DWMAC 3.x with its own DMA), in RMII mode with a
//! LAN8742A PHY as on Nucleo-144 boards, polled, with normal (4-word) descriptors in ring mode.
//!
//! - [`descriptors`]: the descriptor and buffer memory ([`DmaRings`]) and the OWN-bit hand-over.
//! - [`registers`]: the ETH_MAC/ETH_DMA registers behind [`EthRegisters`]; [`EthMmio`] is the
//!   one place with volatile register access.
//! - [`mdio`]: the PHY over MDIO: reset, auto-negotiation, link, speed and duplex.
//! - [`Stm32Eth`]: bring-up and the [`NetPoll`](netpoll_core::NetPoll) contract.
//!
//! # How a frame goes out and comes in
//!
//! `xmit_with` fills the next free TX buffer in place (the engine writes the headers and the
//! payload straight there), pads it to 60 bytes, writes the length, fences, sets OWN, fences
//! again and writes the transmit poll demand register, which wakes the DMA if it had suspended
//! on a descriptor it did not own. `reclaim_tx` walks, oldest first, the descriptors the DMA
//! gave back (OWN clear), counting those with the error summary bit, and stops at the first it
//! still owns: at most one pass. `receive` hands over, oldest first, up to `budget` frames whose
//! OWN bit is clear, drops (and counts) frames the MAC flagged, gives every descriptor back and
//! writes the receive poll demand register.
//!
//! A DMA that never clears OWN (stopped by a bus error, never started) cannot hang anything:
//! every call does one bounded pass, the ring fills, `xmit_with` says `Busy`, and the engine's
//! retry budget ends the send. It shows in [`Stm32Counters::tx_stalls`],
//! [`Stm32Eth::tx_stalls_in_a_row`] and [`Stm32Eth::dma_state`].
//!
//! # Where the rings must live
//!
//! [`DmaRings`] holds everything the DMA touches; the firmware gives the driver a `&'static mut`
//! to one (a `static`, or `cortex_m::singleton!`).
//!
//! - **STM32F4**: anywhere in SRAM1/SRAM2/SRAM3 (from `0x2000_0000`), **not in the 64 KiB CCM
//!   data RAM** at `0x1000_0000`: it is not on the bus matrix, only the CPU reaches it (RM0090,
//!   "System architecture"). The driver refuses rings there ([`InitError::NotDmaReachable`]).
//!   A linker script that puts `.bss` in CCM must move the rings out.
//! - **STM32F7**: the Cortex-M7's data cache makes the rings incoherent: the CPU would read
//!   stale descriptors from the cache, and the DMA would read frames still sitting in it. This
//!   driver does no cache maintenance, so the rings must be in memory the cache does not hold:
//!   an MPU region covering them as normal, non-cacheable memory (TEX=0b001, C=0, B=0), as ST's
//!   own Ethernet examples configure; or DTCM RAM (from `0x2000_0000`), which the cache never
//!   holds and the Ethernet DMA reaches through the core's AHBS port (RM0385, figure 1). Mind
//!   that the usual F7 `memory.x` runs one RAM region from DTCM on into SRAM1, which *is*
//!   cached: put the `static` in a section of its own with `#[link_section]` and place that
//!   section in the MPU region or in DTCM.
//!
//! # Before `Stm32Eth::new`
//!
//! RMII is chosen in SYSCFG_PMC (MII_RMII_SEL) while the MAC's clocks are still off; then the
//! ETHMAC, ETHMACTX and ETHMACRX clocks go on and the RMII pins go to alternate function 11 at
//! high speed. The driver leaves RCC, SYSCFG and GPIO to the firmware's HAL; the Nucleo-F429ZI
//! example does all of it.
//!
//! # How it is tested
//!
//! No QEMU machine emulates this MAC. The host tests (`stm32::tests`) run the driver against a
//! model of its registers and DMA that walks the descriptors as the hardware does: by the
//! addresses the driver programmed, following the end-of-ring bits, taking descriptors whose
//! OWN bit is set and clearing it, completing frames out of step with the driver, flagging
//! errors, missing frames, and getting stuck. Those tests are where this driver's logic is
//! proven; the example shows it on a board.
//!
//! # Limits
//!
//! Polled only (no interrupts), one buffer per frame (frames up to 1514 bytes, no jumbo), no
//! checksum offload (the engine computes checksums), no PTP timestamps, the LAN8742A's status
//! register for speed and duplex (other PHYs report them elsewhere). Bus addresses are 32-bit:
//! the module builds for every target but drives the hardware only on the STM32.

pub mod descriptors;
mod driver;
pub mod mdio;
pub mod registers;

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;

pub use descriptors::{DmaRings, BUFFER_LEN};
pub use driver::{
    dma_reachable, Config, DmaState, InitError, Stm32Counters, Stm32Eth, DMA_RESET_POLLS,
    FIFO_FLUSH_POLLS,
};
pub use mdio::{LinkMode, MdioError};
pub use registers::{EthMmio, EthRegisters, Reg, ETH_BASE};
