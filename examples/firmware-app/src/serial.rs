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

/// `writeln!` to the serial port, ignoring the (infallible) result.
macro_rules! say {
    ($p:ty, $($arg:tt)*) => {{
        use core::fmt::Write as _;
        let _ = writeln!($crate::serial::Serial::<$p>::new(), $($arg)*);
    }};
}
pub(crate) use say;
