// The README's example has an extended target: a build without the format shows (and tests)
// a line in its place.
#![cfg_attr(feature = "extended", doc = include_str!("../README.md"))]
#![cfg_attr(
    not(feature = "extended"),
    doc = "A Linux-compatible netconsole sink, built without the `extended` feature: basic \
           targets only. The default build's documentation has the crate's README."
)]
//!
//! # Map
//!
//! - [`Netconsole`]: the console; what a write costs at worst and what is counted when are in
//!   its docs. [`ConsoleError`], [`Counters`], [`TargetCounters`], [`Dropped`]. The aliases
//!   [`ConsoleWith`], [`SmallConsole`] and [`LentConsole`] name its common shapes.
//! - [`PanicTakeover`]: a panic handler's opt-in takeover of a console a panic interrupted;
//!   [`Netconsole::flush_for_panic`] then waits, bounded, for the NIC.
//! - [`Target`]: one receiver, from a `netconsole=` piece or built in code; [`Userdata`],
//!   [`Sysdata`] and the [`SystemInfo`] that stamps records.
//! - [`MessageWriter`] and [`global`]: formatting, and one console for the whole firmware.
//! - [`TargetStorage`]: where the targets live (an array, or a caller's `managed` slice).
//! - [`stream`] and [`ExtendedRecord`]: the wire formats; [`receive`]: the receiver.
//!
//! The `extended` feature (default) builds in the extended format; without it the console
//! sends to basic targets only and refuses an extended one with
//! [`ConsoleError::ExtendedNotBuilt`] / [`TargetError::ExtendedNotBuilt`].
#![cfg_attr(not(test), no_std)]
// docs.rs (and `--cfg docsrs` locally, on nightly) marks feature-gated items as such.
#![cfg_attr(docsrs, feature(doc_cfg))]
// `deny`, not `forbid`: the console's try-lock and the panic takeover need `unsafe` (safe Rust has
// no lock that lends `&mut T` from a state kept in a critical section, which cores without
// compare-and-swap need). It is confined to `lock`, the one module that allows it, with its
// safety argument there.
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod backlog;
#[cfg(test)]
mod backlog_model_test;
mod configure;
mod console;
mod counters;
pub mod decimal;
mod delivery;
mod error;
#[cfg(test)]
mod fault_test;
mod framing;
#[cfg(test)]
mod framing_test;
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
#[cfg(test)]
mod stream_linux_test;
mod sysdata;
mod target;
pub mod userdata;
mod writer;

/// Whether Linux's extended format is built in (the `extended` feature). The send path tests it
/// next to a target's `extended` flag rather than being cut up by `#[cfg]`: both configurations
/// compile the same code, and without the feature the optimizer drops the extended paths, since
/// no target can be extended then (adding, changing or enabling one is refused).
pub(crate) const EXTENDED: bool = cfg!(feature = "extended");

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
