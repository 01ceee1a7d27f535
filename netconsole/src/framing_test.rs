//! A basic copy's datagrams against a model: `text ++ tail` cut every [`MAX_PRINT_CHUNK`]
//! bytes from where the copy resumes, whether that is in the text, at its end, inside the tail
//! or past it, and resumed again wherever a full ring stops it.

use netpoll_core::wire::{EthernetFrame, Ipv4Packet, UdpPacket};
use netpoll_core::{Endpoint, MacAddr, NicEngine, NoDelay, RetryPolicy, SendError};
use netpoll_drivers::sim::SimNic;
use proptest::prelude::*;

use crate::framing::basic;
use crate::stream::MAX_PRINT_CHUNK;

type Nic = NicEngine<SimNic<2, 64>, NoDelay>;

fn engine() -> Nic {
    let mut np = NicEngine::new(SimNic::new(MacAddr([0x02, 0, 0, 0, 0, 1])));
    // One try: a full ring (two slots) stops the copy at once.
    np.set_retry_policy(RetryPolicy { tries: 1, wait_us: 0 });
    np
}

fn endpoint() -> Endpoint {
    let mut ep = Endpoint::new("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    ep.remote_mac = Some(MacAddr([0x02, 0, 0, 0, 0, 2]));
    ep
}

/// The UDP payloads of the frames sent since the last call; the ring freed.
fn take(np: &mut Nic) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(frame) = np.driver_mut().pop_sent() {
        let eth = EthernetFrame::new_checked(&frame[..]).unwrap();
        let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
        let len = usize::from(ip.total_len()) - 20;
        out.push(UdpPacket::new_checked(&ip.payload()[..len]).unwrap().payload().to_vec());
    }
    np.reclaim();
    out
}

/// The model: `whole` from `from` on, in chunks of [`MAX_PRINT_CHUNK`].
fn model(whole: &[u8], from: usize) -> Vec<Vec<u8>> {
    whole.get(from..).unwrap_or_default().chunks(MAX_PRINT_CHUNK).map(<[u8]>::to_vec).collect()
}

/// A length near a chunk boundary, or any.
fn near_boundaries(max: usize) -> impl Strategy<Value = usize> {
    prop_oneof![
        (0usize..=3, 0usize..=2, any::<bool>()).prop_map(|(k, d, up)| {
            let b = k * MAX_PRINT_CHUNK;
            if up {
                b + d
            } else {
                b.saturating_sub(d)
            }
        }),
        0usize..=max,
    ]
}

proptest! {
    #[test]
    fn basic_copies_are_text_and_tail_cut_every_chunk_from_where_they_resume(
        text_len in near_boundaries(3100),
        newline in any::<bool>(),
        from in near_boundaries(3200),
    ) {
        let text: Vec<u8> = (0..text_len).map(|i| b'a' + (i % 26) as u8).collect();
        let tail: &'static [u8] = if newline { b"\n" } else { b"" };
        let mut whole = text.clone();
        whole.extend_from_slice(tail);
        let from = from.min(whole.len() + 2);
        let mut np = engine();
        let to = endpoint();
        let mut got = Vec::new();
        let mut at = from;
        // Two frames a try, then the ring is full: resumed from where each try stopped.
        for _ in 0..=whole.len() / MAX_PRINT_CHUNK + 2 {
            let sent = basic(&mut np, &to, &text, tail, at as u32);
            let frames = take(&mut np);
            prop_assert_eq!(sent.frames as usize, frames.len());
            prop_assert_eq!(sent.bytes, frames.iter().map(|f| f.len() as u64).sum::<u64>());
            got.extend(frames);
            let done = sent.result.is_ok();
            if !done {
                prop_assert_eq!(sent.result, Err(SendError::RingFull));
            }
            prop_assert!(sent.offset as usize >= at.min(whole.len()));
            at = sent.offset as usize;
            if done {
                prop_assert_eq!(at, whole.len().max(from.min(whole.len())));
                break;
            }
        }
        prop_assert_eq!(got, model(&whole, from));
    }
}
