//! Found by review: what a firmware meets when it reconfigures targets around a message that
//! waits, keeps targets past the 32 the console serves, or changes its release between tries.

mod common;

use common::{drain, OUR_MAC, PEER_MAC};
use managed::ManagedSlice;
use netconsole::{ConsoleError, Netconsole, NoSystemInfo, Target};
use netpoll_core::{Endpoint, NicEngine, NoDelay, ResolvePolicy, RetryPolicy};
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

fn texts(sent: Vec<(u16, Vec<u8>)>) -> Vec<String> {
    sent.into_iter().map(|(_, p)| String::from_utf8_lossy(&p).into_owned()).collect()
}

fn one_slot_one_try() -> NicEngine<SimNic<1, 64>> {
    let mut np = NicEngine::new(SimNic::new(OUR_MAC));
    np.set_retry_policy(RetryPolicy { tries: 1, wait_us: 0 });
    np
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

// A target disabled partway through a message, reconfigured and enabled again before the rest
// is sent, does not get the rest cut for its old format or sent to its new address.

type OneSlot = Netconsole<SimNic<1, 64>, NoDelay, NoSystemInfo, 2, 8192, [Option<Target<2>>; 2]>;

#[test]
fn a_target_reconfigured_between_tries_gets_no_tail_of_a_message_cut_for_its_old_format() {
    let c = OneSlot::new(NoSystemInfo);
    assert!(c.attach(one_slot_one_try()).is_ok());
    let i = c.add_target(target(6666, false)).unwrap();
    c.enable(i, ResolvePolicy::default()).unwrap();
    c.log(6, &[b'x'; 3000]); // one basic chunk leaves, the rest waits
    assert_eq!(c.with_nic(|np| drain(np.driver_mut()).len()).unwrap(), 1);

    c.disable(i).unwrap();
    c.with_target(i, |t| {
        t.extended = true;
        t.endpoint.remote_port = 7777;
    })
    .unwrap();
    c.enable(i, ResolvePolicy::default()).unwrap();
    for _ in 0..8 {
        c.poll();
    }
    c.log(6, b"after");
    for _ in 0..3 {
        c.poll();
    }
    let sent = c.with_nic(|np| drain(np.driver_mut())).unwrap();
    for (port, p) in &sent {
        let text = String::from_utf8_lossy(p);
        assert_eq!(*port, 7777);
        assert!(!text.contains(",ncfrag=") || text.contains(",ncfrag=0/"), "a tail: {text}");
    }
    assert_eq!(texts(sent).last().map(String::as_str), Some("6,1,0,-;after\n"));
    assert_eq!(c.backlog_len(), 0);
}
