//! The send engine for one NIC: frames built in the driver's TX slot, a bounded retry when the
//! ring is full, one IPv4 identification counter for every target on the NIC.
//!
//! The retry is Linux's `__netpoll_send_skb`: try to transmit; if the ring is full, reclaim
//! finished TX slots (never received frames: those belong to whoever receives), wait (50 µs in
//! Linux), and try again, for a bounded number of tries (one jiffy's worth in Linux: 20 at
//! HZ=1000). Then give up and say so: deferring the message is the caller's decision (netconsole
//! keeps it in its backlog).
//!
//! Received frames are consumed only when the caller asks ([`NicEngine::poll_rx`],
//! [`NicEngine::resolve`]): ARP for one of our addresses is answered here, every other frame goes
//! to the caller's handler (the firmware's own network stack, say), counted.

use core::fmt;
use core::net::Ipv4Addr;

use embedded_hal::delay::DelayNs;

use crate::arp::ArpState;
use crate::driver::{NetPoll, XmitError};
use crate::endpoint::Endpoint;
use crate::wire::{BuildError, Payload, PreparedUdpFrame, UdpFrame};

/// How long a send may try before it gives up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RetryPolicy {
    /// Transmit attempts, the first included. At least one is always made.
    pub tries: u32,
    /// Microseconds to wait between attempts, when the engine has a delay.
    pub wait_us: u32,
}

impl RetryPolicy {
    /// Linux's budget at HZ=1000: 20 tries, 50 µs apart, one jiffy in all.
    pub const LINUX: RetryPolicy = RetryPolicy { tries: 20, wait_us: 50 };

    /// The longest a send waits in all, in microseconds (with a delay; without one, the tries
    /// follow each other at the speed of `poll`).
    pub const fn max_wait_us(&self) -> u64 {
        self.tries.saturating_sub(1) as u64 * self.wait_us as u64
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::LINUX
    }
}

/// Why a frame was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SendError {
    /// The link is down (checked before building anything).
    LinkDown,
    /// The TX ring stayed full for the whole retry budget.
    RingFull,
    /// The frame cannot be built (payload too large, mixed address families, too long for the
    /// driver).
    Build(BuildError),
    /// The driver refused the frame.
    Driver(XmitError),
    /// The driver handed a TX slot of another length than asked for, breaking its contract: the
    /// slot was zeroed rather than filled, and whatever it held went out.
    SlotLength {
        /// Bytes asked for.
        expected: usize,
        /// Bytes the driver's slot had.
        got: usize,
    },
    /// The driver said the frame was queued without ever calling `fill`, breaking its
    /// contract: whatever its slot held went out in place of the frame.
    NotFilled,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::LinkDown => f.write_str("link down"),
            SendError::RingFull => f.write_str("TX ring full for the whole retry budget"),
            SendError::Build(e) => write!(f, "cannot build frame: {e}"),
            SendError::Driver(e) => write!(f, "driver refused frame: {e}"),
            SendError::SlotLength { expected, got } => {
                write!(f, "driver handed a {got}-byte TX slot for a {expected}-byte frame")
            }
            SendError::NotFilled => f.write_str("driver queued a frame without filling it"),
        }
    }
}

impl core::error::Error for SendError {}

/// What the engine has done, since it was made. Plain integers: read them as a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Counters {
    /// Frames handed to the driver.
    pub frames_sent: u64,
    /// Bytes of those frames (headers included, padding excluded).
    pub bytes_sent: u64,
    /// Transmit attempts that found the ring full.
    pub busy_retries: u64,
    /// Frames given up after the whole retry budget (one try for an ARP frame).
    pub gave_up: u64,
    /// Sends refused because the link was down.
    pub link_down: u64,
    /// Frames the driver refused or that could not be built.
    pub errors: u64,
    /// ARP requests for one of our addresses that we answered.
    pub arp_replies_sent: u64,
    /// ARP requests we sent to resolve a target.
    pub arp_requests_sent: u64,
    /// Received ARP frames meant for us (requests for our addresses, replies to our requests),
    /// handled here.
    pub rx_arp: u64,
    /// Received frames handed to the caller's receive handler.
    pub rx_passed: u64,
    /// Received frames not for us that found no handler to take them: dropped, and counted here.
    pub rx_unclaimed: u64,
}

/// Received frames handled per [`NicEngine::poll`]: one small ring's worth, so that a poll from an
/// idle loop stays short.
pub const RX_BUDGET: usize = 16;

/// What receives the frames that are not ARP for us: the firmware's own network stack, say. A
/// plain function, so that it can run in any context and needs no heap; it typically copies the
/// frame into a queue the stack reads.
pub type RxHandler = fn(&[u8]);

/// A delay that does not wait: retries follow each other as fast as `poll` returns. The default
/// when the firmware has no timer to give.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDelay;

impl DelayNs for NoDelay {
    fn delay_ns(&mut self, _ns: u32) {}
}

/// One NIC and its send engine: frames built in the driver's TX slots with Linux's bounded retry,
/// one IPv4 identification counter for every target, ARP answers and resolution, and the NIC's
/// received frames sorted into ARP for us and the rest, which go to the caller's handler.
///
/// The [crate docs](crate) send a frame through one, with a minimal driver. (That example
/// lives there, not here, so that it needs no netpoll-drivers, which a published netpoll-core
/// cannot have even as a dev-dependency.)
pub struct NicEngine<D: NetPoll, W: DelayNs = NoDelay> {
    driver: D,
    delay: W,
    has_delay: bool,
    policy: RetryPolicy,
    rx_handler: Option<RxHandler>,
    /// The identification of the last IPv4 frame; Linux's first frame carries 1.
    ip_ident: u16,
    counters: Counters,
    pub(crate) arp: ArpState,
    #[allow(dead_code)] // never read: its layout is its job
    present: Present,
}

/// A field whose only valid value is `u32::MAX`: its invalid values outnumber any other
/// field's, so the compiler stores `None` of an `Option` around the struct there, as 0. A
/// console in a `static` starts with its NIC (and its target slots) `None`; with `None` all zero
/// bytes the whole console lands in `.bss` (zeroed at boot) instead of `.data` (a copy of its
/// image in flash, as large as the backlog). `cargo xtask size` checks the firmware's `.data`.
#[derive(Clone, Copy)]
#[repr(u32)]
enum Present {
    Yes = u32::MAX,
}

impl<D: NetPoll> NicEngine<D, NoDelay> {
    /// An engine for `driver` with Linux's retry budget and no delay between tries.
    pub fn new(driver: D) -> Self {
        NicEngine::with_delay_inner(driver, NoDelay, false)
    }
}

impl<D: NetPoll, W: DelayNs> NicEngine<D, W> {
    /// An engine that waits with `delay` between tries, as Linux waits 50 µs.
    pub fn with_delay(driver: D, delay: W) -> Self {
        NicEngine::with_delay_inner(driver, delay, true)
    }

    fn with_delay_inner(driver: D, delay: W, has_delay: bool) -> Self {
        NicEngine {
            driver,
            delay,
            has_delay,
            policy: RetryPolicy::LINUX,
            rx_handler: None,
            ip_ident: 0,
            counters: Counters::default(),
            arp: ArpState::new(),
            present: Present::Yes,
        }
    }

    /// Sets the retry budget.
    pub fn set_retry_policy(&mut self, policy: RetryPolicy) {
        self.policy = policy;
    }

    /// The retry budget.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.policy
    }

    /// The driver.
    pub fn driver(&self) -> &D {
        &self.driver
    }

    /// The driver, mutable (to configure it or inject faults in tests).
    pub fn driver_mut(&mut self) -> &mut D {
        &mut self.driver
    }

    /// The delay the engine waits with.
    pub fn delay(&self) -> &W {
        &self.delay
    }

    /// Whether the engine has a real delay (made with [`with_delay`](Self::with_delay)); without
    /// one, nothing that waits for time (carrier, TX drain, retries) can wait.
    pub fn has_delay(&self) -> bool {
        self.has_delay
    }

    /// Sets what receives the frames that are not ARP for us; without a handler they are dropped
    /// and counted in [`Counters::rx_unclaimed`].
    pub fn set_rx_handler(&mut self, handler: Option<RxHandler>) {
        self.rx_handler = handler;
    }

    /// Gives the driver back.
    pub fn into_driver(self) -> D {
        self.driver
    }

    /// A snapshot of the counters.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Answer ARP requests for `addr` while polling (one of our IPv4 addresses). Returns `false`
    /// if the table of our addresses is full.
    pub fn add_local_ipv4(&mut self, addr: Ipv4Addr) -> bool {
        self.arp.add_local(addr)
    }

    /// Builds one UDP frame from `payload` straight into a TX slot of the driver and queues it,
    /// retrying within the budget while the ring is full. Returns the frame length.
    ///
    /// The link state checked is the driver's cached one; refreshing it (a PHY read) is the
    /// caller's decision, with [`refresh_link`](Self::refresh_link).
    pub fn send_udp(&mut self, to: &Endpoint, payload: &[&[u8]]) -> Result<usize, SendError> {
        self.send_payload(to, payload)
    }

    /// As [`send_udp`](Self::send_udp), for any [`Payload`]: the payload's slices are copied
    /// into the TX slot once, as the frame is built there.
    pub fn send_payload(
        &mut self,
        to: &Endpoint,
        payload: &(impl Payload + ?Sized),
    ) -> Result<usize, SendError> {
        self.require_link()?;
        let mut frame = self.frame_to(to);
        let payload_len = payload.len();
        let len = self.checked_len(frame.frame_len(payload_len))?;
        frame.ipv4_ident = self.next_ident(to.remote_ip.is_ipv4());
        // `transmit` hands this a slot of exactly `len` bytes, which the checks above make room
        // for, so the frame always fits.
        let mut fill = |slot: &mut [u8]| {
            let _ = frame.emit_sized(slot, payload, payload_len);
        };
        self.transmit(len, &mut fill)?;
        Ok(len)
    }

    /// The frame from this NIC to `to`, its IPv4 identification not yet drawn.
    #[inline(always)]
    fn frame_to(&self, to: &Endpoint) -> UdpFrame {
        UdpFrame {
            src_mac: self.driver.mac_address(),
            dst_mac: to.dst_mac(),
            src_ip: to.local_ip,
            dst_ip: to.remote_ip,
            src_port: to.local_port,
            dst_port: to.remote_port,
            ipv4_ident: 0,
        }
    }

    /// The link as the driver last saw it: a send on a link that is down is refused, counted.
    #[inline(always)]
    fn require_link(&mut self) -> Result<(), SendError> {
        if self.driver.link_up() {
            return Ok(());
        }
        self.counters.link_down += 1;
        Err(SendError::LinkDown)
    }

    /// The length of a frame about to be sent, if it can be built and fits the driver;
    /// otherwise the error, counted.
    #[inline(always)]
    fn checked_len(&mut self, frame_len: Result<usize, BuildError>) -> Result<usize, SendError> {
        match frame_len {
            Ok(len) if len <= self.driver.max_frame_len() => Ok(len),
            Ok(len) => {
                self.counters.errors += 1;
                let max = self.driver.max_frame_len();
                Err(SendError::Driver(XmitError::TooLong { len, max }))
            }
            Err(e) => {
                self.counters.errors += 1;
                Err(SendError::Build(e))
            }
        }
    }

    /// The IPv4 identification of the next frame (0 for IPv6, which has none): one counter for
    /// every target on this NIC, as Linux's `ip_ident`; wraps mod 2^16.
    #[inline(always)]
    fn next_ident(&mut self, ipv4: bool) -> u16 {
        if !ipv4 {
            return 0;
        }
        self.ip_ident = self.ip_ident.wrapping_add(1);
        self.ip_ident
    }

    /// The headers of every frame to `to` from this NIC, laid out once for
    /// [`send_prepared`](Self::send_prepared). They hold the NIC's MAC address and every field
    /// of `to` but the gateway: whoever keeps them must prepare them again when any of those
    /// changes (a next-hop MAC learned, say). Fails only for addresses of different families.
    pub fn prepare(&self, to: &Endpoint) -> Result<PreparedUdpFrame, BuildError> {
        PreparedUdpFrame::new(&self.frame_to(to))
    }

    /// As [`send_payload`](Self::send_payload), with headers [`prepare`](Self::prepare)d once
    /// for many frames to one target: only the lengths, the IPv4 identification (this engine's
    /// counter, as for every send) and the checksums are computed per frame. The bytes are
    /// those `send_payload` sends to the endpoint the headers were prepared for.
    pub fn send_prepared(
        &mut self,
        frame: &PreparedUdpFrame,
        payload: &(impl Payload + ?Sized),
    ) -> Result<usize, SendError> {
        self.require_link()?;
        let len = self.checked_len(frame.frame_len(payload.len()))?;
        let ident = self.next_ident(frame.is_ipv4());
        // `transmit` hands this a slot of exactly `len` bytes, which the checks above make room
        // for, so the frame always fits.
        let mut fill = |slot: &mut [u8]| {
            let _ = frame.emit_payload(slot, payload, ident);
        };
        self.transmit(len, &mut fill)?;
        Ok(len)
    }

    /// Queues a frame that is already built, with the same retry as [`send_udp`](Self::send_udp).
    pub fn send_raw(&mut self, frame: &[u8]) -> Result<(), SendError> {
        self.require_link()?;
        self.transmit(frame.len(), &mut |slot: &mut [u8]| copy_frame(slot, frame))
    }

    /// One try, no retry: for ARP, whose peer asks again. Counted like any frame: a full ring
    /// is a busy try and, the budget being that one try, a frame given up.
    pub(crate) fn xmit_once(&mut self, frame: &[u8]) -> Result<(), SendError> {
        self.transmit_tries(frame.len(), &mut |slot: &mut [u8]| copy_frame(slot, frame), 1)
    }

    /// Counts one transmit attempt's outcome, given the length of the slot `fill` was handed
    /// (`None`: never called); a contract-breaking slot, or none, is an error.
    fn account(
        &mut self,
        result: Result<(), XmitError>,
        len: usize,
        slot_seen: Option<usize>,
    ) -> Result<(), SendError> {
        match (result, slot_seen) {
            (Ok(()), Some(got)) if got == len => {
                self.counters.frames_sent += 1;
                self.counters.bytes_sent += len as u64;
                Ok(())
            }
            (Ok(()), Some(got)) => {
                self.counters.errors += 1;
                Err(SendError::SlotLength { expected: len, got })
            }
            (Ok(()), None) => {
                self.counters.errors += 1;
                Err(SendError::NotFilled)
            }
            (Err(XmitError::LinkDown), _) => {
                self.counters.link_down += 1;
                Err(SendError::LinkDown)
            }
            (Err(XmitError::Busy), _) => Err(SendError::RingFull),
            (Err(e), _) => {
                self.counters.errors += 1;
                Err(SendError::Driver(e))
            }
        }
    }

    /// The bounded try → poll → wait loop, within the retry budget.
    fn transmit(&mut self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> Result<(), SendError> {
        self.transmit_tries(len, fill, self.policy.tries)
    }

    /// The bounded try → poll → wait loop, `tries` attempts (at least one).
    fn transmit_tries(
        &mut self,
        len: usize,
        fill: &mut dyn FnMut(&mut [u8]),
        tries: u32,
    ) -> Result<(), SendError> {
        let tries = tries.max(1);
        for attempt in 0..tries {
            let mut slot_seen = None;
            let result = self
                .driver
                .xmit_with(len, &mut |slot: &mut [u8]| fill_exact(slot, len, &mut slot_seen, fill));
            match result {
                Err(XmitError::Busy) => {}
                other => return self.account(other, len, slot_seen),
            }
            self.counters.busy_retries += 1;
            if attempt + 1 < tries {
                // TX completions only: a received frame taken here would be lost to its owner.
                self.driver.reclaim_tx();
                if self.has_delay {
                    self.delay.delay_us(self.policy.wait_us);
                }
            }
        }
        self.counters.gave_up += 1;
        Err(SendError::RingFull)
    }

    /// Frees the TX slots the NIC has finished with; touches no received frame.
    pub fn reclaim(&mut self) {
        self.driver.reclaim_tx();
    }

    /// Reclaims TX slots, then handles up to [`RX_BUDGET`] received frames as
    /// [`poll_rx`](Self::poll_rx) does. For an idle loop or a timer.
    pub fn poll(&mut self) {
        self.driver.reclaim_tx();
        self.poll_rx(RX_BUDGET);
    }

    /// Handles up to `budget` received frames: answers ARP requests for our addresses, notes the
    /// ARP answers a resolution waits for, and hands every other frame to the receive handler
    /// (see [`set_rx_handler`](Self::set_rx_handler)). Returns the frames received.
    pub fn poll_rx(&mut self, budget: usize) -> usize {
        let handler = self.rx_handler;
        self.receive_sorted(budget, &mut |frame| handler.map(|h| h(frame)).is_some())
    }

    /// As [`poll_rx`](Self::poll_rx), with `other` in place of the receive handler for this call.
    pub fn poll_rx_with(&mut self, budget: usize, other: &mut dyn FnMut(&[u8])) -> usize {
        self.receive_sorted(budget, &mut |frame| {
            other(frame);
            true
        })
    }

    /// Receives up to `budget` frames: ARP for us is handled here, the rest offered to `other`,
    /// which says whether it took the frame.
    fn receive_sorted(&mut self, budget: usize, other: &mut dyn FnMut(&[u8]) -> bool) -> usize {
        let our_mac = self.driver.mac_address();
        let (arp, counters) = (&mut self.arp, &mut self.counters);
        let received = self.driver.receive(budget, &mut |frame| {
            if arp.receive(frame, our_mac) {
                counters.rx_arp += 1;
            } else if other(frame) {
                counters.rx_passed += 1;
            } else {
                counters.rx_unclaimed += 1;
            }
        });
        self.send_arp_replies();
        received
    }

    /// The driver's cached link state (no PHY read).
    pub fn link_up(&self) -> bool {
        self.driver.link_up()
    }

    /// Reads the link state from the hardware (a PHY read) and returns it.
    pub fn refresh_link(&mut self) -> bool {
        self.driver.refresh_link()
    }

    /// Waits until the link is up, reading it every millisecond for at most `timeout_ms`, as
    /// Linux's netpoll waits `carrier_timeout` (4 s) before it starts. Reads it once first;
    /// without a delay (see [`has_delay`](Self::has_delay)) that one read is all, since there is
    /// no way to tell time. Returns the link state at the end.
    pub fn wait_for_carrier(&mut self, timeout_ms: u32) -> bool {
        if self.driver.refresh_link() {
            return true;
        }
        if !self.has_delay {
            return false;
        }
        for _ in 0..timeout_ms {
            self.delay.delay_us(1000);
            if self.driver.refresh_link() {
                return true;
            }
        }
        false
    }

    /// Waits until the NIC has finished every queued frame, reclaiming TX slots at most `polls`
    /// times more, `wait_us` apart (when the engine has a delay). For a panic handler before it
    /// resets the chip. Returns the frames still in flight: 0 once drained.
    pub fn wait_tx_drained(&mut self, polls: u32, wait_us: u32) -> usize {
        self.driver.reclaim_tx();
        for _ in 0..polls {
            if self.driver.tx_in_flight() == 0 {
                break;
            }
            self.wait_us(wait_us);
            self.driver.reclaim_tx();
        }
        self.driver.tx_in_flight()
    }

    pub(crate) fn count_arp_request(&mut self) {
        self.counters.arp_requests_sent += 1;
    }

    pub(crate) fn count_arp_reply(&mut self) {
        self.counters.arp_replies_sent += 1;
    }

    pub(crate) fn wait_us(&mut self, us: u32) {
        if self.has_delay {
            self.delay.delay_us(us);
        }
    }
}

/// Fills `slot` with `fill` if it is the `len` bytes the driver was asked for; otherwise zeroes
/// it, so a driver that breaks its contract sends zeros, not a stale frame, and never makes the
/// engine slice out of bounds. Notes the slot's length in `slot_seen` either way, so that a
/// driver that never called this is caught too.
fn fill_exact(
    slot: &mut [u8],
    len: usize,
    slot_seen: &mut Option<usize>,
    fill: &mut dyn FnMut(&mut [u8]),
) {
    if slot.len() == len {
        fill(slot);
    } else {
        slot.fill(0);
    }
    *slot_seen = Some(slot.len());
}

/// Copies a built frame into a slot `fill_exact` has checked to be as long; written so that the
/// compiler, which cannot see that check through `dyn`, needs no panic path for it.
fn copy_frame(slot: &mut [u8], frame: &[u8]) {
    if let Some(slot) = slot.get_mut(..frame.len()) {
        slot.copy_from_slice(frame);
    }
}
