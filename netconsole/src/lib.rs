//! A Linux-compatible netconsole sink.
//!
//! Not implemented yet: the sink and the receiver land with their own issues. Nothing here
//! pretends to work.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
