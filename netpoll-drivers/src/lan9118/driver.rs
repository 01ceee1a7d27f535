//! The driver: reset and bring-up, the [`NetPoll`] contract over the TX and RX FIFOs, the link.

use core::fmt;

use netpoll_core::{MacAddr, NetPoll, XmitError, MAX_FRAME_LEN};

use super::csr::{self, mac_cr, MacReg};
use super::mii::{self, ability, bmcr, bmsr, PhyReg};
use super::registers::{
    e2p_cmd, hw_cfg, pmt_ctrl, rx_fifo_inf, rx_status, tx_cfg, tx_cmd, tx_fifo_inf, tx_status, Reg,
    Registers, BYTE_TEST_MAGIC,
};
use netpoll_core::wire::ethernet::MIN_FRAME_LEN;

/// Bounce buffer size by default: an untagged 1514-byte frame or an 802.1Q-tagged 1518-byte one
/// (received), rounded up to whole FIFO words.
pub const DEFAULT_BUFFER_LEN: usize = 1520;

/// The FCS the chip leaves at the end of every received frame.
const FCS_LEN: usize = 4;

/// An Ethernet header: a received frame shorter than this plus the FCS is a bad status.
const ETHERNET_HEADER_LEN: usize = 14;

/// Command A and command B precede each frame in the TX data FIFO.
const TX_COMMAND_BYTES: usize = 8;

/// The TX status FIFO holds 512 bytes: 128 statuses. With more frames than that unreclaimed the
/// chip stops transmitting (TX_CFG.TXSAO is off), so the driver reports `Busy` first.
pub const TX_STATUS_DEPTH: usize = 128;

/// How many reads the bring-up waits for the soft reset, READY and the EEPROM load. Reset and
/// the EEPROM load take milliseconds on the chip; this bound only matters if the chip is wedged.
const RESET_POLLS: u32 = 1_000_000;

/// How the driver brings the chip up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Config {
    /// The MAC address to program. `None` keeps the one the chip loaded from its EEPROM at reset
    /// (QEMU's model loads the `-nic ...,mac=` address there).
    pub mac: Option<MacAddr>,
}

/// Why the chip could not be brought up. Each names the step that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitError {
    /// `BYTE_TEST` did not read 0x8765_4321: no chip at this address, or a bus byte-order mismatch.
    NotFound {
        /// What `BYTE_TEST` read.
        byte_test: u32,
    },
    /// `HW_CFG.SRST` did not clear after the soft reset.
    ResetTimeout,
    /// `PMT_CTRL.READY` did not come up after the soft reset.
    NotReady,
    /// `E2P_CMD.BUSY` (the MAC address load from the EEPROM) did not clear.
    EepromBusy,
    /// A MAC CSR access (`MAC_CSR_CMD.BUSY`) did not finish, while doing this step.
    MacCsr(&'static str),
    /// No MAC address was configured and the EEPROM did not give a usable one.
    NoMacAddress {
        /// What `ADDRL`/`ADDRH` held.
        found: MacAddr,
    },
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitError::NotFound { byte_test } => {
                write!(f, "lan9118: BYTE_TEST reads {byte_test:#010x}, not 0x87654321")
            }
            InitError::ResetTimeout => f.write_str("lan9118: HW_CFG.SRST stuck after soft reset"),
            InitError::NotReady => f.write_str("lan9118: PMT_CTRL.READY never set after reset"),
            InitError::EepromBusy => f.write_str("lan9118: EEPROM MAC address load never finished"),
            InitError::MacCsr(step) => write!(f, "lan9118: MAC CSR access stuck while {step}"),
            InitError::NoMacAddress { found } => {
                write!(f, "lan9118: no MAC configured and the EEPROM gave {found}")
            }
        }
    }
}

impl core::error::Error for InitError {}

/// What the driver has seen, for a status line or a test. Counters wrap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    /// Frames written to the TX data FIFO.
    pub tx_queued: u32,
    /// TX statuses without the error bit: frames on the wire.
    pub tx_done: u32,
    /// TX statuses with the error bit: frames the chip could not send (in full duplex, a
    /// status whose only errors are the carrier bits counts as sent).
    pub tx_errors: u32,
    /// The last TX status with the error bit, for diagnosis (carrier, collisions...).
    pub last_tx_error: u32,
    /// `xmit_with` calls answered `Busy` (FIFO or status FIFO full).
    pub tx_busy: u32,
    /// Frames handed to the receive callback.
    pub rx_frames: u32,
    /// Received frames discarded for a bad status (CRC, runt, too long, collision, MII error,
    /// or a length the data FIFO does not hold).
    pub rx_errors: u32,
    /// Received frames discarded because they did not fit the bounce buffer.
    pub rx_too_long: u32,
    /// Frames the chip dropped for want of RX FIFO space (the `RX_DROP` register, summed).
    pub rx_dropped: u32,
    /// PHY accesses that did not finish: the link state kept its cached value.
    pub mii_timeouts: u32,
    /// TX statuses that match no frame: none was in flight (not counted as sent), or the tag
    /// is not the oldest frame's (the chip reports in order; the oldest is taken back anyway,
    /// so that transmission never stalls on a confused chip).
    pub tx_status_mismatch: u32,
}

/// A LAN9118/LAN9220 driven by programmed I/O, with a bounce buffer of `BUF` bytes.
///
/// # How a frame reaches the wire, and what it costs
///
/// The chip has no descriptors and no DMA: frames go in and out through 32-bit FIFO ports. There
/// is no TX slot in memory to build in, so `xmit_with` lends the engine this driver's bounce
/// buffer, where the frame is built once, in place; then the driver writes command A, command B
/// and ⌈len/4⌉ little-endian words to the TX data FIFO port (`len` ≥ 60 after padding). That
/// word loop is the one copy: 2 + 15 bus writes for the smallest frame, 2 + 379 for a 1514-byte
/// one, each a device-bus cycle (slower than RAM on real boards). `xmit_raw` adds a memcpy into
/// the bounce buffer. Receiving is the mirror image: ⌈(len + 4)/4⌉ reads of the RX data FIFO
/// into the same buffer, which the callback borrows.
///
/// The chip sends a frame once its last word is in the FIFO, so "in flight" means "written and
/// its TX status not yet popped"; [`NetPoll::reclaim_tx`] pops the statuses.
pub struct Lan9118<R: Registers, const BUF: usize = DEFAULT_BUFFER_LEN> {
    regs: R,
    mac: MacAddr,
    link: bool,
    full_duplex: bool,
    in_flight: usize,
    next_tag: u16,
    counters: Counters,
    buf: [u8; BUF],
}

impl<R: Registers, const BUF: usize> Lan9118<R, BUF> {
    /// Resets the chip and brings it up: soft reset, READY, the MAC address (EEPROM or
    /// `config`), receiver and transmitter on, no interrupts (the driver is polled), PHY
    /// auto-negotiation restarted, and a first read of the link.
    pub fn new(mut regs: R, config: Config) -> Result<Self, InitError> {
        const { assert!(BUF >= 64, "the bounce buffer must hold a minimum-size frame") };
        let byte_test = regs.read(Reg::ByteTest);
        if byte_test != BYTE_TEST_MAGIC {
            return Err(InitError::NotFound { byte_test });
        }
        regs.write(Reg::HwCfg, hw_cfg::SRST);
        wait_for(&mut regs, Reg::HwCfg, hw_cfg::SRST, 0).ok_or(InitError::ResetTimeout)?;
        wait_for(&mut regs, Reg::PmtCtrl, pmt_ctrl::READY, pmt_ctrl::READY)
            .ok_or(InitError::NotReady)?;
        wait_for(&mut regs, Reg::E2pCmd, e2p_cmd::BUSY, 0).ok_or(InitError::EepromBusy)?;
        regs.write(Reg::IntEn, 0);
        regs.write(Reg::IntSts, u32::MAX);

        let mac = match config.mac {
            Some(mac) => {
                let [a, b, c, d, e, g] = mac.0;
                csr::write(&mut regs, MacReg::AddrL, u32::from_le_bytes([a, b, c, d]))
                    .and_then(|()| {
                        csr::write(&mut regs, MacReg::AddrH, u32::from_le_bytes([e, g, 0, 0]))
                    })
                    .map_err(|_| InitError::MacCsr("writing ADDRL/ADDRH"))?;
                mac
            }
            None => {
                let (low, high) = csr::read(&mut regs, MacReg::AddrL)
                    .and_then(|low| Ok((low, csr::read(&mut regs, MacReg::AddrH)?)))
                    .map_err(|_| InitError::MacCsr("reading ADDRL/ADDRH"))?;
                let [a, b, c, d] = low.to_le_bytes();
                let [e, g, _, _] = high.to_le_bytes();
                let found = MacAddr([a, b, c, d, e, g]);
                // The chip has an "address loaded" flag in E2P_CMD, but QEMU's model sets another
                // bit than the datasheet's; the address itself is the reliable witness.
                let usable = found != MacAddr::ZERO && found.0[0] & 1 == 0;
                if !usable {
                    return Err(InitError::NoMacAddress { found });
                }
                found
            }
        };

        // Not promiscuous (the reset value is): the chip filters for our address and broadcast.
        let cr = mac_cr::TXEN | mac_cr::RXEN | mac_cr::FDPX;
        csr::write(&mut regs, MacReg::MacCr, cr)
            .map_err(|_| InitError::MacCsr("writing MAC_CR"))?;
        regs.write(Reg::TxCfg, tx_cfg::TX_ON);
        regs.write(Reg::RxCfg, 0);

        let mut nic = Lan9118 {
            regs,
            mac,
            link: false,
            full_duplex: true,
            in_flight: 0,
            next_tag: 0,
            counters: Counters::default(),
            buf: [0; BUF],
        };
        if mii::write(&mut nic.regs, PhyReg::Bmcr, bmcr::ANENABLE | bmcr::ANRESTART).is_err() {
            nic.counters.mii_timeouts = nic.counters.mii_timeouts.wrapping_add(1);
        }
        nic.refresh_link();
        Ok(nic)
    }

    /// What the driver has counted so far.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Whether the MAC runs full duplex (as resolved from auto-negotiation when the link came up).
    pub fn full_duplex(&self) -> bool {
        self.full_duplex
    }

    /// The register block, for what the driver does not cover (interrupt setup, GPIO/LEDs).
    pub fn registers_mut(&mut self) -> &mut R {
        &mut self.regs
    }

    /// Reads `RX_DROP` (which clears itself) into the counters.
    fn count_rx_drops(&mut self) {
        let dropped = self.regs.read(Reg::RxDrop);
        self.counters.rx_dropped = self.counters.rx_dropped.wrapping_add(dropped);
    }

    /// Pops `words` words of a frame that will not be delivered, keeping the FIFO in step.
    /// (The chip's fast-forward, `RX_DP_CTRL.RX_FFWD`, would be quicker for long frames, but
    /// QEMU's model of it loses track of the FIFO fill level; bad frames are rare.)
    fn discard(&mut self, words: usize) {
        for _ in 0..words {
            self.regs.read(Reg::RxData);
        }
    }

    /// Resolves the duplex from what both ends advertise and sets `MAC_CR.FDPX` to match: a
    /// duplex mismatch with the link partner shows up as late collisions and lost frames.
    fn match_duplex(&mut self) -> Result<(), csr::Timeout> {
        let common = mii::read(&mut self.regs, PhyReg::Advertise)?
            & mii::read(&mut self.regs, PhyReg::LinkPartner)?;
        let full = common & ability::FULL_100 != 0
            || (common & ability::HALF_100 == 0 && common & ability::FULL_10 != 0);
        if full != self.full_duplex {
            let cr = csr::read(&mut self.regs, MacReg::MacCr)?;
            let cr = if full { cr | mac_cr::FDPX } else { cr & !mac_cr::FDPX };
            csr::write(&mut self.regs, MacReg::MacCr, cr)?;
            self.full_duplex = full;
        }
        Ok(())
    }

    /// Reads BMSR; reads it again if it says "down", since the bit latches low: the second
    /// read is the link as it is now.
    fn read_link(&mut self) -> Result<bool, csr::Timeout> {
        let status = mii::read(&mut self.regs, PhyReg::Bmsr)?;
        if status & bmsr::LSTATUS != 0 {
            return Ok(true);
        }
        Ok(mii::read(&mut self.regs, PhyReg::Bmsr)? & bmsr::LSTATUS != 0)
    }
}

/// Polls `reg` until `reg & mask == want`, at most [`RESET_POLLS`] reads.
fn wait_for<R: Registers>(regs: &mut R, reg: Reg, mask: u32, want: u32) -> Option<()> {
    (0..RESET_POLLS).any(|_| regs.read(reg) & mask == want).then_some(())
}

impl<R: Registers, const BUF: usize> NetPoll for Lan9118<R, BUF> {
    fn mac_address(&self) -> MacAddr {
        self.mac
    }

    fn link_up(&self) -> bool {
        self.link
    }

    fn refresh_link(&mut self) -> bool {
        let was_up = self.link;
        let result = self.read_link().and_then(|up| {
            if up && !was_up {
                self.match_duplex()?;
            }
            Ok(up)
        });
        match result {
            Ok(up) => self.link = up,
            Err(csr::Timeout) => {
                self.counters.mii_timeouts = self.counters.mii_timeouts.wrapping_add(1);
            }
        }
        self.link
    }

    fn reclaim_tx(&mut self) {
        // One read of the fill level bounds the pass: at most the statuses there now.
        let ready = tx_fifo_inf::statuses_used(self.regs.read(Reg::TxFifoInf));
        for _ in 0..ready {
            let status = self.regs.read(Reg::TxStatus);
            if self.in_flight == 0 {
                self.counters.tx_status_mismatch = self.counters.tx_status_mismatch.wrapping_add(1);
                continue;
            }
            // Tags are given in order, one per frame: the oldest in flight has this one.
            let oldest = self.next_tag.wrapping_sub(self.in_flight as u16);
            if status >> tx_cmd::B_TAG_SHIFT != u32::from(oldest) {
                self.counters.tx_status_mismatch = self.counters.tx_status_mismatch.wrapping_add(1);
            }
            let carrier_only = status & tx_status::FATAL_IN_FULL_DUPLEX == 0;
            if status & tx_status::ES != 0 && !(self.full_duplex && carrier_only) {
                self.counters.tx_errors = self.counters.tx_errors.wrapping_add(1);
                self.counters.last_tx_error = status;
            } else {
                self.counters.tx_done = self.counters.tx_done.wrapping_add(1);
            }
            self.in_flight = self.in_flight.saturating_sub(1);
        }
    }

    fn tx_in_flight(&self) -> usize {
        self.in_flight
    }

    fn receive(&mut self, budget: usize, rx: &mut dyn FnMut(&[u8])) -> usize {
        self.count_rx_drops();
        let mut handed = 0;
        for _ in 0..budget {
            let fill = self.regs.read(Reg::RxFifoInf);
            if rx_fifo_inf::statuses_used(fill) == 0 {
                break;
            }
            let status = self.regs.read(Reg::RxStatus);
            let len_with_fcs = rx_status::len_with_fcs(status);
            let words = len_with_fcs.div_ceil(4);
            // The chip writes a status after its frame's data: a status claiming more than
            // the data FIFO holds is a FIFO out of step. Take what is there, hand nothing over.
            let there = rx_fifo_inf::data_used(fill) as usize / 4;
            if words > there {
                self.discard(there);
                self.counters.rx_errors = self.counters.rx_errors.wrapping_add(1);
                continue;
            }
            if status & rx_status::ES != 0 || len_with_fcs < ETHERNET_HEADER_LEN + FCS_LEN {
                self.discard(words);
                self.counters.rx_errors = self.counters.rx_errors.wrapping_add(1);
                continue;
            }
            let len = len_with_fcs - FCS_LEN;
            if len > BUF {
                self.discard(words);
                self.counters.rx_too_long = self.counters.rx_too_long.wrapping_add(1);
                continue;
            }
            for i in 0..words {
                let word = self.regs.read(Reg::RxData).to_le_bytes();
                let start = i * 4;
                if start < len {
                    let n = (len - start).min(4);
                    self.buf[start..start + n].copy_from_slice(&word[..n]);
                }
            }
            rx(&self.buf[..len]);
            handed += 1;
            self.counters.rx_frames = self.counters.rx_frames.wrapping_add(1);
        }
        handed
    }

    fn xmit_with(&mut self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> Result<(), XmitError> {
        let max = self.max_frame_len();
        if len > max {
            return Err(XmitError::TooLong { len, max });
        }
        let wire_len = len.max(MIN_FRAME_LEN);
        let needed = TX_COMMAND_BYTES + wire_len.next_multiple_of(4);
        let free = tx_fifo_inf::data_free(self.regs.read(Reg::TxFifoInf)) as usize;
        if self.in_flight >= TX_STATUS_DEPTH || free < needed {
            self.counters.tx_busy = self.counters.tx_busy.wrapping_add(1);
            return Err(XmitError::Busy);
        }
        let frame = &mut self.buf[..wire_len];
        fill(&mut frame[..len]);
        frame[len..].fill(0);

        let tag = self.next_tag;
        self.next_tag = tag.wrapping_add(1);
        let length = wire_len as u32 & tx_cmd::LEN_MASK;
        self.regs.write(Reg::TxData, tx_cmd::A_FIRST_SEG | tx_cmd::A_LAST_SEG | length);
        self.regs.write(Reg::TxData, (u32::from(tag) << tx_cmd::B_TAG_SHIFT) | length);
        for chunk in frame.chunks(4) {
            let mut word = [0; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            self.regs.write(Reg::TxData, u32::from_le_bytes(word));
        }
        self.in_flight += 1;
        self.counters.tx_queued = self.counters.tx_queued.wrapping_add(1);
        Ok(())
    }

    fn max_frame_len(&self) -> usize {
        BUF.min(MAX_FRAME_LEN)
    }
}
