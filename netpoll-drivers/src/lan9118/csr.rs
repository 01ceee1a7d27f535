//! The MAC's own registers, reached indirectly through `MAC_CSR_CMD` / `MAC_CSR_DATA`: write
//! the index with BUSY set, wait for BUSY to clear, move the data.

use super::registers::{mac_csr_cmd, Reg, Registers};

/// How many times a busy bit is polled before the access is given up. On the chip an access
/// takes well under a microsecond (QEMU's model finishes at once); this many register reads is
/// orders of magnitude longer, and it keeps every call bounded if the chip is wedged.
pub const BUSY_POLLS: u32 = 10_000;

/// A MAC register, by its CSR index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum MacReg {
    /// MAC control: RX/TX enable, duplex, filtering.
    MacCr = 1,
    /// MAC address bytes 4 and 5.
    AddrH = 2,
    /// MAC address bytes 0 to 3.
    AddrL = 3,
    /// MII (PHY) access: PHY address, register, write flag, busy.
    MiiAcc = 6,
    /// MII data.
    MiiData = 7,
}

/// `MAC_CR` bits.
pub mod mac_cr {
    /// Full duplex.
    pub const FDPX: u32 = 1 << 20;
    /// Promiscuous (the chip's reset value; the driver clears it).
    pub const PRMS: u32 = 1 << 18;
    /// Transmitter enable.
    pub const TXEN: u32 = 1 << 3;
    /// Receiver enable.
    pub const RXEN: u32 = 1 << 2;
}

/// A busy bit that did not clear within [`BUSY_POLLS`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeout;

/// Waits for `MAC_CSR_CMD.BUSY` to clear, at most [`BUSY_POLLS`] reads. Out of line: every CSR
/// access waits twice.
#[inline(never)]
fn wait_idle<R: Registers>(regs: &mut R) -> Result<(), Timeout> {
    for _ in 0..BUSY_POLLS {
        if regs.read(Reg::MacCsrCmd) & mac_csr_cmd::BUSY == 0 {
            return Ok(());
        }
    }
    Err(Timeout)
}

/// Reads a MAC register.
pub fn read<R: Registers>(regs: &mut R, reg: MacReg) -> Result<u32, Timeout> {
    wait_idle(regs)?;
    regs.write(Reg::MacCsrCmd, mac_csr_cmd::BUSY | mac_csr_cmd::READ | reg as u32);
    wait_idle(regs)?;
    Ok(regs.read(Reg::MacCsrData))
}

/// Writes a MAC register.
pub fn write<R: Registers>(regs: &mut R, reg: MacReg, value: u32) -> Result<(), Timeout> {
    wait_idle(regs)?;
    regs.write(Reg::MacCsrData, value);
    regs.write(Reg::MacCsrCmd, mac_csr_cmd::BUSY | reg as u32);
    wait_idle(regs)
}
