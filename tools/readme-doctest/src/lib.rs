//! The workspace README's Rust examples, compiled by `cargo test --doc`. The README sits at the
//! root, outside every published crate, so no crate can include it without shipping a path
//! that does not exist in its package; this unpublished crate can.
#![no_std]
#![forbid(unsafe_code)]

/// The workspace README.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct WorkspaceReadme;
