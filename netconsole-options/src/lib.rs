//! The `netconsole=` option grammar, exactly as Linux reads it.
//!
//! Not implemented yet: the parser lands with its own issue. Nothing here pretends to work.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
