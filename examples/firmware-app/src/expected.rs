//! The lines the app logs, in one place: the firmware writes them and the host's checker
//! (`cargo xtask qemu`, which includes this file) looks for them. Plain `core`, no
//! dependency, so that a std program can include it as it is.

use core::fmt;

/// Numbered lines the main loop logs.
pub const NUMBERED_LINES: u32 = 100;
/// Lines the timer interrupt logs, one per tick.
pub const TIMER_LINES: u32 = 20;
/// Bytes of the long line: more than one 1000-byte chunk, so basic targets get it in pieces
/// and extended targets as `ncfrag` fragments.
pub const LONG_LINE_LEN: usize = 3000;
/// What the long line starts with.
pub const LONG_LINE_PREFIX: &str = "long line:";
/// The message of the deliberate panic at the end.
pub const PANIC_MESSAGE: &str = "deliberate panic: end of the netconsole example";
/// What the banner starts with.
pub const BANNER_PREFIX: &str = "netconsole example: driver ";
/// What the counters line starts with.
pub const COUNTERS_PREFIX: &str = "counters:";

/// `line 007 of 100`.
pub struct Numbered(pub u32);

impl fmt::Display for Numbered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {:03} of {}", self.0, NUMBERED_LINES)
    }
}

/// `timer tick 07 of 20`.
pub struct TimerLine(pub u32);

impl fmt::Display for TimerLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "timer tick {:02} of {}", self.0, TIMER_LINES)
    }
}

/// The timer's line for `tick` (from 1).
pub fn timer_line(tick: u32) -> TimerLine {
    TimerLine(tick)
}

/// `record 12345`: one record of the throughput run.
pub struct Record(pub u32);

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "record {}", self.0)
    }
}

/// `netconsole example: driver virtio-net, register layout legacy`.
pub struct Banner<'a> {
    /// The driver's name.
    pub driver: &'a str,
    /// The register layout or bus mode in use.
    pub layout: &'a str,
}

impl fmt::Display for Banner<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{BANNER_PREFIX}{}, register layout {}", self.driver, self.layout)
    }
}

/// Byte `i` of the long line: the prefix, then digits `0`..`9` over and over.
pub fn long_line_byte(i: usize) -> u8 {
    match LONG_LINE_PREFIX.as_bytes().get(i) {
        Some(&b) => b,
        None => b'0' + (i % 10) as u8,
    }
}
