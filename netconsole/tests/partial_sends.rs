//! A message that meets a full TX ring partway: resumed where it stopped, with the same msgid and
//! the same datagrams, before anything written meanwhile, and delivered once even when it needs
//! more datagrams than one retry budget lets through.

// Without the `extended` feature the tests of that format are not built, nor need their helpers.
#![cfg_attr(not(feature = "extended"), allow(dead_code, unused_imports))]

mod common;

use std::sync::atomic::{AtomicU32, Ordering};

use common::quirky_nic::{Quirks, QuirkyNic};
use common::{drain, endpoint, udp_payload, OUR_MAC};
use netconsole::{Netconsole, NoSystemInfo, Sysdata, Target};
use netpoll_core::{NicEngine, NoDelay, ResolvePolicy, RetryPolicy, XmitError};
use netpoll_drivers::sim::SimNic;

/// One try per frame: a legal policy ("at least one is always made").
fn nic<const S: usize>() -> NicEngine<SimNic<S, 64>> {
    let mut np = NicEngine::new(SimNic::new(OUR_MAC));
    np.set_retry_policy(RetryPolicy { tries: 1, wait_us: 0 });
    np
}

// msgid is per message (spec 3.4), not per try.

type OneSlot = Netconsole<SimNic<1, 64>, NoDelay, NoSystemInfo, 2, 1024, [Option<Target<2>>; 2]>;

#[cfg(feature = "extended")]
#[test]
fn msgid_counts_messages_not_send_attempts() {
    let c = OneSlot::new(NoSystemInfo);
    assert!(c.attach(nic::<1>()).is_ok());
    let mut t = Target::new(endpoint(6666));
    t.extended = true;
    t.sysdata = Sysdata { msgid: true, ..Sysdata::default() };
    let i = c.add_target(t).unwrap();
    c.enable(i, ResolvePolicy::default()).unwrap();

    c.log(6, b"first"); // takes the only slot
    c.log(6, b"second"); // ring full: deferred
    assert_eq!(c.counters().deferred, 1);
    assert!(c.poll()); // reclaims the slot, sends "second" from the backlog

    let sent: Vec<Vec<u8>> =
        c.with_nic(|np| drain(np.driver_mut())).unwrap().into_iter().map(|(_, p)| p).collect();
    assert_eq!(sent[0], b"6,0,0,-;first\n msgid=1\n");
    // Two messages: msgid 1 and 2, as Linux numbers them.
    assert_eq!(String::from_utf8_lossy(&sent[1]), "6,1,0,-;second\n msgid=2\n");
}

// A message whose first datagrams went out before the ring filled resumes after them.

type TwoSlots = Netconsole<SimNic<2, 64>, NoDelay, NoSystemInfo, 2, 8192, [Option<Target<2>>; 1]>;

#[test]
fn a_message_longer_than_one_budget_is_delivered_once() {
    let c = TwoSlots::new(NoSystemInfo);
    assert!(c.attach(nic::<2>()).is_ok());
    let i = c.add_target(Target::new(endpoint(6666))).unwrap();
    c.enable(i, ResolvePolicy::default()).unwrap();

    let text: Vec<u8> = (0..2500u32).map(|i| b'a' + (i / 1000) as u8).collect();
    c.write(&text); // chunks 0 and 1 fill the ring, chunk 2 is refused
    for _ in 0..5 {
        c.poll(); // the ring drains between calls, as it would over time
    }
    let sent: Vec<Vec<u8>> =
        c.with_nic(|np| drain(np.driver_mut())).unwrap().into_iter().map(|(_, p)| p).collect();
    let starts: Vec<u8> = sent.iter().map(|p| p[0]).collect();
    assert_eq!(
        starts,
        b"abc",
        "each 1000-byte chunk once, in order; got chunks {:?}",
        String::from_utf8_lossy(&starts)
    );
    assert_eq!(c.backlog_len(), 0, "the message is delivered in the end");
}

// A message stuck for one target goes before what a nested write deferred while it was sent.

static ORDER: OneSlot = OneSlot::new(NoSystemInfo);
static ORDER_ON: AtomicU32 = AtomicU32::new(1);

fn order_hook() {
    if ORDER_ON.swap(0, Ordering::SeqCst) == 1 {
        ORDER.write(b"nested\n");
    }
}

#[test]
fn a_message_stuck_for_one_target_is_not_overtaken_by_a_nested_write() {
    assert!(ORDER.attach(nic::<1>()).is_ok());
    for port in [6666, 6667] {
        let i = ORDER.add_target(Target::new(endpoint(port))).unwrap();
        ORDER.enable(i, ResolvePolicy::default()).unwrap();
    }
    ORDER.with_nic(|np| np.driver_mut().set_xmit_hook(Some(order_hook))).unwrap();

    ORDER.write(b"outer\n"); // target 0: sent (the hook writes "nested"); target 1: ring full
    for _ in 0..6 {
        ORDER.poll();
    }
    let mut frames = Vec::new();
    ORDER
        .with_nic(|np| {
            while let Some(f) = np.driver_mut().pop_sent() {
                frames.push(udp_payload(&f));
            }
        })
        .unwrap();
    let to = |port: u16| -> Vec<String> {
        frames
            .iter()
            .filter(|(p, _)| *p == port)
            .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
            .collect()
    };
    assert_eq!(to(6666), ["outer\n", "nested\n"]);
    assert_eq!(to(6667), ["outer\n", "nested\n"], "same order for every target");
}

/// The sim's ring stalls once for longer than one retry budget after `after` frames (a link
/// paused by flow control mid-message, say).
struct StallAfter {
    after: u32,
}

impl Quirks<SimNic<4, 64>> for StallAfter {
    fn after_xmit(&mut self, sim: &mut SimNic<4, 64>, result: Result<(), XmitError>) {
        if result.is_ok() && self.after > 0 {
            self.after -= 1;
            if self.after == 0 {
                sim.fill_ring_for(30); // more than Linux's 20 tries
            }
        }
    }
}

type StallAfterNic = QuirkyNic<SimNic<4, 64>, StallAfter>;
type Stalling = Netconsole<StallAfterNic, NoDelay, NoSystemInfo, 2, 8192, [Option<Target<2>>; 1]>;

#[test]
fn with_linux_retry_budget_a_partly_sent_message_is_not_sent_again_from_its_first_datagram() {
    let c = Stalling::new(NoSystemInfo);
    let nic = QuirkyNic::new(SimNic::new(OUR_MAC), StallAfter { after: 2 });
    assert!(c.attach(NicEngine::new(nic)).is_ok()); // RetryPolicy::LINUX
    let i = c.add_target(Target::new(endpoint(6666))).unwrap();
    c.enable(i, ResolvePolicy::default()).unwrap();

    let text: Vec<u8> = (0..2500u32).map(|i| b'a' + (i / 1000) as u8).collect();
    c.write(&text); // chunks 0 and 1 go, then the ring stalls for longer than the budget
    assert!(c.backlog_len() > 0, "the stall stopped the message part-way: it waits in the backlog");
    assert!(c.with_nic(|np| np.counters().gave_up).unwrap() > 0);
    for _ in 0..5 {
        c.poll();
    }
    assert_eq!(c.backlog_len(), 0);
    let mut starts = Vec::new();
    c.with_nic(|np| {
        while let Some(f) = np.driver_mut().inner.pop_sent() {
            starts.push(udp_payload(&f).1[0]);
        }
    })
    .unwrap();
    assert_eq!(String::from_utf8_lossy(&starts), "abc", "each 1000-byte chunk once, in order");
}
