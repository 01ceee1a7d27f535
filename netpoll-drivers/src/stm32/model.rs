//! A software model of the Ethernet MAC, its DMA and a LAN8742A, for the host tests.
//!
//! The model plays the hardware's part as the reference manual describes it: registers with
//! their side effects (self-clearing reset and flush bits, write-1-to-clear status, MDIO
//! transactions, clear-on-read counters), and a DMA that finds descriptors by the bus addresses
//! the driver programmed, follows the end-of-ring bits, takes only descriptors whose OWN bit is
//! set, suspends on one it does not own until a poll demand, and clears OWN when done. The test
//! decides when the DMA runs (so completions come out of step with the driver), which frames
//! fail, and whether the DMA gets stuck.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use std::vec::Vec;

use super::descriptors::{rdes0, rdes1, tdes0, tdes1, Buffer, Descriptor, DmaRings, FCS_LEN};
use super::mdio::phy;
use super::registers::{dmabmr, dmamfbocr, dmaomr, dmasr, miiar, EthRegisters, Reg};

/// Bytes from one descriptor to the next with DSL 0.
const DESCRIPTOR_STRIDE: u32 = 16;

/// The model's state, which the test reads and steers.
#[derive(Debug)]
pub(crate) struct State {
    regs: BTreeMap<usize, u32>,
    /// Reads of DMABMR before a software reset completes; `None`: never.
    pub reset_reads: Option<u32>,
    reset_pending: Option<u32>,
    /// Reads of DMABMR (the reset wait).
    pub bmr_reads: u32,
    /// MDIO transactions never finish.
    pub mdio_stuck: bool,
    /// The PHY's registers.
    pub phy: [u16; 32],
    /// Reads of BCR during which a PHY reset is still in progress.
    pub phy_reset_reads: u32,
    phy_resetting: u32,
    /// Whether the PHY has a link (BSR link bit).
    pub link: bool,
    /// The link dropped since the last BSR read (BSR's latched-low link bit).
    pub link_dropped: bool,
    /// MDIO transactions started (MACMIIAR writes with the busy bit).
    pub mdio_transactions: u32,
    /// Auto-negotiation restarts seen.
    pub autoneg_restarts: u32,
    /// The DMA never takes a descriptor (OWN stays set forever).
    pub tx_stuck: bool,
    tx_cur: u32,
    tx_suspended: bool,
    rx_cur: u32,
    rx_suspended: bool,
    /// Frames the DMA sent, in order.
    pub sent: Vec<Vec<u8>>,
    /// TDES0 error bits for the next completed frames, in order (0: a good frame).
    pub tx_faults: VecDeque<u32>,
    /// Transmit poll demands written.
    pub tx_poll_demands: u32,
    /// Receive poll demands written.
    pub rx_poll_demands: u32,
    /// Frames missed for want of a descriptor (DMAMFBOCR MFC, cleared on read).
    missed: u32,
    /// Why the DMA stopped with a bus error, if it did.
    pub bus_error: Option<&'static str>,
}

impl Default for State {
    fn default() -> Self {
        let mut phy = [0u16; 32];
        phy[phy::PSCSR as usize] = phy::PSCSR_100 | phy::PSCSR_FULL;
        State {
            regs: BTreeMap::new(),
            reset_reads: Some(3),
            reset_pending: None,
            bmr_reads: 0,
            mdio_stuck: false,
            phy,
            phy_reset_reads: 2,
            phy_resetting: 0,
            link: true,
            link_dropped: false,
            mdio_transactions: 0,
            autoneg_restarts: 0,
            tx_stuck: false,
            tx_cur: 0,
            tx_suspended: false,
            rx_cur: 0,
            rx_suspended: false,
            sent: Vec::new(),
            tx_faults: VecDeque::new(),
            tx_poll_demands: 0,
            rx_poll_demands: 0,
            missed: 0,
            bus_error: None,
        }
    }
}

impl State {
    /// A register's value as the driver would read it, without read side effects.
    pub fn reg(&self, reg: Reg) -> u32 {
        self.regs.get(&reg.offset()).copied().unwrap_or(0)
    }

    /// Sets a register behind the driver's back, as a glitch or a bug elsewhere would.
    pub fn poke(&mut self, reg: Reg, value: u32) {
        self.set(reg, value);
    }

    fn set(&mut self, reg: Reg, value: u32) {
        self.regs.insert(reg.offset(), value);
    }

    fn phy_read(&mut self, reg: u8) -> u16 {
        match reg {
            phy::BCR if self.phy_resetting > 0 => {
                self.phy_resetting -= 1;
                phy::BCR_RESET
            }
            phy::BSR => {
                let up = self.link && !self.link_dropped;
                self.link_dropped = false;
                // 10/100 half/full capable, auto-negotiation able; link bit as it stands.
                0x7809 | if up { phy::BSR_LINK } else { 0 }
            }
            r => self.phy[usize::from(r & 0x1F)],
        }
    }

    fn phy_write(&mut self, reg: u8, value: u16) {
        if reg == phy::BCR {
            if value & phy::BCR_RESET != 0 {
                self.phy_resetting = self.phy_reset_reads;
                self.phy[phy::BCR as usize] = phy::BCR_AN_ENABLE;
                return;
            }
            if value & phy::BCR_AN_RESTART != 0 {
                self.autoneg_restarts += 1;
            }
            self.phy[phy::BCR as usize] = value & !(phy::BCR_AN_RESTART | phy::BCR_RESET);
            return;
        }
        self.phy[usize::from(reg & 0x1F)] = value;
    }

    fn dma_status(&self) -> u32 {
        let mut sr = self.reg(Reg::DmaSr);
        let omr = self.reg(Reg::DmaOmr);
        let tps = match () {
            _ if omr & dmaomr::ST == 0 || self.bus_error.is_some() => 0,
            _ if self.tx_suspended => 6,
            _ => 3,
        };
        let rps = match () {
            _ if omr & dmaomr::SR == 0 || self.bus_error.is_some() => 0,
            _ if self.rx_suspended => 4,
            _ => 3,
        };
        sr &= !(0b111 << dmasr::TPS_SHIFT | 0b111 << dmasr::RPS_SHIFT);
        sr | tps << dmasr::TPS_SHIFT | rps << dmasr::RPS_SHIFT
    }

    fn fault(&mut self, why: &'static str) {
        self.bus_error.get_or_insert(why);
        let sr = self.reg(Reg::DmaSr);
        self.set(Reg::DmaSr, sr | dmasr::FBES | dmasr::AIS);
    }
}

/// A handle on the model: the driver's register block, and the test's view of the hardware.
#[derive(Debug, Clone, Default)]
pub(crate) struct Model(pub Rc<RefCell<State>>);

impl Model {
    /// The state, to read or steer.
    pub fn state(&self) -> std::cell::RefMut<'_, State> {
        self.0.borrow_mut()
    }

    /// The transmit process starts over at the list address, as when ST is toggled.
    pub fn restart_tx(&self) {
        let mut s = self.0.borrow_mut();
        s.tx_cur = s.reg(Reg::DmaTdlar);
        s.tx_suspended = false;
    }

    /// Lets the DMA transmit up to `max` frames; returns how many it finished.
    pub fn run_tx<const TX: usize, const RX: usize>(
        &self,
        rings: &DmaRings<TX, RX>,
        max: usize,
    ) -> usize {
        let mut s = self.0.borrow_mut();
        let mut done = 0;
        while done < max {
            if s.reg(Reg::DmaOmr) & dmaomr::ST == 0 || s.tx_stuck || s.bus_error.is_some() {
                break;
            }
            if s.tx_suspended {
                break;
            }
            let Some(d) = find_descriptor(&rings.tx, s.tx_cur) else {
                s.fault("TX descriptor address outside the ring");
                break;
            };
            let status = d.read(0);
            if status & tdes0::OWN == 0 {
                s.tx_suspended = true;
                let sr = s.reg(Reg::DmaSr);
                s.set(Reg::DmaSr, sr | dmasr::TBUS);
                break;
            }
            if status & (tdes0::FS | tdes0::LS) != tdes0::FS | tdes0::LS {
                s.fault("TX frame not in one descriptor");
                break;
            }
            let len = (d.read(1) & tdes1::TBS1_MASK) as usize;
            let Some(b) = find_buffer(&rings.tx_buffers, d.read(2)) else {
                s.fault("TX buffer address unknown");
                break;
            };
            // SAFETY: the model plays the DMA and OWN is set: the driver holds no reference
            // into this buffer until the model clears OWN below.
            let frame = unsafe { b.bytes() }.get(..len).map(<[u8]>::to_vec);
            let Some(frame) = frame else {
                s.fault("TX length beyond the buffer");
                break;
            };
            s.sent.push(frame);
            let fault = s.tx_faults.pop_front().unwrap_or(0);
            let es = if fault != 0 { tdes0::ES } else { 0 };
            d.write(0, (status & !tdes0::OWN) | fault | es);
            s.tx_cur = if status & tdes0::TER != 0 {
                s.reg(Reg::DmaTdlar)
            } else {
                s.tx_cur.wrapping_add(DESCRIPTOR_STRIDE)
            };
            done += 1;
        }
        done
    }

    /// The MAC receives `frame` (without FCS; the model appends one) with extra RDES0 `flags`
    /// (error bits: the model adds the error summary). `false` if the DMA had no descriptor and
    /// missed it.
    pub fn receive<const TX: usize, const RX: usize>(
        &self,
        rings: &DmaRings<TX, RX>,
        frame: &[u8],
        flags: u32,
    ) -> bool {
        let mut s = self.0.borrow_mut();
        if s.reg(Reg::DmaOmr) & dmaomr::SR == 0 || s.bus_error.is_some() {
            s.missed += 1;
            return false;
        }
        let Some(d) = find_descriptor(&rings.rx, s.rx_cur) else {
            s.fault("RX descriptor address outside the ring");
            return false;
        };
        let status = d.read(0);
        if s.rx_suspended || status & rdes0::OWN == 0 {
            s.rx_suspended = true;
            let sr = s.reg(Reg::DmaSr);
            s.set(Reg::DmaSr, sr | dmasr::RBUS);
            s.missed += 1;
            return false;
        }
        let control = d.read(1);
        let room = (control & rdes1::RBS1_MASK) as usize;
        let Some(b) = find_buffer(&rings.rx_buffers, d.read(2)) else {
            s.fault("RX buffer address unknown");
            return false;
        };
        let wire_len = frame.len() + FCS_LEN;
        assert!(wire_len <= room, "the model's frames fit one buffer");
        // SAFETY: OWN is set: the buffer is the DMA's (the model's) until OWN is cleared below.
        let bytes = unsafe { b.bytes_mut() };
        bytes[..frame.len()].copy_from_slice(frame);
        bytes[frame.len()..wire_len].copy_from_slice(&[0xFC; FCS_LEN]);
        let es = if flags != 0 { rdes0::ES } else { 0 };
        let len = (wire_len as u32) << rdes0::FL_SHIFT;
        d.write(0, rdes0::FS | rdes0::LS | len | flags | es);
        s.rx_cur = if control & rdes1::RER != 0 {
            s.reg(Reg::DmaRdlar)
        } else {
            s.rx_cur.wrapping_add(DESCRIPTOR_STRIDE)
        };
        true
    }
}

fn find_descriptor(ring: &[Descriptor], address: u32) -> Option<&Descriptor> {
    ring.iter().find(|d| d.dma_address() == address)
}

fn find_buffer(buffers: &[Buffer], address: u32) -> Option<&Buffer> {
    buffers.iter().find(|b| b.dma_address() == address)
}

impl EthRegisters for Model {
    fn read(&mut self, reg: Reg) -> u32 {
        let mut s = self.0.borrow_mut();
        match reg {
            Reg::DmaBmr => {
                s.bmr_reads += 1;
                if let Some(left) = s.reset_pending {
                    if left == 0 {
                        s.reset_pending = None;
                        // A reset puts every register back; the model's are all zero then.
                        s.regs.clear();
                    } else {
                        s.reset_pending = Some(left - 1);
                    }
                }
                s.reg(reg)
            }
            Reg::DmaSr => s.dma_status(),
            Reg::DmaMfbocr => {
                let missed = s.missed.min(dmamfbocr::MFC_MASK);
                s.missed = 0;
                missed
            }
            _ => s.reg(reg),
        }
    }

    fn write(&mut self, reg: Reg, value: u32) {
        let mut s = self.0.borrow_mut();
        match reg {
            Reg::DmaBmr if value & dmabmr::SR != 0 => {
                // With no completion configured, SR stays set: a reset that never ends.
                s.set(reg, value);
                s.reset_pending = s.reset_reads;
            }
            Reg::MacMiiar if value & miiar::MB != 0 => {
                s.mdio_transactions += 1;
                if s.mdio_stuck {
                    s.set(reg, value);
                    return;
                }
                let phy_reg = ((value >> miiar::MR_SHIFT) & 0x1F) as u8;
                if value & miiar::MW != 0 {
                    let data = s.reg(Reg::MacMiidr) as u16;
                    s.phy_write(phy_reg, data);
                } else {
                    let data = s.phy_read(phy_reg);
                    s.set(Reg::MacMiidr, u32::from(data));
                }
                s.set(reg, value & !miiar::MB);
            }
            Reg::DmaOmr => {
                let before = s.reg(reg);
                if value & dmaomr::ST != 0 && before & dmaomr::ST == 0 {
                    s.tx_cur = s.reg(Reg::DmaTdlar);
                    s.tx_suspended = false;
                }
                if value & dmaomr::SR != 0 && before & dmaomr::SR == 0 {
                    s.rx_cur = s.reg(Reg::DmaRdlar);
                    s.rx_suspended = false;
                }
                // The flush is instant here.
                s.set(reg, value & !dmaomr::FTF);
            }
            Reg::DmaTpdr => {
                s.tx_poll_demands += 1;
                s.tx_suspended = false;
            }
            Reg::DmaRpdr => {
                s.rx_poll_demands += 1;
                s.rx_suspended = false;
            }
            Reg::DmaSr => {
                let sr = s.reg(reg);
                s.set(reg, sr & !value);
            }
            _ => s.set(reg, value),
        }
    }
}
