//! The netconsole part of every QEMU example, whatever the architecture and the NIC.
//!
//! A program is this crate plus a little glue: boot code, a timer interrupt, a serial port, a
//! way to end QEMU, and a driver. The glue implements [`Platform`], puts one [`AppConsole`] in
//! a `static`, and calls [`run`] with its driver; its timer interrupt calls [`on_timer_tick`]
//! and its `#[panic_handler]` calls [`panic`].
//!
//! [`run`] then, in order (every line below is what [`expected`] lists for the host's checker):
//! adds the targets of the option string compiled in (`NETCONSOLE_OPTIONS`, else
//! [`DEFAULT_OPTIONS`]: one basic and one extended target; without the `extended` feature
//! (default on), [`DEFAULT_BASIC_OPTIONS`], the basic one alone. build.rs parses it, so a bad
//! one, or a `+` target without the feature, fails the build and the parser is not in the
//! image), waits for carrier, resolves the
//! next hop by ARP and enables the targets, logs a banner naming the driver and its register
//! layout, 100 numbered lines while a timer interrupt logs its own lines through the same
//! console (real re-entry: the first tick comes while the main loop holds the console, so its
//! line waits in the backlog and leaves when the console is let go; the firmware counts it an
//! error if none waited; later ticks that fall inside a write wait the same way), one
//! 3000-byte line, the counters, `NETCONSOLE_RECORDS` records as fast as it can if that was
//! set at build time (the time it took goes to the serial port), and ends with a deliberate
//! panic whose message leaves through the panic path. QEMU then exits with [`ExitCode`].
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

mod app;
// build.rs's maker of the targets, under the host tests.
mod clock;
#[cfg(test)]
#[path = "../build/compiled_in.rs"]
mod compiled_in;
#[cfg(test)]
mod compiled_in_test;
pub mod expected;
mod panic;
mod serial;
mod text;
mod timer;

pub use app::{bring_up_failed, run, AppConsole, DriverInfo, BACKLOG};
pub use clock::{spin_us, Clock, Delay};
pub use panic::panic;
pub use serial::Serial;
pub use timer::on_timer_tick;

// `DEFAULT_OPTIONS` and `TARGETS`, shared with build.rs, which parses the option string.
include!("default_options.rs");

/// What the glue gives the app. Associated functions, not methods: the panic handler and the
/// timer interrupt reach them without a value to carry.
pub trait Platform: 'static {
    /// Microseconds since boot, monotonic.
    fn now_us() -> u64;
    /// Waits `us` microseconds: the engine's wait between transmit attempts on a full TX ring.
    /// The default spins on [`now_us`](Self::now_us); a platform that can stop the CPU until
    /// a timer fires gives the time to whoever empties the ring (under QEMU, the emulator's
    /// own thread on the same host cores).
    fn wait_us(us: u32)
    where
        Self: Sized,
    {
        clock::spin_us::<Self>(u64::from(us));
    }
    /// Writes to the serial console (the run's own log, apart from netconsole).
    fn serial_write(bytes: &[u8]);
    /// Starts a periodic timer interrupt whose handler calls [`on_timer_tick`].
    fn start_timer(period_us: u32);
    /// Stops the timer interrupt.
    fn stop_timer();
    /// Ends the program (QEMU exits with `code`). Never returns.
    fn exit(code: ExitCode) -> !;
}

/// How the program ends; QEMU's exit status says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Everything was sent; the deliberate panic ended the run.
    Clean = 0,
    /// The firmware saw errors (a message dropped, a target not resolved, a send refused).
    Errors = 1,
    /// A panic other than the deliberate one.
    UnexpectedPanic = 2,
    /// Bring-up failed: no NIC, a bad option string, no carrier.
    BringUp = 3,
}
