//! The timer interrupt's part: a numbered line per tick, through the console the glue hands it
//! (the one the main loop writes to), while the main loop may be in the middle of a write (then
//! the line waits in the backlog). The console itself, not `netconsole::global`: the global's
//! registration and its lookup on every line were 0.2 KiB of flash on the Cortex-M.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use netpoll_core::NetPoll;

use crate::app::AppConsole;
use crate::expected::{timer_line, Line as _, TIMER_LINES};
use crate::text::Text;
use crate::Platform;

/// Ticks handled so far. Only the interrupt handler writes it (load and store, no
/// read-modify-write: cores without atomic RMW have these).
static TICKS: AtomicU32 = AtomicU32::new(0);
/// Set by the main loop of a run built with `NETCONSOLE_PANIC_IN_TICK`: the next tick ends the
/// run with the deliberate panic, inside the interrupt handler.
pub(crate) static PANIC_IN_TICK: AtomicBool = AtomicBool::new(false);

/// Called by the glue's timer interrupt handler with the console it gave [`run`](crate::run).
/// Logs the next timer line; returns `false` once all [`TIMER_LINES`] are logged (the glue then
/// stops the timer). Only `run` starts the timer, once its targets are enabled, so a tick never
/// comes early: no "armed" flag to test on every tick.
pub fn on_timer_tick<D, P>(console: &AppConsole<D, P>) -> bool
where
    D: NetPoll,
    P: Platform,
{
    // Only in a run built for it: otherwise no load, no branch, no call.
    if option_env!("NETCONSOLE_PANIC_IN_TICK").is_some() && PANIC_IN_TICK.load(Ordering::Acquire) {
        crate::panic::panic_now();
    }
    let tick = TICKS.load(Ordering::Relaxed) + 1;
    if tick > TIMER_LINES {
        return false;
    }
    TICKS.store(tick, Ordering::Release);
    let mut line = Text::<256>::new();
    timer_line(tick).write_to(&mut line);
    console.log(6, line.as_bytes());
    tick < TIMER_LINES
}

/// Ticks handled so far.
pub(crate) fn ticks() -> u32 {
    TICKS.load(Ordering::Acquire)
}
