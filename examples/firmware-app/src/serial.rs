//! The serial console: the run's own account (what it is doing, how long the throughput run
//! took), apart from what goes out through netconsole.

use core::fmt;
use core::marker::PhantomData;

use crate::Platform;

/// `core::fmt::Write` to the platform's serial port: `writeln!(Serial::<P>::new(), ...)`.
pub struct Serial<P>(PhantomData<fn() -> P>);

impl<P> Serial<P> {
    /// A writer.
    pub const fn new() -> Self {
        Serial(PhantomData)
    }
}

impl<P> Default for Serial<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: Platform> fmt::Write for Serial<P> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        P::serial_write(s.as_bytes());
        Ok(())
    }
}

/// Writes `firmware-app: `, `pieces` and a newline to the serial port: the app's own messages,
/// put together without `core::fmt` (see `text`). The prefix here, not in each caller's first
/// piece: one copy of it in flash, and a piece less to pass at every call.
pub(crate) fn say<P: Platform>(pieces: &[&[u8]]) {
    P::serial_write(b"firmware-app: ");
    for piece in pieces {
        P::serial_write(piece);
    }
    P::serial_write(b"\n");
}
