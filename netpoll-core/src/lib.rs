//! Allocation-free frame building and a polled send engine, for putting a log on the network
//! from any context: an interrupt handler, a panic, a system with no allocator.
//!
//! - [`wire`]: Ethernet, ARP, IPv4, IPv6 and UDP, as checked views over untrusted bytes and
//!   plain `Repr` structs that emit into a caller's buffer, plus the Internet checksum and a UDP
//!   frame builder that writes every header Linux netpoll writes, byte for byte.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod wire;

pub use wire::MacAddr;
