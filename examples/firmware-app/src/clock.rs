//! Time from the platform: timestamps for the extended records, and the engine's delay.

use core::marker::PhantomData;

use embedded_hal::delay::DelayNs;
use netconsole::SystemInfo;

use crate::Platform;

/// Stamps records with the platform's microseconds since boot; names the release.
pub struct Clock<P>(PhantomData<fn() -> P>);

impl<P> Clock<P> {
    /// A clock, for a `static` console.
    pub const fn new() -> Self {
        Clock(PhantomData)
    }
}

impl<P> Default for Clock<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: Platform> SystemInfo for Clock<P> {
    fn timestamp_us(&self) -> u64 {
        P::now_us()
    }

    fn release(&self) -> &str {
        env!("CARGO_PKG_VERSION")
    }
}

/// The platform's wait ([`Platform::wait_us`]): the engine waits with it between transmit
/// attempts (Linux's 50 µs) and while it resolves. Bounded by the time asked for.
pub struct Delay<P>(PhantomData<fn() -> P>);

impl<P> Delay<P> {
    /// A delay.
    pub const fn new() -> Self {
        Delay(PhantomData)
    }
}

impl<P> Default for Delay<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: Platform> DelayNs for Delay<P> {
    fn delay_ns(&mut self, ns: u32) {
        P::wait_us(ns.div_ceil(1000));
    }

    /// Straight to the spin: the trait's default cuts a long wait into `delay_ns` calls.
    fn delay_us(&mut self, us: u32) {
        spin_us::<P>(u64::from(us));
    }
}

/// Waits `us` microseconds, busy: [`Platform::wait_us`]'s default, and a glue's own wait
/// where it cannot sleep.
pub fn spin_us<P: Platform>(us: u64) {
    let start = P::now_us();
    while P::now_us().wrapping_sub(start) < us {
        core::hint::spin_loop();
    }
}
