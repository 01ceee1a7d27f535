//! The end of every run: a deliberate panic whose message leaves through netconsole's panic
//! path, then QEMU's exit with a status that says whether the firmware saw errors.

use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

use netpoll_core::NetPoll;

use crate::app::{wait_holding_console, AppConsole, Holding, DRAIN_POLLS};
use crate::clock::spin_us;
use crate::expected::PANIC_MESSAGE;
use crate::serial::say;
use crate::text::Text;
use crate::{ExitCode, Platform};

/// Set just before the deliberate panic: any other panic is a failure.
static DELIBERATE: AtomicBool = AtomicBool::new(false);
/// Set when the run saw something go wrong (a lost message, an unresolved target).
static ERRORS: AtomicBool = AtomicBool::new(false);
/// Set by the first panic: a panic inside the panic handler exits at once.
static PANICKING: AtomicBool = AtomicBool::new(false);

pub(crate) fn note_errors() {
    ERRORS.store(true, Ordering::Release);
}

/// The deliberate panic's message as a literal: a `panic!` with a bare literal has a message
/// the handler takes as it is (`as_str`), where `panic!("{PANIC_MESSAGE}")` would need
/// `core::fmt` to render.
macro_rules! deliberate_message {
    () => {
        "deliberate panic: end of the netconsole example"
    };
}

/// Checked when this crate compiles: the literal is the message the checker looks for.
const _: () = assert!(same(deliberate_message!(), PANIC_MESSAGE));

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

pub(crate) fn panic_now() -> ! {
    DELIBERATE.store(true, Ordering::Release);
    panic!(deliberate_message!())
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
    let mut text = Text::<256>::new();
    match info.location() {
        Some(at) => {
            text.bytes(b"panicked at ").bytes(file_name(at.file().as_bytes())).bytes(b":");
            text.dec(at.line().into()).bytes(b": ");
        }
        None => {
            text.bytes(b"panicked: ");
        }
    }
    // A literal (the deliberate panic, `expect`, most of core's own) needs no formatting; a
    // message with arguments (an index out of bounds, say) would need `core::fmt`, a few KiB of
    // flash for a panic that should never happen: where it was says enough.
    let message = info.message().as_str().unwrap_or("(a message with arguments, not rendered)");
    text.bytes(message.as_bytes());
    say::<P>(&[text.as_bytes()]);
    if option_env!("NETCONSOLE_PANIC_IN_TICK").is_some() {
        // The wait the engine makes between tries on a full ring, made here for sure (the
        // ring is rarely full at this point): the platform's wait must return even inside the
        // timer's interrupt handler, whose interrupt is active and so cannot wake it.
        P::wait_us(50);
        say::<P>(&[b"a wait inside the interrupt handler returned"]);
    }
    console.log_panic(0, text.as_bytes());
    // Sends what the backlog still holds, then waits, bounded, until the NIC has finished
    // every frame, so that QEMU does not exit with the message still in the ring. Both take
    // the console with a try-lock: a panic inside a write does not deadlock here.
    console.flush();
    if !wait_holding_console(console, Holding::TxDrained) {
        // The NIC could not be reached or did not drain: give it the time anyway.
        spin_us::<P>(u64::from(DRAIN_POLLS) * 1000);
    }
    let code = match (DELIBERATE.load(Ordering::Acquire), ERRORS.load(Ordering::Acquire)) {
        (true, false) => ExitCode::Clean,
        (true, true) => ExitCode::Errors,
        (false, _) => ExitCode::UnexpectedPanic,
    };
    say::<P>(&[b"exit ", &[b'0' + code as u8]]);
    P::exit(code)
}

/// A source path's file name (`panic.rs`): the build machine's directories say nothing to the
/// reader of a log, and a long checkout path would crowd the message out of the line. Bytes,
/// not `str` slicing, which would bring in the char-boundary panic and its Unicode tables.
fn file_name(path: &[u8]) -> &[u8] {
    let start = path.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
    path.get(start..).unwrap_or(path)
}
