//! A panic that strikes between two frames of one message's batch leaves the driver inside the
//! batch: the frame already queued waits for a notification that only the batch's end gives.
//! The takeover frees the console from that write; it must also end the write's batch, or a
//! panic handler that only flushes (the interrupted message was the write's own, so the backlog
//! is empty) leaves that frame un-notified while `flush_for_panic` waits for it. One test per
//! binary: the panic hook is process-wide.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use common::quirky_nic::{Quirks, QuirkyNic};
use common::{target, OUR_MAC};
use netconsole::{Netconsole, NoSystemInfo, PanicTakeover, Target};
use netpoll_core::{NicEngine, NoDelay, ResolvePolicy, XmitError};
use netpoll_drivers::sim::SimNic;

/// A doorbell on the sim (frames queued within a batch are held until its end or a `Busy`)
/// that panics in its transmit once armed.
struct Doorbell {
    in_batch: bool,
    held: usize,
}

/// The next transmit panics, before it queues anything.
static PANIC_NEXT: AtomicBool = AtomicBool::new(false);
/// Frames sent before the driver panics (then it arms `PANIC_NEXT`).
static ARM_AFTER: AtomicUsize = AtomicUsize::new(usize::MAX);

impl Quirks<SimNic<4, 64>> for Doorbell {
    fn before_xmit(&mut self) {
        if PANIC_NEXT.swap(false, Ordering::SeqCst) {
            panic!("driver fault");
        }
    }
    fn after_xmit(&mut self, _: &mut SimNic<4, 64>, result: Result<(), XmitError>) {
        match result {
            Ok(()) => {
                self.held += 1;
                if !self.in_batch {
                    self.held = 0;
                }
                if ARM_AFTER.fetch_sub(1, Ordering::SeqCst) == 1 {
                    PANIC_NEXT.store(true, Ordering::SeqCst);
                }
            }
            Err(XmitError::Busy) => self.held = 0,
            Err(_) => {}
        }
    }
    fn begin_tx_batch(&mut self, _: &mut SimNic<4, 64>) {
        self.in_batch = true;
    }
    fn end_tx_batch(&mut self, _: &mut SimNic<4, 64>) {
        self.in_batch = false;
        self.held = 0;
    }
}

type Nic = QuirkyNic<SimNic<4, 64>, Doorbell>;
type Console = Netconsole<Nic, NoDelay, NoSystemInfo, 2, 4096, [Option<Target<2>>; 2]>;

static CONSOLE: Console = Console::new(NoSystemInfo);
/// What the panic handler saw after its flush: (batch open, frames held).
static SEEN: Mutex<Option<(bool, usize)>> = Mutex::new(None);

#[test]
fn a_takeover_ends_the_batch_the_panic_interrupted() {
    let nic = QuirkyNic::new(SimNic::new(OUR_MAC), Doorbell { in_batch: false, held: 0 });
    assert!(CONSOLE.attach(NicEngine::new(nic)).is_ok());
    for (port, extended) in [(6666, false), (6667, true)] {
        let i = CONSOLE.add_target(target(port, extended)).unwrap();
        CONSOLE.enable(i, ResolvePolicy::default()).unwrap();
    }

    std::panic::set_hook(Box::new(|_| {
        // What a firmware's panic handler may do when the panic message went out already (or
        // goes to the serial port only). SAFETY: the interrupted write never uses the console
        // again: its stack only unwinds (the test's stand-in for a handler that never returns).
        let proof = unsafe { PanicTakeover::new() };
        let taken = CONSOLE.take_over(&proof);
        let _ = CONSOLE.flush_for_panic(3);
        let seen =
            CONSOLE.with_nic(|np| (np.driver().quirks.in_batch, np.driver().quirks.held)).ok();
        *SEEN.lock().unwrap() = seen.filter(|_| taken);
    }));
    // The record's first frame (basic target) is queued within the batch; the driver panics
    // on the second (extended target).
    ARM_AFTER.store(1, Ordering::SeqCst);
    let outcome = std::panic::catch_unwind(|| CONSOLE.log(6, b"interrupted"));
    let _ = std::panic::take_hook();
    assert!(outcome.is_err(), "the driver panicked");

    let seen = SEEN.lock().unwrap().take();
    assert_eq!(seen, Some((false, 0)), "after the takeover: no batch open, no frame held");
}
