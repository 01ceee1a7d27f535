#![doc = include_str!("../README.md")]
//!
//! # Map
//!
//! - [`wire`]: the protocol views and `Repr`s, [`wire::UdpFrame`] and, for many frames to one
//!   target, [`wire::PreparedUdpFrame`]; the checksum.
//! - [`NetPoll`]: the driver contract, with the reason for each rule; [`XmitError`].
//! - [`NicEngine`]: the send engine; its [`Counters`], [`RetryPolicy`], [`SendError`], and
//!   [`RxHandler`] for the frames that are not ARP for us.
//! - [`arp`]: answers and resolution ([`ResolvePolicy`], [`ResolveError`]).
//! - [`Endpoint`]: one target's addresses and ports.
#![cfg_attr(not(test), no_std)]
// docs.rs (and `--cfg docsrs` locally, on nightly) marks feature-gated items as such.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod arp;
mod driver;
mod endpoint;
mod engine;
pub mod wire;

pub use arp::{ResolveError, ResolvePolicy, MAX_WATCHED};
pub use driver::{NetPoll, XmitError, MAX_FRAME_LEN};
pub use endpoint::{Endpoint, DEFAULT_LOCAL_PORT, DEFAULT_REMOTE_PORT};
pub use engine::{Counters, NicEngine, NoDelay, RetryPolicy, RxHandler, SendError, RX_BUDGET};
pub use wire::MacAddr;
