//! `core::fmt::Write` for one message at a time.

use core::fmt;

use crate::global::Console;

/// Buffers what is written until [`end`](Self::end) (or drop), then sends it as one record at
/// its level: one `write!`, one `log` call, one panic message is one record, embedded newlines
/// included (escaped for extended targets), as printk keeps a multi-line message in one record.
/// One trailing newline is dropped, as printk drops it. A message longer than `N` bytes (2 KiB by
/// default, printk's record limit) is cut there and counted as truncated: never a panic, never an
/// allocation.
///
/// ```
/// use core::fmt::Write;
/// use netconsole::{Netconsole, NoSystemInfo, MessageWriter};
/// use netpoll_drivers::sim::SimNic;
///
/// static CONSOLE: Netconsole<SimNic> = Netconsole::new(NoSystemInfo);
/// let mut w = MessageWriter::<64>::new(&CONSOLE, 6);
/// write!(w, "temperature {} C\nsecond line", 41).unwrap();
/// w.end();
/// assert_eq!(CONSOLE.counters().messages, 1);
/// ```
pub struct MessageWriter<'c, const N: usize = 2048> {
    console: &'c dyn Console,
    level: u8,
    buf: heapless::Vec<u8, N>,
    truncated: bool,
    panicking: bool,
    /// The record is being sent: a panic inside the send unwinds through `drop`, which must not
    /// send it again.
    sending: bool,
}

impl<'c, const N: usize> MessageWriter<'c, N> {
    /// A writer that logs to `console` at `level`.
    pub fn new(console: &'c dyn Console, level: u8) -> Self {
        MessageWriter {
            console,
            level,
            buf: heapless::Vec::new(),
            truncated: false,
            panicking: false,
            sending: false,
        }
    }

    /// A writer for a panic handler: it ends with
    /// [`Netconsole::log_panic`](crate::Netconsole::log_panic).
    pub fn for_panic(console: &'c dyn Console, level: u8) -> Self {
        let mut writer = Self::new(console, level);
        writer.panicking = true;
        writer
    }

    /// Sends what is buffered, if anything, as one record.
    pub fn end(&mut self) {
        if self.sending {
            return;
        }
        self.sending = true;
        if !self.buf.is_empty() || self.truncated {
            let text = self.buf.strip_suffix(b"\n").unwrap_or(&self.buf);
            if self.panicking {
                self.console.log_panic(self.level, text);
            } else {
                self.console.log(self.level, text);
            }
            if self.truncated {
                self.console.count_truncated();
            }
        }
        self.buf.clear();
        self.truncated = false;
        self.sending = false;
    }

    fn append(&mut self, bytes: &[u8]) {
        let room = N - self.buf.len();
        if bytes.len() > room {
            self.truncated = true;
        }
        // Cannot fail: at most `room` bytes.
        let _ = self.buf.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }
}

impl<const N: usize> fmt::Write for MessageWriter<'_, N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.append(s.as_bytes());
        Ok(())
    }
}

impl<const N: usize> Drop for MessageWriter<'_, N> {
    fn drop(&mut self) {
        self.end();
    }
}
