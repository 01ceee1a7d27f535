//! Issue 10 item 6: a panic inside the driver's transmit, while a write holds the NIC, still puts
//! the panic message on the wire. The std panic hook runs before unwinding, with the write's lock
//! still held, as a `#[panic_handler]` runs on a microcontroller. One test per binary: the panic
//! hook is process-wide.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};

use common::{drain, OUR_MAC, PEER_MAC};
use netconsole::{Netconsole, NoSystemInfo, PanicTakeover, Target};
use netpoll_core::{Endpoint, NicEngine, NoDelay, ResolvePolicy};
use netpoll_drivers::sim::SimNic;

type Console = Netconsole<SimNic<4, 64>, NoDelay, NoSystemInfo, 2, 1024, [Option<Target<2>>; 1]>;

static CONSOLE: Console = Console::new(NoSystemInfo);
static ARMED: AtomicU32 = AtomicU32::new(0);

fn panicking_driver() {
    if ARMED.swap(0, Ordering::SeqCst) == 1 {
        panic!("driver fault");
    }
}

#[test]
fn a_panic_inside_transmit_still_gets_the_panic_message_out() {
    assert!(CONSOLE.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    let mut endpoint = Endpoint::new("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    endpoint.remote_mac = Some(PEER_MAC);
    let i = CONSOLE.add_target(Target::new(endpoint)).unwrap();
    CONSOLE.enable(i, ResolvePolicy::default()).unwrap();
    CONSOLE.with_nic(|np| np.driver_mut().set_xmit_hook(Some(panicking_driver))).unwrap();

    std::panic::set_hook(Box::new(|_| {
        // What the firmware's panic handler does. SAFETY: as on one core, the interrupted write
        // never uses the console again: its stack only unwinds (the test's stand-in for a panic
        // handler that never returns).
        let proof = unsafe { PanicTakeover::new() };
        assert!(CONSOLE.take_over(&proof), "the interrupted write held the console");
        CONSOLE.log_panic(0, b"panic: driver fault");
        let left = CONSOLE.flush_for_panic(10);
        assert_eq!((left.backlog_bytes, left.tx_in_flight), (0, 0));
    }));
    ARMED.store(1, Ordering::SeqCst);
    let outcome = std::panic::catch_unwind(|| CONSOLE.log(6, b"interrupted"));
    let _ = std::panic::take_hook();
    assert!(outcome.is_err(), "the driver panicked");

    // On a microcontroller nothing runs after the panic handler: no later write flushes.
    let sent = CONSOLE.with_nic(|np| drain(np.driver_mut())).unwrap();
    let texts: Vec<String> =
        sent.into_iter().map(|(_, p)| String::from_utf8_lossy(&p).into_owned()).collect();
    assert_eq!(texts, ["panic: driver fault\n"], "the panic message, on the wire");
    let c = CONSOLE.counters();
    assert_eq!((c.takeovers, c.stranded), (1, 0));
    // The console works on after the takeover (here, where the test goes on).
    CONSOLE.log(6, b"after");
    let sent = CONSOLE.with_nic(|np| drain(np.driver_mut())).unwrap();
    assert_eq!(sent[0].1, b"after\n");
}
