//! The LAN9118's system control and status registers (SMSC LAN9118/LAN9220 datasheet §5), as
//! one typed register block. Every volatile access of the driver is in [`Mmio`]; everything else
//! goes through the [`Registers`] trait, so host tests can put a model of the device behind it.

/// A system register, named as in the datasheet; the value is its byte offset from the base.
///
/// The FIFO ports have aliases (0x00..0x1C, 0x20..0x3C) for burst access; one address each is
/// enough for word-at-a-time PIO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Reg {
    /// RX data FIFO port: each read pops one word of the frame at the head.
    RxData = 0x00,
    /// TX data FIFO port: command A, command B, then the frame's words.
    TxData = 0x20,
    /// RX status FIFO port: each read pops the status of the next received frame.
    RxStatus = 0x40,
    /// TX status FIFO port: each read pops the status of the next finished frame.
    TxStatus = 0x48,
    /// Chip ID and revision.
    IdRev = 0x50,
    /// Interrupt status.
    IntSts = 0x58,
    /// Interrupt enable (the driver polls: all off).
    IntEn = 0x5C,
    /// Reads 0x8765_4321 when the bus and the chip agree on byte order.
    ByteTest = 0x64,
    /// RX configuration (alignment, data offset, RX_DUMP).
    RxCfg = 0x6C,
    /// TX configuration (TX_ON, dumps).
    TxCfg = 0x70,
    /// Hardware configuration (soft reset, FIFO split).
    HwCfg = 0x74,
    /// RX FIFO usage: statuses waiting, data bytes held.
    RxFifoInf = 0x7C,
    /// TX FIFO usage: statuses waiting, data bytes free.
    TxFifoInf = 0x80,
    /// Power management control; READY says the chip has left reset.
    PmtCtrl = 0x84,
    /// Frames the RX path dropped for want of FIFO space; cleared by the read.
    RxDrop = 0xA0,
    /// MAC CSR indirection: command (busy, read/write, MAC register index).
    MacCsrCmd = 0xA4,
    /// MAC CSR indirection: data.
    MacCsrData = 0xA8,
    /// EEPROM command (busy while the chip loads the MAC address after reset).
    E2pCmd = 0xB0,
}

impl Reg {
    /// Byte offset from the register block's base.
    pub const fn offset(self) -> usize {
        self as usize
    }
}

/// `BYTE_TEST` reads this when the chip is there and the bus byte order is right.
pub const BYTE_TEST_MAGIC: u32 = 0x8765_4321;

/// `HW_CFG` bits.
pub mod hw_cfg {
    /// Soft reset; self-clearing when the reset is done.
    pub const SRST: u32 = 1 << 0;
}

/// `PMT_CTRL` bits.
pub mod pmt_ctrl {
    /// The chip is out of reset and its registers may be used.
    pub const READY: u32 = 1 << 0;
}

/// `E2P_CMD` bits.
pub mod e2p_cmd {
    /// An EEPROM operation (the MAC address load after reset) is in progress.
    pub const BUSY: u32 = 1 << 31;
}

/// `TX_CFG` bits.
pub mod tx_cfg {
    /// Enables the transmitter (QEMU's model sends regardless; the chip does not).
    pub const TX_ON: u32 = 1 << 1;
}

/// `TX_FIFO_INF` fields.
pub mod tx_fifo_inf {
    /// TX status FIFO entries waiting to be read.
    pub const fn statuses_used(v: u32) -> u32 {
        (v >> 16) & 0xFF
    }
    /// Free bytes in the TX data FIFO.
    pub const fn data_free(v: u32) -> u32 {
        v & 0xFFFF
    }
}

/// `RX_FIFO_INF` fields.
pub mod rx_fifo_inf {
    /// RX status FIFO entries waiting to be read: one per received frame.
    pub const fn statuses_used(v: u32) -> u32 {
        (v >> 16) & 0xFF
    }
    /// Bytes in the RX data FIFO.
    pub const fn data_used(v: u32) -> u32 {
        v & 0xFFFF
    }
}

/// TX command A and B (the two words that precede a frame in the TX data FIFO).
pub mod tx_cmd {
    /// Command A: this buffer starts a frame.
    pub const A_FIRST_SEG: u32 = 1 << 13;
    /// Command A: this buffer ends a frame.
    pub const A_LAST_SEG: u32 = 1 << 12;
    /// Command A/B: the buffer size / frame length field.
    pub const LEN_MASK: u32 = 0x7FF;
    /// Command B: the tag the TX status echoes back, in bits 31:16.
    pub const B_TAG_SHIFT: u32 = 16;
}

/// TX status word bits.
pub mod tx_status {
    /// Error summary: set with any of the error bits below.
    pub const ES: u32 = 1 << 15;
    /// Loss of carrier during the frame.
    pub const LOSS_OF_CARRIER: u32 = 1 << 11;
    /// No carrier at all.
    pub const NO_CARRIER: u32 = 1 << 10;
    /// The errors that mean the frame did not go out in full duplex too: late collision,
    /// excessive collisions, excessive deferral, underrun. The carrier bits are also reported
    /// in full duplex, where carrier sense does not apply and the frame was sent.
    pub const FATAL_IN_FULL_DUPLEX: u32 = (1 << 9) | (1 << 8) | (1 << 2) | (1 << 1);
}

/// RX status word bits.
pub mod rx_status {
    /// Error summary: CRC error, runt, too long, collision, MII error; the frame is bad.
    pub const ES: u32 = 1 << 15;
    /// The frame's length including the 4-byte FCS.
    pub const fn len_with_fcs(v: u32) -> usize {
        ((v >> 16) & 0x3FFF) as usize
    }
}

/// `MAC_CSR_CMD` bits.
pub mod mac_csr_cmd {
    /// Set to start an access; the chip clears it when the access is done.
    pub const BUSY: u32 = 1 << 31;
    /// Read (1) or write (0).
    pub const READ: u32 = 1 << 30;
}

/// Register access to one LAN9118: 32-bit reads and writes by register.
///
/// Reads take `&mut self` because reading a FIFO port pops it (and `RX_DROP` clears itself).
pub trait Registers {
    /// Reads a register.
    fn read(&mut self, reg: Reg) -> u32;
    /// Writes a register.
    fn write(&mut self, reg: Reg, value: u32);
}

impl<T: Registers + ?Sized> Registers for &mut T {
    fn read(&mut self, reg: Reg) -> u32 {
        (**self).read(reg)
    }
    fn write(&mut self, reg: Reg, value: u32) {
        (**self).write(reg, value)
    }
}

/// The memory-mapped register block of a real (or QEMU-emulated) chip in 32-bit bus mode.
#[derive(Debug)]
pub struct Mmio {
    base: *mut u32,
}

impl Mmio {
    /// The register block at `base` (0x4020_0000 on MPS2 AN385/AN386).
    ///
    /// # Safety
    /// `base` must be the address of a LAN9118's register block, mapped as device memory, and
    /// nothing else may access that block while this value exists.
    pub const unsafe fn new(base: usize) -> Mmio {
        Mmio { base: base as *mut u32 }
    }
}

// SAFETY: `Mmio` is the sole owner of the register block (the contract of `Mmio::new`), so moving
// it to another context (an interrupt handler's static) cannot create a second accessor.
unsafe impl Send for Mmio {}

impl Registers for Mmio {
    fn read(&mut self, reg: Reg) -> u32 {
        // SAFETY: `base` points at the chip's registers (the contract of `Mmio::new`) and every
        // `Reg` offset is a 4-aligned register inside the 0x100-byte block.
        unsafe { self.base.byte_add(reg.offset()).read_volatile() }
    }

    fn write(&mut self, reg: Reg, value: u32) {
        // SAFETY: as in `read`; `&mut self` makes this the only access in flight.
        unsafe { self.base.byte_add(reg.offset()).write_volatile(value) }
    }
}
