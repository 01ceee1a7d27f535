#![doc = include_str!("../README.md")]
//!
//! # Map
//!
//! - [`Netconsole`]: the console; what a write costs at worst and what is counted when are in
//!   its docs. [`ConsoleError`], [`Counters`], [`TargetCounters`], [`Dropped`].
//! - [`Target`]: one receiver, from a `netconsole=` piece or built in code; [`Userdata`],
//!   [`Sysdata`] and the [`SystemInfo`] that stamps records.
//! - [`MessageWriter`] and [`global`]: formatting, and one console for the whole firmware.
//! - [`TargetStorage`]: where the targets live (an array, or a caller's `managed` slice).
//! - [`stream`] and [`ExtendedRecord`]: the wire formats; [`receive`]: the receiver.
#![cfg_attr(not(test), no_std)]
// docs.rs (and `--cfg docsrs` locally, on nightly) marks feature-gated items as such.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod backlog;
mod console;
mod counters;
pub mod global;
#[cfg(feature = "log")]
mod log_impl;
mod message;
pub mod receive;
mod record;
mod storage;
pub mod stream;
mod sysdata;
mod target;
pub mod userdata;
mod writer;

pub use console::{ConsoleError, Netconsole, MAX_TARGETS};
pub use counters::{Counters, Dropped, TargetCounters};
pub use record::{escape, escaped_len, needs_escape, Caller, ExtendedRecord, Header};
pub use storage::{no_targets, TargetStorage};
pub use stream::MAX_PRINT_CHUNK;
pub use sysdata::{NoSystemInfo, Sysdata, SystemInfo, MAX_RELEASE_LEN, MAX_TASK_NAME_LEN};
pub use target::{MacSource, Target, TargetError};
pub use userdata::{Userdata, UserdataError};
pub use writer::MessageWriter;
