//! Transmit: OWN hand-over, the poll demand, padding, a full ring, wrap-around, completions out
//! of step, errors, and a DMA that never gives descriptors back.

use netpoll_core::{NetPoll, XmitError, MAX_FRAME_LEN};

use super::super::descriptors::tdes0;
use super::super::registers::{dmasr, Reg};
use super::{pattern, up};

#[test]
fn a_frame_goes_to_the_dma_with_own_set_and_a_poll_demand() {
    let (mut eth, model) = up::<4, 2>();
    let frame = pattern(1, 100);
    eth.xmit_raw(&frame).unwrap();
    let d = &eth.rings().tx[0];
    assert_eq!(d.read(0), tdes0::OWN | tdes0::FS | tdes0::LS);
    assert_eq!(d.read(1), 100);
    assert_eq!(model.state().tx_poll_demands, 1);
    assert_eq!(eth.tx_in_flight(), 1);

    eth.reclaim_tx();
    assert_eq!(eth.tx_in_flight(), 1, "the DMA has not run: nothing to reclaim");
    assert_eq!(eth.counters().tx_stalls, 1);

    assert_eq!(model.run_tx(eth.rings(), 8), 1);
    assert_eq!(model.state().sent, [frame]);
    assert_eq!(eth.rings().tx[0].read(0) & tdes0::OWN, 0, "given back");
    assert_eq!(eth.tx_in_flight(), 1, "as of the last reclaim");
    eth.reclaim_tx();
    assert_eq!(eth.tx_in_flight(), 0);
    let c = eth.counters();
    assert_eq!((c.tx_queued, c.tx_sent, c.tx_errors), (1, 1, 0));
    assert_eq!(eth.tx_stalls_in_a_row(), 0);
}

#[test]
fn fill_gets_exactly_len_bytes_and_short_frames_are_padded_with_zeros() {
    let (mut eth, model) = up::<1, 1>();
    // Leave 0xa5 all over the only slot's buffer first, to catch bytes nobody wrote.
    eth.xmit_raw(&[0xa5; 300]).unwrap();
    model.run_tx(eth.rings(), 1);
    eth.reclaim_tx();
    let mut seen = 0;
    eth.xmit_with(17, &mut |slot| {
        seen = slot.len();
        slot.fill(0x11);
    })
    .unwrap();
    assert_eq!(seen, 17);
    model.run_tx(eth.rings(), 1);
    let sent = &model.state().sent[1];
    assert_eq!(sent.len(), 60);
    assert_eq!(&sent[..17], &[0x11; 17]);
    assert!(sent[17..].iter().all(|&b| b == 0), "padding is zeros: {sent:02x?}");
}

#[test]
fn a_full_ring_is_busy_without_calling_fill_or_touching_a_descriptor() {
    let (mut eth, model) = up::<2, 2>();
    eth.xmit_raw(&pattern(1, 64)).unwrap();
    eth.xmit_raw(&pattern(2, 64)).unwrap();
    let before: Vec<u32> = eth.rings().tx.iter().map(|d| d.read(0)).collect();
    let mut called = false;
    let result = eth.xmit_with(64, &mut |_| called = true);
    assert_eq!(result, Err(XmitError::Busy));
    assert!(!called);
    let after: Vec<u32> = eth.rings().tx.iter().map(|d| d.read(0)).collect();
    assert_eq!(before, after);
    assert_eq!(model.state().tx_poll_demands, 2, "no doorbell for nothing");
    assert_eq!(eth.counters().tx_busy, 1);
    // Nothing lost: both queued frames still go out, and the slot frees up.
    model.run_tx(eth.rings(), 2);
    eth.reclaim_tx();
    eth.xmit_raw(&pattern(3, 64)).unwrap();
    model.run_tx(eth.rings(), 1);
    let sent = &model.state().sent;
    assert_eq!(*sent, [pattern(1, 64), pattern(2, 64), pattern(3, 64)]);
}

#[test]
fn the_ring_wraps_by_its_end_of_ring_bit_with_completions_out_of_step() {
    // The model follows TER, not an index: a driver that forgot it would walk the DMA off the
    // end of the ring, which the model reports as a bus error.
    let (mut eth, model) = up::<3, 2>();
    let mut expected = Vec::new();
    let mut id = 0u8;
    // Completions in steps of 0, 1, 2, 3 frames against sends of up to the ring's room.
    for round in 0..12 {
        while eth.tx_in_flight() < 3 {
            id += 1;
            let frame = pattern(id, 60 + usize::from(id) * 13);
            eth.xmit_raw(&frame).unwrap();
            expected.push(frame);
        }
        model.run_tx(eth.rings(), round % 4);
        eth.reclaim_tx();
    }
    model.run_tx(eth.rings(), 3);
    eth.reclaim_tx();
    let s = model.state();
    assert_eq!(s.bus_error, None);
    assert_eq!(s.sent, expected, "every frame, in order, byte for byte");
    assert!(expected.len() > 3 * 4, "wrapped several times");
    assert_eq!(eth.tx_in_flight(), 0);
    assert_eq!(eth.counters().tx_sent, expected.len() as u64);
}

#[test]
fn a_suspended_dma_is_woken_by_the_next_frames_poll_demand() {
    let (mut eth, model) = up::<2, 2>();
    // The DMA runs with nothing to send: it finds a descriptor it does not own and suspends.
    assert_eq!(model.run_tx(eth.rings(), 1), 0);
    assert_ne!(model.state().reg(Reg::DmaSr) & dmasr::TBUS, 0);
    eth.xmit_raw(&pattern(9, 80)).unwrap();
    assert_eq!(model.run_tx(eth.rings(), 1), 1, "the doorbell resumed it");
}

#[test]
fn frames_the_mac_failed_are_counted_and_their_slots_reused() {
    let (mut eth, model) = up::<2, 2>();
    model.state().tx_faults.extend([0, tdes0::LCA | tdes0::NC, 0]);
    for id in 0..3 {
        eth.reclaim_tx();
        eth.xmit_raw(&pattern(id, 70)).unwrap();
        model.run_tx(eth.rings(), 1);
    }
    eth.reclaim_tx();
    let c = eth.counters();
    assert_eq!((c.tx_sent, c.tx_errors), (2, 1));
    let flagged = tdes0::ES | tdes0::LCA | tdes0::NC;
    assert_eq!(c.last_tx_error & flagged, flagged);
    assert_eq!(eth.tx_in_flight(), 0);
}

#[test]
fn a_dma_that_never_gives_descriptors_back_is_bounded_and_visible() {
    let (mut eth, model) = up::<2, 2>();
    model.state().tx_stuck = true;
    eth.xmit_raw(&pattern(1, 60)).unwrap();
    eth.xmit_raw(&pattern(2, 60)).unwrap();
    for _ in 0..1000 {
        model.run_tx(eth.rings(), 2);
        eth.reclaim_tx();
        assert_eq!(eth.xmit_raw(&pattern(3, 60)), Err(XmitError::Busy));
    }
    assert_eq!(eth.tx_in_flight(), 2);
    assert_eq!(eth.tx_stalls_in_a_row(), 1000);
    assert_eq!(eth.counters().tx_busy, 1000);
    assert!(model.state().sent.is_empty());
    // Once the DMA moves again, the stall ends and the queued frames go out.
    model.state().tx_stuck = false;
    model.run_tx(eth.rings(), 2);
    eth.reclaim_tx();
    assert_eq!(eth.tx_stalls_in_a_row(), 0);
    assert_eq!(model.state().sent, [pattern(1, 60), pattern(2, 60)]);
}

#[test]
fn a_fatal_bus_error_is_counted_once_and_shows_in_the_dma_state() {
    let (mut eth, model) = up::<2, 2>();
    eth.xmit_raw(&pattern(1, 60)).unwrap();
    // Point the DMA somewhere outside the ring, as a corrupted list address would.
    {
        let mut s = model.state();
        let bad = s.reg(Reg::DmaTdlar).wrapping_add(0x100);
        s.poke(Reg::DmaTdlar, bad);
    }
    // Restart the transmit process at the bad address.
    model.restart_tx();
    assert_eq!(model.run_tx(eth.rings(), 1), 0);
    assert!(model.state().bus_error.is_some());
    let state = eth.dma_state();
    assert!(state.fatal_bus_error);
    assert_eq!(state.tx_process, 0, "stopped");
    eth.reclaim_tx();
    eth.reclaim_tx();
    assert_eq!(eth.counters().fatal_bus_errors, 1, "write-1-to-clear: counted once");
    assert!(!eth.dma_state().fatal_bus_error);
    assert_eq!(eth.tx_stalls_in_a_row(), 2);
}

#[test]
fn a_frame_longer_than_ethernet_allows_is_refused_untouched() {
    let (mut eth, model) = up::<2, 2>();
    let mut called = false;
    let result = eth.xmit_with(MAX_FRAME_LEN + 1, &mut |_| called = true);
    assert_eq!(result, Err(XmitError::TooLong { len: MAX_FRAME_LEN + 1, max: MAX_FRAME_LEN }));
    assert!(!called);
    assert_eq!(eth.tx_in_flight(), 0);
    eth.xmit_raw(&pattern(4, MAX_FRAME_LEN)).unwrap();
    model.run_tx(eth.rings(), 1);
    assert_eq!(model.state().sent, [pattern(4, MAX_FRAME_LEN)]);
}
