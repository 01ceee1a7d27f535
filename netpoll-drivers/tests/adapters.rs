//! The smoltcp and embassy-net adapters: frames byte-exact to the sim's (which the golden and
//! differential tests pin to Linux), short frames padded, no token is `Busy` and nothing is
//! queued then, receive bounded by its budget, link state cached.
#![cfg(all(feature = "smoltcp", feature = "embassy"))]

use std::collections::VecDeque;

use netpoll_core::{Endpoint, MacAddr, NetPoll, NicEngine, SendError, XmitError};
use netpoll_drivers::sim::SimNic;

const MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 1]);

/// A NIC with `free` TX buffers, recording what it sends; the same for both stacks' traits.
#[derive(Default)]
struct FakeNic {
    free: usize,
    sent: Vec<Vec<u8>>,
    rx: VecDeque<Vec<u8>>,
    link_reads: u32,
}

fn endpoint() -> Endpoint {
    Endpoint::new("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap())
}

/// What the sim sends for the same messages: the reference.
fn reference(messages: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut np = NicEngine::new(SimNic::<4, 16>::new(MAC));
    for m in messages {
        np.send_udp(&endpoint(), &[m]).unwrap();
    }
    np.driver().sent().map(<[u8]>::to_vec).collect()
}

const MESSAGES: [&[u8]; 3] = [b"", b"<6>a short line\n", &[0x5a; 1400]];

mod smoltcp_adapter {
    use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
    use smoltcp::time::Instant;

    use super::*;
    use netpoll_drivers::smoltcp::SmoltcpNic;

    pub struct Rx(Vec<u8>);
    pub struct Tx<'a>(&'a mut FakeNic);

    impl phy::RxToken for Rx {
        fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
            f(&self.0)
        }
    }

    impl phy::TxToken for Tx<'_> {
        fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
            let mut buf = vec![0xa5; len];
            let r = f(&mut buf);
            self.0.free -= 1;
            self.0.sent.push(buf);
            r
        }
    }

    impl Device for FakeNic {
        type RxToken<'a> = Rx;
        type TxToken<'a> = Tx<'a>;

        fn receive(&mut self, _: Instant) -> Option<(Rx, Tx<'_>)> {
            let frame = self.rx.pop_front()?;
            Some((Rx(frame), Tx(self)))
        }

        fn transmit(&mut self, _: Instant) -> Option<Tx<'_>> {
            (self.free > 0).then_some(Tx(self))
        }

        fn capabilities(&self) -> DeviceCapabilities {
            let mut caps = DeviceCapabilities::default();
            caps.medium = Medium::Ethernet;
            caps.max_transmission_unit = 1514;
            caps
        }
    }

    #[test]
    fn frames_are_byte_exact_and_padded() {
        let mut np =
            NicEngine::new(SmoltcpNic::new(FakeNic { free: 8, ..FakeNic::default() }, MAC));
        for m in MESSAGES {
            np.send_udp(&endpoint(), &[m]).unwrap();
        }
        let sent = std::mem::take(&mut np.driver_mut().device_mut().sent);
        assert_eq!(sent, reference(&MESSAGES));
        assert_eq!(sent[0].len(), 60, "padded with zeros, not the device's 0xa5");
    }

    #[test]
    fn no_token_is_busy_and_queues_nothing() {
        let mut nic = SmoltcpNic::new(FakeNic::default(), MAC);
        let mut called = false;
        assert_eq!(nic.xmit_with(60, &mut |_| called = true), Err(XmitError::Busy));
        assert!(!called);
        let mut np = NicEngine::new(nic);
        assert_eq!(np.send_udp(&endpoint(), &[b"x"]), Err(SendError::RingFull));
        assert!(np.driver_mut().device_mut().sent.is_empty());
    }

    #[test]
    fn receive_is_bounded_by_its_budget_and_link_is_the_firmwares() {
        let mut nic = SmoltcpNic::new(FakeNic::default(), MAC);
        for i in 0..5u8 {
            nic.device_mut().rx.push_back(vec![i; 60]);
        }
        let mut seen = Vec::new();
        assert_eq!(nic.receive(3, &mut |f| seen.push(f[0])), 3);
        assert_eq!(nic.receive(9, &mut |f| seen.push(f[0])), 2);
        assert_eq!(seen, [0, 1, 2, 3, 4]);
        assert!(nic.link_up());
        nic.set_link(false);
        assert!(!nic.refresh_link());
        assert_eq!(nic.mac_address(), MAC);
        assert_eq!(nic.max_frame_len(), 1514);
    }
}

mod embassy_adapter {
    use core::task::Context;

    use embassy_net_driver::{self as driver, Capabilities, Driver, HardwareAddress, LinkState};

    use super::*;
    use netpoll_drivers::embassy::{EmbassyNic, NotEthernet};

    pub struct Rx(Vec<u8>);
    pub struct Tx<'a>(&'a mut FakeNic);

    impl driver::RxToken for Rx {
        fn consume<R, F: FnOnce(&mut [u8]) -> R>(mut self, f: F) -> R {
            f(&mut self.0)
        }
    }

    impl driver::TxToken for Tx<'_> {
        fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
            let mut buf = vec![0xa5; len];
            let r = f(&mut buf);
            self.0.free -= 1;
            self.0.sent.push(buf);
            r
        }
    }

    impl Driver for FakeNic {
        type RxToken<'a> = Rx;
        type TxToken<'a> = Tx<'a>;

        fn receive(&mut self, _: &mut Context) -> Option<(Rx, Tx<'_>)> {
            let frame = self.rx.pop_front()?;
            Some((Rx(frame), Tx(self)))
        }

        fn transmit(&mut self, _: &mut Context) -> Option<Tx<'_>> {
            (self.free > 0).then_some(Tx(self))
        }

        fn link_state(&mut self, _: &mut Context) -> LinkState {
            self.link_reads += 1;
            if self.link_reads >= 3 {
                LinkState::Up
            } else {
                LinkState::Down
            }
        }

        fn capabilities(&self) -> Capabilities {
            let mut caps = Capabilities::default();
            caps.max_transmission_unit = 1514;
            caps
        }

        fn hardware_address(&self) -> HardwareAddress {
            HardwareAddress::Ethernet(MAC.0)
        }
    }

    /// Not an Ethernet device.
    struct IpOnly;

    impl Driver for IpOnly {
        type RxToken<'a> = Rx;
        type TxToken<'a> = Tx<'a>;
        fn receive(&mut self, _: &mut Context) -> Option<(Rx, Tx<'_>)> {
            None
        }
        fn transmit(&mut self, _: &mut Context) -> Option<Tx<'_>> {
            None
        }
        fn link_state(&mut self, _: &mut Context) -> LinkState {
            LinkState::Up
        }
        fn capabilities(&self) -> Capabilities {
            Capabilities::default()
        }
        fn hardware_address(&self) -> HardwareAddress {
            HardwareAddress::Ip
        }
    }

    #[test]
    fn frames_are_byte_exact_and_padded() {
        let nic = EmbassyNic::new(FakeNic { free: 8, ..FakeNic::default() }).unwrap();
        let mut np = NicEngine::new(nic);
        assert!(!np.link_up(), "read once at construction: still down");
        assert!(np.wait_for_carrier(0) || np.refresh_link());
        for m in MESSAGES {
            np.send_udp(&endpoint(), &[m]).unwrap();
        }
        let sent = std::mem::take(&mut np.driver_mut().driver_mut().sent);
        assert_eq!(sent, reference(&MESSAGES));
        assert_eq!(np.driver_mut().driver_mut().link_reads, 3, "cached between reads");
    }

    #[test]
    fn no_token_is_busy_and_receive_is_bounded() {
        let mut nic = EmbassyNic::new(FakeNic::default()).unwrap();
        let mut called = false;
        assert_eq!(nic.xmit_with(60, &mut |_| called = true), Err(XmitError::Busy));
        assert!(!called);
        for i in 0..4u8 {
            nic.driver_mut().rx.push_back(vec![i; 60]);
        }
        let mut seen = Vec::new();
        assert_eq!(nic.receive(3, &mut |f| seen.push(f[0])), 3);
        assert_eq!(nic.receive(3, &mut |f| seen.push(f[0])), 1);
        assert_eq!(seen, [0, 1, 2, 3]);
        assert_eq!(nic.mac_address(), MAC);
    }

    #[test]
    fn a_driver_without_an_ethernet_address_is_refused() {
        assert_eq!(EmbassyNic::new(IpOnly).err(), Some(NotEthernet));
    }
}
