//! The internal PHY, reached through the MAC's `MII_ACC` / `MII_DATA` registers, which are
//! themselves behind the MAC CSR indirection: one PHY read is four CSR accesses plus the polls,
//! which is why the driver caches the link state and reads the PHY only in `refresh_link`.

use super::csr::{self, MacReg, Timeout};
use super::registers::Registers;

/// The LAN9118's internal PHY answers at MII address 1.
pub const INTERNAL_PHY: u32 = 1;

/// IEEE 802.3 clause 22 PHY registers the driver uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum PhyReg {
    /// Basic control.
    Bmcr = 0,
    /// Basic status.
    Bmsr = 1,
    /// Auto-negotiation advertisement.
    Advertise = 4,
    /// Auto-negotiation link partner ability.
    LinkPartner = 5,
}

/// Basic control bits.
pub mod bmcr {
    /// Enable auto-negotiation.
    pub const ANENABLE: u16 = 1 << 12;
    /// Restart auto-negotiation.
    pub const ANRESTART: u16 = 1 << 9;
}

/// Basic status bits.
pub mod bmsr {
    /// Link is up. Latched low: a link drop reads 0 once even if the link came back.
    pub const LSTATUS: u16 = 1 << 2;
}

/// Advertisement / link partner ability bits.
pub mod ability {
    /// 100BASE-TX full duplex.
    pub const FULL_100: u16 = 1 << 8;
    /// 100BASE-TX half duplex.
    pub const HALF_100: u16 = 1 << 7;
    /// 10BASE-T full duplex.
    pub const FULL_10: u16 = 1 << 6;
}

/// `MII_ACC` bits.
mod mii_acc {
    pub const BUSY: u32 = 1 << 0;
    pub const WRITE: u32 = 1 << 1;
    pub const fn address(phy: u32, reg: u32) -> u32 {
        ((phy & 0x1F) << 11) | ((reg & 0x1F) << 6)
    }
}

/// How many times `MII_ACC.BUSY` is polled. An MDIO frame takes about 25 µs at 2.5 MHz; one
/// poll is a CSR write, a CSR read and their busy checks, so this is a few milliseconds at worst.
pub const MII_POLLS: u32 = 2_000;

/// Waits for `MII_ACC.BUSY` to clear, at most [`MII_POLLS`] CSR reads.
fn wait_idle<R: Registers>(regs: &mut R) -> Result<(), Timeout> {
    for _ in 0..MII_POLLS {
        if csr::read(regs, MacReg::MiiAcc)? & mii_acc::BUSY == 0 {
            return Ok(());
        }
    }
    Err(Timeout)
}

/// Reads a register of the internal PHY.
pub fn read<R: Registers>(regs: &mut R, reg: PhyReg) -> Result<u16, Timeout> {
    wait_idle(regs)?;
    csr::write(regs, MacReg::MiiAcc, mii_acc::address(INTERNAL_PHY, reg as u32) | mii_acc::BUSY)?;
    wait_idle(regs)?;
    Ok((csr::read(regs, MacReg::MiiData)? & 0xFFFF) as u16)
}

/// Writes a register of the internal PHY.
pub fn write<R: Registers>(regs: &mut R, reg: PhyReg, value: u16) -> Result<(), Timeout> {
    wait_idle(regs)?;
    csr::write(regs, MacReg::MiiData, u32::from(value))?;
    let cmd = mii_acc::address(INTERNAL_PHY, reg as u32) | mii_acc::WRITE | mii_acc::BUSY;
    csr::write(regs, MacReg::MiiAcc, cmd)?;
    wait_idle(regs)
}
