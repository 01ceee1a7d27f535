//! NIC drivers for netpoll-core, one module per NIC, each behind its own feature.
//!
//! - [`sim`] (always built): a simulated NIC with fault injection, for every crate's tests.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![warn(missing_docs)]

pub mod sim;
