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

#[test]
fn every_call_a_fault_handler_may_make_while_the_backlog_is_borrowed_returns() {
    use netpoll_core::{Endpoint, MacAddr, NicEngine, ResolvePolicy};

    use crate::Target;

    let console: Netconsole<SimNic> = Netconsole::new(NoSystemInfo);
    let nic = NicEngine::new(SimNic::new(MacAddr([0x02, 0, 0, 0, 0, 1])));
    assert!(console.attach(nic).is_ok());
    let mut endpoint = Endpoint::new("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    endpoint.remote_mac = Some(MacAddr([0x02, 0, 0, 0, 0, 2]));
    let i = console.add_target(Target::new(endpoint)).unwrap();
    console.enable(i, ResolvePolicy::default()).unwrap();
    console.with_nic(|np| np.driver_mut().never_drain()).unwrap();
    console.log(6, b"waits");
    let inside = console.shared.backlog(|_| {
        // The fault handler, nested inside the borrow: nothing may panic or wait.
        console.log(0, b"fault");
        console.log_panic(0, b"fault");
        assert!(!console.flush());
        assert!(!console.poll());
        let _ = console.counters();
        assert!(console.target_counters(i).is_ok());
        let left = console.flush_for_panic(1);
        assert_eq!(left.backlog_bytes, crate::StillQueued::BACKLOG_BUSY);
        assert!(console.with_target(i, |t| t.is_enabled()).is_ok());
        assert!(console.disable(i).is_ok());
        console.remove_target(i).map(|_| ())
    });
    assert_eq!(inside, Some(Ok(())));
    let c = console.counters();
    assert_eq!(c.refused.messages, 2, "the two fault messages: refused and counted");
}
