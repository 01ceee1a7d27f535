//! A NIC that behaves as another one except where a test gives it quirks: a ring that stalls on
//! a schedule, a doorbell held within a batch, a driver that panics. The test writes only what
//! differs; everything else reaches the inner NIC unchanged.

use netpoll_core::{MacAddr, NetPoll, XmitError};

/// What a [`QuirkyNic`] does differently from its inner NIC. By default, nothing.
pub trait Quirks<N: NetPoll> {
    /// Before each transmit reaches the inner NIC.
    fn before_xmit(&mut self) {}
    /// After each transmit, with the inner NIC's result, which goes back to the caller unchanged.
    fn after_xmit(&mut self, _inner: &mut N, _result: Result<(), XmitError>) {}
    /// When a batch begins, instead of the inner NIC's `begin_tx_batch`.
    fn begin_tx_batch(&mut self, inner: &mut N) {
        inner.begin_tx_batch();
    }
    /// When a batch ends, instead of the inner NIC's `end_tx_batch`.
    fn end_tx_batch(&mut self, inner: &mut N) {
        inner.end_tx_batch();
    }
}

/// `inner` with `quirks`. A named type (no closure), so a console holding it can be a `static`.
pub struct QuirkyNic<N, Q> {
    pub inner: N,
    pub quirks: Q,
}

impl<N, Q> QuirkyNic<N, Q> {
    pub fn new(inner: N, quirks: Q) -> Self {
        Self { inner, quirks }
    }
}

/// `xmit_raw` and `max_frame_len` keep the trait's defaults, so a raw frame goes through the
/// quirky `xmit_with` too.
impl<N: NetPoll, Q: Quirks<N>> NetPoll for QuirkyNic<N, Q> {
    fn mac_address(&self) -> MacAddr {
        self.inner.mac_address()
    }
    fn link_up(&self) -> bool {
        self.inner.link_up()
    }
    fn refresh_link(&mut self) -> bool {
        self.inner.refresh_link()
    }
    fn reclaim_tx(&mut self) {
        self.inner.reclaim_tx()
    }
    fn tx_in_flight(&self) -> usize {
        self.inner.tx_in_flight()
    }
    fn receive(&mut self, budget: usize, rx: &mut dyn FnMut(&[u8])) -> usize {
        self.inner.receive(budget, rx)
    }
    fn xmit_with(&mut self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> Result<(), XmitError> {
        self.quirks.before_xmit();
        let result = self.inner.xmit_with(len, fill);
        self.quirks.after_xmit(&mut self.inner, result);
        result
    }
    fn begin_tx_batch(&mut self) {
        self.quirks.begin_tx_batch(&mut self.inner);
    }
    fn end_tx_batch(&mut self) {
        self.quirks.end_tx_batch(&mut self.inner);
    }
}
