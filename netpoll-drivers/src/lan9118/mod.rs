//! SMSC LAN9118 / LAN9220: the Ethernet controller of Arm's MPS2 boards and of QEMU's `mps2-*`
//! machines, driven by programmed I/O through its FIFO ports.
//!
//! - [`registers`]: the register block, the one place with volatile access ([`Mmio`]), behind
//!   the [`Registers`] trait so that host tests drive a model of the chip instead.
//! - [`csr`]: the MAC's registers, reached through `MAC_CSR_CMD`/`MAC_CSR_DATA`.
//! - [`mii`]: the internal PHY, reached through the MAC's `MII_ACC`/`MII_DATA`.
//! - [`Lan9118`]: bring-up and the [`NetPoll`](netpoll_core::NetPoll) contract.
//!
//! No heap and no DMA: the driver owns one bounce buffer, sized by a const generic, where frames
//! are built before they are pushed word by word into the TX data FIFO (see [`Lan9118`] for what
//! that costs). TX completion is the TX status FIFO; TX errors and RX errors and drops are
//! counted in [`Counters`]. The link state is read from the PHY's basic status register only in
//! `refresh_link`, and cached.
//!
//! ```no_run
//! use netpoll_drivers::lan9118::{Config, Lan9118, Mmio};
//! // SAFETY: 0x4020_0000 is the LAN9220 of an MPS2 AN385/AN386 board, used by nothing else.
//! let regs = unsafe { Mmio::new(0x4020_0000) };
//! let nic: Lan9118<Mmio> = Lan9118::new(regs, Config::default()).expect("lan9118");
//! ```
//!
//! Tested on the host against [a model of the chip](self#testing) and end to end under QEMU
//! (`cargo xtask qemu lan9118`); not on a physical board. QEMU's model differs from the chip in
//! ways the driver tolerates: it sends a frame at once (TX_ON is ignored), never sets an error in
//! a status, never counts `RX_DROP`, and does not pad short frames (the driver pads).
//!
//! # Testing
//! The unit tests run the driver against a register-level model that plays the chip: FIFOs and
//! their status words, the MAC CSR and MII indirection, PHY registers, and the error cases (TX
//! error status, RX error status, RX drops, a full TX FIFO, a stuck busy bit, link down).

pub mod csr;
mod driver;
pub mod mii;
pub mod registers;

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;

pub use driver::{Config, Counters, InitError, Lan9118, DEFAULT_BUFFER_LEN, TX_STATUS_DEPTH};
pub use registers::{Mmio, Reg, Registers};
