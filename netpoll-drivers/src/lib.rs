//! NIC drivers for netpoll-core.
//!
//! Not implemented yet: the simulated NIC and the real drivers land with their own issues.
#![no_std]
#![warn(missing_docs)]
