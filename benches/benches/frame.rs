//! Frame building and checksums: what one netconsole frame costs on the send path, side by side
//! with what a user would otherwise pick (smoltcp's `wire`, etherparse's `PacketBuilder`) and
//! with the floor, a bare `copy_from_slice` of the payload, all in one run.
//!
//! `cargo bench -p netpoll-benches --bench frame`. Absolute times drift on a shared machine;
//! compare the ratios within one run. `examples/frame_insns.rs` counts instructions instead.

use core::hint::black_box;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use netpoll_benches::builders::{self, payload};
use netpoll_core::wire::Checksum;

fn build(c: &mut Criterion) {
    let mut group = c.benchmark_group("ipv4 frame");
    let mut buf = [0u8; 1514];
    for len in [1000usize, 100] {
        let data = payload(len);
        group.throughput(Throughput::Bytes(len as u64));
        for (name, build) in builders::ALL {
            group.bench_function(format!("{} bytes: {name}", len + builders::HEADERS), |b| {
                b.iter(|| build(black_box(&mut buf), black_box(&data)))
            });
        }
    }
    group.finish();

    let mut group = c.benchmark_group("checksum");
    for len in [64usize, 1000, 1500] {
        let data = payload(len);
        let mut dst = vec![0u8; len];
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_function(format!("{len} bytes: sum"), |b| {
            b.iter(|| {
                let mut sum = Checksum::new();
                sum.add_bytes(black_box(&data));
                sum.finish()
            })
        });
        group.bench_function(format!("{len} bytes: copy and sum"), |b| {
            b.iter(|| {
                let mut sum = Checksum::new();
                let copied = sum.copy_and_add(black_box(&mut dst), black_box(&data));
                (copied, sum.finish())
            })
        });
        group.bench_function(format!("{len} bytes: copy_from_slice (floor)"), |b| {
            b.iter(|| black_box(&mut dst[..]).copy_from_slice(black_box(&data)))
        });
    }
    group.finish();
}

criterion_group!(benches, build);
criterion_main!(benches);
