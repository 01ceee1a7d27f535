//! Found by review: what a firmware meets when it reconfigures targets around a message that
//! waits, keeps targets past the 32 the console serves, or changes its release between tries.

mod common;

use common::{drain, OUR_MAC, PEER_MAC};
use managed::ManagedSlice;
use netconsole::{ConsoleError, Netconsole, NoSystemInfo, Target};
use netpoll_core::{Endpoint, NicEngine, NoDelay, ResolvePolicy};
use netpoll_drivers::sim::SimNic;

fn endpoint(port: u16) -> Endpoint {
    let mut ep = Endpoint::new("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    ep.remote_mac = Some(PEER_MAC);
    ep.remote_port = port;
    ep
}

fn target(port: u16, extended: bool) -> Target<2> {
    let mut t = Target::new(endpoint(port));
    t.extended = extended;
    t
}

// Slots past the 32 the console serves are not used: every call says so, none panics.

type Lent<'a> =
    Netconsole<SimNic<4, 64>, NoDelay, NoSystemInfo, 2, 1024, ManagedSlice<'a, Option<Target<2>>>>;

#[test]
fn a_target_the_storage_holds_past_slot_32_is_refused_not_a_panic() {
    let mut slots: [Option<Target<2>>; 40] = netconsole::no_targets();
    slots[35] = Some(target(6666, false));
    let c: Lent<'_> = Netconsole::with_storage(NoSystemInfo, ManagedSlice::from(&mut slots[..]));
    assert!(c.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    let refused = Err(ConsoleError::NoSuchTarget);
    assert_eq!(c.enable(35, ResolvePolicy::default()).map(|_| ()), refused);
    assert_eq!(c.disable(35), refused);
    assert_eq!(c.remove_target(35).map(|_| ()), refused);
    assert_eq!(c.with_target(35, |_| ()), refused);
    c.log(6, b"nobody");
    assert_eq!(c.with_nic(|np| drain(np.driver_mut()).len()).unwrap(), 0);
}

// Early-boot messages wait for the first enabled target, whichever slot it takes.

type OneTarget = Netconsole<SimNic<4, 64>, NoDelay, NoSystemInfo, 2, 1024, [Option<Target<2>>; 1]>;

#[test]
fn early_messages_reach_a_target_added_after_another_was_removed_before_any_enable() {
    let c = OneTarget::new(NoSystemInfo);
    c.log(6, b"early");
    assert!(c.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    // The firmware reads its configuration, changes its mind, and adds another target.
    let i = c.add_target(target(6666, false)).unwrap();
    c.remove_target(i).unwrap();
    let i = c.add_target(target(6667, false)).unwrap();
    c.enable(i, ResolvePolicy::default()).unwrap();
    assert!(c.flush());
    let sent = c.with_nic(|np| drain(np.driver_mut())).unwrap();
    assert_eq!(sent, [(6667, b"early\n".to_vec())], "replayed to the first enabled target");
    assert_eq!(c.counters().targets.messages, 1);
}
