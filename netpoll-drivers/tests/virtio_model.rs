//! The virtio-net driver against a software model of the device (tests/virtio_model/device.rs),
//! for both register layouts: bring-up and negotiation, frames out byte for byte, a full ring,
//! out-of-order completion, index wrap-around, receive with a budget, link state, and a device
//! that misbehaves.
#![cfg(feature = "virtio")]

#[path = "virtio_model/device.rs"]
mod device;

use device::{Model, Window, ANY_LAYOUT, DEVICE_MAC, MAC, RX, STATUS, TX, VERSION_1};

use netpoll_core::{Endpoint, MacAddr, NetPoll, NicEngine, XmitError};
use netpoll_drivers::sim::SimNic;
use netpoll_drivers::virtio::regs::status;
use netpoll_drivers::virtio::{Layout, NetMemory, ProbeError, VirtioNet};

type Net<const T: usize, const R: usize> = VirtioNet<Model, T, R, Window>;

/// Brings up a driver on `model` with fresh memory seen through a [`Window`].
fn bring_up<const T: usize, const R: usize>(model: &Model) -> Result<Net<T, R>, ProbeError> {
    let memory: &'static mut NetMemory<T, R> = Box::leak(Box::default());
    let window = Window::over(memory);
    VirtioNet::with_translation(model.clone(), memory, window)
}

/// What a test breaks in the device before bring-up.
type Breakage = fn(&mut device::DeviceState);

fn layouts() -> [(u32, Layout); 2] {
    [(1, Layout::Legacy), (2, Layout::Modern)]
}

/// A model and a driver brought up on it.
fn up<const T: usize, const R: usize>(version: u32) -> (Model, Net<T, R>) {
    let model = Model::new(version);
    let net = bring_up::<T, R>(&model).expect("bring-up");
    assert_no_violations(&model);
    (model, net)
}

fn assert_no_violations(model: &Model) {
    let violations = model.state().violations.clone();
    assert!(violations.is_empty(), "driver broke the spec: {violations:?}");
}

fn target() -> Endpoint {
    let mut target = Endpoint::new("10.0.2.15".parse().unwrap(), "10.0.2.2".parse().unwrap());
    target.remote_mac = Some(MacAddr([0x52, 0x55, 0x0a, 0x00, 0x02, 0x02]));
    target
}

/// A frame of `len` bytes whose bytes say which frame it is.
fn numbered(n: u32, len: usize) -> Vec<u8> {
    let mut frame: Vec<u8> = (0..len).map(|i| (i as u8) ^ (n as u8)).collect();
    frame[..4].copy_from_slice(&n.to_be_bytes());
    frame
}

#[test]
fn probe_refuses_what_is_not_a_virtio_network_card() {
    let cases: [(Breakage, ProbeError); 4] = [
        (|s| s.magic = 0xdead_beef, ProbeError::BadMagic(0xdead_beef)),
        (|s| s.version = 3, ProbeError::UnsupportedVersion(3)),
        (|s| s.device_id = 0, ProbeError::NoDevice),
        (|s| s.device_id = 2, ProbeError::NotNetwork(2)),
    ];
    for (break_it, expected) in cases {
        let model = Model::new(1);
        break_it(&mut model.state());
        let result = bring_up::<4, 4>(&model);
        assert_eq!(result.err(), Some(expected));
        assert!(model.state().writes.is_empty(), "probing wrote a register: {expected}");
    }
}

#[test]
fn negotiates_mac_status_and_the_layout_bit_and_no_offload() {
    for (version, layout) in layouts() {
        let (model, net) = up::<8, 8>(version);
        let s = model.state();
        let expected = match layout {
            Layout::Legacy => MAC | STATUS | ANY_LAYOUT,
            Layout::Modern => MAC | STATUS | VERSION_1,
        };
        assert_eq!(s.driver_features, expected, "{layout}");
        let ok = status::ACKNOWLEDGE | status::DRIVER | status::DRIVER_OK;
        let features_ok = if layout == Layout::Modern { status::FEATURES_OK } else { 0 };
        assert_eq!(s.status, ok | features_ok, "{layout}");
        assert_eq!(net.layout(), layout);
        assert_eq!(net.header_len(), if layout == Layout::Legacy { 10 } else { 12 });
        assert_eq!(net.mac_address(), MacAddr(DEVICE_MAC));
        assert_eq!((s.queues[RX].num, s.queues[TX].num), (8, 8));
        if layout == Layout::Legacy {
            assert_eq!((s.page_size, s.queues[TX].align), (4096, 4096));
        }
    }
}

#[test]
fn every_rx_buffer_is_given_to_the_device_at_bring_up() {
    for (version, layout) in layouts() {
        let (model, _net) = up::<4, 8>(version);
        assert_eq!(model.available(RX), 8, "{layout}");
        assert_eq!(model.available(TX), 0, "{layout}");
        assert_eq!(model.state().notifies, vec![RX as u32], "{layout}: RX queue notified once");
    }
}

#[test]
fn bring_up_fails_cleanly_and_marks_the_device_failed() {
    let cases: [(u32, Breakage, ProbeError); 5] = [
        (1, |s| s.device_features &= !MAC, ProbeError::MissingFeature("MAC")),
        (1, |s| s.device_features &= !ANY_LAYOUT, ProbeError::MissingFeature("ANY_LAYOUT")),
        (2, |s| s.device_features &= !VERSION_1, ProbeError::MissingFeature("VERSION_1")),
        (2, |s| s.refuse_features = true, ProbeError::FeaturesRefused),
        (1, |s| s.queue_num_max[TX] = 4, ProbeError::QueueTooSmall { queue: 1, max: 4, wanted: 8 }),
    ];
    for (version, break_it, expected) in cases {
        let model = Model::new(version);
        break_it(&mut model.state());
        let result = bring_up::<8, 8>(&model);
        assert_eq!(result.err(), Some(expected));
        let s = model.state();
        assert_ne!(s.status & status::FAILED, 0, "{expected}: FAILED set");
        assert_eq!(s.status & status::DRIVER_OK, 0, "{expected}: never DRIVER_OK");
    }
    let model = Model::new(2);
    model.state().queue_num_max[RX] = 0;
    let result = bring_up::<8, 8>(&model);
    assert_eq!(result.err(), Some(ProbeError::QueueMissing(0)));
}

#[test]
fn frames_leave_byte_for_byte_as_the_engine_builds_them() {
    let payloads: [&[u8]; 4] = [b"", b"<6>short\n", &[b'x'; 1000], &[b'y'; 1472]];
    for (version, layout) in layouts() {
        let (model, net) = up::<8, 8>(version);
        let mut engine = NicEngine::new(net);
        let mut reference = NicEngine::new(SimNic::<8>::new(MacAddr(DEVICE_MAC)));
        for payload in payloads {
            let len = engine.send_udp(&target(), &[payload]).unwrap();
            reference.send_udp(&target(), &[payload]).unwrap();
            let expected = reference.driver_mut().pop_sent().unwrap();
            let (_, frame) = model.take_tx_frame().expect("a TX buffer");
            assert_eq!(frame, expected.as_slice(), "{layout}: {} payload bytes", payload.len());
            assert_eq!(frame.len(), len.max(60), "{layout}: short frames padded to 60");
        }
        assert_no_violations(&model);
    }
}

#[test]
fn a_full_ring_is_busy_and_queues_nothing() {
    for (version, layout) in layouts() {
        let (model, mut net) = up::<4, 4>(version);
        for n in 0..4 {
            net.xmit_raw(&numbered(n, 100)).unwrap();
        }
        assert_eq!(net.tx_in_flight(), 4);
        let mut called = false;
        let result = net.xmit_with(100, &mut |_| called = true);
        assert_eq!(result, Err(XmitError::Busy), "{layout}");
        assert!(!called, "{layout}: fill not called when no slot is free");
        assert_eq!(model.available(TX), 4, "{layout}: nothing queued by the refused frame");

        // The engine gives up after its budget, and gets through once the device finishes one.
        let mut engine = NicEngine::new(net);
        assert!(engine.send_udp(&target(), &[b"stuck"]).is_err());
        let (head, _) = model.take_tx_frame().unwrap();
        model.complete(TX, head, 0);
        engine.send_udp(&target(), &[b"through"]).unwrap();
        for n in 1..4 {
            assert_eq!(model.take_tx_frame().unwrap().1, numbered(n, 100));
        }
        let (_, last) = model.take_tx_frame().unwrap();
        assert_eq!(&last[42..49], b"through", "{layout}");
        assert_no_violations(&model);
    }
}

#[test]
fn a_full_ring_takes_back_finished_slots_before_it_says_busy() {
    for (version, layout) in layouts() {
        let (model, mut net) = up::<4, 4>(version);
        for n in 0..4 {
            net.xmit_raw(&numbered(n, 100)).unwrap();
        }
        let (head, _) = model.take_tx_frame().unwrap();
        model.complete(TX, head, 0);
        // No `reclaim_tx` in between: the send finds the finished slot itself, rather than
        // have its caller wait out a retry delay for a slot that is free already.
        net.xmit_raw(&numbered(4, 100)).unwrap();
        assert_eq!(net.tx_in_flight(), 4, "{layout}");
        assert_eq!(net.xmit_raw(&numbered(5, 100)), Err(XmitError::Busy), "{layout}");
        for n in 1..5 {
            assert_eq!(model.take_tx_frame().unwrap().1, numbered(n, 100), "{layout}");
        }
        assert_eq!(net.counters().tx_reclaimed, 1, "{layout}");
        assert_no_violations(&model);
    }
}

#[test]
fn out_of_order_completion_frees_exactly_the_finished_slots() {
    for (version, layout) in layouts() {
        let (model, mut net) = up::<4, 4>(version);
        for n in 0..4 {
            net.xmit_raw(&numbered(n, 200)).unwrap();
        }
        let heads: Vec<u16> = (0..4).map(|_| model.take_tx_frame().unwrap().0).collect();
        model.complete(TX, heads[2], 0);
        model.complete(TX, heads[0], 0);
        assert_eq!(net.tx_in_flight(), 4, "{layout}: counted as of the last reclaim");
        net.reclaim_tx();
        assert_eq!(net.tx_in_flight(), 2, "{layout}");
        // The two free slots are reused, the other two still belong to the device.
        net.xmit_raw(&numbered(10, 300)).unwrap();
        net.xmit_raw(&numbered(11, 300)).unwrap();
        assert_eq!(net.xmit_raw(&numbered(12, 300)), Err(XmitError::Busy));
        let reused: Vec<_> = (0..2).map(|_| model.take_tx_frame().unwrap()).collect();
        let mut reused_heads: Vec<u16> = reused.iter().map(|r| r.0).collect();
        reused_heads.sort();
        let mut freed = vec![heads[0], heads[2]];
        freed.sort();
        assert_eq!(reused_heads, freed, "{layout}");
        assert_eq!(reused[0].1, numbered(10, 300));
        assert_eq!(reused[1].1, numbered(11, 300));
        for head in [heads[3], reused[1].0, heads[1], reused[0].0] {
            model.complete(TX, head, 0);
        }
        net.reclaim_tx();
        assert_eq!(net.tx_in_flight(), 0, "{layout}");
        assert_eq!(net.counters().tx_reclaimed, 6);
        assert_no_violations(&model);
    }
}

#[test]
fn ring_indexes_wrap_past_65535() {
    for (version, layout) in layouts() {
        let (model, mut net) = up::<4, 4>(version);
        for batch in 0..17_000u32 {
            for k in 0..4 {
                net.xmit_raw(&numbered(batch * 4 + k, 64)).unwrap();
            }
            let mut taken = Vec::new();
            for k in 0..4 {
                let (head, frame) = model.take_tx_frame().unwrap();
                assert_eq!(frame, numbered(batch * 4 + k, 64), "{layout}: frame {}", batch * 4 + k);
                taken.push(head);
            }
            for head in taken.into_iter().rev() {
                model.complete(TX, head, 0);
            }
            net.reclaim_tx();
            assert_eq!(net.tx_in_flight(), 0);
        }
        assert_eq!(net.counters().tx_frames, 68_000);
        assert_no_violations(&model);
    }
}

#[test]
fn receive_hands_over_at_most_budget_frames_oldest_first_and_reposts() {
    for (version, layout) in layouts() {
        let (model, mut net) = up::<4, 8>(version);
        for n in 0..6 {
            assert!(model.deliver(&numbered(n, 60 + n as usize)));
        }
        let mut got = Vec::new();
        assert_eq!(net.receive(4, &mut |f| got.push(f.to_vec())), 4, "{layout}");
        assert_eq!(net.receive(10, &mut |f| got.push(f.to_vec())), 2, "{layout}");
        assert_eq!(net.receive(10, &mut |f| got.push(f.to_vec())), 0, "{layout}");
        let expected: Vec<_> = (0..6).map(|n| numbered(n, 60 + n as usize)).collect();
        assert_eq!(got, expected, "{layout}");
        // Every buffer is the device's again: 8 frames fit, the 9th is dropped by the device.
        assert_eq!(model.available(RX), 8, "{layout}");
        for n in 0..8 {
            assert!(model.deliver(&numbered(n, 1514)), "{layout}: frame {n}");
        }
        assert!(!model.deliver(&numbered(8, 100)), "{layout}: ring full");
        let mut count = 0;
        net.receive(8, &mut |f| {
            assert_eq!(f, numbered(count, 1514).as_slice());
            count += 1;
        });
        assert_eq!(count, 8);
        assert_eq!(net.receive(0, &mut |_| panic!("budget 0")), 0);
        assert_no_violations(&model);
    }
}

#[test]
fn reclaim_never_consumes_received_frames() {
    for (version, layout) in layouts() {
        let (model, mut net) = up::<4, 4>(version);
        assert!(model.deliver(&numbered(1, 80)));
        net.reclaim_tx();
        let mut got = 0;
        net.receive(4, &mut |_| got += 1);
        assert_eq!(got, 1, "{layout}");
    }
}

#[test]
fn no_notification_when_the_device_says_it_needs_none() {
    for (version, layout) in layouts() {
        let (model, mut net) = up::<4, 4>(version);
        let before = model.state().notifies.len();
        model.set_no_notify(TX, true);
        net.xmit_raw(&numbered(0, 60)).unwrap();
        assert_eq!(model.state().notifies.len(), before, "{layout}");
        assert_eq!(net.counters().notifies_suppressed, 1);
        model.set_no_notify(TX, false);
        net.xmit_raw(&numbered(1, 60)).unwrap();
        assert_eq!(model.state().notifies[before..], [TX as u32], "{layout}");
    }
}

#[test]
fn a_batch_publishes_each_frame_at_once_and_notifies_once_at_its_end() {
    for (version, layout) in layouts() {
        let (model, mut net) = up::<8, 4>(version);
        let before = model.state().notifies.len();
        net.begin_tx_batch();
        for n in 0..3 {
            net.xmit_raw(&numbered(n, 100)).unwrap();
        }
        assert_eq!(model.state().notifies.len(), before, "{layout}: no notification yet");
        assert_eq!(model.available(TX), 3, "{layout}: a busy device takes them already");
        assert_eq!(model.unnotified(TX), 3, "{layout}");
        net.end_tx_batch();
        assert_eq!(model.state().notifies[before..], [TX as u32], "{layout}: one for all three");
        assert_eq!(model.unnotified(TX), 0, "{layout}");
        assert_eq!(net.counters().notifies_batched, 3, "{layout}");
        // After the batch, one notification per frame again.
        net.xmit_raw(&numbered(3, 100)).unwrap();
        assert_eq!(model.state().notifies[before..], [TX as u32; 2], "{layout}");
        for n in 0..4 {
            assert_eq!(model.take_tx_frame().unwrap().1, numbered(n, 100), "{layout}");
        }
        assert_no_violations(&model);
    }
}

#[test]
fn a_full_ring_within_a_batch_notifies_before_it_says_busy() {
    for (version, layout) in layouts() {
        let (model, mut net) = up::<4, 4>(version);
        net.begin_tx_batch();
        for n in 0..4 {
            net.xmit_raw(&numbered(n, 100)).unwrap();
        }
        assert_eq!(model.unnotified(TX), 4, "{layout}");
        assert_eq!(net.xmit_raw(&numbered(4, 100)), Err(XmitError::Busy), "{layout}");
        // The caller now waits for a slot: the device must know of the four to free one.
        assert_eq!(model.unnotified(TX), 0, "{layout}: notified before Busy");
        let (head, _) = model.take_tx_frame().unwrap();
        model.complete(TX, head, 0);
        net.xmit_raw(&numbered(4, 100)).unwrap();
        let notifies = model.state().notifies.len();
        net.end_tx_batch();
        assert_eq!(model.state().notifies.len(), notifies + 1, "{layout}: the fifth frame's");
        assert_eq!(model.unnotified(TX), 0, "{layout}");
        // A batch with nothing queued notifies nothing.
        net.begin_tx_batch();
        net.end_tx_batch();
        assert_eq!(model.state().notifies.len(), notifies + 1, "{layout}");
        assert_no_violations(&model);
    }
}

#[test]
fn a_batch_asks_the_device_once_whether_it_needs_a_notification() {
    for (version, layout) in layouts() {
        let (model, mut net) = up::<8, 4>(version);
        let before = model.state().notifies.len();
        model.set_no_notify(TX, true);
        net.begin_tx_batch();
        net.xmit_raw(&numbered(0, 60)).unwrap();
        net.xmit_raw(&numbered(1, 60)).unwrap();
        net.end_tx_batch();
        assert_eq!(model.state().notifies.len(), before, "{layout}: the device is at work");
        assert_eq!(net.counters().notifies_suppressed, 1, "{layout}: one look at its flag");
        // The flag is read at the batch's end, not when the frames were queued: a device that
        // went idle meanwhile is notified.
        model.set_no_notify(TX, true);
        net.begin_tx_batch();
        net.xmit_raw(&numbered(2, 60)).unwrap();
        model.set_no_notify(TX, false);
        net.end_tx_batch();
        assert_eq!(model.state().notifies[before..], [TX as u32], "{layout}");
        assert_eq!(model.unnotified(TX), 0, "{layout}");
    }
}

#[test]
fn link_state_is_cached_and_read_from_config_only_with_status() {
    for (version, layout) in layouts() {
        let model = Model::new(version);
        model.set_link(false);
        let mut net = bring_up::<4, 4>(&model).unwrap();
        assert!(!net.link_up(), "{layout}");
        assert_eq!(net.xmit_raw(&numbered(0, 60)), Err(XmitError::LinkDown));
        model.set_link(true);
        assert!(!net.link_up(), "{layout}: cached until refreshed");
        assert!(net.refresh_link());
        assert!(net.link_up());

        let model = Model::new(version);
        model.state().device_features &= !STATUS;
        model.set_link(false);
        let mut net = bring_up::<4, 4>(&model).unwrap();
        assert!(net.link_up(), "{layout}: no status field, so always up");
        assert!(net.refresh_link());
    }
}

#[test]
fn too_long_is_refused_before_a_slot_is_taken() {
    let (model, mut net) = up::<4, 4>(1);
    assert_eq!(net.max_frame_len(), 1514);
    let result = net.xmit_with(1515, &mut |_| panic!("not filled"));
    assert_eq!(result, Err(XmitError::TooLong { len: 1515, max: 1514 }));
    assert_eq!((net.tx_in_flight(), model.available(TX)), (0, 0));
}

#[test]
fn a_misbehaving_device_is_counted_not_trusted() {
    for (version, layout) in layouts() {
        let (model, mut net) = up::<4, 4>(version);
        net.xmit_raw(&numbered(0, 60)).unwrap();
        let (head, _) = model.take_tx_frame().unwrap();
        model.complete(TX, 9, 0); // never given: out of range
        model.complete(TX, head, 0);
        model.complete(TX, head, 0); // finished twice
        net.reclaim_tx();
        assert_eq!(net.tx_in_flight(), 0, "{layout}");
        assert_eq!(net.counters().bad_used, 2, "{layout}");
        // Four free slots, not five: the duplicate did not free a slot twice.
        for n in 0..4 {
            net.xmit_raw(&numbered(n, 60)).unwrap();
        }
        assert_eq!(net.xmit_raw(&numbered(4, 60)), Err(XmitError::Busy));

        // An RX entry longer than its buffer is skipped, and the buffer goes back.
        assert!(model.deliver_claiming(&numbered(1, 100), Some(100_000)));
        let mut got = 0;
        net.receive(4, &mut |_| got += 1);
        assert_eq!(got, 0, "{layout}");
        assert_eq!(net.counters().bad_used, 3, "{layout}");
        assert_eq!(model.available(RX), 4, "{layout}: buffer reposted");
    }
}

#[test]
fn a_used_index_that_jumps_past_the_ring_frees_nothing_the_device_still_owns() {
    for (version, layout) in layouts() {
        let (model, mut net) = up::<4, 4>(version);
        for n in 0..4 {
            net.xmit_raw(&numbered(n, 60)).unwrap();
        }
        let heads: Vec<u16> = (0..4).map(|_| model.take_tx_frame().unwrap().0).collect();
        model.complete(TX, heads[0], 0);
        net.reclaim_tx();
        net.xmit_raw(&numbered(4, 60)).unwrap();
        model.take_tx_frame().unwrap();
        // Every slot is the device's again. An index 5 ahead with 4 entries in the ring cannot
        // be: what the ring holds is stale (slot 0 finished once already) and frees nothing.
        model.jump_used(TX, 5);
        net.reclaim_tx();
        assert_eq!(net.tx_in_flight(), 4, "{layout}: no slot the device owns is taken back");
        assert_eq!(net.xmit_raw(&numbered(5, 60)), Err(XmitError::Busy), "{layout}");
        assert!(net.counters().bad_used >= 1, "{layout}: counted");
        assert_eq!(net.counters().tx_reclaimed, 1, "{layout}");

        // RX: one frame received, its buffer reposted; then the index jumps past the ring.
        assert!(model.deliver(&numbered(1, 100)));
        assert_eq!(net.receive(4, &mut |_| {}), 1);
        let bad = net.counters().bad_used;
        model.jump_used(RX, 5);
        let mut got = 0;
        net.receive(4, &mut |_| got += 1);
        assert_eq!(got, 0, "{layout}: no stale frame handed over");
        assert!(net.counters().bad_used > bad, "{layout}: counted");
        assert_eq!(model.available(RX), 4, "{layout}: no buffer given to the device twice");
        assert_no_violations(&model);
    }
}

#[test]
fn a_completion_repeated_after_reclaim_does_not_free_the_next_frames_slot() {
    for (version, layout) in layouts() {
        let (model, mut net) = up::<4, 4>(version);
        net.xmit_raw(&numbered(0, 60)).unwrap();
        let (first, _) = model.take_tx_frame().unwrap();
        model.complete(TX, first, 0);
        net.reclaim_tx();
        net.xmit_raw(&numbered(1, 60)).unwrap();
        let (second, _) = model.take_tx_frame().unwrap();
        // The device reports the first slot again. The frame just queued must not lose its
        // slot to that: with free slots to spare, a slot just taken back is not reused at once.
        model.complete(TX, first, 0);
        net.reclaim_tx();
        assert_ne!(first, second, "{layout}: the slot just freed was reused at once");
        assert_eq!(net.tx_in_flight(), 1, "{layout}");
        assert_eq!(net.counters().bad_used, 1, "{layout}");
        assert_no_violations(&model);
    }
}

/// An ARP request from the user network's gateway (52:55:0a:00:02:02, 10.0.2.2) for `ip`,
/// written out by hand (RFC 826), independent of the crate's own ARP code.
fn arp_request_for(ip: [u8; 4]) -> Vec<u8> {
    let gateway = [0x52, 0x55, 0x0a, 0x00, 0x02, 0x02];
    let mut frame = vec![0xff; 6];
    frame.extend_from_slice(&gateway);
    frame.extend_from_slice(&[0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 1]);
    frame.extend_from_slice(&gateway);
    frame.extend_from_slice(&[10, 0, 2, 2]);
    frame.extend_from_slice(&[0; 6]);
    frame.extend_from_slice(&ip);
    frame
}

#[test]
fn the_engine_answers_arp_over_rx_and_hands_other_frames_to_the_handler() {
    fn handler(_: &[u8]) {}
    for (version, layout) in layouts() {
        let (model, net) = up::<4, 4>(version);
        let mut engine = NicEngine::new(net);
        engine.add_local_ipv4("10.0.2.15".parse().unwrap());
        assert!(model.deliver(&arp_request_for([10, 0, 2, 15])));
        assert!(model.deliver(&numbered(7, 100)));
        assert_eq!(engine.poll_rx(8), 2, "{layout}");
        let counters = engine.counters();
        assert_eq!((counters.rx_arp, counters.rx_unclaimed, counters.arp_replies_sent), (1, 1, 1));
        let (_, reply) = model.take_tx_frame().expect("an ARP reply");
        assert_eq!(&reply[12..14], &[0x08, 0x06], "{layout}: an ARP frame");
        assert_eq!(&reply[20..22], &[0, 2], "{layout}: a reply");
        engine.set_rx_handler(Some(handler));
        assert!(model.deliver(&numbered(8, 100)));
        engine.poll_rx(8);
        assert_eq!(engine.counters().rx_passed, 1, "{layout}");
        assert_no_violations(&model);
    }
}

#[test]
fn tx_drains_as_the_device_finishes_and_reclaim_is_the_engines_call() {
    for (version, layout) in layouts() {
        let (model, net) = up::<4, 4>(version);
        let mut engine = NicEngine::new(net);
        for n in 0..3 {
            engine.send_udp(&target(), &[format!("frame {n}").as_bytes()]).unwrap();
        }
        assert_eq!(engine.wait_tx_drained(10, 0), 3, "{layout}: the device has not run");
        let heads: Vec<u16> = (0..3).map(|_| model.take_tx_frame().unwrap().0).collect();
        model.complete(TX, heads[1], 0);
        engine.reclaim();
        assert_eq!(engine.driver().tx_in_flight(), 2, "{layout}");
        model.complete(TX, heads[2], 0);
        model.complete(TX, heads[0], 0);
        assert_eq!(engine.wait_tx_drained(10, 0), 0, "{layout}");
    }
}

/// One step of a random run against the device model.
#[derive(Debug, Clone)]
enum Op {
    /// The driver queues a frame of this length.
    Xmit(usize),
    /// The device takes the next queued frame.
    Take,
    /// The device finishes the taken frame at this position (mod how many are taken).
    Complete(usize),
    /// The driver reclaims.
    Reclaim,
    /// The device delivers a frame of this length.
    Deliver(usize),
    /// The driver receives with this budget.
    Receive(usize),
    /// The caller begins a batch.
    Begin,
    /// The caller ends a batch.
    End,
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    prop_oneof![
        (0usize..=1514).prop_map(Op::Xmit),
        Just(Op::Take),
        any::<usize>().prop_map(Op::Complete),
        Just(Op::Reclaim),
        (14usize..=1514).prop_map(Op::Deliver),
        (0usize..6).prop_map(Op::Receive),
        Just(Op::Begin),
        Just(Op::End),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

    /// Whatever the order in which the device takes, finishes and delivers: every frame
    /// leaves once, in order, byte for byte; a slot is free exactly when the device finished
    /// it and the driver reclaimed it; `Busy` exactly when no slot is free; received frames
    /// come oldest first within the budget; the device never sees the driver break the spec.
    #[test]
    fn random_runs_keep_the_rings_consistent(
        modern: bool,
        ops in proptest::collection::vec(op(), 1..200),
    ) {
        const T: usize = 4;
        const R: usize = 4;
        let (model, mut net) = up::<T, R>(if modern { 2 } else { 1 });
        let mut serial = 0u32;
        let mut queued = std::collections::VecDeque::new(); // sent, not yet taken by the device
        let mut taken: Vec<u16> = Vec::new(); // taken, not yet finished
        let mut unreclaimed = 0usize; // slots the driver still counts as in flight
        let mut finished_unreclaimed = 0usize;
        let mut rx_pending = std::collections::VecDeque::new();
        let mut in_batch = false;
        for op in ops {
            let mut said_busy = false;
            match op {
                Op::Xmit(len) => {
                    let frame = numbered(serial, len.max(4));
                    let result = net.xmit_raw(&frame);
                    if unreclaimed == T {
                        // A full ring takes back what the device finished first.
                        unreclaimed -= finished_unreclaimed;
                        finished_unreclaimed = 0;
                    }
                    if unreclaimed == T {
                        proptest::prop_assert_eq!(result, Err(XmitError::Busy));
                        said_busy = true;
                    } else {
                        proptest::prop_assert_eq!(result, Ok(()));
                        serial += 1;
                        unreclaimed += 1;
                        let mut padded = frame;
                        padded.resize(padded.len().max(60), 0);
                        queued.push_back(padded);
                    }
                }
                Op::Take => {
                    let got = model.take_tx_frame();
                    match queued.pop_front() {
                        Some(expected) => {
                            let (head, frame) = got.expect("a queued frame");
                            proptest::prop_assert_eq!(frame, expected);
                            taken.push(head);
                        }
                        None => proptest::prop_assert!(got.is_none()),
                    }
                }
                Op::Complete(i) if !taken.is_empty() => {
                    let head = taken.swap_remove(i % taken.len());
                    model.complete(TX, head, 0);
                    finished_unreclaimed += 1;
                }
                Op::Complete(_) => {}
                Op::Reclaim => {
                    net.reclaim_tx();
                    unreclaimed -= finished_unreclaimed;
                    finished_unreclaimed = 0;
                }
                Op::Deliver(len) => {
                    let frame = numbered(1_000_000 + serial, len);
                    serial += 1;
                    let delivered = model.deliver(&frame);
                    proptest::prop_assert_eq!(delivered, rx_pending.len() < R);
                    if delivered {
                        rx_pending.push_back(frame);
                    }
                }
                Op::Receive(budget) => {
                    let mut got = Vec::new();
                    let n = net.receive(budget, &mut |f| got.push(f.to_vec()));
                    proptest::prop_assert_eq!(n, budget.min(rx_pending.len()));
                    for frame in got {
                        proptest::prop_assert_eq!(Some(frame), rx_pending.pop_front());
                    }
                }
                Op::Begin => {
                    net.begin_tx_batch();
                    in_batch = true;
                }
                Op::End => {
                    net.end_tx_batch();
                    in_batch = false;
                }
            }
            proptest::prop_assert_eq!(net.tx_in_flight(), unreclaimed);
            // No frame waits for a notification outside a batch, nor after a `Busy`.
            if !in_batch || said_busy {
                proptest::prop_assert_eq!(model.unnotified(TX), 0);
            }
        }
        proptest::prop_assert_eq!(net.counters().bad_used, 0);
        assert_no_violations(&model);
    }
}
