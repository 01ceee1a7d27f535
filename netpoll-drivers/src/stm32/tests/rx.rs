//! Receive: frames handed over oldest first within the budget, FCS removed, flagged frames
//! dropped and counted, descriptors given back, a full ring's missed frames counted.

use netpoll_core::NetPoll;

use super::super::descriptors::rdes0;
use super::super::registers::{dmasr, Reg};
use super::{pattern, up};

/// Collects what `receive` hands over.
fn take<N: NetPoll>(nic: &mut N, budget: usize) -> (usize, Vec<Vec<u8>>) {
    let mut got = Vec::new();
    let n = nic.receive(budget, &mut |f| got.push(f.to_vec()));
    (n, got)
}

#[test]
fn frames_are_handed_over_oldest_first_within_the_budget() {
    let (mut eth, model) = up::<2, 4>();
    let frames: Vec<Vec<u8>> = (1..=3).map(|id| pattern(id, 60 + usize::from(id))).collect();
    for f in &frames {
        assert!(model.receive(eth.rings(), f, 0));
    }
    assert_eq!(take(&mut eth, 2), (2, frames[..2].to_vec()), "FCS removed, oldest first");
    assert_eq!(take(&mut eth, 5), (1, frames[2..].to_vec()));
    assert_eq!(take(&mut eth, 5), (0, vec![]));
    assert_eq!(eth.counters().rx_frames, 3);
}

#[test]
fn a_zero_budget_touches_nothing() {
    let (mut eth, model) = up::<2, 2>();
    model.receive(eth.rings(), &pattern(1, 64), 0);
    let status = eth.rings().rx[0].read(0);
    assert_eq!(take(&mut eth, 0), (0, vec![]));
    assert_eq!(eth.rings().rx[0].read(0), status);
    assert_eq!(model.state().rx_poll_demands, 0);
    assert_eq!(take(&mut eth, 1).0, 1, "still there");
}

#[test]
fn every_descriptor_is_given_back_and_the_dma_woken() {
    let (mut eth, model) = up::<2, 3>();
    model.receive(eth.rings(), &pattern(1, 64), 0);
    model.receive(eth.rings(), &pattern(2, 64), 0);
    take(&mut eth, 8);
    for d in &eth.rings().rx {
        assert_eq!(d.read(0), rdes0::OWN);
    }
    assert_eq!(model.state().rx_poll_demands, 1, "one doorbell per call");
}

#[test]
fn frames_the_mac_flagged_are_dropped_counted_and_do_not_use_the_budget() {
    let (mut eth, model) = up::<2, 4>();
    model.receive(eth.rings(), &pattern(1, 64), rdes0::CE);
    model.receive(eth.rings(), &pattern(2, 64), 0);
    assert_eq!(take(&mut eth, 1), (1, vec![pattern(2, 64)]));
    let c = eth.counters();
    assert_eq!((c.rx_frames, c.rx_errors), (1, 1));
    assert_eq!(c.last_rx_error & (rdes0::ES | rdes0::CE), rdes0::ES | rdes0::CE);
}

#[test]
fn a_full_ring_misses_frames_which_are_counted_then_reception_resumes() {
    let (mut eth, model) = up::<2, 2>();
    assert!(model.receive(eth.rings(), &pattern(1, 64), 0));
    assert!(model.receive(eth.rings(), &pattern(2, 64), 0));
    assert!(!model.receive(eth.rings(), &pattern(3, 64), 0), "no descriptor left");
    assert_ne!(model.state().reg(Reg::DmaSr) & dmasr::RBUS, 0);
    assert!(!model.receive(eth.rings(), &pattern(4, 64), 0), "suspended until woken");
    assert_eq!(take(&mut eth, 8), (2, vec![pattern(1, 64), pattern(2, 64)]));
    assert_eq!(eth.counters().rx_missed, 2);
    assert!(model.receive(eth.rings(), &pattern(5, 64), 0), "woken by the poll demand");
    assert_eq!(take(&mut eth, 8), (1, vec![pattern(5, 64)]));
    assert_eq!(eth.counters().rx_missed, 2, "counter read-and-cleared, not double counted");
}

#[test]
fn the_ring_wraps_by_its_end_of_ring_bit() {
    let (mut eth, model) = up::<2, 3>();
    let mut expected = Vec::new();
    let mut got = Vec::new();
    for id in 0..20u8 {
        let f = pattern(id, 60 + usize::from(id) * 50);
        assert!(model.receive(eth.rings(), &f, 0), "frame {id}");
        expected.push(f);
        if id % 3 == 2 {
            got.extend(take(&mut eth, 3).1);
        }
    }
    got.extend(take(&mut eth, 8).1);
    assert_eq!(model.state().bus_error, None);
    assert_eq!(got, expected);
}

#[test]
fn receive_never_reclaims_tx() {
    let (mut eth, model) = up::<2, 2>();
    eth.xmit_raw(&pattern(1, 64)).unwrap();
    model.run_tx(eth.rings(), 1);
    model.receive(eth.rings(), &pattern(2, 64), 0);
    take(&mut eth, 8);
    assert_eq!(eth.tx_in_flight(), 1, "only reclaim_tx takes TX slots back");
}

#[test]
fn a_frame_spanning_descriptors_is_dropped_and_counted() {
    // One buffer holds any Ethernet frame, so the DMA splits only what is too long for it (a
    // jumbo frame): first part without LS, the rest without FS.
    let (mut eth, model) = up::<2, 4>();
    model.receive(eth.rings(), &pattern(1, 100), 0);
    model.receive(eth.rings(), &pattern(2, 100), 0);
    model.receive(eth.rings(), &pattern(3, 100), 0);
    let r = eth.rings();
    r.rx[0].write(0, r.rx[0].read(0) & !rdes0::LS);
    r.rx[1].write(0, r.rx[1].read(0) & !rdes0::FS);
    assert_eq!(take(&mut eth, 8), (1, vec![pattern(3, 100)]));
    assert_eq!(eth.counters().rx_errors, 2);
}
