//! One NIC, two users: the console and the firmware's own network stack.
//!
//! A firmware that runs smoltcp (or any stack) on its only NIC still wants netconsole on it,
//! and neither may lose the other's frames. [`SharedNic`] holds the NIC behind a
//! `critical_section::Mutex<RefCell<_>>` and hands out two sides:
//!
//! - [`ConsoleSide`], a [`NetPoll`] driver for the console's engine. Of what it receives it hands
//!   the engine only ARP (which the engine answers or resolves with); every other frame goes to a
//!   queue for the stack. ARP goes to the stack too, which has its own neighbours to learn.
//! - The stack's side (`StackSide`, a smoltcp `phy::Device`, feature `smoltcp`), which
//!   reads that queue before the NIC, and passes the ARP frames it receives to a queue for the
//!   console, so a resolution the console started is finished by whichever side received the
//!   answer.
//!
//! Each call holds the critical section for one NIC operation (building one frame, one receive
//! budget, or one frame of the stack's with up to 20 reclaims of a full ring), so interrupts wait
//! at most that long; on a multi-core chip the other core waits as long for the section. An
//! interrupt cannot come mid-call (the section masks it), so a side finds the NIC taken only
//! when it is entered again from inside a call: from a callback (the engine's receive handler,
//! a driver's hook), an NMI or a fault. It then gets [`XmitError::Busy`] or receives nothing,
//! counted in [`SharedCounters::busy`]; it never waits.
//! A queue that is full drops the frame and counts it. The counters live beside the NIC, not
//! with it, so that a refusal is counted while the other side still holds the NIC.

use core::cell::{Cell, RefCell};

use critical_section::Mutex;
use heapless::{Deque, Vec};
use netpoll_core::wire::EtherType;
use netpoll_core::{MacAddr, NetPoll, XmitError, MAX_FRAME_LEN};

/// One received frame, kept for the other side.
type Frame = Vec<u8, MAX_FRAME_LEN>;

/// What the sharing has done. Plain integers: a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SharedCounters {
    /// Frames the console's side received and queued for the stack.
    pub queued_for_stack: u64,
    /// Frames the stack's side received and queued for the console (ARP).
    pub queued_for_console: u64,
    /// Frames dropped because the other side's queue was full.
    pub queue_full: u64,
    /// Calls that found the NIC held by the other side and did nothing.
    pub busy: u64,
    /// Frames of the stack that the NIC would not take (its ring stayed full).
    pub stack_tx_dropped: u64,
    /// Received frames longer than [`MAX_FRAME_LEN`] (a VLAN tag, a jumbo frame): neither side
    /// keeps room for one, so it is dropped whole rather than handed on cut.
    pub rx_too_long: u64,
}

struct State<D, const Q: usize> {
    nic: D,
    for_stack: Deque<Frame, Q>,
    for_console: Deque<Frame, Q>,
}

/// Keeps a copy of `frame` in `queue`; `false` if it does not fit.
fn queue<const Q: usize>(queue: &mut Deque<Frame, Q>, frame: &[u8]) -> bool {
    Frame::from_slice(frame).ok().is_some_and(|f| queue.push_back(f).is_ok())
}

/// Whether `frame` is an Ethernet II frame carrying ARP.
fn is_arp(frame: &[u8]) -> bool {
    frame.len() >= 14 && u16::from_be_bytes([frame[12], frame[13]]) == u16::from(EtherType::Arp)
}

/// A NIC shared by the console and a network stack, with up to `Q` received frames queued for
/// each side.
pub struct SharedNic<D, const Q: usize = 4> {
    state: Mutex<RefCell<State<D, Q>>>,
    /// Outside the `RefCell`: a side refused because the other holds the state must still be
    /// able to count it (the holder has not returned, so the state stays held).
    counters: Mutex<Cell<SharedCounters>>,
}

impl<D: NetPoll, const Q: usize> SharedNic<D, Q> {
    /// Shares `nic`; usable in a `static` when the driver's constructor is `const`.
    pub const fn new(nic: D) -> Self {
        SharedNic {
            state: Mutex::new(RefCell::new(State {
                nic,
                for_stack: Deque::new(),
                for_console: Deque::new(),
            })),
            counters: Mutex::new(Cell::new(SharedCounters {
                queued_for_stack: 0,
                queued_for_console: 0,
                queue_full: 0,
                busy: 0,
                stack_tx_dropped: 0,
                rx_too_long: 0,
            })),
        }
    }

    /// The console's side: a [`NetPoll`] driver to give the console's engine.
    pub fn console(&self) -> ConsoleSide<'_, D, Q> {
        let (mac, link) = self
            .try_with(|s| (s.nic.mac_address(), s.nic.link_up()))
            .unwrap_or((MacAddr([0; 6]), false));
        ConsoleSide { shared: self, mac, link, in_flight: 0 }
    }

    /// The stack's side: a smoltcp `phy::Device`.
    #[cfg(feature = "smoltcp")]
    pub fn stack(&self) -> StackSide<'_, D, Q> {
        StackSide { shared: self, rx: [0; MAX_FRAME_LEN], tx: [0; MAX_FRAME_LEN] }
    }

    /// A snapshot of the counters.
    pub fn counters(&self) -> SharedCounters {
        critical_section::with(|cs| self.counters.borrow(cs).get())
    }

    /// Counts something; never refused, even while a side holds the NIC.
    fn count(&self, f: impl FnOnce(&mut SharedCounters)) {
        critical_section::with(|cs| {
            let cell = self.counters.borrow(cs);
            let mut counters = cell.get();
            f(&mut counters);
            cell.set(counters);
        })
    }

    /// Keeps a copy of `frame` in `queue`, counting it in `kept` or as dropped.
    fn keep(
        &self,
        queue: &mut Deque<Frame, Q>,
        frame: &[u8],
        kept: fn(&mut SharedCounters) -> &mut u64,
    ) {
        if frame.len() > MAX_FRAME_LEN {
            self.count(|c| c.rx_too_long += 1);
        } else if self::queue(queue, frame) {
            self.count(|c| *kept(c) += 1);
        } else {
            self.count(|c| c.queue_full += 1);
        }
    }

    /// Runs `f` on the NIC itself, unless a side holds it.
    pub fn with_nic<R>(&self, f: impl FnOnce(&mut D) -> R) -> Option<R> {
        self.try_with(|s| f(&mut s.nic))
    }

    /// Runs `f` on the shared state in a critical section, or counts a refusal and returns
    /// `None` if a side holds it (an interrupt that came in mid-call).
    fn try_with<R>(&self, f: impl FnOnce(&mut State<D, Q>) -> R) -> Option<R> {
        critical_section::with(|cs| {
            let cell = self.state.borrow(cs);
            match cell.try_borrow_mut() {
                Ok(mut state) => Some(f(&mut state)),
                Err(_) => None,
            }
        })
    }

    /// As `try_with`, counting a refusal.
    fn with_counted<R>(&self, f: impl FnOnce(&mut State<D, Q>) -> R) -> Option<R> {
        let result = self.try_with(f);
        if result.is_none() {
            self.count(|c| c.busy += 1);
        }
        result
    }
}

/// The console's side of a [`SharedNic`].
pub struct ConsoleSide<'a, D, const Q: usize> {
    shared: &'a SharedNic<D, Q>,
    mac: MacAddr,
    link: bool,
    /// Frames in flight as last seen: what [`tx_in_flight`](NetPoll::tx_in_flight) says while
    /// the stack holds the NIC, rather than a 0 that would tell a panic handler "drained".
    in_flight: usize,
}

impl<D: NetPoll, const Q: usize> NetPoll for ConsoleSide<'_, D, Q> {
    fn mac_address(&self) -> MacAddr {
        self.mac
    }

    fn link_up(&self) -> bool {
        self.link
    }

    fn refresh_link(&mut self) -> bool {
        if let Some(up) = self.shared.with_counted(|s| s.nic.refresh_link()) {
            self.link = up;
        }
        self.link
    }

    fn reclaim_tx(&mut self) {
        let seen = self.shared.with_counted(|s| {
            s.nic.reclaim_tx();
            s.nic.tx_in_flight()
        });
        self.in_flight = seen.unwrap_or(self.in_flight);
    }

    fn tx_in_flight(&self) -> usize {
        self.shared.try_with(|s| s.nic.tx_in_flight()).unwrap_or(self.in_flight)
    }

    /// ARP the stack's side received, then the NIC's own frames: ARP to the engine (and a copy
    /// to the stack), everything else to the stack's queue.
    fn receive(&mut self, budget: usize, rx: &mut dyn FnMut(&[u8])) -> usize {
        self.shared
            .with_counted(|s| {
                let mut taken = 0;
                while taken < budget {
                    let Some(frame) = s.for_console.pop_front() else { break };
                    rx(&frame);
                    taken += 1;
                }
                // No more than the stack's queue has room for: the rest wait in the NIC's ring,
                // where the stack's side reads them, rather than be dropped here.
                let State { nic, for_stack, .. } = s;
                let room = Q - for_stack.len();
                taken
                    + nic.receive((budget - taken).min(room), &mut |frame| {
                        if is_arp(frame) {
                            rx(frame);
                        }
                        self.shared.keep(for_stack, frame, |c| &mut c.queued_for_stack);
                    })
            })
            .unwrap_or(0)
    }

    fn xmit_with(&mut self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> Result<(), XmitError> {
        let sent = self.shared.with_counted(|s| (s.nic.xmit_with(len, fill), s.nic.tx_in_flight()));
        let (result, in_flight) = sent.unwrap_or((Err(XmitError::Busy), self.in_flight));
        self.in_flight = in_flight;
        result
    }

    fn max_frame_len(&self) -> usize {
        self.shared.try_with(|s| s.nic.max_frame_len()).unwrap_or(MAX_FRAME_LEN)
    }
}

/// The stack's side of a [`SharedNic`]: a smoltcp `phy::Device` (feature `smoltcp`). It
/// keeps one receive and one transmit buffer of its own, since smoltcp's tokens outlive the
/// critical section.
#[cfg(feature = "smoltcp")]
pub struct StackSide<'a, D, const Q: usize> {
    shared: &'a SharedNic<D, Q>,
    rx: [u8; MAX_FRAME_LEN],
    tx: [u8; MAX_FRAME_LEN],
}

/// Reclaims a full TX ring at most this often for one frame of the stack before dropping it.
#[cfg(feature = "smoltcp")]
const STACK_TX_TRIES: u32 = 20;

#[cfg(feature = "smoltcp")]
impl<D: NetPoll, const Q: usize> StackSide<'_, D, Q> {
    /// Copies the next frame for the stack into `rx`: one the console's side queued, else one
    /// from the NIC (whose ARP is queued for the console too). Returns its length.
    fn next_frame(&mut self) -> Option<usize> {
        let (buf, shared) = (&mut self.rx, self.shared);
        shared
            .with_counted(|s| {
                if let Some(frame) = s.for_stack.pop_front() {
                    buf[..frame.len()].copy_from_slice(&frame);
                    return Some(frame.len());
                }
                let State { nic, for_console, .. } = s;
                let mut len = None;
                nic.receive(1, &mut |frame| {
                    let Some(room) = buf.get_mut(..frame.len()) else {
                        shared.count(|c| c.rx_too_long += 1);
                        return;
                    };
                    room.copy_from_slice(frame);
                    len = Some(frame.len());
                    if is_arp(frame) {
                        shared.keep(for_console, frame, |c| &mut c.queued_for_console);
                    }
                });
                len
            })
            .flatten()
    }
}

/// Queues `frame` (the stack's) on the NIC, reclaiming a full ring a bounded number of times; a
/// frame the NIC will not take is counted and dropped (the stack's own protocols retransmit).
#[cfg(feature = "smoltcp")]
fn send_for_stack<D: NetPoll, const Q: usize>(shared: &SharedNic<D, Q>, frame: &[u8]) {
    let sent = shared.with_counted(|s| {
        for _ in 0..STACK_TX_TRIES {
            match s.nic.xmit_raw(frame) {
                Err(XmitError::Busy) => s.nic.reclaim_tx(),
                other => return other.is_ok(),
            }
        }
        false
    });
    if sent != Some(true) {
        shared.count(|c| c.stack_tx_dropped += 1);
    }
}

#[cfg(feature = "smoltcp")]
mod smoltcp_device {
    use ::smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
    use ::smoltcp::time::Instant;
    use netpoll_core::wire::ethernet::MIN_FRAME_LEN;

    use super::*;

    /// A received frame, copied out of the NIC.
    pub struct StackRx<'b> {
        frame: &'b [u8],
    }

    /// A frame to build in the side's transmit buffer, queued on the NIC once built.
    pub struct StackTx<'b, D: NetPoll, const Q: usize> {
        shared: &'b SharedNic<D, Q>,
        buf: &'b mut [u8; MAX_FRAME_LEN],
    }

    impl phy::RxToken for StackRx<'_> {
        fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
            f(self.frame)
        }
    }

    impl<D: NetPoll, const Q: usize> phy::TxToken for StackTx<'_, D, Q> {
        fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
            // Short frames padded, as the contract asks of a driver.
            let wire_len = len.clamp(MIN_FRAME_LEN, MAX_FRAME_LEN);
            let frame = &mut self.buf[..wire_len];
            frame.fill(0);
            let result = f(&mut frame[..len.min(wire_len)]);
            send_for_stack(self.shared, frame);
            result
        }
    }

    impl<'a, D: NetPoll, const Q: usize> Device for StackSide<'a, D, Q> {
        type RxToken<'b>
            = StackRx<'b>
        where
            Self: 'b;
        type TxToken<'b>
            = StackTx<'b, D, Q>
        where
            Self: 'b;

        fn receive(&mut self, _: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
            let len = self.next_frame()?;
            let StackSide { shared, rx, tx } = self;
            Some((StackRx { frame: &rx[..len] }, StackTx { shared, buf: tx }))
        }

        fn transmit(&mut self, _: Instant) -> Option<Self::TxToken<'_>> {
            Some(StackTx { shared: self.shared, buf: &mut self.tx })
        }

        fn capabilities(&self) -> DeviceCapabilities {
            let mut caps = DeviceCapabilities::default();
            caps.medium = Medium::Ethernet;
            caps.max_transmission_unit =
                self.shared.try_with(|s| s.nic.max_frame_len()).unwrap_or(MAX_FRAME_LEN);
            caps.max_burst_size = Some(1);
            caps
        }
    }
}
