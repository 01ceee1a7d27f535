//! The PHY behind the MAC's serial management interface (MDIO/MDC through MACMIIAR and
//! MACMIIDR), and the LAN8742A's registers: reset, auto-negotiation, link, speed and duplex.
//!
//! One MDIO transaction shifts 64 bits at MDC ≤ 2.5 MHz, about 26 µs. The busy flag is polled
//! a bounded number of times ([`MDIO_POLLS`]); a MAC whose flag never clears (no HCLK, or the
//! peripheral held in reset) gives [`MdioError::Timeout`], never a hang.

use super::registers::{miiar, EthRegisters, Reg};

/// Reads of the busy flag before an MDIO transaction counts as stuck: at 216 MHz a register
/// read takes a few cycles, so this is some milliseconds, far above the 26 µs one takes.
pub const MDIO_POLLS: u32 = 100_000;

/// Reads of the basic control register, while the PHY resets, before giving up. Each read is an
/// MDIO transaction (about 26 µs): 20 000 of them are about half a second, the LAN8742A's
/// worst-case reset time being far less.
pub const PHY_RESET_POLLS: u32 = 20_000;

/// An MDIO transaction that did not finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MdioError {
    /// The busy flag stayed set for [`MDIO_POLLS`] reads (PHY register number given).
    Timeout {
        /// The PHY register of the transaction.
        reg: u8,
    },
    /// The PHY's reset bit stayed set for [`PHY_RESET_POLLS`] reads.
    ResetTimeout,
}

impl core::fmt::Display for MdioError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MdioError::Timeout { reg } => write!(f, "MDIO access to PHY register {reg} timed out"),
            MdioError::ResetTimeout => f.write_str("PHY reset did not complete"),
        }
    }
}

/// The MDC divider (MACMIIAR CR field) for an HCLK frequency, keeping MDC at or under 2.5 MHz
/// (RM0090/RM0385: 20–35 MHz /16, 35–60 /26, 60–100 /42, 100–150 /62, 150–216 /102).
/// `None` under 20 MHz (the MAC needs at least 25 MHz) or above 216 MHz.
pub const fn clock_range(hclk_hz: u32) -> Option<u32> {
    match hclk_hz {
        20_000_000..35_000_000 => Some(0b010),
        35_000_000..60_000_000 => Some(0b011),
        60_000_000..100_000_000 => Some(0b000),
        100_000_000..150_000_000 => Some(0b001),
        150_000_000..=216_000_000 => Some(0b100),
        _ => None,
    }
}

/// One PHY on the management bus.
#[derive(Debug, Clone, Copy)]
pub struct Mdio {
    /// The PHY's address (0 on Nucleo boards: the LAN8742A's PHYAD pin is low).
    pub phy: u8,
    /// The MACMIIAR CR field, from [`clock_range`].
    pub clock_range: u32,
}

impl Mdio {
    fn command(&self, reg: u8, write: bool) -> u32 {
        let w = if write { miiar::MW } else { 0 };
        (u32::from(self.phy & 0x1F) << miiar::PA_SHIFT)
            | (u32::from(reg & 0x1F) << miiar::MR_SHIFT)
            | ((self.clock_range & 0b111) << miiar::CR_SHIFT)
            | w
            | miiar::MB
    }

    fn wait(&self, regs: &mut impl EthRegisters, reg: u8) -> Result<(), MdioError> {
        for _ in 0..MDIO_POLLS {
            if regs.read(Reg::MacMiiar) & miiar::MB == 0 {
                return Ok(());
            }
        }
        Err(MdioError::Timeout { reg })
    }

    /// Reads PHY register `reg`.
    pub fn read(&self, regs: &mut impl EthRegisters, reg: u8) -> Result<u16, MdioError> {
        // A transaction still running (an earlier one that timed out) must end first: writing
        // MACMIIAR while busy is not allowed.
        self.wait(regs, reg)?;
        regs.write(Reg::MacMiiar, self.command(reg, false));
        self.wait(regs, reg)?;
        Ok(regs.read(Reg::MacMiidr) as u16)
    }

    /// Writes PHY register `reg`.
    pub fn write(
        &self,
        regs: &mut impl EthRegisters,
        reg: u8,
        value: u16,
    ) -> Result<(), MdioError> {
        self.wait(regs, reg)?;
        regs.write(Reg::MacMiidr, u32::from(value));
        regs.write(Reg::MacMiiar, self.command(reg, true));
        self.wait(regs, reg)
    }
}

/// IEEE 802.3 clause 22 registers and the LAN8742A's own, as the driver uses them.
pub mod phy {
    /// Basic control register.
    pub const BCR: u8 = 0;
    /// Basic status register.
    pub const BSR: u8 = 1;
    /// LAN8742A PHY special control/status register (speed and duplex found by autonegotiation).
    pub const PSCSR: u8 = 31;

    /// BCR: software reset (self-clearing).
    pub const BCR_RESET: u16 = 1 << 15;
    /// BCR: auto-negotiation enable.
    pub const BCR_AN_ENABLE: u16 = 1 << 12;
    /// BCR: restart auto-negotiation (self-clearing).
    pub const BCR_AN_RESTART: u16 = 1 << 9;
    /// BSR: link status (latched low: a first read after a drop says down once).
    pub const BSR_LINK: u16 = 1 << 2;
    /// PSCSR: speed indication (bits 4:2): bit 2 10BASE-T, bit 3 100BASE-TX, bit 4 full duplex.
    pub const PSCSR_100: u16 = 1 << 3;
    /// PSCSR: full duplex.
    pub const PSCSR_FULL: u16 = 1 << 4;
}

/// Speed and duplex the PHY negotiated, as the MAC must be configured for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkMode {
    /// 100 Mbit/s (else 10).
    pub fast: bool,
    /// Full duplex (else half).
    pub full_duplex: bool,
}

/// Resets the PHY (bounded wait for the reset bit to clear) and starts auto-negotiation. Does not
/// wait for the link: that takes seconds, and [`link`] reads it.
pub fn reset_and_autonegotiate(mdio: &Mdio, regs: &mut impl EthRegisters) -> Result<(), MdioError> {
    mdio.write(regs, phy::BCR, phy::BCR_RESET)?;
    let mut done = false;
    for _ in 0..PHY_RESET_POLLS {
        if mdio.read(regs, phy::BCR)? & phy::BCR_RESET == 0 {
            done = true;
            break;
        }
    }
    if !done {
        return Err(MdioError::ResetTimeout);
    }
    mdio.write(regs, phy::BCR, phy::BCR_AN_ENABLE | phy::BCR_AN_RESTART)
}

/// Reads the link state now: BSR twice, because its link bit latches low, so the first read
/// may report a drop that is over. With the link up, also the negotiated speed and duplex.
pub fn link(mdio: &Mdio, regs: &mut impl EthRegisters) -> Result<Option<LinkMode>, MdioError> {
    mdio.read(regs, phy::BSR)?;
    if mdio.read(regs, phy::BSR)? & phy::BSR_LINK == 0 {
        return Ok(None);
    }
    let status = mdio.read(regs, phy::PSCSR)?;
    Ok(Some(LinkMode {
        fast: status & phy::PSCSR_100 != 0,
        full_duplex: status & phy::PSCSR_FULL != 0,
    }))
}
