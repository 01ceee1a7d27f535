//! `log::Log` for the console: levels mapped to printk's, one record per log call.

use core::fmt::Write as _;

use embedded_hal::delay::DelayNs;
use netpoll_core::NetPoll;

use crate::global::Console;
use crate::storage::TargetStorage;
use crate::sysdata::SystemInfo;
use crate::writer::MessageWriter;
use crate::Netconsole;

/// The printk level of a `log` level: error 3, warn 4, info 6, debug and trace 7.
pub const fn printk_level(level: log::Level) -> u8 {
    match level {
        log::Level::Error => 3,
        log::Level::Warn => 4,
        log::Level::Info => 6,
        log::Level::Debug | log::Level::Trace => 7,
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "log")))]
impl<D, W, S, const U: usize, const B: usize, TS> log::Log for Netconsole<D, W, S, U, B, TS>
where
    D: NetPoll + Send,
    W: DelayNs + Send,
    S: SystemInfo + Sync + Send,
    TS: TargetStorage<U> + Send,
{
    fn enabled(&self, _metadata: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let mut w = MessageWriter::<2048>::new(self as &dyn Console, printk_level(record.level()));
        let _ = write!(w, "{}", record.args());
        w.end();
    }

    fn flush(&self) {
        Netconsole::flush(self);
    }
}
