//! Allocation-free frame building and a polled send engine, for putting a log on the network
//! from any context: an interrupt handler, a panic, a system with no allocator.
//!
//! - [`wire`]: Ethernet, ARP, IPv4, IPv6 and UDP, as checked views over untrusted bytes and
//!   plain `Repr` structs that emit into a caller's buffer, plus the Internet checksum and a UDP
//!   frame builder that writes every header Linux netpoll writes, byte for byte.
//! - [`NetPoll`]: the contract a NIC driver keeps (build a frame in a TX slot, reclaim TX apart
//!   from receive, cached link state, TX drained).
//! - [`NicEngine`]: one NIC's send engine: frames built in place, Linux's bounded retry when the
//!   ring is full, one IPv4 ID counter per NIC, ARP answers and resolution, other received
//!   frames handed to the caller's stack.
//! - [`Endpoint`]: one target's addresses and ports.
#![cfg_attr(not(test), no_std)]
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
