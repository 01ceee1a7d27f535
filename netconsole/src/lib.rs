//! A Linux-compatible netconsole sink, and the receiver for what it sends.
//!
//! - [`Netconsole`]: one NIC, several targets (basic and extended side by side), Linux's formats
//!   byte for byte, fragmentation at 1000 bytes with `ncfrag`, release prefix, userdata and
//!   sysdata; writes from any context through a try-lock and a bounded backlog. The aliases
//!   [`ConsoleWith`], [`SmallConsole`] and [`LentConsole`] name the common shapes.
//! - [`PanicTakeover`]: a panic handler's opt-in takeover of a console a panic interrupted.
//! - [`MessageWriter`]: `core::fmt::Write` for one message, one record.
//! - [`global`]: one console for the whole firmware, for `log`, panic handlers and interrupts.
//! - [`receive`]: the bounded, `no_std` receiver that `netconsole listen` and its fuzz target use.
//!
//! The try-lock's state and the backlog's short critical sections go through the
//! [`critical-section`] crate (no compare-and-swap needed: it builds for Cortex-M0), so the
//! final program links one implementation: on a single-core Cortex-M, `cortex-m`'s
//! `critical-section-single-core` feature; on a host, `critical-section`'s `std` feature.
//!
//! Features: `log` (`log::Log` for the console), `defmt` (`defmt::Format` for the public
//! types). Both may be on together.
//!
//! [`critical-section`]: https://docs.rs/critical-section
#![cfg_attr(not(test), no_std)]
// `deny`, not `forbid`: the console's try-lock and the panic takeover need `unsafe` (safe Rust has
// no lock that lends `&mut T` from a state kept in a critical section, which cores without
// compare-and-swap need). It is confined to `lock`, the one module that allows it, with its
// safety argument there.
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod backlog;
mod configure;
mod console;
mod counters;
mod delivery;
mod error;
#[cfg(test)]
mod fault_test;
mod framing;
pub mod global;
mod link;
mod lock;
#[cfg(feature = "log")]
mod log_impl;
mod message;
pub mod receive;
mod record;
mod state;
mod storage;
pub mod stream;
mod sysdata;
mod target;
pub mod userdata;
mod writer;

pub use console::{
    ConsoleWith, LentConsole, Netconsole, SmallConsole, StillQueued, CARRIER_TIMEOUT_MS,
    DEFAULT_LEVEL, MAX_TARGETS,
};
pub use counters::{Counters, Dropped, TargetCounters};
pub use error::ConsoleError;
pub use link::RESOLVE_EVERY_POLLS;
pub use lock::PanicTakeover;
pub use record::{escape, escaped_len, needs_escape, Caller, ExtendedRecord, Header};
pub use storage::{no_targets, CounterSlots, TargetStorage};
pub use stream::MAX_PRINT_CHUNK;
pub use sysdata::{NoSystemInfo, Sysdata, SystemInfo, MAX_RELEASE_LEN, MAX_TASK_NAME_LEN};
pub use target::{BroadcastReason, MacSource, Target, TargetError};
pub use userdata::{Userdata, UserdataError};
pub use writer::MessageWriter;
