//! The ETH_MAC and ETH_DMA registers the driver uses, behind a two-method trait.
//!
//! The driver never does pointer arithmetic: it names a [`Reg`] and the trait reads or writes
//! it. On the chip that is [`EthMmio`], the one place with volatile access; in the host tests it
//! is a model that plays the MAC and its DMA.

/// One register of the Ethernet peripheral, by its offset from the peripheral's base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Reg {
    /// MAC configuration: transmitter/receiver enable, speed, duplex.
    MacCr = 0x0000,
    /// MAC frame filter.
    MacFfr = 0x0004,
    /// MII (SMI) address: PHY address, register, clock range, write flag, busy flag.
    MacMiiar = 0x0010,
    /// MII (SMI) data.
    MacMiidr = 0x0014,
    /// MAC address 0, high half (bytes 4 and 5).
    MacA0hr = 0x0040,
    /// MAC address 0, low half (bytes 0 to 3).
    MacA0lr = 0x0044,
    /// DMA bus mode: software reset, burst lengths, descriptor skip.
    DmaBmr = 0x1000,
    /// DMA transmit poll demand: any write wakes a suspended transmit process.
    DmaTpdr = 0x1004,
    /// DMA receive poll demand: any write wakes a suspended receive process.
    DmaRpdr = 0x1008,
    /// DMA receive descriptor list address.
    DmaRdlar = 0x100C,
    /// DMA transmit descriptor list address.
    DmaTdlar = 0x1010,
    /// DMA status (write 1 to clear the event bits).
    DmaSr = 0x1014,
    /// DMA operation mode: start/stop, store-and-forward, FIFO flush.
    DmaOmr = 0x1018,
    /// DMA interrupt enable.
    DmaIer = 0x101C,
    /// DMA missed frame and buffer overflow counters (cleared by reading).
    DmaMfbocr = 0x1020,
}

impl Reg {
    /// Byte offset from the peripheral's base address.
    pub const fn offset(self) -> usize {
        self as usize
    }
}

/// Access to the Ethernet peripheral's registers.
///
/// Reads take `&mut self` because some reads have effects (DMAMFBOCR clears on read).
pub trait EthRegisters {
    /// Reads one register.
    fn read(&mut self, reg: Reg) -> u32;
    /// Writes one register.
    fn write(&mut self, reg: Reg, value: u32);
    /// Read, change, write back.
    fn modify(&mut self, reg: Reg, f: impl FnOnce(u32) -> u32) {
        let value = self.read(reg);
        self.write(reg, f(value));
    }
}

/// The peripheral's base address on STM32F4 and STM32F7 (RM0090 and RM0385 memory maps).
pub const ETH_BASE: usize = 0x4002_8000;

/// The real register block, by volatile access at a base address.
///
/// Holds the address as an integer, not a pointer, so that a driver built on it can sit in a
/// `static` console (which needs `Send`); the exclusivity that makes that sound is the
/// constructor's contract.
#[derive(Debug)]
pub struct EthMmio {
    base: usize,
}

impl EthMmio {
    /// The register block at `base` ([`ETH_BASE`] on STM32F4/F7).
    ///
    /// # Safety
    ///
    /// `base` is the address of the Ethernet peripheral (MAC, MMC and DMA register blocks), its
    /// clocks are on, and nothing else accesses it while this value (or a driver holding it)
    /// lives.
    pub const unsafe fn new(base: usize) -> Self {
        EthMmio { base }
    }

    fn address(&self, reg: Reg) -> usize {
        self.base + reg.offset()
    }
}

impl EthRegisters for EthMmio {
    fn read(&mut self, reg: Reg) -> u32 {
        // SAFETY: `new`'s contract: `base` is the Ethernet peripheral, whose registers are
        // 32-bit, word-aligned and mapped at every offset `Reg` names; we have exclusive use.
        unsafe { core::ptr::read_volatile(self.address(reg) as *const u32) }
    }

    fn write(&mut self, reg: Reg, value: u32) {
        // SAFETY: as for `read`: a mapped, aligned 32-bit register of a peripheral we own.
        unsafe { core::ptr::write_volatile(self.address(reg) as *mut u32, value) }
    }
}

/// MACCR bits.
pub mod maccr {
    /// Receiver enable.
    pub const RE: u32 = 1 << 2;
    /// Transmitter enable.
    pub const TE: u32 = 1 << 3;
    /// Full duplex.
    pub const DM: u32 = 1 << 11;
    /// Fast Ethernet (100 Mbit/s); clear for 10 Mbit/s.
    pub const FES: u32 = 1 << 14;
}

/// MACMIIAR fields.
pub mod miiar {
    /// Busy: set to start a transaction, cleared by the MAC when it is done.
    pub const MB: u32 = 1 << 0;
    /// Write (clear for a read).
    pub const MW: u32 = 1 << 1;
    /// Clock range field (bits 4:2), the MDC divider from HCLK.
    pub const CR_SHIFT: u32 = 2;
    /// Register number (bits 10:6).
    pub const MR_SHIFT: u32 = 6;
    /// PHY address (bits 15:11).
    pub const PA_SHIFT: u32 = 11;
}

/// DMABMR bits.
pub mod dmabmr {
    /// Software reset: resets MAC and DMA; cleared by the hardware when done.
    pub const SR: u32 = 1 << 0;
    /// Programmable burst length (bits 13:8).
    pub const PBL_SHIFT: u32 = 8;
    /// Fixed burst.
    pub const FB: u32 = 1 << 16;
    /// Address-aligned beats.
    pub const AAB: u32 = 1 << 25;
}

/// DMASR bits.
pub mod dmasr {
    /// Transmit buffer unavailable: the DMA found a descriptor it does not own and suspended.
    pub const TBUS: u32 = 1 << 2;
    /// Receive buffer unavailable: no descriptor to receive into; the DMA suspended.
    pub const RBUS: u32 = 1 << 7;
    /// Fatal bus error: the DMA hit an AHB error and stopped.
    pub const FBES: u32 = 1 << 13;
    /// Abnormal interrupt summary.
    pub const AIS: u32 = 1 << 15;
    /// Receive process state (bits 19:17).
    pub const RPS_SHIFT: u32 = 17;
    /// Transmit process state (bits 22:20).
    pub const TPS_SHIFT: u32 = 20;
}

/// DMAOMR bits.
pub mod dmaomr {
    /// Start/stop receive.
    pub const SR: u32 = 1 << 1;
    /// Start/stop transmission.
    pub const ST: u32 = 1 << 13;
    /// Flush transmit FIFO; cleared by the hardware when done.
    pub const FTF: u32 = 1 << 20;
    /// Transmit store and forward: whole frames in the FIFO before sending, so no underflow.
    pub const TSF: u32 = 1 << 21;
    /// Receive store and forward.
    pub const RSF: u32 = 1 << 25;
}

/// DMAMFBOCR fields.
pub mod dmamfbocr {
    /// Frames missed by the controller for want of a descriptor (bits 15:0).
    pub const MFC_MASK: u32 = 0xFFFF;
    /// Frames missed by the application (FIFO overflow) (bits 27:17).
    pub const MFA_SHIFT: u32 = 17;
    /// Width mask of the MFA field.
    pub const MFA_MASK: u32 = 0x7FF;
}
