//! Targets kept in a caller's `managed` slice instead of the console's own array; targets
//! removed at run time, with what waits for them in the backlog.

mod common;

use common::{drain, OUR_MAC, PEER_MAC};
use managed::ManagedSlice;
use netconsole::{ConsoleError, Netconsole, NoSystemInfo, Target};
use netpoll_core::{Endpoint, NicEngine, NoDelay, ResolvePolicy};
use netpoll_drivers::sim::SimNic;

type Slots<'a> = ManagedSlice<'a, Option<Target<2>>>;
type Console<'a> = Netconsole<SimNic<4, 64>, NoDelay, NoSystemInfo, 2, 1024, Slots<'a>>;

fn target(port: u16) -> Target<2> {
    let mut endpoint = Endpoint::new("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    endpoint.remote_port = port;
    endpoint.remote_mac = Some(PEER_MAC);
    Target::new(endpoint)
}

#[test]
fn a_borrowed_slice_holds_as_many_targets_as_it_has_slots() {
    let mut slots: [Option<Target<2>>; 3] = netconsole::no_targets();
    let console: Console<'_> =
        Netconsole::with_storage(NoSystemInfo, ManagedSlice::from(&mut slots[..]));
    assert!(console.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    for port in [7001, 7002, 7003] {
        let i = console.add_target(target(port)).unwrap();
        console.enable(i, ResolvePolicy::default()).unwrap();
    }
    assert_eq!(console.add_target(target(7004)).unwrap_err(), ConsoleError::TooManyTargets);

    console.log(6, b"to all three");
    let ports: Vec<u16> =
        console.with_nic(|np| drain(np.driver_mut())).unwrap().iter().map(|(p, _)| *p).collect();
    assert_eq!(ports, [7003, 7002, 7001], "newest target first, as Linux");

    // Removing frees the slot for another target.
    let removed = console.remove_target(1).unwrap();
    assert_eq!(removed.endpoint.remote_port, 7002);
    assert_eq!(removed.counters().messages, 1);
    assert_eq!(console.add_target(target(7005)).unwrap(), 1);
    assert_eq!(console.target_counters(1).unwrap().messages, 0);
}

#[test]
fn removing_a_target_takes_it_out_of_the_backlog() {
    let mut slots: [Option<Target<2>>; 2] = netconsole::no_targets();
    let console: Console<'_> =
        Netconsole::with_storage(NoSystemInfo, ManagedSlice::from(&mut slots[..]));
    assert!(console.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    for port in [7001, 7002] {
        let i = console.add_target(target(port)).unwrap();
        console.enable(i, ResolvePolicy::default()).unwrap();
    }
    // A stuck ring keeps the message for both targets.
    console.with_nic(|np| np.driver_mut().never_drain()).unwrap();
    console.log(6, b"waiting");
    let waiting = console.backlog_len();
    assert!(waiting > 0);
    console.remove_target(0).unwrap();
    assert_eq!(console.backlog_len(), waiting, "still waiting for target 1");
    console.remove_target(1).unwrap();
    assert_eq!(console.backlog_len(), 0, "an entry for no target is gone");
}
