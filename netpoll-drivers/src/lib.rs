#![doc = include_str!("../README.md")]
//!
//! # Map
//!
//! - [`sim`]: [`sim::SimNic`], its faults and counters.
//! - `linux` (feature `linux`): `PacketSocket`, `Tap`, `InterfaceInfo`.
//! - `pcap` (feature `pcap`): `PcapWriter`.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
// docs.rs (and `--cfg docsrs` locally, on nightly) marks feature-gated items as such.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

pub mod sim;

#[cfg(feature = "linux")]
#[cfg_attr(docsrs, doc(cfg(feature = "linux")))]
pub mod linux;
#[cfg(feature = "pcap")]
#[cfg_attr(docsrs, doc(cfg(feature = "pcap")))]
pub mod pcap;
