//! The console hands each message's frames to the driver as one batch, and ends every batch it
//! began before the call returns: a driver that holds back its device notification within a
//! batch (virtio) never keeps a frame waiting for the next message.

mod common;

use common::quirky_nic::{Quirks, QuirkyNic};
use common::{target, udp_payload, OUR_MAC};
use netconsole::{Netconsole, NoSystemInfo, Target};
use netpoll_core::{NicEngine, NoDelay, ResolvePolicy, RetryPolicy, XmitError};
use netpoll_drivers::sim::SimNic;

/// A doorbell on the sim: frames queued within a batch are "held" until the batch ends or a
/// send finds the ring full (the contract's rules), and every event is written down. After
/// `stall_after` frames the sim's ring stays full for a few reclaims (0: never).
struct Doorbell {
    stall_after: u32,
    in_batch: bool,
    held: usize,
    begins: usize,
    /// Frames each notification told the device of.
    notified: Vec<usize>,
}

impl Doorbell {
    fn ring(&mut self) {
        if self.held > 0 {
            self.notified.push(self.held);
            self.held = 0;
        }
    }
}

impl Quirks<SimNic<2, 64>> for Doorbell {
    fn after_xmit(&mut self, sim: &mut SimNic<2, 64>, result: Result<(), XmitError>) {
        match result {
            Ok(()) => {
                self.held += 1;
                if self.stall_after > 0 {
                    self.stall_after -= 1;
                    if self.stall_after == 0 {
                        sim.fill_ring_for(3); // more than the budget's 2 tries
                    }
                }
                if !self.in_batch {
                    self.ring();
                }
            }
            Err(XmitError::Busy) => self.ring(),
            Err(_) => {}
        }
    }
    fn begin_tx_batch(&mut self, _: &mut SimNic<2, 64>) {
        self.in_batch = true;
        self.begins += 1;
    }
    fn end_tx_batch(&mut self, _: &mut SimNic<2, 64>) {
        self.in_batch = false;
        self.ring();
    }
}

type Nic = QuirkyNic<SimNic<2, 64>, Doorbell>;
type Console = Netconsole<Nic, NoDelay, NoSystemInfo, 2, 8192, [Option<Target<2>>; 2]>;

fn console(stall_after: u32) -> Console {
    let c = Console::new(NoSystemInfo);
    let doorbell =
        Doorbell { stall_after, in_batch: false, held: 0, begins: 0, notified: Vec::new() };
    let mut engine = NicEngine::new(QuirkyNic::new(SimNic::new(OUR_MAC), doorbell));
    engine.set_retry_policy(RetryPolicy { tries: 2, wait_us: 0 });
    assert!(c.attach(engine).is_ok());
    for (port, extended) in [(6666, false), (6667, true)] {
        let i = c.add_target(target(port, extended)).unwrap();
        c.enable(i, ResolvePolicy::default()).unwrap();
    }
    c
}

/// Nothing held, no batch open: what must be true whenever a console call has returned.
fn assert_settled(c: &Console, after: &str) {
    c.with_nic(|np| {
        let d = &np.driver().quirks;
        assert!(!d.in_batch, "after {after}: a batch left open");
        assert_eq!(d.held, 0, "after {after}: frames queued and never notified");
    })
    .unwrap();
}

#[test]
fn one_notification_for_every_target_of_a_message() {
    let c = console(0);
    c.log(6, b"one line");
    assert_settled(&c, "log");
    c.write(b"console text\n");
    assert_settled(&c, "write");
    let (begins, notified) = c
        .with_nic(|np| {
            let d = &mut np.driver_mut().quirks;
            (d.begins, std::mem::take(&mut d.notified))
        })
        .unwrap();
    // The record: basic and extended frame, one notification; the console text goes to the
    // basic target alone.
    assert_eq!(notified, [2, 1]);
    assert_eq!(begins, 2);
}

#[test]
fn a_full_ring_mid_message_leaves_nothing_held_and_the_rest_follows_later() {
    let c = console(2);
    // 2500 bytes: three frames per target, six in all; the ring stalls after two.
    let text: Vec<u8> = (0..2500u32).map(|i| b'a' + (i / 1000) as u8).collect();
    c.write(&text);
    assert_settled(&c, "a write that met a full ring");
    assert!(c.backlog_len() > 0, "the rest waits in the backlog");
    let mut frames = Vec::new();
    for round in 0..10 {
        c.with_nic(|np| {
            while let Some(f) = np.driver_mut().inner.pop_sent() {
                frames.push(udp_payload(&f));
            }
        })
        .unwrap();
        c.poll();
        assert_settled(&c, &format!("poll {round}"));
    }
    c.with_nic(|np| {
        while let Some(f) = np.driver_mut().inner.pop_sent() {
            frames.push(udp_payload(&f));
        }
    })
    .unwrap();
    assert_eq!(c.backlog_len(), 0);
    let basic: Vec<u8> = frames.iter().filter(|(p, _)| *p == 6666).map(|(_, b)| b[0]).collect();
    assert_eq!(basic, b"abc", "each chunk once, in order");
    let notified: usize = c.with_nic(|np| np.driver().quirks.notified.iter().sum()).unwrap();
    assert_eq!(notified, frames.len(), "every frame sent was notified");
}
