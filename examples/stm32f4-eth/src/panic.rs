//! The panic handler: the message goes out through the console, the frames get a bounded time
//! to leave, the red LED goes on, and the core sleeps.

use core::fmt::{self, Write as _};
use core::panic::PanicInfo;

use stm32f4xx_hal::pac;

use crate::CONSOLE;

/// Polls of the NIC the panic handler allows for queued frames to leave.
const DRAIN_POLLS: u32 = 1000;
/// Microseconds between those polls: 10 ms in all, at most.
const DRAIN_WAIT_US: u32 = 10;

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    let mut text = Truncating::<512>::new();
    let _ = write!(text, "{info}");
    // Never waits: if the panic struck inside a console write, the message stays in the backlog.
    netconsole::global::log_panic(0, text.as_bytes());
    let _ = CONSOLE.with_nic(|nic| nic.wait_tx_drained(DRAIN_POLLS, DRAIN_WAIT_US));
    halt()
}

/// Red LED on, then sleep for good.
pub fn halt() -> ! {
    // SAFETY: one write to GPIOB's set/reset register, which changes only LD3's pin (PB14) and
    // nothing else; whoever else holds GPIOB never runs again (a panic, or bring-up that failed).
    unsafe { (*pac::GPIOB::ptr()).bsrr().write(|w| w.bs14().set_bit()) };
    loop {
        cortex_m::asm::wfi();
    }
}

/// `fmt::Write` into a fixed buffer that keeps what fits and drops the rest, so a long panic
/// message is cut, never lost whole.
struct Truncating<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Truncating<N> {
    fn new() -> Self {
        Truncating { buf: [0; N], len: 0 }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl<const N: usize> fmt::Write for Truncating<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = N - self.len;
        let n = s.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}
