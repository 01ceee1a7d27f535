//! Link state: read from the PHY only by `refresh_link`, cached for `link_up`, and the MAC's
//! speed and duplex following what the PHY negotiated.

use netpoll_core::NetPoll;

use super::super::mdio::{phy, LinkMode};
use super::super::registers::{maccr, Reg};
use super::up;

#[test]
fn link_up_is_a_cached_value_and_refresh_reads_the_phy() {
    let (mut eth, model) = up::<2, 2>();
    assert!(!eth.link_up(), "down until read");
    let before = model.state().mdio_transactions;
    for _ in 0..10 {
        assert!(!eth.link_up());
    }
    assert_eq!(model.state().mdio_transactions, before, "link_up touches no register");
    assert!(eth.refresh_link());
    assert!(model.state().mdio_transactions > before);
    assert!(eth.link_up());
    model.state().link = false;
    assert!(eth.link_up(), "cached until the next refresh");
    assert!(!eth.refresh_link());
    assert!(!eth.link_up());
}

#[test]
fn a_drop_that_is_over_reads_as_up_despite_the_latched_bit() {
    let (mut eth, model) = up::<2, 2>();
    model.state().link_dropped = true;
    assert!(eth.refresh_link(), "BSR read twice: the second says the link is back");
}

#[test]
fn the_mac_follows_the_negotiated_speed_and_duplex() {
    let (mut eth, model) = up::<2, 2>();
    model.state().phy[phy::PSCSR as usize] = 1 << 2; // 10BASE-T half duplex
    assert!(eth.refresh_link());
    assert_eq!(eth.link_mode(), Some(LinkMode { fast: false, full_duplex: false }));
    let cr = model.state().reg(Reg::MacCr);
    assert_eq!(cr & (maccr::FES | maccr::DM), 0);
    assert_eq!(cr & (maccr::TE | maccr::RE), maccr::TE | maccr::RE, "still on");

    model.state().phy[phy::PSCSR as usize] = phy::PSCSR_100 | phy::PSCSR_FULL;
    assert!(eth.refresh_link());
    assert_eq!(eth.link_mode(), Some(LinkMode { fast: true, full_duplex: true }));
    let cr = model.state().reg(Reg::MacCr);
    assert_eq!(cr & (maccr::FES | maccr::DM), maccr::FES | maccr::DM);
}

#[test]
fn an_mdio_failure_while_refreshing_reads_as_down_and_is_counted() {
    let (mut eth, model) = up::<2, 2>();
    assert!(eth.refresh_link());
    model.state().mdio_stuck = true;
    assert!(!eth.refresh_link());
    assert!(!eth.link_up());
    assert_eq!(eth.counters().mdio_errors, 1);
}
