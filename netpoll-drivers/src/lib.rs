//! NIC drivers for netpoll-core, one module per NIC, each behind its own feature.
//!
//! - [`sim`] (always built): a simulated NIC with fault injection, for every crate's tests.
//! - [`shared`] (always built): one NIC, two users: the console and the firmware's own network
//!   stack, neither losing the other's frames.
//! - `smoltcp` (feature `smoltcp`): `NetPoll` over any smoltcp `phy::Device`, and a smoltcp
//!   `Device` for the stack's side of a [`shared::SharedNic`].
//! - `embassy` (feature `embassy`): `NetPoll` over any `embassy_net_driver::Driver`.
//!
//! With the two adapters, netconsole runs on every NIC that already has a Rust driver for
//! smoltcp or embassy-net.
//! - `linux` (feature `linux`, std): an AF_PACKET socket on one interface and a TAP device.
//! - `pcap` (feature `pcap`, std): a capture file that Wireshark and tshark read.
//! - `virtio` (feature `virtio`, no_std): virtio-net over virtio-mmio, legacy and modern.
//! - `stm32` (feature `stm32`): the STM32F4/F7 Ethernet MAC, polled, rings from the caller.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![warn(missing_docs)]

pub mod shared;
pub mod sim;

#[cfg(feature = "embassy")]
pub mod embassy;
#[cfg(feature = "smoltcp")]
pub mod smoltcp;

#[cfg(feature = "linux")]
pub mod linux;
#[cfg(feature = "pcap")]
pub mod pcap;
#[cfg(feature = "stm32")]
pub mod stm32;
#[cfg(feature = "virtio")]
pub mod virtio;
