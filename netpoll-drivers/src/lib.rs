//! NIC drivers for netpoll-core, one module per NIC, each behind its own feature.
//!
//! - [`sim`] (always built): a simulated NIC with fault injection, for every crate's tests.
//! - `linux` (feature `linux`, std): an AF_PACKET socket on one interface and a TAP device.
//! - `pcap` (feature `pcap`, std): a capture file that Wireshark and tshark read.
//! - `lan9118` (feature `lan9118`, no_std): the SMSC LAN9118/LAN9220 of Arm MPS2 boards and QEMU.
//! - `virtio` (feature `virtio`, no_std): virtio-net over virtio-mmio, legacy and modern.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![warn(missing_docs)]

pub mod sim;

#[cfg(feature = "lan9118")]
pub mod lan9118;
#[cfg(feature = "linux")]
pub mod linux;
#[cfg(feature = "pcap")]
pub mod pcap;
#[cfg(feature = "virtio")]
pub mod virtio;
