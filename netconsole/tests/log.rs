//! `log::Log` for the console: levels mapped to printk's, one record per call.
#![cfg(feature = "log")]

mod common;

use common::{drain, OUR_MAC, PEER_MAC};
use netconsole::{Netconsole, NoSystemInfo, Target};
use netpoll_core::{Endpoint, NicEngine, ResolvePolicy};
use netpoll_drivers::sim::SimNic;

static CONSOLE: Netconsole<SimNic<4, 16>> = Netconsole::new(NoSystemInfo);

#[test]
fn log_records_become_extended_records_at_printk_levels() {
    assert!(CONSOLE.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    let mut endpoint = Endpoint::new("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    endpoint.remote_mac = Some(PEER_MAC);
    let mut target = Target::new(endpoint);
    target.extended = true;
    let i = CONSOLE.add_target(target).unwrap();
    CONSOLE.enable(i, ResolvePolicy::default()).unwrap();

    for (level, text) in [
        (log::Level::Error, "e"),
        (log::Level::Warn, "w"),
        (log::Level::Info, "i"),
        (log::Level::Debug, "d"),
        (log::Level::Trace, "t"),
    ] {
        log::Log::log(
            &CONSOLE,
            &log::Record::builder().level(level).args(format_args!("{text} {}", 1)).build(),
        );
    }
    let payloads: Vec<Vec<u8>> = CONSOLE
        .with_nic(|np| drain(np.driver_mut()))
        .unwrap()
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    let want: Vec<&[u8]> = vec![
        b"3,0,0,-;e 1\n",
        b"4,1,0,-;w 1\n",
        b"6,2,0,-;i 1\n",
        b"7,3,0,-;d 1\n",
        b"7,4,0,-;t 1\n",
    ];
    assert_eq!(payloads, want);
}

static MULTILINE: Netconsole<SimNic<4, 16>> = Netconsole::new(NoSystemInfo);

#[test]
fn one_log_call_is_one_record_whatever_its_newlines() {
    assert!(MULTILINE.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    let mut endpoint = Endpoint::new("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    endpoint.remote_mac = Some(PEER_MAC);
    let mut target = Target::new(endpoint);
    target.extended = true;
    let i = MULTILINE.add_target(target).unwrap();
    MULTILINE.enable(i, ResolvePolicy::default()).unwrap();
    let lines = ["line1", "line2", "line3"];
    log::Log::log(
        &MULTILINE,
        &log::Record::builder()
            .level(log::Level::Info)
            .args(format_args!("nct:embedded-newline {}\n{}\n{}", lines[0], lines[1], lines[2]))
            .build(),
    );
    let payloads: Vec<Vec<u8>> = MULTILINE
        .with_nic(|np| drain(np.driver_mut()))
        .unwrap()
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    assert_eq!(payloads, [b"6,0,0,-;nct:embedded-newline line1\\x0aline2\\x0aline3\n".to_vec()]);
}
