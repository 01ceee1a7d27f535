//! The timer interrupt's part: a numbered line per tick, through the global console, while the
//! main loop may be in the middle of a write (then the line waits in the backlog).

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use crate::expected::{timer_line, Line as _, TIMER_LINES};
use crate::text::Text;

/// Ticks handled so far. Only the interrupt handler writes it (load and store, no
/// read-modify-write: cores without atomic RMW have these).
static TICKS: AtomicU32 = AtomicU32::new(0);
/// Set by the main loop once the console is ready for the timer's lines.
pub(crate) static ARMED: AtomicBool = AtomicBool::new(false);
/// Set by the main loop of a run built with `NETCONSOLE_PANIC_IN_TICK`: the next tick ends the
/// run with the deliberate panic, inside the interrupt handler.
pub(crate) static PANIC_IN_TICK: AtomicBool = AtomicBool::new(false);

/// Called by the glue's timer interrupt handler. Logs the next timer line; returns `false`
/// once all [`TIMER_LINES`] are logged (the glue then stops the timer).
pub fn on_timer_tick() -> bool {
    // Only in a run built for it: otherwise no load, no branch, no call.
    if option_env!("NETCONSOLE_PANIC_IN_TICK").is_some() && PANIC_IN_TICK.load(Ordering::Acquire) {
        crate::panic::panic_now();
    }
    if !ARMED.load(Ordering::Acquire) {
        return true;
    }
    let tick = TICKS.load(Ordering::Relaxed) + 1;
    if tick > TIMER_LINES {
        return false;
    }
    TICKS.store(tick, Ordering::Release);
    let mut line = Text::<256>::new();
    timer_line(tick).write_to(&mut line);
    netconsole::global::log(6, line.as_bytes());
    tick < TIMER_LINES
}

/// Ticks handled so far.
pub(crate) fn ticks() -> u32 {
    TICKS.load(Ordering::Acquire)
}
