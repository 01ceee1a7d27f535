//! One console write, end to end: formatting, fragmentation and frame building into a NIC that
//! takes every frame at once (a TX slot in memory), so what is measured is the console's own
//! send path.
//!
//! `cargo bench -p netpoll-benches --bench console`

use core::hint::black_box;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use netconsole::{Netconsole, NoSystemInfo, Sysdata, Target};
use netpoll_core::{Endpoint, MacAddr, NetPoll, NicEngine, ResolvePolicy, XmitError};

/// A NIC with one TX slot that is always free: the frame is built there and forgotten.
struct SlotNic {
    slot: [u8; 1514],
}

impl NetPoll for SlotNic {
    fn mac_address(&self) -> MacAddr {
        MacAddr([0x02, 0, 0, 0, 0, 1])
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
    fn xmit_with(&mut self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> Result<(), XmitError> {
        fill(&mut self.slot[..len]);
        black_box(&self.slot);
        Ok(())
    }
}

fn console(extended: bool) -> Netconsole<SlotNic> {
    let console = Netconsole::new(NoSystemInfo);
    assert!(console.attach(NicEngine::new(SlotNic { slot: [0; 1514] })).is_ok());
    let mut endpoint = Endpoint::new("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    endpoint.remote_mac = Some(MacAddr([0x02, 0, 0, 0, 0, 2]));
    let mut target = Target::new(endpoint);
    target.extended = extended;
    if extended {
        target.userdata.set(b"host", b"bench-01").unwrap();
        target.sysdata = Sysdata { msgid: true, ..Sysdata::default() };
    }
    let i = console.add_target(target).unwrap();
    console.enable(i, ResolvePolicy::default()).unwrap();
    console
}

fn write(c: &mut Criterion) {
    let mut group = c.benchmark_group("console write");
    for len in [100usize, 1000, 3000] {
        let text: Vec<u8> = (0..len).map(|i| b' ' + (i % 95) as u8).collect();
        group.throughput(Throughput::Bytes(len as u64));
        for extended in [false, true] {
            let kind = if extended { "extended" } else { "basic" };
            let console = console(extended);
            group.bench_function(format!("{kind} {len} bytes"), |b| {
                b.iter(|| console.log(6, black_box(&text)))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, write);
criterion_main!(benches);
