//! `NetPoll` over any smoltcp [`phy::Device`](::smoltcp::phy::Device) (feature `smoltcp`): every
//! NIC that already has a smoltcp driver can carry netconsole.
//!
//! The mapping is direct: `xmit_with(len, fill)` is `transmit()` then `TxToken::consume(len,
//! fill)`, and no token is [`XmitError::Busy`]. A smoltcp device reclaims its own TX buffers and
//! has no link state or MAC address to ask, so the adapter takes the MAC from the caller and
//! keeps the link state the firmware gives it ([`SmoltcpNic::set_link`]).
//!
//! To share the NIC with a smoltcp `Interface` rather than hand it over, see
//! [`shared`](crate::shared).

use ::smoltcp::phy::{Device, RxToken, TxToken};
use ::smoltcp::time::Instant;
use netpoll_core::wire::ethernet::MIN_FRAME_LEN;
use netpoll_core::{MacAddr, NetPoll, XmitError, MAX_FRAME_LEN};

/// A smoltcp device as a [`NetPoll`] driver.
pub struct SmoltcpNic<T: Device> {
    device: T,
    mac: MacAddr,
    link: bool,
    now: Instant,
}

impl<T: Device> SmoltcpNic<T> {
    /// The device `device`, sending from `mac` (the address its `Interface` would have), link
    /// up.
    pub fn new(device: T, mac: MacAddr) -> Self {
        SmoltcpNic { device, mac, link: true, now: Instant::ZERO }
    }

    /// Sets the link state (a smoltcp device has none to read): a firmware that learns it from
    /// its PHY says so here.
    pub fn set_link(&mut self, up: bool) {
        self.link = up;
    }

    /// Sets the timestamp handed to the device's `receive` and `transmit` (zero unless set).
    pub fn set_now(&mut self, now: Instant) {
        self.now = now;
    }

    /// The device.
    pub fn device_mut(&mut self) -> &mut T {
        &mut self.device
    }

    /// Gives the device back.
    pub fn into_inner(self) -> T {
        self.device
    }
}

impl<T: Device> NetPoll for SmoltcpNic<T> {
    fn mac_address(&self) -> MacAddr {
        self.mac
    }

    fn link_up(&self) -> bool {
        self.link
    }

    fn refresh_link(&mut self) -> bool {
        self.link
    }

    /// A smoltcp device frees its TX buffers itself.
    fn reclaim_tx(&mut self) {}

    fn tx_in_flight(&self) -> usize {
        0
    }

    fn receive(&mut self, budget: usize, rx: &mut dyn FnMut(&[u8])) -> usize {
        let mut handed = 0;
        while handed < budget {
            let Some((token, _)) = self.device.receive(self.now) else { break };
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
        let token = self.device.transmit(self.now).ok_or(XmitError::Busy)?;
        token.consume(len.max(MIN_FRAME_LEN), |buf| {
            let (frame, padding) = buf.split_at_mut(len.min(buf.len()));
            fill(frame);
            padding.fill(0);
        });
        Ok(())
    }

    fn max_frame_len(&self) -> usize {
        self.device.capabilities().max_transmission_unit.min(MAX_FRAME_LEN)
    }
}
