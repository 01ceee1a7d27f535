//! The lines the app logs, in one place: the firmware writes them and the host's checker
//! (`cargo xtask qemu`, which includes this file) looks for them. Plain `core`, no
//! dependency, so that a std program can include it as it is.
//!
//! Each line is written once, as pieces into a [`LineSink`]: the firmware's sink puts digits
//! together by hand (no `core::fmt` in its image), the checker's `Display` goes through
//! `Formatter`; both get the same bytes.

use core::fmt;

/// Where a line's pieces go.
pub trait LineSink {
    /// Appends text.
    fn text(&mut self, text: &str);
    /// Appends `n` in decimal, zero-padded to `width` digits.
    fn number(&mut self, n: u32, width: usize);
}

/// A line the firmware logs and the checker looks for.
pub trait Line {
    /// Writes the line's pieces to `sink`.
    fn write_to(&self, sink: &mut dyn LineSink);
}

/// A `Formatter` as a [`LineSink`], for the lines' `Display`.
struct FmtSink<'a, 'b> {
    f: &'a mut fmt::Formatter<'b>,
    result: fmt::Result,
}

impl LineSink for FmtSink<'_, '_> {
    fn text(&mut self, text: &str) {
        self.result = self.result.and_then(|()| self.f.write_str(text));
    }

    fn number(&mut self, n: u32, width: usize) {
        self.result = self.result.and_then(|()| write!(self.f, "{n:0width$}"));
    }
}

/// `Display` for a [`Line`]: what the checker compares with.
macro_rules! display_line {
    ($($ty:ty),*) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut sink = FmtSink { f, result: Ok(()) };
                self.write_to(&mut sink);
                sink.result
            }
        }
    )*};
}

display_line!(Numbered, TimerLine, Record, Banner<'_>);

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

/// The end of a numbered line, as text: a number the line would put together each time.
const OF_NUMBERED_LINES: &str = " of 100";
/// The end of a timer line, as text.
const OF_TIMER_LINES: &str = " of 20";
const _: () = assert!(ends_with_number(OF_NUMBERED_LINES, NUMBERED_LINES));
const _: () = assert!(ends_with_number(OF_TIMER_LINES, TIMER_LINES));

/// Whether `text` is ` of ` and `n` in decimal, when this file compiles.
const fn ends_with_number(text: &str, n: u32) -> bool {
    let text = text.as_bytes();
    let (mut i, mut n) = (text.len(), n);
    while i > 4 {
        i -= 1;
        if text[i] != b'0' + (n % 10) as u8 {
            return false;
        }
        n /= 10;
    }
    n == 0
        && text.len() > 4
        && text[0] == b' '
        && text[1] == b'o'
        && text[2] == b'f'
        && text[3] == b' '
}

/// `line 007 of 100`.
pub struct Numbered(pub u32);

impl Line for Numbered {
    fn write_to(&self, sink: &mut dyn LineSink) {
        sink.text("line ");
        sink.number(self.0, 3);
        sink.text(OF_NUMBERED_LINES);
    }
}

/// `timer tick 07 of 20`.
pub struct TimerLine(pub u32);

impl Line for TimerLine {
    fn write_to(&self, sink: &mut dyn LineSink) {
        sink.text("timer tick ");
        sink.number(self.0, 2);
        sink.text(OF_TIMER_LINES);
    }
}

/// The timer's line for `tick` (from 1).
pub fn timer_line(tick: u32) -> TimerLine {
    TimerLine(tick)
}

/// `record 12345`: one record of the throughput run.
pub struct Record(pub u32);

impl Line for Record {
    fn write_to(&self, sink: &mut dyn LineSink) {
        sink.text("record ");
        sink.number(self.0, 1);
    }
}

/// `netconsole example: driver virtio-net, register layout legacy`.
pub struct Banner<'a> {
    /// The driver's name.
    pub driver: &'a str,
    /// The register layout or bus mode in use.
    pub layout: &'a str,
}

impl Line for Banner<'_> {
    fn write_to(&self, sink: &mut dyn LineSink) {
        sink.text(BANNER_PREFIX);
        sink.text(self.driver);
        sink.text(", register layout ");
        sink.text(self.layout);
    }
}

/// Byte `i` of the long line: the prefix, then digits `0`..`9` over and over.
pub fn long_line_byte(i: usize) -> u8 {
    match LONG_LINE_PREFIX.as_bytes().get(i) {
        Some(&b) => b,
        None => b'0' + (i % 10) as u8,
    }
}
