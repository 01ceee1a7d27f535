//! `NetPoll` over any [`embassy_net_driver::Driver`] (feature `embassy`): every NIC with an
//! embassy-net driver can carry netconsole, from any context, without an executor.
//!
//! The driver is polled with a no-op waker: a `None` from `transmit` is [`XmitError::Busy`] (the
//! engine reclaims and retries within its budget), a `None` from `receive` ends the receive
//! poll. Nothing here waits for a wake-up, so the contract's "bounded, callable with interrupts
//! off" holds as long as the driver's own poll functions keep it, which embassy drivers do (a
//! poll only looks at the rings). The link state is the driver's `link_state`, cached.

use core::task::{Context, Waker};

use embassy_net_driver::{Driver, HardwareAddress, LinkState, RxToken, TxToken};
use netpoll_core::wire::ethernet::MIN_FRAME_LEN;
use netpoll_core::{MacAddr, NetPoll, XmitError, MAX_FRAME_LEN};

/// The driver is not an Ethernet device (IEEE 802.15.4, or IP without a link layer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotEthernet;

impl core::fmt::Display for NotEthernet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("the embassy-net driver has no Ethernet address")
    }
}

impl core::error::Error for NotEthernet {}

/// An embassy-net driver as a [`NetPoll`] driver.
pub struct EmbassyNic<T: Driver> {
    driver: T,
    mac: MacAddr,
    link: bool,
}

impl<T: Driver> EmbassyNic<T> {
    /// The driver `driver`, with its MAC address and link state read once.
    pub fn new(driver: T) -> Result<Self, NotEthernet> {
        let HardwareAddress::Ethernet(mac) = driver.hardware_address() else {
            return Err(NotEthernet);
        };
        let mut nic = EmbassyNic { driver, mac: MacAddr(mac), link: false };
        nic.refresh_link();
        Ok(nic)
    }

    /// The driver.
    pub fn driver_mut(&mut self) -> &mut T {
        &mut self.driver
    }

    /// Gives the driver back.
    pub fn into_inner(self) -> T {
        self.driver
    }
}

/// Runs `f` with a context whose waker does nothing: the engine polls again by itself.
fn polled<R>(f: impl FnOnce(&mut Context<'_>) -> R) -> R {
    f(&mut Context::from_waker(Waker::noop()))
}

impl<T: Driver> NetPoll for EmbassyNic<T> {
    fn mac_address(&self) -> MacAddr {
        self.mac
    }

    fn link_up(&self) -> bool {
        self.link
    }

    fn refresh_link(&mut self) -> bool {
        self.link = polled(|cx| self.driver.link_state(cx)) == LinkState::Up;
        self.link
    }

    /// An embassy-net driver frees its TX buffers itself.
    fn reclaim_tx(&mut self) {}

    fn tx_in_flight(&self) -> usize {
        0
    }

    fn receive(&mut self, budget: usize, rx: &mut dyn FnMut(&[u8])) -> usize {
        let mut handed = 0;
        while handed < budget {
            let Some((token, _)) = polled(|cx| self.driver.receive(cx)) else { break };
            token.consume(|frame| rx(frame));
            handed += 1;
        }
        handed
    }

    fn xmit_with(&mut self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> Result<(), XmitError> {
        let max = self.max_frame_len();
        if len > max {
            return Err(XmitError::TooLong { len, max });
        }
        let token = polled(|cx| self.driver.transmit(cx)).ok_or(XmitError::Busy)?;
        token.consume(len.max(MIN_FRAME_LEN), |buf| {
            let (frame, padding) = buf.split_at_mut(len.min(buf.len()));
            fill(frame);
            padding.fill(0);
        });
        Ok(())
    }

    fn max_frame_len(&self) -> usize {
        self.driver.capabilities().max_transmission_unit.min(MAX_FRAME_LEN)
    }
}
