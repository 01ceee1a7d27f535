//! The Nucleo-F429ZI: clocks, the Ethernet peripheral's clocks and RMII selection, the RMII pins,
//! the LEDs and the user button.

use stm32f4xx_hal::gpio::{Input, Output, Pin, PinState, PushPull, Speed};
use stm32f4xx_hal::pac;
use stm32f4xx_hal::prelude::*;
use stm32f4xx_hal::rcc::{Config, Rcc};
use stm32f4xx_hal::signature::Uid;
use stm32f4xx_hal::timer::SysDelay;

/// HCLK. 168 MHz is the F429's top speed without the voltage regulator's over-drive mode; the
/// Ethernet MAC needs at least 25 MHz.
pub const HCLK_HZ: u32 = 168_000_000;

/// What `main` needs of the board once it is set up.
pub struct Board {
    /// SysTick as a blocking delay: the engine waits with it between transmit tries.
    pub delay: SysDelay,
    /// The AHB clock the MAC's MDIO divider is chosen for.
    pub hclk_hz: u32,
    /// LD1, green: blinks while the firmware logs.
    pub green: Pin<'B', 0, Output<PushPull>>,
    /// B1, the blue user button (high while pressed): makes the firmware panic on purpose.
    pub button: Pin<'C', 13, Input>,
}

/// Clocks from the ST-LINK's 8 MHz MCO (HSE bypass), the Ethernet peripheral's clocks in RMII
/// mode, and the pins.
pub fn setup(dp: pac::Peripherals, cp: cortex_m::Peripherals) -> Board {
    let mut rcc = dp.RCC.freeze(
        Config::hse(8.MHz()).bypass_hse_oscillator().sysclk(HCLK_HZ.Hz()).hclk(HCLK_HZ.Hz()),
    );
    ethernet_clocks_rmii(&mut rcc, &dp.SYSCFG);

    let gpioa = dp.GPIOA.split(&mut rcc);
    let gpiob = dp.GPIOB.split(&mut rcc);
    let gpioc = dp.GPIOC.split(&mut rcc);
    let gpiog = dp.GPIOG.split(&mut rcc);

    // RMII on the Nucleo-144 (UM1974, solder bridges at their defaults): AF11, very high speed.
    // The pins configure the hardware as they are made; nothing in Rust holds them afterwards.
    let _ref_clk = gpioa.pa1.into_alternate::<11>().speed(Speed::VeryHigh);
    let _mdio = gpioa.pa2.into_alternate::<11>().speed(Speed::VeryHigh);
    let _crs_dv = gpioa.pa7.into_alternate::<11>().speed(Speed::VeryHigh);
    let _txd1 = gpiob.pb13.into_alternate::<11>().speed(Speed::VeryHigh);
    let _mdc = gpioc.pc1.into_alternate::<11>().speed(Speed::VeryHigh);
    let _rxd0 = gpioc.pc4.into_alternate::<11>().speed(Speed::VeryHigh);
    let _rxd1 = gpioc.pc5.into_alternate::<11>().speed(Speed::VeryHigh);
    let _tx_en = gpiog.pg11.into_alternate::<11>().speed(Speed::VeryHigh);
    let _txd0 = gpiog.pg13.into_alternate::<11>().speed(Speed::VeryHigh);

    // LD3, red: `panic::halt` lights it (bring-up failed, or a panic). Configured here, driven
    // there through the set/reset register.
    let _red = gpiob.pb14.into_push_pull_output_in_state(PinState::Low);

    Board {
        delay: cp.SYST.delay(&rcc.clocks),
        hclk_hz: rcc.clocks.hclk().raw(),
        green: gpiob.pb0.into_push_pull_output_in_state(PinState::Low),
        button: gpioc.pc13.into_input(),
    }
}

/// RMII must be selected in SYSCFG while the MAC's clocks are off (RM0090, Ethernet chapter: with the MAC clocks off or the MAC in reset), then the
/// MAC, TX and RX clocks go on and the MAC is reset once.
fn ethernet_clocks_rmii(rcc: &mut Rcc, syscfg: &pac::SYSCFG) {
    rcc.apb2enr().modify(|_, w| w.syscfgen().set_bit());
    // The write lands before the next access to SYSCFG's bus.
    let _ = rcc.apb2enr().read();
    syscfg.pmc().modify(|_, w| w.mii_rmii_sel().set_bit());
    rcc.ahb1enr()
        .modify(|_, w| w.ethmacen().set_bit().ethmactxen().set_bit().ethmacrxen().set_bit());
    rcc.ahb1rstr().modify(|_, w| w.ethmacrst().set_bit());
    rcc.ahb1rstr().modify(|_, w| w.ethmacrst().clear_bit());
}

/// A locally administered MAC address from the chip's unique ID, so two boards on one network
/// do not collide.
pub fn mac_address() -> [u8; 6] {
    let uid = Uid::get();
    let mut folded = [0u8; 5];
    let words = [uid.x().to_le_bytes(), uid.y().to_le_bytes()];
    for (i, b) in
        words.iter().flatten().chain(&[uid.waf_num()]).chain(uid.lot_num().as_bytes()).enumerate()
    {
        folded[i % 5] ^= b.rotate_left(i as u32 / 5);
    }
    [0x02, folded[0], folded[1], folded[2], folded[3], folded[4]]
}
