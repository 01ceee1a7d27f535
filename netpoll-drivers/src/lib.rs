//! NIC drivers for netpoll-core, one module per NIC, each behind its own feature.
//!
//! - [`sim`] (always built): a simulated NIC with fault injection, for every crate's tests.
//! - `linux` (feature `linux`, std): an AF_PACKET socket on one interface and a TAP device.
//! - `pcap` (feature `pcap`, std): a capture file that Wireshark and tshark read.
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
