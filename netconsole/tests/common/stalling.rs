//! A two-slot sim whose ring stalls on a fixed pseudo-random schedule, with writes nested in
//! its driver, and the receiver-side checks the tests on it share: every message arrived whole,
//! once and in the order written, or was counted.

use std::sync::atomic::{AtomicU32, Ordering};

use netconsole::{Counters, Netconsole, SystemInfo, Target, TargetStorage};
use netpoll_core::{NicEngine, NoDelay, ResolvePolicy, RetryPolicy, XmitError};
use netpoll_drivers::sim::SimNic;

use super::quirky_nic::{Quirks, QuirkyNic};
use super::{drain, OUR_MAC};

/// The sim's ring stalls for a few reclaims after some frames, on a fixed pseudo-random
/// schedule (a seed gives the same run every time).
pub struct Stalling {
    state: u32,
    often: bool,
}

impl Stalling {
    /// After about a third of the frames, for one to three reclaims.
    pub fn now_and_then(seed: u32) -> Self {
        Self { state: seed, often: false }
    }

    /// After about two thirds of the frames, for one or two reclaims: the ring seldom has room
    /// for more than a frame or two.
    pub fn often(seed: u32) -> Self {
        Self { state: seed, often: true }
    }
}

impl<const S: usize, const R: usize> Quirks<SimNic<S, R>> for Stalling {
    fn after_xmit(&mut self, sim: &mut SimNic<S, R>, result: Result<(), XmitError>) {
        if result.is_ok() {
            self.state = self.state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            if (self.state >> 24).is_multiple_of(3) != self.often {
                let longest = if self.often { 2 } else { 3 };
                sim.fill_ring_for(u64::from(1 + (self.state >> 20) % longest));
            }
        }
    }
}

/// A two-slot sim recording `R` frames, stalling.
pub type StallingNic<const R: usize> = QuirkyNic<SimNic<2, R>, Stalling>;

/// A console on a [`StallingNic`].
pub type OnStalls<S, const U: usize, const B: usize, TS, const R: usize> =
    Netconsole<StallingNic<R>, NoDelay, S, U, B, TS>;

/// Attaches a stalling NIC with one try per frame (a refused frame stops its message part-way),
/// adds and enables `targets`, and has the driver call `hook` on every frame.
pub fn attach_stalling<S, const U: usize, const B: usize, TS, const R: usize>(
    console: &OnStalls<S, U, B, TS, R>,
    stalling: Stalling,
    targets: impl IntoIterator<Item = Target<U>>,
    hook: fn(),
) where
    S: SystemInfo,
    TS: TargetStorage<U>,
{
    let mut np = NicEngine::new(QuirkyNic::new(SimNic::new(OUR_MAC), stalling));
    np.set_retry_policy(RetryPolicy { tries: 1, wait_us: 0 });
    assert!(console.attach(np).is_ok());
    for target in targets {
        let i = console.add_target(target).unwrap();
        console.enable(i, ResolvePolicy::default()).unwrap();
    }
    console.with_nic(|np| np.driver_mut().inner.set_xmit_hook(Some(hook))).unwrap();
}

/// Takes every frame the sim recorded into `sent`, as (destination port, payload) pairs.
pub fn take_sent<S, const U: usize, const B: usize, TS, const R: usize>(
    console: &OnStalls<S, U, B, TS, R>,
    sent: &mut Vec<(u16, Vec<u8>)>,
) where
    S: SystemInfo,
    TS: TargetStorage<U>,
{
    sent.extend(console.with_nic(|np| drain(&mut np.driver_mut().inner)).unwrap());
}

/// Lets the ring move until the backlog is empty (at most 1,000 polls), taking what is sent.
pub fn settle<S, const U: usize, const B: usize, TS, const R: usize>(
    console: &OnStalls<S, U, B, TS, R>,
    sent: &mut Vec<(u16, Vec<u8>)>,
) where
    S: SystemInfo,
    TS: TargetStorage<U>,
{
    for _ in 0..1000 {
        take_sent(console, sent);
        if console.backlog_len() == 0 {
            break;
        }
        console.poll();
    }
}

/// Polls until the backlog is empty (at most 10,000 times), taking what is sent, and checks it
/// emptied: a stall never strands an entry.
pub fn flush<S, const U: usize, const B: usize, TS, const R: usize>(
    console: &OnStalls<S, U, B, TS, R>,
    sent: &mut Vec<(u16, Vec<u8>)>,
) where
    S: SystemInfo,
    TS: TargetStorage<U>,
{
    for _ in 0..10_000 {
        if console.backlog_len() == 0 {
            break;
        }
        console.poll();
        take_sent(console, sent);
    }
    take_sent(console, sent);
    assert_eq!(console.backlog_len(), 0, "the backlog empties once the ring moves");
}

/// Whether the frame being sent is one of the every-seventh that a nested write rides on, while
/// `nested_left` lasts (taking one from it).
pub fn nested_turn(xmits: &AtomicU32, nested_left: &AtomicU32) -> bool {
    xmits.fetch_add(1, Ordering::SeqCst) % 7 == 3
        && nested_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
}

/// The text of message `id`: its id (`m`, four digits, `:`), then up to 2.7 KB of printable
/// filler (no newline), so that many messages take several frames.
pub fn long_text(id: u32) -> Vec<u8> {
    let mut text = format!("m{id:04}:").into_bytes();
    let len = (id as usize * 397) % 2700;
    text.extend((0..len).map(|i| b'a' + ((i + id as usize) % 26) as u8));
    text
}

/// The payloads sent to `port`, in order.
pub fn to_port(sent: &[(u16, Vec<u8>)], port: u16) -> Vec<Vec<u8>> {
    sent.iter().filter(|(p, _)| *p == port).map(|(_, b)| b.clone()).collect()
}

/// A basic target's stream cut into its newline-ended messages (without the newlines).
pub fn lines(stream: &[u8]) -> Vec<Vec<u8>> {
    stream.split(|&b| b == b'\n').filter(|m| !m.is_empty()).map(<[u8]>::to_vec).collect()
}

/// Sixty top-level writes by `log_next` (which takes its id from `next_id`), the ring let move
/// after each until the backlog is empty, then the checks that stalls stopped messages part-way
/// but nothing was lost: put back at the front with resume records, never dropped. Returns what
/// was sent, as (destination port, payload) pairs, and how many messages were written.
pub fn sixty_writes_put_back<S, const U: usize, const B: usize, TS, const R: usize>(
    console: &OnStalls<S, U, B, TS, R>,
    log_next: fn(),
    next_id: &AtomicU32,
) -> (Vec<(u16, Vec<u8>)>, u32)
where
    S: SystemInfo,
    TS: TargetStorage<U>,
{
    let mut sent = Vec::new();
    for _ in 0..60 {
        log_next();
        // The ring moves between writes: the backlog empties before the next one.
        settle(console, &mut sent);
    }
    flush(console, &mut sent);
    let c = console.counters();
    assert_eq!(c.backlog_full.messages, 0, "the backlog is large enough for this test");
    assert_eq!(c.targets.ring_stuck.messages, 0);
    assert!(c.deferred > 0, "the test put messages in the backlog");
    // Frames refused with one try per frame (the stalls, and the two-slot ring itself) stop
    // messages part-way: what puts them back at the front with resume records.
    let gave_up = console.with_nic(|np| np.counters().gave_up).unwrap();
    assert!(gave_up > 0, "messages were stopped part-way");
    let written = next_id.load(Ordering::SeqCst);
    assert!(written > 60, "nested writes happened");
    (sent, written)
}

/// How a basic target's stream of `m<5 digits>:` messages arrived.
pub struct Arrivals {
    /// Messages that arrived whole.
    pub whole: u64,
    /// Messages of which only a start arrived.
    pub cut: u64,
}

/// Cuts `stream` at each message's start (`m`, five digits, `:`, which no filler holds) and
/// checks that each piece is its message (`text_of` the id, and a newline) whole, or its start
/// sent before it was dropped (`ring_stuck`), and that the ids rise: once each, in order.
pub fn arrivals(stream: &[u8], text_of: impl Fn(u32) -> Vec<u8>) -> Arrivals {
    let starts: Vec<usize> = (0..stream.len())
        .filter(|&at| {
            stream[at..].len() >= 7
                && stream[at] == b'm'
                && stream[at + 1..at + 6].iter().all(u8::is_ascii_digit)
                && stream[at + 6] == b':'
        })
        .collect();
    assert_eq!(starts.first().copied().unwrap_or(0), 0, "the stream starts with a message");
    let (mut whole, mut cut) = (0u64, 0u64);
    let mut ids = Vec::new();
    for (n, &at) in starts.iter().enumerate() {
        let piece = &stream[at..starts.get(n + 1).copied().unwrap_or(stream.len())];
        let id: u32 = std::str::from_utf8(&piece[1..6]).unwrap().parse().unwrap();
        let mut want = text_of(id);
        want.push(b'\n');
        if piece == want {
            whole += 1;
        } else {
            assert!(want.starts_with(piece), "message {id}: not a start of it");
            cut += 1;
        }
        ids.push(id);
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "once each, in order: {ids:?}");
    Arrivals { whole, cut }
}

/// Messages were lost, and every one of the `written` was sent whole or counted: a message cut
/// short was dropped, and counted.
pub fn assert_every_loss_counted(c: &Counters, written: u64, arrived: &Arrivals) {
    let lost = c.backlog_full.messages + c.refused.messages + c.targets.ring_stuck.messages;
    assert!(lost > 0 && c.deferred > 0, "the test loses messages and defers others");
    assert!(
        arrived.cut <= c.targets.ring_stuck.messages,
        "a message cut short was dropped, and counted"
    );
    assert_eq!(c.messages, written);
    assert_eq!(c.targets.messages, arrived.whole);
    assert_eq!(arrived.whole + lost, written, "every message sent or counted");
}
