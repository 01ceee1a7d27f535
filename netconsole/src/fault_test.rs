//! A fault handler (HardFault, NMI) that logs while the console's backlog is being changed: a
//! single-core critical section does not mask it.

use netpoll_drivers::sim::SimNic;

use crate::{Netconsole, NoSystemInfo};

#[test]
fn a_fault_handler_logging_while_the_backlog_is_borrowed_does_not_panic() {
    let console: Netconsole<SimNic> = Netconsole::new(NoSystemInfo);
    let held = console.shared.backlog(|_| {
        // The fault handler, nested inside the borrow.
        console.log(0, b"hard fault");
        console.write(b"hard fault\n");
        console.counters()
    });
    assert_eq!(held.map(|c| c.messages), Some(2), "counters read inside the borrow");
    let c = console.counters();
    assert_eq!((c.messages, c.refused.messages, c.refused.bytes), (2, 2, 21));
    assert_eq!(console.backlog_len(), 0, "refused, not half-kept");
}

#[test]
fn a_fault_handler_flushing_while_the_backlog_is_borrowed_is_not_told_it_is_empty() {
    let console: Netconsole<SimNic> = Netconsole::new(NoSystemInfo);
    console.log(6, b"waits for a NIC");
    assert!(console.backlog_len() > 0);
    let left = console.shared.backlog(|_| console.flush_for_panic(1)).unwrap();
    assert_ne!(left.backlog_bytes, 0, "the backlog holds a message it could not look at");
}
