//! The end of every run: a deliberate panic whose message leaves through netconsole's panic
//! path, then QEMU's exit with a status that says whether the firmware saw errors.

use core::fmt::Write as _;
use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

use netpoll_core::NetPoll;

use crate::app::AppConsole;
use crate::clock::spin_us;
use crate::expected::PANIC_MESSAGE;
use crate::serial::say;
use crate::{ExitCode, Platform};

/// Set just before the deliberate panic: any other panic is a failure.
static DELIBERATE: AtomicBool = AtomicBool::new(false);
/// Set when the run saw something go wrong (a lost message, an unresolved target).
static ERRORS: AtomicBool = AtomicBool::new(false);
/// Set by the first panic: a panic inside the panic handler exits at once.
static PANICKING: AtomicBool = AtomicBool::new(false);

/// Milliseconds the panic handler gives the NIC to send the message before QEMU exits.
const DRAIN_POLLS: u32 = 100;

pub(crate) fn note_errors() {
    ERRORS.store(true, Ordering::Release);
}

pub(crate) fn panic_now() -> ! {
    DELIBERATE.store(true, Ordering::Release);
    panic!("{PANIC_MESSAGE}")
}

/// The body of the glue's `#[panic_handler]`: logs `info` through the console's panic path
/// (never waits for a write the panic interrupted), gives the NIC a bounded time to send it,
/// and exits with [`ExitCode`].
pub fn panic<D, P>(info: &PanicInfo<'_>, console: &'static AppConsole<D, P>) -> !
where
    D: NetPoll + Send + 'static,
    P: Platform,
{
    if PANICKING.load(Ordering::Acquire) {
        P::exit(ExitCode::UnexpectedPanic);
    }
    PANICKING.store(true, Ordering::Release);
    P::stop_timer();
    let mut text: heapless::String<256> = heapless::String::new();
    match info.location() {
        Some(at) => {
            let _ =
                write!(text, "panicked at {}:{}: {}", short(at.file()), at.line(), info.message());
        }
        None => {
            let _ = write!(text, "panicked: {}", info.message());
        }
    }
    say!(P, "firmware-app: {text}");
    console.log_panic(0, text.as_bytes());
    // Sends what the backlog still holds, then waits, bounded, until the NIC has finished
    // every frame, so that QEMU does not exit with the message still in the ring. Both take
    // the console with a try-lock: a panic inside a write does not deadlock here.
    console.flush();
    let drained = console.with_nic(|nic| nic.wait_tx_drained(DRAIN_POLLS, 1000));
    if drained != Ok(0) {
        // The NIC could not be reached or did not drain: give it the time anyway.
        spin_us::<P>(u64::from(DRAIN_POLLS) * 1000);
    }
    let code = match (DELIBERATE.load(Ordering::Acquire), ERRORS.load(Ordering::Acquire)) {
        (true, false) => ExitCode::Clean,
        (true, true) => ExitCode::Errors,
        (false, _) => ExitCode::UnexpectedPanic,
    };
    say!(P, "firmware-app: exit {}", code as u8);
    P::exit(code)
}

/// A source path from the crate's directory on (`firmware-app/src/panic.rs`): the build
/// machine's directories say nothing to the reader of a log.
fn short(path: &str) -> &str {
    let Some(src) = path.rfind("/src/") else { return path };
    let crate_start = path[..src].rfind('/').map_or(0, |i| i + 1);
    &path[crate_start..]
}
