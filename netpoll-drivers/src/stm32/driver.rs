//! The driver: bring-up, and the [`NetPoll`] contract over the descriptor rings.

use netpoll_core::{MacAddr, NetPoll, XmitError, MAX_FRAME_LEN};

use super::descriptors::{rx_give_back, rx_slot, DmaRings, RxSlot, TxCursor, TxOutcome};
use super::mdio::{self, clock_range, LinkMode, Mdio, MdioError};
use super::registers::{dmabmr, dmamfbocr, dmaomr, dmasr, maccr, EthRegisters, Reg};

/// Reads of DMABMR before a DMA software reset counts as stuck. The reset completes within a
/// few cycles of every clock domain, the PHY's 50 MHz reference clock included; it never
/// completes without that clock, which is the usual reason for [`InitError::DmaResetTimeout`].
pub const DMA_RESET_POLLS: u32 = 1_000_000;

/// Reads of DMAOMR before a TX FIFO flush counts as stuck.
pub const FIFO_FLUSH_POLLS: u32 = 1_000_000;

/// The programmable burst length the DMA is set to (beats per AHB burst).
const BURST_LEN: u32 = 32;

/// Where the caller's CCM data RAM sits on STM32F4 (64 KiB): the Ethernet DMA cannot reach it.
const CCM_RAM: core::ops::Range<u32> = 0x1000_0000..0x1001_0000;

/// What the driver needs to know of the board.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// The MAC address to send from and filter on.
    pub mac: MacAddr,
    /// The AHB clock (HCLK) frequency: picks the MDC divider. The MAC needs at least 25 MHz.
    pub hclk_hz: u32,
    /// The PHY's MDIO address (0 for the LAN8742A on Nucleo boards).
    pub phy_address: u8,
}

/// Why bring-up failed, naming the step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitError {
    /// No MDC divider for this HCLK (20 MHz to 216 MHz).
    HclkOutOfRange {
        /// The frequency given.
        hz: u32,
    },
    /// DMABMR's software reset bit never cleared: usually no 50 MHz RMII reference clock from
    /// the PHY (pins, PHY power or reset), or RMII selected after the MAC clocks were enabled.
    DmaResetTimeout,
    /// DMAOMR's flush-TX-FIFO bit never cleared.
    TxFifoFlushTimeout,
    /// Part of the rings lies where the Ethernet DMA cannot reach (the F4's CCM RAM).
    NotDmaReachable {
        /// The first such bus address.
        address: u32,
    },
    /// The PHY did not answer over MDIO or did not come out of reset.
    Phy(MdioError),
}

impl core::fmt::Display for InitError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            InitError::HclkOutOfRange { hz } => {
                write!(f, "stm32 eth: HCLK {hz} Hz outside 20..=216 MHz")
            }
            InitError::DmaResetTimeout => {
                f.write_str("stm32 eth: DMA reset stuck (no RMII reference clock?)")
            }
            InitError::TxFifoFlushTimeout => f.write_str("stm32 eth: TX FIFO flush stuck"),
            InitError::NotDmaReachable { address } => {
                write!(f, "stm32 eth: DMA memory at {address:#010x} is in CCM RAM")
            }
            InitError::Phy(e) => write!(f, "stm32 eth: PHY: {e}"),
        }
    }
}

impl From<MdioError> for InitError {
    fn from(e: MdioError) -> Self {
        InitError::Phy(e)
    }
}

/// What the driver has seen, since it was made. Plain integers: read them as a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stm32Counters {
    /// Frames handed to the DMA.
    pub tx_queued: u64,
    /// Frames the DMA gave back as sent.
    pub tx_sent: u64,
    /// Frames the DMA gave back with the error summary bit set (all bits in `last_tx_error`).
    pub tx_errors: u64,
    /// TDES0 of the last frame that failed.
    pub last_tx_error: u32,
    /// `xmit_with` calls that found no free slot.
    pub tx_busy: u64,
    /// `reclaim_tx` calls that found frames in flight and none finished.
    pub tx_stalls: u64,
    /// Good frames handed to the receive callback.
    pub rx_frames: u64,
    /// Received frames dropped: flagged by the MAC, or spanning descriptors.
    pub rx_errors: u64,
    /// RDES0 of the last frame dropped.
    pub last_rx_error: u32,
    /// Frames the MAC missed (no free descriptor, or FIFO overflow), from DMAMFBOCR.
    pub rx_missed: u64,
    /// Fatal bus errors: the DMA hit an AHB error and stopped.
    pub fatal_bus_errors: u64,
    /// MDIO transactions that timed out while refreshing the link.
    pub mdio_errors: u64,
}

/// The DMA's own view of itself, from DMASR: what a stuck ring looks like from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DmaState {
    /// Transmit process state (DMASR TPS: 0 stopped, 6 suspended, others running).
    pub tx_process: u8,
    /// Receive process state (DMASR RPS: 0 stopped, 4 suspended, others running).
    pub rx_process: u8,
    /// A fatal bus error stopped the DMA.
    pub fatal_bus_error: bool,
}

/// The STM32F4/F7 Ethernet MAC with `TX` transmit and `RX` receive descriptors.
pub struct Stm32Eth<'a, R: EthRegisters, const TX: usize, const RX: usize> {
    regs: R,
    // Held `&mut` (not `&`) so that the driver is `Send` (the rings are not `Sync`) and no other
    // software can reach the rings while the DMA uses them.
    rings: &'a mut DmaRings<TX, RX>,
    tx: TxCursor,
    rx_next: usize,
    mac: MacAddr,
    mdio: Mdio,
    link: Option<LinkMode>,
    tx_stalls_in_a_row: u32,
    counters: Stm32Counters,
}

impl<'a, R: EthRegisters, const TX: usize, const RX: usize> Stm32Eth<'a, R, TX, RX> {
    /// Brings the MAC up: DMA reset, PHY reset and auto-negotiation started, MAC address and
    /// filter, descriptor lists, DMA bus and operation modes, transmitter and receiver on.
    ///
    /// Before this, the firmware has selected RMII (SYSCFG_PMC MII_RMII_SEL, set while the MAC
    /// clocks are still off), enabled the ETHMAC, ETHMACTX and ETHMACRX clocks, and put the
    /// RMII pins on alternate function 11; the example does all three. Every wait is bounded.
    /// The link comes up seconds later: call [`refresh_link`](NetPoll::refresh_link) (or the
    /// engine's `wait_for_carrier`).
    pub fn new(
        mut regs: R,
        rings: &'a mut DmaRings<TX, RX>,
        config: Config,
    ) -> Result<Self, InitError> {
        const { assert!(TX > 0 && RX > 0, "rings need at least one descriptor each") };
        let clock_range =
            clock_range(config.hclk_hz).ok_or(InitError::HclkOutOfRange { hz: config.hclk_hz })?;
        check_reachable(rings)?;

        // The reset puts the other DMABMR bits back to their defaults anyway.
        regs.write(Reg::DmaBmr, dmabmr::SR);
        wait_clear(&mut regs, Reg::DmaBmr, dmabmr::SR, DMA_RESET_POLLS)
            .ok_or(InitError::DmaResetTimeout)?;

        let mdio = Mdio { phy: config.phy_address, clock_range };
        mdio::reset_and_autonegotiate(&mdio, &mut regs)?;

        let m = config.mac.0;
        regs.write(Reg::MacA0hr, u32::from(m[5]) << 8 | u32::from(m[4]));
        regs.write(Reg::MacA0lr, u32::from_le_bytes([m[0], m[1], m[2], m[3]]));
        // Perfect filtering on our address, broadcast passed: the reset value, said outright.
        regs.write(Reg::MacFfr, 0);
        regs.write(Reg::MacCr, maccr::FES | maccr::DM);

        rings.reset();
        regs.write(Reg::DmaTdlar, rings.tx[0].dma_address());
        regs.write(Reg::DmaRdlar, rings.rx[0].dma_address());
        // Normal descriptors (EDFE clear), no gap between them (DSL 0).
        regs.write(Reg::DmaBmr, dmabmr::AAB | dmabmr::FB | BURST_LEN << dmabmr::PBL_SHIFT);
        // Polled: no interrupts.
        regs.write(Reg::DmaIer, 0);
        regs.write(Reg::DmaOmr, dmaomr::TSF | dmaomr::RSF);
        regs.modify(Reg::DmaOmr, |v| v | dmaomr::FTF);
        wait_clear(&mut regs, Reg::DmaOmr, dmaomr::FTF, FIFO_FLUSH_POLLS)
            .ok_or(InitError::TxFifoFlushTimeout)?;
        regs.modify(Reg::MacCr, |v| v | maccr::TE | maccr::RE);
        regs.modify(Reg::DmaOmr, |v| v | dmaomr::ST | dmaomr::SR);

        Ok(Stm32Eth {
            regs,
            rings,
            tx: TxCursor::default(),
            rx_next: 0,
            mac: config.mac,
            mdio,
            link: None,
            tx_stalls_in_a_row: 0,
            counters: Stm32Counters::default(),
        })
    }

    /// A snapshot of the counters.
    pub fn counters(&self) -> Stm32Counters {
        self.counters
    }

    /// Speed and duplex of the link as last read, `None` while it is down.
    pub fn link_mode(&self) -> Option<LinkMode> {
        self.link
    }

    /// `reclaim_tx` calls in a row that found frames in flight and none finished. A DMA that
    /// holds its descriptors forever (stopped by a bus error, or never started) shows here and
    /// in [`dma_state`](Self::dma_state); the sends meanwhile end in `Busy`, bounded.
    pub fn tx_stalls_in_a_row(&self) -> u32 {
        self.tx_stalls_in_a_row
    }

    /// The DMA's transmit and receive process states, read from DMASR.
    pub fn dma_state(&mut self) -> DmaState {
        let sr = self.regs.read(Reg::DmaSr);
        DmaState {
            tx_process: ((sr >> dmasr::TPS_SHIFT) & 0b111) as u8,
            rx_process: ((sr >> dmasr::RPS_SHIFT) & 0b111) as u8,
            fatal_bus_error: sr & dmasr::FBES != 0,
        }
    }

    /// The register block (tests drive the model through it).
    pub fn registers(&self) -> &R {
        &self.regs
    }

    /// The rings the DMA works on: what the descriptor model reads and writes, as the DMA would.
    pub fn rings(&self) -> &DmaRings<TX, RX> {
        self.rings
    }

    fn set_mac_mode(&mut self, mode: LinkMode) {
        let mut bits = 0;
        if mode.fast {
            bits |= maccr::FES;
        }
        if mode.full_duplex {
            bits |= maccr::DM;
        }
        self.regs.modify(Reg::MacCr, |v| (v & !(maccr::FES | maccr::DM)) | bits);
    }

    fn count_missed(&mut self) {
        let v = self.regs.read(Reg::DmaMfbocr);
        let by_controller = v & dmamfbocr::MFC_MASK;
        let by_fifo = (v >> dmamfbocr::MFA_SHIFT) & dmamfbocr::MFA_MASK;
        self.counters.rx_missed += u64::from(by_controller + by_fifo);
    }
}

impl<R: EthRegisters, const TX: usize, const RX: usize> NetPoll for Stm32Eth<'_, R, TX, RX> {
    fn mac_address(&self) -> MacAddr {
        self.mac
    }

    fn link_up(&self) -> bool {
        self.link.is_some()
    }

    fn refresh_link(&mut self) -> bool {
        match mdio::link(&self.mdio, &mut self.regs) {
            Ok(Some(mode)) => {
                if self.link != Some(mode) {
                    self.set_mac_mode(mode);
                }
                self.link = Some(mode);
            }
            Ok(None) => self.link = None,
            Err(_) => {
                self.counters.mdio_errors += 1;
                self.link = None;
            }
        }
        self.link.is_some()
    }

    fn reclaim_tx(&mut self) {
        let sr = self.regs.read(Reg::DmaSr);
        if sr & dmasr::FBES != 0 {
            self.counters.fatal_bus_errors += 1;
            // Write-1-to-clear, so one error counts once; the DMA stays stopped (visible in
            // `dma_state` and in the stalls).
            self.regs.write(Reg::DmaSr, dmasr::FBES | dmasr::AIS);
        }
        let before = self.tx.in_flight;
        for _ in 0..TX {
            match self.tx.reclaim_one(&self.rings.tx) {
                TxOutcome::Pending => break,
                TxOutcome::Sent => self.counters.tx_sent += 1,
                TxOutcome::Failed(status) => {
                    self.counters.tx_errors += 1;
                    self.counters.last_tx_error = status;
                }
            }
        }
        if before > 0 && self.tx.in_flight == before {
            self.counters.tx_stalls += 1;
            self.tx_stalls_in_a_row = self.tx_stalls_in_a_row.saturating_add(1);
        } else {
            self.tx_stalls_in_a_row = 0;
        }
    }

    fn tx_in_flight(&self) -> usize {
        self.tx.in_flight
    }

    fn receive(&mut self, budget: usize, rx: &mut dyn FnMut(&[u8])) -> usize {
        if budget == 0 {
            return 0;
        }
        let mut handed = 0;
        let mut gave_back = false;
        for _ in 0..RX {
            if handed == budget {
                break;
            }
            let i = self.rx_next;
            let d = &self.rings.rx[i];
            match rx_slot(d) {
                RxSlot::Empty => break,
                RxSlot::Frame(len) => {
                    // SAFETY: OWN is clear, so the DMA is done with this buffer until we give the
                    // descriptor back below; no mutable reference into RX buffers exists.
                    let bytes = unsafe { self.rings.rx_buffers[i].bytes() };
                    rx(&bytes[..len]);
                    handed += 1;
                    self.counters.rx_frames += 1;
                }
                RxSlot::Bad(status) => {
                    self.counters.rx_errors += 1;
                    self.counters.last_rx_error = status;
                }
            }
            rx_give_back(d);
            gave_back = true;
            self.rx_next = (i + 1) % RX;
        }
        if gave_back {
            // A DMA that ran out of descriptors suspended itself: wake it. The fence in
            // `rx_give_back` already ordered the OWN writes before this.
            self.regs.write(Reg::DmaRpdr, 0);
        }
        self.count_missed();
        handed
    }

    fn xmit_with(&mut self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> Result<(), XmitError> {
        if len > MAX_FRAME_LEN {
            return Err(XmitError::TooLong { len, max: MAX_FRAME_LEN });
        }
        if !self.tx.push(&self.rings.tx, &self.rings.tx_buffers, len, fill) {
            self.counters.tx_busy += 1;
            return Err(XmitError::Busy);
        }
        self.counters.tx_queued += 1;
        // `push` fenced before OWN; this orders the OWN write before the doorbell.
        core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
        self.regs.write(Reg::DmaTpdr, 0);
        Ok(())
    }
}

/// Polls `reg` until `bit` reads clear, at most `polls` times.
fn wait_clear(regs: &mut impl EthRegisters, reg: Reg, bit: u32, polls: u32) -> Option<()> {
    (0..polls).any(|_| regs.read(reg) & bit == 0).then_some(())
}

/// Refuses rings the DMA cannot reach. Only 32-bit targets: on a 64-bit host (the model) bus
/// addresses are truncated pointers and mean nothing.
fn check_reachable<const TX: usize, const RX: usize>(
    rings: &DmaRings<TX, RX>,
) -> Result<(), InitError> {
    if cfg!(target_pointer_width = "32") {
        if let Some(address) = rings.dma_addresses().find(|a| !dma_reachable(*a)) {
            return Err(InitError::NotDmaReachable { address });
        }
    }
    Ok(())
}

/// Whether the Ethernet DMA can reach `address`: anywhere but the F4's CCM data RAM.
pub fn dma_reachable(address: u32) -> bool {
    !CCM_RAM.contains(&address)
}
