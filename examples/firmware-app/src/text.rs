//! Lines built byte by byte: the app's log lines and serial messages without `core::fmt`,
//! whose machinery (with `Formatter`, padding, the integer `Display`s) would be a third of
//! this firmware's flash on a Cortex-M. Numbers come from [`netconsole::decimal`], the same
//! digits the console's headers use, so the image holds one decimal routine.

use netconsole::decimal::Decimal;
use netpoll_core::MacAddr;

use crate::expected::LineSink;

/// A line on the stack; what does not fit is cut (every line the app builds fits).
pub(crate) struct Text<const N: usize>(heapless::Vec<u8, N>);

impl<const N: usize> Text<N> {
    /// An empty line.
    pub(crate) const fn new() -> Self {
        Text(heapless::Vec::new())
    }

    /// Appends `bytes`, as much as fits. Not inlined: the app calls it from many places.
    #[inline(never)]
    pub(crate) fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        let room = N - self.0.len();
        let _ = self.0.extend_from_slice(bytes.get(..room).unwrap_or(bytes));
        self
    }

    /// Appends `n` in decimal.
    pub(crate) fn dec(&mut self, n: u64) -> &mut Self {
        self.padded(n, 1)
    }

    /// Appends `n` in decimal, zero-padded to `width` digits. Not inlined, as
    /// [`bytes`](Self::bytes): the one copy of the digits' trip to the line, for [`dec`](Self::dec)
    /// and the [`LineSink`]'s numbers alike.
    #[inline(never)]
    fn padded(&mut self, n: u64, width: usize) -> &mut Self {
        self.bytes(Decimal::padded(n, width).as_bytes())
    }

    /// The line so far.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl<const N: usize> LineSink for Text<N> {
    fn text(&mut self, text: &str) {
        self.bytes(text.as_bytes());
    }

    fn number(&mut self, n: u32, width: usize) {
        self.padded(n.into(), width);
    }
}

/// `52:54:00:12:34:56`.
pub(crate) fn mac_text(mac: MacAddr) -> [u8; 17] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b':'; 17];
    for (i, octet) in mac.octets().into_iter().enumerate() {
        out[3 * i] = HEX[usize::from(octet >> 4)];
        out[3 * i + 1] = HEX[usize::from(octet & 15)];
    }
    out
}
