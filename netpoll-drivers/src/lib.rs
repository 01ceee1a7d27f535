#![doc = include_str!("../README.md")]
//!
//! # Map
//!
//! - [`sim`]: [`sim::SimNic`], its faults and counters.
//! - [`shared`]: [`shared::SharedNic`], one NIC for the console and the firmware's stack.
//! - `smoltcp` (feature `smoltcp`), `embassy` (feature `embassy`): the adapters.
//! - `lan9118` (feature `lan9118`): the SMSC LAN9118/LAN9220 of Arm MPS2 boards and QEMU `mps2-*`.
//! - `stm32` (feature `stm32`): the STM32F4/F7 Ethernet MAC driver.
//! - `virtio` (feature `virtio`): virtio-net over virtio-mmio, legacy and modern register layouts.
//! - `linux` (feature `linux`): `PacketSocket`, `Tap`, `InterfaceInfo`.
//! - `pcap` (feature `pcap`): `PcapWriter`.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
// docs.rs (and `--cfg docsrs` locally, on nightly) marks feature-gated items as such.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

pub mod shared;
pub mod sim;

#[cfg(feature = "embassy")]
#[cfg_attr(docsrs, doc(cfg(feature = "embassy")))]
pub mod embassy;
#[cfg(feature = "smoltcp")]
#[cfg_attr(docsrs, doc(cfg(feature = "smoltcp")))]
pub mod smoltcp;

#[cfg(feature = "lan9118")]
#[cfg_attr(docsrs, doc(cfg(feature = "lan9118")))]
pub mod lan9118;
#[cfg(feature = "linux")]
#[cfg_attr(docsrs, doc(cfg(feature = "linux")))]
pub mod linux;
#[cfg(feature = "pcap")]
#[cfg_attr(docsrs, doc(cfg(feature = "pcap")))]
pub mod pcap;
#[cfg(feature = "stm32")]
#[cfg_attr(docsrs, doc(cfg(feature = "stm32")))]
pub mod stm32;
#[cfg(feature = "virtio")]
#[cfg_attr(docsrs, doc(cfg(feature = "virtio")))]
pub mod virtio;
