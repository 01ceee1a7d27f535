//! A `SharedNic` entered again while one of its sides holds it: from inside the NIC's transmit
//! (an interrupt arriving mid-frame, modelled by the sim's transmit hook) or from a callback.
//! The second user is refused without a panic or a wait, and the refusal is counted, as is a
//! frame of the stack's that the refusal drops.

use netpoll_core::{MacAddr, NetPoll, XmitError};
use netpoll_drivers::shared::SharedNic;
use netpoll_drivers::sim::SimNic;

const MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 1]);

static CONSOLE_REENTERED: SharedNic<SimNic<4, 16>> = SharedNic::new(SimNic::new(MAC));

fn console_sends_from_inside_the_transmit() {
    let mut side = CONSOLE_REENTERED.console();
    assert_eq!(side.xmit_raw(&[0u8; 60]), Err(XmitError::Busy));
}

#[test]
fn a_console_refused_because_the_nic_is_held_is_counted() {
    CONSOLE_REENTERED
        .with_nic(|nic| nic.set_xmit_hook(Some(console_sends_from_inside_the_transmit)));
    let mut side = CONSOLE_REENTERED.console();
    assert!(side.xmit_raw(&[1u8; 60]).is_ok());
    assert_eq!(CONSOLE_REENTERED.counters().busy, 1, "the refused send inside the hook");
    assert_eq!(CONSOLE_REENTERED.with_nic(|nic| nic.counters().frames), Some(1));
}

static HELD: SharedNic<SimNic<4, 16>> = SharedNic::new(SimNic::new(MAC));

#[test]
fn frames_in_flight_are_not_reported_drained_while_the_nic_is_held() {
    HELD.with_nic(|nic| nic.never_drain());
    let mut side = HELD.console();
    side.reclaim_tx();
    assert_eq!(side.tx_in_flight(), 4);
    // A panic (or NMI) that comes while the stack holds the NIC: the console cannot ask it, and
    // must not tell a panic handler that the ring is drained.
    let seen_while_held = HELD.with_nic(|_| side.tx_in_flight());
    assert_eq!(seen_while_held, Some(4));
}

#[cfg(feature = "smoltcp")]
mod stack {
    use smoltcp::phy::{Device, TxToken};
    use smoltcp::time::Instant;

    use super::*;

    static STACK_REENTERED: SharedNic<SimNic<4, 16>> = SharedNic::new(SimNic::new(MAC));

    fn stack_sends_from_inside_the_transmit() {
        let mut stack = STACK_REENTERED.stack();
        let token = stack.transmit(Instant::ZERO).expect("the stack side always has a token");
        token.consume(60, |frame| frame.fill(0xab));
    }

    #[test]
    fn a_stack_frame_dropped_because_the_nic_is_held_is_counted() {
        STACK_REENTERED
            .with_nic(|nic| nic.set_xmit_hook(Some(stack_sends_from_inside_the_transmit)));
        let mut side = STACK_REENTERED.console();
        assert!(side.xmit_raw(&[1u8; 60]).is_ok());
        let c = STACK_REENTERED.counters();
        assert_eq!((c.busy, c.stack_tx_dropped), (1, 1), "{c:?}");
        assert_eq!(STACK_REENTERED.with_nic(|nic| nic.counters().frames), Some(1));
    }
}
