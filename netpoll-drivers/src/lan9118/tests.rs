//! The driver against the register model: bring-up, TX through the data and status FIFOs, RX
//! with its errors and drops, the link behind the MII indirection.

use std::vec::Vec;

use netpoll_core::{MacAddr, NetPoll, XmitError};
use proptest::prelude::*;

use super::model::{Chip, SentFrame, EEPROM_MAC, FCS, TX_STATUS_ENTRIES};
use super::registers::tx_status;
use super::{Config, InitError, Lan9118, TX_STATUS_DEPTH};

type Nic = Lan9118<Chip>;

fn up(chip: Chip) -> Nic {
    Lan9118::new(chip, Config::default()).expect("bring-up")
}

fn chip(nic: &mut Nic) -> &mut Chip {
    nic.registers_mut()
}

/// Every test ends here: the driver never did what the datasheet forbids.
fn assert_clean(nic: &mut Nic) {
    let violations = &chip(nic).violations;
    assert!(violations.is_empty(), "datasheet violations: {violations:?}");
}

fn frame(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

fn receive_all(nic: &mut Nic, budget: usize) -> (usize, Vec<Vec<u8>>) {
    let mut got = Vec::new();
    let n = nic.receive(budget, &mut |f| got.push(f.to_vec()));
    (n, got)
}

// ---- bring-up -------------------------------------------------------------------------------

#[test]
fn bring_up_resets_takes_the_eeprom_mac_and_enables_tx_and_rx_unpromiscuous() {
    let mut nic = up(Chip::default());
    assert_eq!(nic.mac_address(), MacAddr(EEPROM_MAC));
    let c = chip(&mut nic);
    assert_eq!(c.resets, 1);
    assert_eq!(c.mac_cr & (1 << 3 | 1 << 2), 1 << 3 | 1 << 2, "TXEN and RXEN");
    assert_eq!(c.mac_cr & (1 << 18), 0, "promiscuous mode left on");
    assert_eq!(c.tx_cfg & 2, 2, "TX_ON");
    assert_eq!(c.int_en, 0, "the driver polls");
    assert!(c.phy_writes.contains(&(0, 0x1200)), "auto-negotiation restarted: {:?}", c.phy_writes);
    assert!(nic.link_up());
    assert_clean(&mut nic);
}

#[test]
fn a_configured_mac_is_programmed_into_addrl_and_addrh() {
    let mac = MacAddr([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
    let mut nic: Nic = Lan9118::new(Chip::default(), Config { mac: Some(mac) }).unwrap();
    assert_eq!(nic.mac_address(), mac);
    assert_eq!(chip(&mut nic).mac, mac.0);
    assert_clean(&mut nic);
}

#[test]
fn bring_up_errors_name_the_failing_step() {
    type Breakage = fn(&mut Chip);
    let cases: [(Breakage, InitError); 5] = [
        (|c| c.byte_test = 0x4321_8765, InitError::NotFound { byte_test: 0x4321_8765 }),
        (|c| c.srst_stuck = true, InitError::ResetTimeout),
        (|c| c.never_ready = true, InitError::NotReady),
        (|c| c.csr_stuck = true, InitError::MacCsr("reading ADDRL/ADDRH")),
        (|c| c.eeprom = None, InitError::NoMacAddress { found: MacAddr::ZERO }),
    ];
    for (break_it, want) in cases {
        let mut c = Chip::default();
        break_it(&mut c);
        let got = Lan9118::<Chip>::new(c, Config::default()).err();
        assert_eq!(got, Some(want));
        assert!(want.to_string().starts_with("lan9118: "));
    }
}

#[test]
fn a_multicast_eeprom_address_is_refused() {
    let mut c = Chip::default();
    c.eeprom = Some([0x01, 0, 0x5E, 0, 0, 1]);
    let got = Lan9118::<Chip>::new(c, Config::default()).err();
    assert!(matches!(got, Some(InitError::NoMacAddress { .. })), "{got:?}");
}

// ---- TX -------------------------------------------------------------------------------------

#[test]
fn a_frame_goes_through_the_fifo_with_both_commands_and_its_bytes() {
    let mut nic = up(Chip::default());
    let data = frame(101, 7);
    nic.xmit_raw(&data).unwrap();
    let sent = &chip(&mut nic).sent;
    assert_eq!(sent.len(), 1);
    let SentFrame { cmd_a, cmd_b, bytes } = &sent[0];
    assert_eq!(cmd_a & 0x3000, 0x3000, "first and last segment");
    assert_eq!(cmd_a & 0x7FF, 101);
    assert_eq!(cmd_b & 0x7FF, 101);
    assert_eq!(bytes, &data);
    assert_clean(&mut nic);
}

#[test]
fn short_frames_are_padded_to_60_bytes_with_zeros() {
    let mut nic = up(Chip::default());
    // A buffer that once held a longer frame: padding must not leak it.
    nic.xmit_raw(&[0xAA; 200]).unwrap();
    let mut asked = None;
    nic.xmit_with(42, &mut |slot| {
        asked = Some(slot.len());
        slot.fill(0x5A);
    })
    .unwrap();
    assert_eq!(asked, Some(42), "fill gets exactly len bytes");
    let bytes = &chip(&mut nic).sent[1].bytes;
    assert_eq!(bytes.len(), 60);
    assert!(bytes[..42].iter().all(|&b| b == 0x5A));
    assert!(bytes[42..].iter().all(|&b| b == 0), "{bytes:?}");
    assert_clean(&mut nic);
}

#[test]
fn a_frame_longer_than_the_limit_is_refused_without_touching_the_fifo() {
    let mut nic = up(Chip::default());
    let mut called = false;
    let got = nic.xmit_with(1515, &mut |_| called = true);
    assert_eq!(got, Err(XmitError::TooLong { len: 1515, max: 1514 }));
    assert!(!called);
    assert!(chip(&mut nic).sent.is_empty());
    assert_eq!(nic.tx_in_flight(), 0);
    // A driver with a smaller bounce buffer says so.
    let small: Lan9118<Chip, 256> = Lan9118::new(Chip::default(), Config::default()).unwrap();
    assert_eq!(small.max_frame_len(), 256);
}

#[test]
fn reclaim_pops_statuses_and_counts_tx_errors() {
    let mut c = Chip::default();
    c.tx_errors_next = 2;
    c.tx_error_bits = 1 << 15 | 1 << 8; // error summary, excessive collisions
    let mut nic = up(c);
    for i in 0..5 {
        nic.xmit_raw(&frame(64, i)).unwrap();
    }
    assert_eq!(nic.tx_in_flight(), 5, "statuses not popped yet");
    nic.reclaim_tx();
    assert_eq!(nic.tx_in_flight(), 0);
    assert_eq!(chip(&mut nic).tx_status_pending(), 0);
    let counters = nic.counters();
    assert_eq!((counters.tx_queued, counters.tx_done, counters.tx_errors), (5, 3, 2));
    assert_eq!(counters.last_tx_error & 0xFFFF, 1 << 15 | 1 << 8);
    assert_clean(&mut nic);
}

#[test]
fn carrier_bits_alone_are_no_tx_error_in_full_duplex_but_are_in_half_duplex() {
    // The MAC reports loss of carrier / no carrier in full duplex too, where carrier sense has
    // no meaning: the frame went out.
    let carrier_only = tx_status::ES | tx_status::LOSS_OF_CARRIER | tx_status::NO_CARRIER;
    let mut c = Chip::default();
    c.tx_errors_next = 1;
    c.tx_error_bits = carrier_only;
    let mut full = up(c);
    assert!(full.full_duplex());
    full.xmit_raw(&frame(60, 0)).unwrap();
    full.reclaim_tx();
    assert_eq!((full.counters().tx_done, full.counters().tx_errors), (1, 0));

    let mut c = Chip::default();
    c.link_partner = 0x40A1; // half duplex only
    c.tx_errors_next = 1;
    c.tx_error_bits = carrier_only;
    let mut half = up(c);
    assert!(!half.full_duplex());
    half.xmit_raw(&frame(60, 0)).unwrap();
    half.reclaim_tx();
    assert_eq!((half.counters().tx_done, half.counters().tx_errors), (0, 1));
}

#[test]
fn a_full_tx_fifo_answers_busy_without_calling_fill_then_takes_the_frame_once_sent() {
    let mut c = Chip::default();
    c.hold_tx = true; // the wire is slow: frames stay in the FIFO
    let mut nic = up(c);
    let mut queued = 0;
    while nic.xmit_raw(&frame(1514, queued)).is_ok() {
        queued += 1;
        assert!(queued < 10, "a 4608-byte FIFO holds three full frames");
    }
    assert_eq!(queued, 3);
    let mut called = false;
    assert_eq!(nic.xmit_with(1514, &mut |_| called = true), Err(XmitError::Busy));
    assert!(!called, "nothing built on Busy");
    assert_eq!(nic.counters().tx_busy, 2);
    assert_eq!(nic.tx_in_flight(), 3);
    nic.reclaim_tx();
    assert_eq!(nic.tx_in_flight(), 3, "no status yet: still in flight");
    chip(&mut nic).send_held();
    nic.reclaim_tx();
    assert_eq!(nic.tx_in_flight(), 0);
    nic.xmit_raw(&frame(1514, 9)).unwrap();
    chip(&mut nic).send_held();
    let sent = &chip(&mut nic).sent;
    assert_eq!(sent.len(), 4);
    for (i, f) in sent.iter().enumerate() {
        let seed = if i == 3 { 9 } else { i as u8 };
        assert_eq!(f.bytes, frame(1514, seed), "frame {i}");
    }
    assert_clean(&mut nic);
}

#[test]
fn unreclaimed_statuses_never_overrun_the_status_fifo() {
    let mut nic = up(Chip::default());
    let mut queued = 0;
    while nic.xmit_raw(&frame(60, 0)).is_ok() {
        queued += 1;
        assert!(queued <= TX_STATUS_ENTRIES, "status FIFO overrun");
    }
    assert_eq!(queued, TX_STATUS_DEPTH);
    nic.reclaim_tx();
    assert!(nic.xmit_raw(&frame(60, 0)).is_ok(), "room again after reclaim");
    assert_clean(&mut nic);
}

#[test]
fn statuses_carry_the_tags_of_the_frames_in_order() {
    let mut nic = up(Chip::default());
    for _ in 0..3 {
        nic.xmit_raw(&frame(60, 0)).unwrap();
    }
    let tags: Vec<u32> = chip(&mut nic).sent.iter().map(|f| f.cmd_b >> 16).collect();
    assert_eq!(tags, [0, 1, 2]);
}

proptest! {
    #[test]
    fn every_length_arrives_byte_exact(len in 1usize..=1514, seed: u8) {
        let mut nic = up(Chip::default());
        let data = frame(len, seed);
        nic.xmit_raw(&data).unwrap();
        let sent = &chip(&mut nic).sent[0].bytes;
        prop_assert_eq!(&sent[..len], &data[..]);
        prop_assert_eq!(sent.len(), len.max(60));
        prop_assert!(chip(&mut nic).violations.is_empty());
    }

    #[test]
    fn received_frames_of_every_length_come_back_without_fcs(len in 14usize..=1514, seed: u8) {
        let mut nic = up(Chip::default());
        let data = frame(len, seed);
        chip(&mut nic).deliver(&data, 0);
        let (n, got) = receive_all(&mut nic, 4);
        prop_assert_eq!(n, 1);
        prop_assert_eq!(&got[0], &data);
        prop_assert_eq!(chip(&mut nic).rx_pending(), (0, 0));
        prop_assert!(chip(&mut nic).violations.is_empty());
    }
}

// ---- RX -------------------------------------------------------------------------------------

#[test]
fn receive_hands_frames_oldest_first_within_the_budget() {
    let mut nic = up(Chip::default());
    for i in 0..5 {
        chip(&mut nic).deliver(&frame(60 + i, i as u8), 0);
    }
    let (n, got) = receive_all(&mut nic, 3);
    assert_eq!(n, 3);
    assert_eq!(got, [frame(60, 0), frame(61, 1), frame(62, 2)]);
    let (n, got) = receive_all(&mut nic, 3);
    assert_eq!(n, 2);
    assert_eq!(got, [frame(63, 3), frame(64, 4)]);
    assert_eq!(receive_all(&mut nic, 3).0, 0);
    assert_eq!(nic.counters().rx_frames, 5);
    assert_clean(&mut nic);
}

#[test]
fn frames_with_an_error_status_are_discarded_counted_and_the_fifo_stays_in_step() {
    let mut nic = up(Chip::default());
    chip(&mut nic).deliver(&frame(100, 1), 0);
    chip(&mut nic).deliver(&frame(77, 2), 1 << 15 | 1 << 1); // error summary, CRC error
    chip(&mut nic).deliver(&frame(90, 3), 0);
    let (n, got) = receive_all(&mut nic, 8);
    assert_eq!(n, 2);
    assert_eq!(got, [frame(100, 1), frame(90, 3)]);
    assert_eq!(nic.counters().rx_errors, 1);
    assert_eq!(chip(&mut nic).rx_pending(), (0, 0));
    assert_clean(&mut nic);
}

#[test]
fn a_frame_too_long_for_the_bounce_buffer_is_discarded_and_counted() {
    let mut nic: Lan9118<Chip, 128> = Lan9118::new(Chip::default(), Config::default()).unwrap();
    nic.registers_mut().deliver(&frame(129, 0), 0);
    nic.registers_mut().deliver(&frame(128, 1), 0);
    let mut got = Vec::new();
    assert_eq!(nic.receive(8, &mut |f| got.push(f.to_vec())), 1);
    assert_eq!(got, [frame(128, 1)]);
    assert_eq!(nic.counters().rx_too_long, 1);
    assert!(nic.registers_mut().violations.is_empty());
}

#[test]
fn a_runt_status_is_an_error_not_a_frame() {
    let mut nic = up(Chip::default());
    chip(&mut nic).deliver(&frame(6, 0), 0); // 10 bytes with FCS: shorter than a header
    assert_eq!(receive_all(&mut nic, 4).0, 0);
    assert_eq!(nic.counters().rx_errors, 1);
    assert_eq!(chip(&mut nic).rx_pending(), (0, 0));
    assert_clean(&mut nic);
}

#[test]
fn rx_drops_reported_by_the_chip_are_summed() {
    let mut nic = up(Chip::default());
    chip(&mut nic).rx_drop = 3;
    receive_all(&mut nic, 4);
    chip(&mut nic).rx_drop = 2;
    receive_all(&mut nic, 0);
    assert_eq!(nic.counters().rx_dropped, 5);
}

#[test]
fn the_fcs_never_reaches_the_callback() {
    let mut nic = up(Chip::default());
    chip(&mut nic).deliver(&frame(64, 5), 0);
    let (_, got) = receive_all(&mut nic, 1);
    assert!(!got[0].ends_with(&FCS));
    assert_eq!(got[0].len(), 64);
}

#[test]
fn receive_never_reclaims_tx_and_reclaim_never_receives() {
    let mut nic = up(Chip::default());
    nic.xmit_raw(&frame(60, 0)).unwrap();
    chip(&mut nic).deliver(&frame(60, 1), 0);
    receive_all(&mut nic, 8);
    assert_eq!(nic.tx_in_flight(), 1);
    assert_eq!(chip(&mut nic).tx_status_pending(), 1);
    chip(&mut nic).deliver(&frame(60, 2), 0);
    nic.reclaim_tx();
    assert_eq!(nic.tx_in_flight(), 0);
    assert_eq!(chip(&mut nic).rx_pending().0, 1);
    assert_clean(&mut nic);
}

// ---- link -----------------------------------------------------------------------------------

#[test]
fn link_up_is_cached_and_refresh_link_reads_the_phy() {
    let mut nic = up(Chip::default());
    let reads = chip(&mut nic).phy_reads;
    chip(&mut nic).link = false;
    for _ in 0..10 {
        assert!(nic.link_up(), "cached: no PHY access");
    }
    assert_eq!(chip(&mut nic).phy_reads, reads);
    assert!(!nic.refresh_link());
    assert!(!nic.link_up());
    chip(&mut nic).link = true;
    assert!(nic.refresh_link());
    assert!(nic.link_up());
    assert_clean(&mut nic);
}

#[test]
fn a_latched_link_drop_does_not_report_a_link_that_is_up_again_as_down() {
    let mut nic = up(Chip::default());
    chip(&mut nic).link_drop_latched = true;
    assert!(nic.refresh_link(), "the second BMSR read is the link as it is now");
}

#[test]
fn the_link_starts_down_when_the_cable_is_out() {
    let mut c = Chip::default();
    c.link = false;
    let mut nic = up(c);
    assert!(!nic.link_up());
    assert_clean(&mut nic);
}

#[test]
fn a_stuck_mii_keeps_the_cached_link_and_counts_the_timeout() {
    let mut nic = up(Chip::default());
    chip(&mut nic).mii_stuck = true;
    chip(&mut nic).link = false;
    assert!(nic.refresh_link(), "the last known state stays");
    assert_eq!(nic.counters().mii_timeouts, 1);
}

#[test]
fn the_mac_follows_the_duplex_negotiated_when_the_link_comes_up() {
    let mut c = Chip::default();
    c.link_partner = 0x40A1; // 100BASE-TX half duplex and 10BASE-T only
    let mut nic = up(c);
    assert!(!nic.full_duplex());
    assert_eq!(chip(&mut nic).mac_cr & (1 << 20), 0, "FDPX cleared");
    chip(&mut nic).link = false;
    nic.refresh_link();
    chip(&mut nic).link_partner = 0x41E1;
    chip(&mut nic).link = true;
    nic.refresh_link();
    assert!(nic.full_duplex());
    assert_eq!(chip(&mut nic).mac_cr & (1 << 20), 1 << 20);
    assert_clean(&mut nic);
}

#[test]
fn an_rx_status_claiming_more_than_the_data_fifo_holds_is_refused_without_reading_past_it() {
    let mut nic = up(Chip::default());
    // 1504 bytes claimed (with FCS), 3 words there.
    chip(&mut nic).deliver_raw(1504 << 16, &[0x0101_0101; 3]);
    let (n, _) = receive_all(&mut nic, 4);
    assert_eq!(n, 0, "nothing handed over from a frame that is not there");
    assert_eq!(nic.counters().rx_errors, 1);
    assert_eq!(chip(&mut nic).rx_pending(), (0, 0));
    assert_clean(&mut nic);
    // The FIFOs are in step again: the next frame comes through whole.
    chip(&mut nic).deliver(&frame(100, 7), 0);
    assert_eq!(receive_all(&mut nic, 4).1, [frame(100, 7)]);
    assert_clean(&mut nic);
}

#[test]
fn tx_statuses_nothing_was_sent_for_are_counted_not_taken_for_frames_sent() {
    let mut nic = up(Chip::default());
    for n in 0..3 {
        nic.xmit_raw(&frame(60, n)).unwrap();
    }
    chip(&mut nic).push_tx_status(7 << 16);
    chip(&mut nic).push_tx_status(8 << 16);
    nic.reclaim_tx();
    assert_eq!(nic.tx_in_flight(), 0);
    let c = nic.counters();
    assert_eq!((c.tx_done, c.tx_errors), (3, 0), "statuses nothing was sent for are no frames");
    assert_eq!(c.tx_status_mismatch, 2);
    // Statuses out of order (tags 4 then 3): both frames come back, the mismatch is counted.
    chip(&mut nic).hold_tx = true;
    for n in 0..2 {
        nic.xmit_raw(&frame(60, n)).unwrap();
    }
    chip(&mut nic).push_tx_status(4 << 16);
    chip(&mut nic).push_tx_status(3 << 16);
    nic.reclaim_tx();
    assert_eq!(nic.tx_in_flight(), 0);
    let c = nic.counters();
    assert_eq!((c.tx_done, c.tx_status_mismatch), (5, 4));
    assert_clean(&mut nic);
}
