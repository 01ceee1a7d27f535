//! The console hands each message's frames to the driver as one batch, and ends every batch it
//! began before the call returns: a driver that holds back its device notification within a
//! batch (virtio) never keeps a frame waiting for the next message.

mod common;

use common::{target, udp_payload, OUR_MAC};
use netconsole::{Netconsole, NoSystemInfo, Target};
use netpoll_core::{MacAddr, NetPoll, NicEngine, NoDelay, ResolvePolicy, RetryPolicy, XmitError};
use netpoll_drivers::sim::SimNic;

/// The sim with a doorbell: frames queued within a batch are "held" until the batch ends or a
/// send finds the ring full (the contract's rules), and every event is written down. After
/// `stall_after` frames its ring stays full for a few reclaims (0: never).
struct Doorbell {
    inner: SimNic<2, 64>,
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

impl NetPoll for Doorbell {
    fn mac_address(&self) -> MacAddr {
        self.inner.mac_address()
    }
    fn link_up(&self) -> bool {
        self.inner.link_up()
    }
    fn refresh_link(&mut self) -> bool {
        self.inner.refresh_link()
    }
    fn reclaim_tx(&mut self) {
        self.inner.reclaim_tx()
    }
    fn tx_in_flight(&self) -> usize {
        self.inner.tx_in_flight()
    }
    fn receive(&mut self, budget: usize, rx: &mut dyn FnMut(&[u8])) -> usize {
        self.inner.receive(budget, rx)
    }
    fn xmit_with(&mut self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> Result<(), XmitError> {
        let result = self.inner.xmit_with(len, fill);
        match result {
            Ok(()) => {
                self.held += 1;
                if self.stall_after > 0 {
                    self.stall_after -= 1;
                    if self.stall_after == 0 {
                        self.inner.fill_ring_for(3); // more than the budget's 2 tries
                    }
                }
                if !self.in_batch {
                    self.ring();
                }
            }
            Err(XmitError::Busy) => self.ring(),
            Err(_) => {}
        }
        result
    }
    fn begin_tx_batch(&mut self) {
        self.in_batch = true;
        self.begins += 1;
    }
    fn end_tx_batch(&mut self) {
        self.in_batch = false;
        self.ring();
    }
}

type Console = Netconsole<Doorbell, NoDelay, NoSystemInfo, 2, 8192, [Option<Target<2>>; 2]>;

fn console(stall_after: u32) -> Console {
    let c = Console::new(NoSystemInfo);
    let nic = Doorbell {
        inner: SimNic::new(OUR_MAC),
        stall_after,
        in_batch: false,
        held: 0,
        begins: 0,
        notified: Vec::new(),
    };
    let mut engine = NicEngine::new(nic);
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
        let d = np.driver();
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
            let d = np.driver_mut();
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
    let notified: usize = c.with_nic(|np| np.driver().notified.iter().sum()).unwrap();
    assert_eq!(notified, frames.len(), "every frame sent was notified");
}
