//! Issue 10: the console keeps every message. Each test drives one case a review or real kernel
//! output found: a message left stranded, lost, sent twice or to the wrong place.

// Without the `extended` feature the tests of that format are not built, nor need their helpers.
#![cfg_attr(not(feature = "extended"), allow(dead_code, unused_imports))]

mod common;

use core::fmt::Write as _;
use std::sync::atomic::{AtomicU32, Ordering};

use common::{drain, target, texts, udp_payload, OUR_MAC};
use netconsole::{ConsoleError, MessageWriter, Netconsole, NoSystemInfo, Target};
use netpoll_core::{NicEngine, NoDelay, ResolvePolicy, RetryPolicy};
use netpoll_drivers::sim::SimNic;

type Console = Netconsole<SimNic<4, 64>, NoDelay, NoSystemInfo, 2, 1024, [Option<Target<2>>; 4]>;
type OneSlot = Netconsole<SimNic<1, 64>, NoDelay, NoSystemInfo, 2, 8192, [Option<Target<2>>; 2]>;

// 1. A write leaves its own message in the backlog while the NIC is healthy.

static NESTED: Console = Console::new(NoSystemInfo);
static NESTED_ON: AtomicU32 = AtomicU32::new(0);

fn nested_hook() {
    if NESTED_ON.swap(0, Ordering::SeqCst) == 1 {
        NESTED.log(6, b"third, from an interrupt");
    }
}

#[test]
fn a_write_returns_with_the_backlog_empty_when_the_nic_takes_frames() {
    assert!(NESTED.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    let i = NESTED.add_target(target(6666, false)).unwrap();
    NESTED.enable(i, ResolvePolicy::default()).unwrap();
    NESTED.with_nic(|np| np.driver_mut().set_xmit_hook(Some(nested_hook))).unwrap();

    // The ring is full when the first message is written: it waits in the backlog.
    NESTED.with_nic(|np| np.driver_mut().never_drain()).unwrap();
    NESTED.log(6, b"older");
    assert!(NESTED.backlog_len() > 0);
    // The ring drains; nobody writes for a while.
    NESTED
        .with_nic(|np| {
            np.driver_mut().heal();
            np.poll();
        })
        .unwrap();
    // A new write flushes the older message; an interrupt writes while it is on the wire.
    NESTED_ON.store(1, Ordering::SeqCst);
    NESTED.log(6, b"new");
    assert_eq!(NESTED.backlog_len(), 0, "nothing waits: the NIC took every frame");
    let sent = texts(NESTED.with_nic(|np| drain(np.driver_mut())).unwrap());
    assert_eq!(sent, ["older\n", "new\n", "third, from an interrupt\n"]);
    assert_eq!(NESTED.counters().targets.messages, 3);
}

// 2. Early-boot messages vanish, uncounted.

#[test]
fn early_messages_wait_for_the_first_enabled_target() {
    let c = Console::new(NoSystemInfo);
    c.log(6, b"before attach");
    assert!(c.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    c.log(6, b"after attach, before enable");
    let i = c.add_target(target(6666, false)).unwrap();
    c.enable(i, ResolvePolicy::default()).unwrap();
    assert!(c.flush());
    let sent = texts(c.with_nic(|np| drain(np.driver_mut())).unwrap());
    assert_eq!(sent, ["before attach\n", "after attach, before enable\n"]);
    assert_eq!(c.counters().targets.messages, 2);
}

// 3. A target removed mid-message and added again skips the next message.

fn one_slot_one_try() -> NicEngine<SimNic<1, 64>> {
    let mut np = NicEngine::new(SimNic::new(OUR_MAC));
    np.set_retry_policy(RetryPolicy { tries: 1, wait_us: 0 });
    np
}

#[test]
fn a_target_removed_mid_message_and_added_again_gets_the_next_message() {
    let c = OneSlot::new(NoSystemInfo);
    assert!(c.attach(one_slot_one_try()).is_ok());
    let i = c.add_target(target(6666, false)).unwrap();
    c.enable(i, ResolvePolicy::default()).unwrap();
    c.write(&[b'x'; 3000]); // one chunk leaves, then the only slot is busy
    assert_eq!(c.with_nic(|np| drain(np.driver_mut()).len()).unwrap(), 1);

    let removed = c.remove_target(i).unwrap();
    let i = c.add_target(removed).unwrap();
    c.enable(i, ResolvePolicy::default()).unwrap();
    for _ in 0..3 {
        c.poll();
    }
    c.write(b"short\n");
    for _ in 0..3 {
        c.poll();
    }
    let sent = texts(c.with_nic(|np| drain(np.driver_mut())).unwrap());
    assert_eq!(sent, ["short\n"], "the message after the re-add arrives, once");
}

/// The `ncfrag` totals of extended datagrams.
fn totals(sent: &[(u16, Vec<u8>)]) -> Vec<usize> {
    sent.iter()
        .filter_map(|(_, p)| {
            let text = String::from_utf8_lossy(p);
            let at = text.find(",ncfrag=")?;
            let rest = &text[at + 8..];
            let (_, total) = rest[..rest.find(';').unwrap()].split_once('/').unwrap();
            Some(total.parse().unwrap())
        })
        .collect()
}

#[cfg(feature = "extended")]
#[test]
fn a_userdata_change_between_tries_does_not_move_the_cut_points() {
    let c = OneSlot::new(NoSystemInfo);
    assert!(c.attach(one_slot_one_try()).is_ok());
    let i = c.add_target(target(6666, true)).unwrap();
    c.enable(i, ResolvePolicy::default()).unwrap();
    c.log(6, &[b'y'; 2500]); // the first fragment leaves, the rest waits
    c.with_target(i, |t| t.userdata.set(b"key", b"a value that changes the total").unwrap())
        .unwrap();
    for _ in 0..5 {
        c.poll();
    }
    let sent = c.with_nic(|np| drain(np.driver_mut())).unwrap();
    let totals = totals(&sent);
    assert_eq!(totals.len(), 3, "{totals:?}");
    assert!(totals.iter().all(|&t| t == 2501), "one total for one record: {totals:?}");
    assert_eq!(c.backlog_len(), 0);
}

// 4. write() to a console whose targets are all extended sends nothing and counts nothing.

#[cfg(feature = "extended")]
#[test]
fn console_text_reaches_extended_only_targets_as_a_record_at_the_default_level() {
    let c = Console::new(NoSystemInfo);
    assert!(c.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    let i = c.add_target(target(6666, true)).unwrap();
    c.enable(i, ResolvePolicy::default()).unwrap();
    c.write(b"console text\n");
    let sent = texts(c.with_nic(|np| drain(np.driver_mut())).unwrap());
    assert_eq!(sent, ["4,0,0,-;console text\n"]);
    assert_eq!(c.counters().targets.messages, 1);
}

#[cfg(feature = "extended")]
#[test]
fn console_text_written_before_an_extended_target_is_enabled_reaches_it_as_a_record() {
    let c = Console::new(NoSystemInfo);
    c.write(b"early console text\n");
    assert!(c.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    let i = c.add_target(target(6666, true)).unwrap();
    c.enable(i, ResolvePolicy::default()).unwrap();
    assert!(c.flush());
    let sent = texts(c.with_nic(|np| drain(np.driver_mut())).unwrap());
    assert_eq!(sent, ["4,0,0,-;early console text\n"]);
}

// 5. One call, one record.

#[cfg(feature = "extended")]
#[test]
fn one_write_through_the_writer_is_one_record() {
    let c = Console::new(NoSystemInfo);
    assert!(c.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    for (port, extended) in [(6666, false), (6667, true)] {
        let i = c.add_target(target(port, extended)).unwrap();
        c.enable(i, ResolvePolicy::default()).unwrap();
    }
    let mut w = MessageWriter::<256>::new(&c, 6);
    let lines = ["line1", "line2", "line3"];
    write!(w, "nct:embedded-newline {}\n{}\n{}", lines[0], lines[1], lines[2]).unwrap();
    w.end();
    let sent = c.with_nic(|np| drain(np.driver_mut())).unwrap();
    let (ext, basic): (Vec<_>, Vec<_>) = sent.into_iter().partition(|(port, _)| *port == 6667);
    assert_eq!(texts(ext), ["6,0,0,-;nct:embedded-newline line1\\x0aline2\\x0aline3\n"]);
    assert_eq!(texts(basic), ["nct:embedded-newline line1\nline2\nline3\n"]);
    assert_eq!(c.counters().messages, 1);
}

// 8. Reading counters can fail or send.

static READER: Console = Console::new(NoSystemInfo);
static READ_ON: AtomicU32 = AtomicU32::new(0);
static READ_OK: AtomicU32 = AtomicU32::new(0);

fn read_hook() {
    if READ_ON.swap(0, Ordering::SeqCst) == 1 && READER.target_counters(0).is_ok() {
        READ_OK.store(1, Ordering::SeqCst);
    }
}

#[test]
fn reading_a_target_counter_from_inside_a_write_never_fails() {
    assert!(READER.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    let i = READER.add_target(target(6666, false)).unwrap();
    READER.enable(i, ResolvePolicy::default()).unwrap();
    READER.log(6, b"one");
    READER.with_nic(|np| np.driver_mut().set_xmit_hook(Some(read_hook))).unwrap();
    READ_ON.store(1, Ordering::SeqCst);
    READER.log(6, b"two"); // the hook reads the counters as an interrupt would
    assert_eq!(READ_OK.load(Ordering::SeqCst), 1, "target_counters refused inside a write");
}

#[test]
fn reading_a_target_counter_never_sends() {
    let c = Console::new(NoSystemInfo);
    assert!(c.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    let i = c.add_target(target(6666, false)).unwrap();
    c.enable(i, ResolvePolicy::default()).unwrap();
    c.with_nic(|np| np.driver_mut().never_drain()).unwrap();
    c.log(6, b"waiting");
    c.with_nic(|np| np.driver_mut().heal()).unwrap();
    let before = c.with_nic(|np| np.driver().counters().xmit_calls).unwrap();
    let _ = c.target_counters(i);
    let _ = c.counters();
    assert_eq!(c.with_nic(|np| np.driver().counters().xmit_calls).unwrap(), before);
}

// 9. Targets get messages newest first after a slot is reused too.

#[test]
fn newest_target_first_after_a_slot_is_reused() {
    let c = Console::new(NoSystemInfo);
    assert!(c.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    let a = c.add_target(target(7001, false)).unwrap();
    let b = c.add_target(target(7002, false)).unwrap();
    c.remove_target(a).unwrap();
    let new = c.add_target(target(7003, false)).unwrap();
    for i in [b, new] {
        c.enable(i, ResolvePolicy::default()).unwrap();
    }
    c.log(6, b"order");
    let ports: Vec<u16> =
        c.with_nic(|np| drain(np.driver_mut())).unwrap().iter().map(|(p, _)| *p).collect();
    assert_eq!(ports, [7003, 7002], "C was added last: it goes first, as in Linux");
}

// 10. Linux refuses to enable an enabled target and to change an enabled target's addresses.

#[cfg(feature = "extended")]
#[test]
fn an_enabled_target_is_not_enabled_again_nor_reconfigured() {
    let c = Console::new(NoSystemInfo);
    assert!(c.attach(NicEngine::new(SimNic::new(OUR_MAC))).is_ok());
    let i = c.add_target(target(6666, true)).unwrap();
    c.enable(i, ResolvePolicy::default()).unwrap();
    assert_eq!(c.enable(i, ResolvePolicy::default()), Err(ConsoleError::AlreadyEnabled));
    let refused = Err(ConsoleError::TargetEnabled);
    assert_eq!(c.with_target(i, |t| t.endpoint.remote_port = 7000), refused);
    assert_eq!(c.with_target(i, |t| t.extended = false), refused);
    assert_eq!(c.with_target(i, |t| t.release = true), refused);
    assert_eq!(c.with_target(i, |t| t.endpoint.remote_ip = "10.0.0.3".parse().unwrap()), refused);
    assert_eq!(
        ConsoleError::TargetEnabled.to_string(),
        "target is enabled, disable to update parameters"
    );
    c.log(6, b"unchanged");
    let frame = c.with_nic(|np| np.driver_mut().pop_sent().unwrap()).unwrap();
    assert_eq!(udp_payload(&frame), (6666, b"6,0,0,-;unchanged\n".to_vec()));
    // Userdata may change while enabled, as configfs allows.
    assert!(c.with_target(i, |t| t.userdata.set(b"k", b"v")).unwrap().is_ok());
    c.disable(i).unwrap();
    assert!(c.with_target(i, |t| t.endpoint.remote_port = 7000).is_ok(), "disabled: allowed");
}
