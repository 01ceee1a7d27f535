//! The driver against the model of its registers and DMA ([`super::model`]): no QEMU machine
//! emulates this MAC, so these are where its logic is proven.

mod bring_up;
mod engine;
mod link;
mod rx;
mod tx;

use std::boxed::Box;
use std::vec::Vec;

use netpoll_core::MacAddr;

use super::model::Model;
use super::{Config, DmaRings, Stm32Eth};

const MAC: MacAddr = MacAddr([0x02, 0x00, 0x00, 0x12, 0x34, 0x56]);

/// The Nucleo-F429ZI's clock: HCLK 180 MHz, PHY at address 0.
const CONFIG: Config = Config { mac: MAC, hclk_hz: 180_000_000, phy_address: 0 };

type Eth<const TX: usize, const RX: usize> = Stm32Eth<'static, Model, TX, RX>;

/// Rings for one test. Leaked: a few KiB per test, for the `'static` a firmware would have.
fn rings<const TX: usize, const RX: usize>() -> &'static mut DmaRings<TX, RX> {
    Box::leak(Box::new(DmaRings::new()))
}

/// A driver brought up on a fresh model with the link up, and the model's handle.
fn up<const TX: usize, const RX: usize>() -> (Eth<TX, RX>, Model) {
    let model = Model::default();
    let eth = Stm32Eth::new(model.clone(), rings(), CONFIG).expect("bring-up on the model");
    (eth, model)
}

/// A frame of `len` bytes whose every byte says where it is and which frame it is.
fn pattern(id: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(7) ^ id).collect()
}
