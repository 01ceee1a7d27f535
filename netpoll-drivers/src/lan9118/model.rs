//! A register-level model of the LAN9118 for host tests: it plays the chip behind the
//! [`Registers`] trait, with its FIFOs, status words, MAC CSR and MII indirection and PHY
//! registers, and injects the chip's error cases on demand. Anything the datasheet forbids
//! (reading an empty FIFO, overrunning one, an unknown register) is recorded in `violations`,
//! which every test checks is empty.

use std::collections::VecDeque;
use std::vec::Vec;

use super::registers::{Reg, Registers};

/// The TX data FIFO of the default `HW_CFG.TX_FIF_SZ` (5 KiB less the 512-byte status FIFO).
pub const TX_FIFO_BYTES: u32 = 4608;
/// Statuses the TX status FIFO holds.
pub const TX_STATUS_ENTRIES: usize = 128;
/// The FCS the model appends to received frames.
pub const FCS: [u8; 4] = [0xDE, 0xAD, 0xBE, 0xEF];
/// The MAC address in the model's EEPROM.
pub const EEPROM_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

/// A TX frame as the model took it from the FIFO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentFrame {
    pub cmd_a: u32,
    pub cmd_b: u32,
    pub bytes: Vec<u8>,
}

enum TxState {
    CommandA,
    CommandB { cmd_a: u32 },
    Data { cmd_a: u32, cmd_b: u32, words: Vec<u32> },
}

/// The modelled chip.
pub struct Chip {
    // Knobs a test turns.
    pub byte_test: u32,
    pub srst_stuck: bool,
    pub never_ready: bool,
    pub csr_stuck: bool,
    pub mii_stuck: bool,
    pub eeprom: Option<[u8; 6]>,
    /// Frames stay in the TX data FIFO (unsent, no status) until `send_held`.
    pub hold_tx: bool,
    /// The next this-many TX statuses carry `tx_error_bits`.
    pub tx_errors_next: usize,
    pub tx_error_bits: u32,
    pub link: bool,
    /// A link drop the PHY has latched: the next BMSR read says "down" once.
    pub link_drop_latched: bool,
    pub link_partner: u16,

    // What the test reads back.
    pub sent: Vec<SentFrame>,
    pub violations: Vec<String>,
    pub phy_reads: usize,
    pub phy_writes: Vec<(u32, u16)>,
    pub resets: usize,

    // Chip state.
    pub mac: [u8; 6],
    pub mac_cr: u32,
    pub tx_cfg: u32,
    pub rx_cfg: u32,
    pub int_en: u32,
    csr_cmd: u32,
    csr_data: u32,
    mii_acc: u32,
    mii_data: u32,
    bmcr: u16,
    advertise: u16,
    tx: TxState,
    tx_fifo_used: u32,
    held: VecDeque<SentFrame>,
    tx_status: VecDeque<u32>,
    rx_data: VecDeque<u32>,
    rx_status: VecDeque<u32>,
    pub rx_drop: u32,
}

impl Default for Chip {
    fn default() -> Self {
        Chip {
            byte_test: 0x8765_4321,
            srst_stuck: false,
            never_ready: false,
            csr_stuck: false,
            mii_stuck: false,
            eeprom: Some(EEPROM_MAC),
            hold_tx: false,
            tx_errors_next: 0,
            tx_error_bits: 0,
            link: true,
            link_drop_latched: false,
            link_partner: 0x45E1,
            sent: Vec::new(),
            violations: Vec::new(),
            phy_reads: 0,
            phy_writes: Vec::new(),
            resets: 0,
            mac: [0xFF; 6],
            mac_cr: 0,
            tx_cfg: 0,
            rx_cfg: 0,
            int_en: 0xFFFF_FFFF,
            csr_cmd: 0,
            csr_data: 0,
            mii_acc: 0,
            mii_data: 0,
            bmcr: 0x3000,
            advertise: 0x01E1,
            tx: TxState::CommandA,
            tx_fifo_used: 0,
            held: VecDeque::new(),
            tx_status: VecDeque::new(),
            rx_data: VecDeque::new(),
            rx_status: VecDeque::new(),
            rx_drop: 0,
        }
    }
}

impl Chip {
    fn violation(&mut self, what: impl Into<String>) {
        self.violations.push(what.into());
    }

    fn reset(&mut self) {
        self.resets += 1;
        self.mac = self.eeprom.unwrap_or([0; 6]);
        self.mac_cr = 1 << 18; // PRMS, as the chip comes out of reset
        self.tx_cfg = 0;
        self.rx_cfg = 0;
        self.tx = TxState::CommandA;
        self.tx_fifo_used = 0;
        self.held.clear();
        self.tx_status.clear();
        self.rx_data.clear();
        self.rx_status.clear();
    }

    /// A frame arrives from the wire with this status error bits (0: good).
    pub fn deliver(&mut self, frame: &[u8], error_bits: u32) {
        let mut bytes = frame.to_vec();
        bytes.extend_from_slice(&FCS);
        for chunk in bytes.chunks(4) {
            let mut word = [0; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            self.rx_data.push_back(u32::from_le_bytes(word));
        }
        self.rx_status.push_back(((bytes.len() as u32) << 16) | error_bits);
    }

    /// A broken chip: an RX status word and data words as given, whatever they claim.
    pub fn deliver_raw(&mut self, status: u32, words: &[u32]) {
        self.rx_data.extend(words);
        self.rx_status.push_back(status);
    }

    /// A broken chip: a TX status word no frame asked for.
    pub fn push_tx_status(&mut self, status: u32) {
        self.tx_status.push_back(status);
    }

    /// RX statuses and data words not yet read by the driver.
    pub fn rx_pending(&self) -> (usize, usize) {
        (self.rx_status.len(), self.rx_data.len())
    }

    /// TX statuses the driver has not popped.
    pub fn tx_status_pending(&self) -> usize {
        self.tx_status.len()
    }

    /// Sends every frame held in the TX FIFO (`hold_tx`), making their statuses.
    pub fn send_held(&mut self) {
        while let Some(frame) = self.held.pop_front() {
            self.transmit(frame);
        }
    }

    fn transmit(&mut self, frame: SentFrame) {
        self.tx_fifo_used -= 8 + frame.bytes.len().next_multiple_of(4) as u32;
        if self.tx_status.len() == TX_STATUS_ENTRIES {
            self.violation("TX status FIFO overrun (the chip would stop transmitting)");
        }
        let mut status = frame.cmd_b & 0xFFFF_0000;
        if self.tx_errors_next > 0 {
            self.tx_errors_next -= 1;
            status |= self.tx_error_bits;
        }
        self.tx_status.push_back(status);
        self.sent.push(frame);
    }

    fn tx_push(&mut self, value: u32) {
        if self.tx_fifo_used + 4 > TX_FIFO_BYTES {
            self.violation("TX data FIFO overrun");
            return;
        }
        self.tx_fifo_used += 4;
        self.tx = match std::mem::replace(&mut self.tx, TxState::CommandA) {
            TxState::CommandA => {
                if value & 0x3000 != 0x3000 {
                    self.violation(format!("command A {value:#x} is not a whole frame"));
                }
                TxState::CommandB { cmd_a: value }
            }
            TxState::CommandB { cmd_a } => {
                if value & 0x7FF != cmd_a & 0x7FF {
                    self.violation(format!("command B length {value:#x} != command A {cmd_a:#x}"));
                }
                TxState::Data { cmd_a, cmd_b: value, words: Vec::new() }
            }
            TxState::Data { cmd_a, cmd_b, mut words } => {
                words.push(value);
                let len = (cmd_a & 0x7FF) as usize;
                if words.len() * 4 < len {
                    TxState::Data { cmd_a, cmd_b, words }
                } else {
                    let mut bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
                    bytes.truncate(len);
                    let frame = SentFrame { cmd_a, cmd_b, bytes };
                    if self.tx_cfg & 2 == 0 {
                        self.violation("frame written with TX_CFG.TX_ON off");
                    }
                    if self.hold_tx {
                        self.held.push_back(frame);
                    } else {
                        self.transmit(frame);
                    }
                    TxState::CommandA
                }
            }
        };
    }

    fn phy_read(&mut self, reg: u32) -> u16 {
        self.phy_reads += 1;
        match reg {
            0 => self.bmcr,
            1 => {
                let up = self.link && !std::mem::take(&mut self.link_drop_latched);
                0x7809 | if up { 0x0024 } else { 0 }
            }
            4 => self.advertise,
            5 => self.link_partner,
            other => {
                self.violation(format!("PHY read of register {other}"));
                0
            }
        }
    }

    fn mii_access(&mut self, value: u32) {
        self.mii_acc = value & !1;
        if self.mii_stuck {
            self.mii_acc |= 1;
            return;
        }
        let phy = (value >> 11) & 0x1F;
        let reg = (value >> 6) & 0x1F;
        if phy != 1 {
            self.mii_data = 0xFFFF; // nobody answers: the bus floats high
            return;
        }
        if value & 2 != 0 {
            let data = self.mii_data as u16;
            self.phy_writes.push((reg, data));
            match reg {
                0 => self.bmcr = data & 0x7FFF,
                4 => self.advertise = data,
                other => self.violation(format!("PHY write of register {other}")),
            }
        } else {
            self.mii_data = u32::from(self.phy_read(reg));
        }
    }

    fn mac_read(&mut self, index: u32) -> u32 {
        match index {
            1 => self.mac_cr,
            2 => u32::from(self.mac[4]) | (u32::from(self.mac[5]) << 8),
            3 => u32::from_le_bytes([self.mac[0], self.mac[1], self.mac[2], self.mac[3]]),
            6 => self.mii_acc,
            7 => self.mii_data,
            other => {
                self.violation(format!("MAC CSR read of index {other}"));
                0
            }
        }
    }

    fn mac_write(&mut self, index: u32, value: u32) {
        match index {
            1 => self.mac_cr = value,
            2 => [self.mac[4], self.mac[5]] = [value as u8, (value >> 8) as u8],
            3 => self.mac[..4].copy_from_slice(&value.to_le_bytes()),
            6 => self.mii_access(value),
            7 => self.mii_data = value & 0xFFFF,
            other => self.violation(format!("MAC CSR write of index {other}")),
        }
    }
}

impl Registers for Chip {
    fn read(&mut self, reg: Reg) -> u32 {
        match reg {
            Reg::RxData => self.rx_data.pop_front().unwrap_or_else(|| {
                self.violation("RX data FIFO read while empty");
                0
            }),
            Reg::RxStatus => self.rx_status.pop_front().unwrap_or_else(|| {
                self.violation("RX status FIFO read while empty");
                0
            }),
            Reg::TxStatus => self.tx_status.pop_front().unwrap_or_else(|| {
                self.violation("TX status FIFO read while empty");
                0
            }),
            Reg::IdRev => 0x0118_0001,
            Reg::IntSts => 0,
            Reg::IntEn => self.int_en,
            Reg::ByteTest => self.byte_test,
            Reg::RxCfg => self.rx_cfg,
            Reg::TxCfg => self.tx_cfg,
            Reg::HwCfg => 0x0005_0004 | u32::from(self.srst_stuck),
            Reg::RxFifoInf => {
                ((self.rx_status.len() as u32) << 16) | (self.rx_data.len() as u32 * 4)
            }
            Reg::TxFifoInf => {
                ((self.tx_status.len() as u32) << 16) | (TX_FIFO_BYTES - self.tx_fifo_used)
            }
            Reg::PmtCtrl => u32::from(!self.never_ready),
            Reg::RxDrop => std::mem::take(&mut self.rx_drop),
            Reg::MacCsrCmd => self.csr_cmd,
            Reg::MacCsrData => self.csr_data,
            Reg::E2pCmd => 0,
            Reg::TxData => {
                self.violation("read of the TX data FIFO port");
                0
            }
        }
    }

    fn write(&mut self, reg: Reg, value: u32) {
        match reg {
            Reg::TxData => self.tx_push(value),
            Reg::IntSts => {}
            Reg::IntEn => self.int_en = value,
            Reg::RxCfg => self.rx_cfg = value,
            Reg::TxCfg => self.tx_cfg = value,
            Reg::HwCfg if value & 1 != 0 => self.reset(),
            Reg::MacCsrData => self.csr_data = value,
            Reg::MacCsrCmd => {
                if self.csr_cmd & (1 << 31) != 0 {
                    self.violation("MAC CSR command written while busy");
                }
                self.csr_cmd = value;
                if self.csr_stuck {
                    return;
                }
                if value & (1 << 31) != 0 {
                    let index = value & 0xFF;
                    if value & (1 << 30) != 0 {
                        self.csr_data = self.mac_read(index);
                    } else {
                        self.mac_write(index, self.csr_data);
                    }
                    self.csr_cmd &= !(1 << 31);
                }
            }
            other => self.violation(format!("write of {other:?} = {value:#x}")),
        }
    }
}
