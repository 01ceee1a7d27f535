//! Bring-up: what `Stm32Eth::new` programs, and how it fails.

use netpoll_core::NetPoll;

use super::super::descriptors::{rdes0, rdes1, tdes0};
use super::super::mdio::{clock_range, MdioError, MDIO_POLLS};
use super::super::registers::{dmabmr, dmaomr, maccr, miiar, Reg};
use super::super::{dma_reachable, InitError, Stm32Eth, DMA_RESET_POLLS};
use super::{rings, up, CONFIG, MAC};
use crate::stm32::model::Model;

#[test]
fn programs_address_filter_lists_and_starts_both_directions() {
    let (eth, model) = up::<4, 4>();
    let s = model.state();
    assert_eq!(s.reg(Reg::MacA0hr) & 0xFFFF, 0x5634, "bytes 5 and 4");
    assert_eq!(s.reg(Reg::MacA0lr), 0x1200_0002, "bytes 3 to 0");
    assert_eq!(s.reg(Reg::MacFfr), 0, "perfect filter, broadcast passed");
    let cr = s.reg(Reg::MacCr);
    assert_eq!(cr & (maccr::TE | maccr::RE), maccr::TE | maccr::RE);
    let omr = s.reg(Reg::DmaOmr);
    for bit in [dmaomr::ST, dmaomr::SR, dmaomr::TSF, dmaomr::RSF] {
        assert_ne!(omr & bit, 0, "DMAOMR bit {bit:#x}");
    }
    let bmr = s.reg(Reg::DmaBmr);
    assert_eq!(bmr & dmabmr::SR, 0, "reset done");
    assert_eq!(bmr & (1 << 7), 0, "normal descriptors: EDFE clear");
    assert_eq!(bmr & (0x1F << 2), 0, "no descriptor skip");
    let r = eth.rings();
    assert_eq!(s.reg(Reg::DmaTdlar), r.tx[0].dma_address());
    assert_eq!(s.reg(Reg::DmaRdlar), r.rx[0].dma_address());
    assert_eq!(s.reg(Reg::DmaIer), 0, "polled");
    assert_eq!(s.autoneg_restarts, 1, "PHY reset, then auto-negotiation started");
    assert_eq!(eth.mac_address(), MAC);
}

#[test]
fn rings_start_with_rx_owned_by_the_dma_and_end_of_ring_marked() {
    let (eth, _model) = up::<3, 5>();
    let r = eth.rings();
    for (i, d) in r.tx.iter().enumerate() {
        let ter = if i == 2 { tdes0::TER } else { 0 };
        assert_eq!(d.read(0), ter, "TX {i}: driver's, TER only on the last");
        assert_eq!(d.read(2), r.tx_buffers[i].dma_address());
    }
    for (i, d) in r.rx.iter().enumerate() {
        assert_eq!(d.read(0), rdes0::OWN, "RX {i} owned by the DMA");
        let rer = if i == 4 { rdes1::RER } else { 0 };
        assert_eq!(d.read(1), rer | 1536, "RX {i}: size, RER only on the last");
        assert_eq!(d.read(2), r.rx_buffers[i].dma_address());
    }
}

#[test]
fn a_dma_reset_that_never_ends_is_an_error_after_a_bounded_wait() {
    let model = Model::default();
    model.state().reset_reads = None;
    let result = Stm32Eth::<_, 2, 2>::new(model.clone(), rings(), CONFIG);
    assert_eq!(result.err(), Some(InitError::DmaResetTimeout));
    assert_eq!(model.state().reg(Reg::DmaBmr) & dmabmr::SR, dmabmr::SR);
    assert_eq!(model.state().mdio_transactions, 0, "stopped at the reset");
    assert_eq!(model.state().bmr_reads, DMA_RESET_POLLS, "bounded by the documented polls");
}

#[test]
fn a_slow_dma_reset_is_waited_for() {
    let model = Model::default();
    model.state().reset_reads = Some(1000);
    assert!(Stm32Eth::<_, 2, 2>::new(model, rings(), CONFIG).is_ok());
}

#[test]
fn an_mdio_bus_that_never_finishes_is_an_error_naming_the_register() {
    let model = Model::default();
    model.state().mdio_stuck = true;
    let result = Stm32Eth::<_, 2, 2>::new(model.clone(), rings(), CONFIG);
    assert_eq!(result.err(), Some(InitError::Phy(MdioError::Timeout { reg: 0 })));
    assert_eq!(model.state().mdio_transactions, 1, "one transaction, then {MDIO_POLLS} polls");
}

#[test]
fn a_phy_stuck_in_reset_is_an_error() {
    let model = Model::default();
    model.state().phy_reset_reads = u32::MAX;
    let result = Stm32Eth::<_, 2, 2>::new(model, rings(), CONFIG);
    assert_eq!(result.err(), Some(InitError::Phy(MdioError::ResetTimeout)));
}

#[test]
fn hclk_picks_the_mdc_divider_and_out_of_range_is_refused() {
    assert_eq!(clock_range(25_000_000), Some(0b010));
    assert_eq!(clock_range(48_000_000), Some(0b011));
    assert_eq!(clock_range(84_000_000), Some(0b000));
    assert_eq!(clock_range(120_000_000), Some(0b001));
    assert_eq!(clock_range(168_000_000), Some(0b100));
    assert_eq!(clock_range(216_000_000), Some(0b100));
    assert_eq!(clock_range(16_000_000), None);
    assert_eq!(clock_range(480_000_000), None);
    let config = super::super::Config { hclk_hz: 16_000_000, ..CONFIG };
    let result = Stm32Eth::<_, 2, 2>::new(Model::default(), rings(), config);
    assert_eq!(result.err(), Some(InitError::HclkOutOfRange { hz: 16_000_000 }));
}

#[test]
fn mdio_commands_carry_phy_address_register_and_clock_range() {
    let model = Model::default();
    let config = super::super::Config { phy_address: 1, ..CONFIG };
    let _eth = Stm32Eth::<_, 2, 2>::new(model.clone(), rings(), config).unwrap();
    let last = model.state().reg(Reg::MacMiiar);
    assert_eq!((last >> miiar::PA_SHIFT) & 0x1F, 1);
    assert_eq!((last >> miiar::CR_SHIFT) & 0b111, 0b100, "HCLK 180 MHz: /102");
    assert_eq!(last & miiar::MB, 0, "finished");
}

#[test]
fn ccm_ram_is_not_dma_reachable() {
    assert!(!dma_reachable(0x1000_0000));
    assert!(!dma_reachable(0x1000_FFFC));
    assert!(dma_reachable(0x2000_0000));
    assert!(dma_reachable(0x2002_FFF0));
    assert!(dma_reachable(0x1001_0000));
}

#[test]
fn the_driver_on_real_registers_can_live_in_a_static_console() {
    // A global console needs its NIC to be `Send`; the rings are not `Sync`, so the driver
    // must hold them by `&mut`.
    fn send<T: Send>() {}
    send::<Stm32Eth<'static, super::super::EthMmio, 4, 4>>();
}
