//! NIC drivers for netpoll-core, one module per NIC, each behind its own feature.
//!
//! - [`sim`] (always built): a simulated NIC with fault injection, for every crate's tests.
//! - `linux` (feature `linux`, std): an AF_PACKET socket on one interface and a TAP device.
//! - `pcap` (feature `pcap`, std): a capture file that Wireshark and tshark read.
//! - `stm32` (feature `stm32`): the STM32F4/F7 Ethernet MAC, polled, rings from the caller.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![warn(missing_docs)]

pub mod sim;

#[cfg(feature = "linux")]
pub mod linux;
#[cfg(feature = "pcap")]
pub mod pcap;
#[cfg(feature = "stm32")]
pub mod stm32;
