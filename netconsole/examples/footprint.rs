//! What a message costs on the wire and what a console costs in memory.
//!
//! `cargo run -p netconsole --example footprint`: frames and bytes (Ethernet frames as sent,
//! short ones padded to 60 bytes, no FCS) for a 1000-byte and a 3000-byte message to a basic
//! and an extended IPv4 target, and `size_of` the console's static state.

use netconsole::{Netconsole, NoSystemInfo, Target};
use netpoll_core::{Endpoint, MacAddr, NicEngine, NoDelay, ResolvePolicy};
use netpoll_drivers::sim::SimNic;

type Console = Netconsole<SimNic<4, 16>, NoDelay, NoSystemInfo, 4, 4096, [Option<Target<4>>; 1]>;

fn cost(extended: bool, len: usize) -> (usize, usize) {
    let console = Console::new(NoSystemInfo);
    assert!(console.attach(NicEngine::new(SimNic::new(MacAddr([2, 0, 0, 0, 0, 1])))).is_ok());
    let mut endpoint = Endpoint::new("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    endpoint.remote_mac = Some(MacAddr([2, 0, 0, 0, 0, 2]));
    let mut target = Target::new(endpoint);
    target.extended = extended;
    let i = console.add_target(target).unwrap();
    console.enable(i, ResolvePolicy::default()).unwrap();
    console.log(6, &vec![b'x'; len]);
    console
        .with_nic(|np| np.driver().sent().fold((0, 0), |(n, b), f| (n + 1, b + f.len())))
        .unwrap()
}

fn main() {
    for len in [1000, 3000] {
        for extended in [false, true] {
            let (frames, bytes) = cost(extended, len);
            let kind = if extended { "extended" } else { "basic" };
            println!(
                "{len}-byte message, {kind} target: {frames} frames, {bytes} bytes on the wire"
            );
        }
    }
    println!(
        "size_of Netconsole<driver, 2 targets, 4 userdata entries, 4096-byte backlog>: {} bytes \
         + size_of driver (here a zero-sized driver)",
        core::mem::size_of::<Netconsole<NullNic>>()
    );
    println!(
        "  of which per target {} bytes (Target<4>), backlog {} bytes and its copy-out scratch {}",
        core::mem::size_of::<Target<4>>(),
        4096,
        4096
    );
}

/// A driver with no state, so that the size above is the console's own.
struct NullNic;
impl netpoll_core::NetPoll for NullNic {
    fn mac_address(&self) -> MacAddr {
        MacAddr::ZERO
    }
    fn link_up(&self) -> bool {
        true
    }
    fn refresh_link(&mut self) -> bool {
        true
    }
    fn reclaim_tx(&mut self) {}
    fn tx_in_flight(&self) -> usize {
        0
    }
    fn receive(&mut self, _budget: usize, _rx: &mut dyn FnMut(&[u8])) -> usize {
        0
    }
    fn xmit_with(
        &mut self,
        _len: usize,
        _fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(), netpoll_core::XmitError> {
        Ok(())
    }
}
