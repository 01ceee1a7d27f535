//! One console for the whole firmware: set once at start-up, reachable from `log`, interrupt
//! handlers and the panic handler without passing it around.
//!
//! ```
//! use netconsole::{global, Netconsole, NoSystemInfo};
//! use netpoll_drivers::sim::SimNic;
//!
//! static CONSOLE: Netconsole<SimNic> = Netconsole::new(NoSystemInfo);
//!
//! global::set(&CONSOLE);
//! global::log(6, b"booted");            // waits in the backlog until a NIC is attached
//! assert_eq!(CONSOLE.counters().deferred, 1);
//!
//! // In a #[panic_handler]: never blocks, even if the panic struck inside a write.
//! // global::log_panic(0, b"panicked at ...");
//! // With the takeover (single core, or the others stopped), the message reaches the wire even
//! // then: `global::take_over(&unsafe { PanicTakeover::new() })` first, `flush_for_panic` after.
//! ```

use core::cell::Cell;

use critical_section::Mutex;
use embedded_hal::delay::DelayNs;
use netpoll_core::NetPoll;

use crate::console::StillQueued;
use crate::lock::PanicTakeover;
use crate::storage::TargetStorage;
use crate::sysdata::SystemInfo;
use crate::writer::MessageWriter;
use crate::Netconsole;

/// What the global console can do, whatever its NIC and sizes.
pub trait Console: Sync {
    /// See [`Netconsole::write`].
    fn write(&self, text: &[u8]);
    /// See [`Netconsole::log`].
    fn log(&self, level: u8, text: &[u8]);
    /// See [`Netconsole::log_panic`].
    fn log_panic(&self, level: u8, text: &[u8]);
    /// See [`Netconsole::flush`].
    fn flush(&self) -> bool;
    /// See [`Netconsole::take_over`].
    fn take_over(&self, proof: &PanicTakeover) -> bool;
    /// See [`Netconsole::flush_for_panic`].
    fn flush_for_panic(&self, polls: u32) -> StillQueued;
    /// Counts a message a writer had to cut.
    fn count_truncated(&self);
}

impl<D, W, S, const U: usize, const B: usize, TS> Console for Netconsole<D, W, S, U, B, TS>
where
    D: NetPoll + Send,
    W: DelayNs + Send,
    S: SystemInfo + Sync,
    TS: TargetStorage<U> + Send,
{
    fn write(&self, text: &[u8]) {
        Netconsole::write(self, text)
    }
    fn log(&self, level: u8, text: &[u8]) {
        Netconsole::log(self, level, text)
    }
    fn log_panic(&self, level: u8, text: &[u8]) {
        Netconsole::log_panic(self, level, text)
    }
    fn flush(&self) -> bool {
        Netconsole::flush(self)
    }
    fn take_over(&self, proof: &PanicTakeover) -> bool {
        Netconsole::take_over(self, proof)
    }
    fn flush_for_panic(&self, polls: u32) -> StillQueued {
        Netconsole::flush_for_panic(self, polls)
    }
    fn count_truncated(&self) {
        Netconsole::count_truncated(self)
    }
}

static GLOBAL: Mutex<Cell<Option<&'static dyn Console>>> = Mutex::new(Cell::new(None));

/// Makes `console` the global one. `false` (and nothing changes) if one is set already.
pub fn set(console: &'static dyn Console) -> bool {
    critical_section::with(|cs| {
        let cell = GLOBAL.borrow(cs);
        if cell.get().is_some() {
            return false;
        }
        cell.set(Some(console));
        true
    })
}

/// The global console, if set.
pub fn get() -> Option<&'static dyn Console> {
    critical_section::with(|cs| GLOBAL.borrow(cs).get())
}

/// Writes console text to the global console, if any.
pub fn write(text: &[u8]) {
    if let Some(c) = get() {
        c.write(text);
    }
}

/// Logs to the global console, if any.
pub fn log(level: u8, text: &[u8]) {
    if let Some(c) = get() {
        c.log(level, text);
    }
}

/// Logs from a panic handler to the global console, if any: never waits.
pub fn log_panic(level: u8, text: &[u8]) {
    if let Some(c) = get() {
        c.log_panic(level, text);
    }
}

/// Flushes the global console's backlog; `true` if it is empty (or there is no console).
pub fn flush() -> bool {
    get().is_none_or(|c| c.flush())
}

/// A [`MessageWriter`] on the global console, if any.
pub fn message(level: u8) -> Option<MessageWriter<'static>> {
    get().map(|c| MessageWriter::new(c, level))
}

/// A [`MessageWriter`] for a panic handler on the global console, if any: the panic message is
/// one record, logged with [`log_panic`].
pub fn panic_message(level: u8) -> Option<MessageWriter<'static>> {
    get().map(|c| MessageWriter::for_panic(c, level))
}

/// Frees the global console from a write the panic interrupted; see [`Netconsole::take_over`].
pub fn take_over(proof: &PanicTakeover) -> bool {
    get().is_some_and(|c| c.take_over(proof))
}

/// Flushes the global console and waits for its NIC; see [`Netconsole::flush_for_panic`].
pub fn flush_for_panic(polls: u32) -> Option<StillQueued> {
    get().map(|c| c.flush_for_panic(polls))
}
