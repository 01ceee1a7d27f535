//! A build without the `extended` feature: a `+` target is refused wherever one could come
//! from (options, `add_target`, `with_target`, a storage that starts with one), with an error
//! that names the feature, and never accepted to get nothing.
#![cfg(not(feature = "extended"))]

mod common;

use common::{drain, endpoint, target, texts, OUR_MAC};
use netconsole::{ConsoleError, Netconsole, NoSystemInfo, Target, TargetError};
use netpoll_core::{NicEngine, NoDelay, ResolvePolicy};
use netpoll_drivers::sim::SimNic;

type Console = Netconsole<SimNic<4, 64>, NoDelay, NoSystemInfo, 2, 1024, [Option<Target<2>>; 4]>;

const MESSAGE: &str = "extended format (+) not built in: enable netconsole's `extended` feature";

fn console() -> Console {
    let c = Console::new(NoSystemInfo);
    assert!(c.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    c
}

#[test]
fn a_plus_in_the_options_is_refused_with_the_feature_named() {
    let parsed = netconsole_options::parse_target("+6665@10.0.0.1/,6666@10.0.0.2/").unwrap().target;
    let refused = Target::<2>::from_options(&parsed, None).unwrap_err();
    assert_eq!(refused, TargetError::ExtendedNotBuilt);
    assert_eq!(refused.to_string(), MESSAGE);
    // A basic one is made as before.
    let parsed = netconsole_options::parse_target("6665@10.0.0.1/,6666@10.0.0.2/").unwrap().target;
    assert!(!Target::<2>::from_options(&parsed, None).unwrap().extended);
}

#[test]
fn an_extended_target_is_not_added() {
    let c = console();
    assert_eq!(c.add_target(target(6667, true)), Err(ConsoleError::ExtendedNotBuilt));
    assert_eq!(ConsoleError::ExtendedNotBuilt.as_str(), MESSAGE);
    assert_eq!(ConsoleError::ExtendedNotBuilt.to_string(), MESSAGE);
    // Nothing took a slot: the basic target that follows is the first.
    assert_eq!(c.add_target(target(6666, false)), Ok(0));
    assert_eq!(c.with_target(1, |_| ()), Err(ConsoleError::NoSuchTarget));
}

#[test]
fn a_target_is_not_made_extended_and_is_left_as_it_was() {
    let c = console();
    let i = c.add_target(target(6666, false)).unwrap();
    let refused = c.with_target(i, |t| {
        t.extended = true;
        t.release = true;
        t.endpoint.remote_port = 7000;
    });
    assert_eq!(refused, Err(ConsoleError::ExtendedNotBuilt));
    let (extended, release, port) =
        c.with_target(i, |t| (t.extended, t.release, t.endpoint.remote_port)).unwrap();
    assert_eq!((extended, release, port), (false, false, 6666));
    // A whole target assigned counts as the same change.
    let refused = c.with_target(i, |t| *t = target(6667, true));
    assert_eq!(refused, Err(ConsoleError::ExtendedNotBuilt));
    c.enable(i, ResolvePolicy::default()).unwrap();
    c.log(6, b"still basic");
    let sent = c.with_nic(|np| drain(np.driver_mut())).unwrap();
    assert_eq!(sent, [(6666, b"still basic\n".to_vec())]);
}

#[test]
fn an_extended_target_the_storage_starts_with_is_not_enabled() {
    let mut extended = Target::new(endpoint(6667));
    extended.extended = true;
    let c: Console = Netconsole::with_storage(
        NoSystemInfo,
        [Some(extended), Some(target(6666, false)), None, None],
    );
    assert!(c.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    assert_eq!(c.enable(0, ResolvePolicy::default()), Err(ConsoleError::ExtendedNotBuilt));
    assert!(!c.with_target(0, |t| t.is_enabled()).unwrap());
    // It may be made basic, and then enabled.
    c.with_target(0, |t| t.extended = false).unwrap();
    c.enable(0, ResolvePolicy::default()).unwrap();
    c.disable(0).unwrap();
    c.enable(1, ResolvePolicy::default()).unwrap();
    c.write(b"text\n");
    c.log(6, b"record");
    let sent = texts(c.with_nic(|np| drain(np.driver_mut())).unwrap());
    assert_eq!(sent, ["text\n", "record\n"]);
    // Every message went to the one target that could take it, none to the refused one.
    assert_eq!(c.counters().messages, 2);
    assert_eq!(c.target_counters(1).unwrap().messages, 2);
    assert_eq!(c.target_counters(0).unwrap().messages, 0);
}
