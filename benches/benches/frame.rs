//! Frame building and checksums: what one netconsole frame costs on the send path.
//!
//! `cargo xtask bench` (or `cargo bench -p netpoll-benches --bench frame`). The plain
//! `copy_from_slice` of the payload is the floor: building a frame can be no faster than copying
//! its payload once.

use core::hint::black_box;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use netpoll_core::wire::{Checksum, MacAddr, UdpFrame};

fn frame() -> UdpFrame {
    UdpFrame {
        src_mac: MacAddr([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]),
        dst_mac: MacAddr::BROADCAST,
        src_ip: "10.0.0.1".parse().unwrap(),
        dst_ip: "10.0.0.2".parse().unwrap(),
        src_port: 6665,
        dst_port: 6666,
        ipv4_ident: 1,
    }
}

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| b' ' + (i % 95) as u8).collect()
}

fn build(c: &mut Criterion) {
    let mut group = c.benchmark_group("ipv4 frame");
    let mut buf = [0u8; 1514];
    for len in [100usize, 1000] {
        let data = payload(len);
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_function(format!("build {} bytes ({} payload)", len + 42, len), |b| {
            let f = frame();
            b.iter(|| f.emit(black_box(&mut buf), &[black_box(&data)]).unwrap())
        });
        group.bench_function(format!("copy_from_slice {len} bytes (floor)"), |b| {
            b.iter(|| buf[42..42 + len].copy_from_slice(black_box(&data)))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("checksum");
    let data = payload(1000);
    group.throughput(Throughput::Bytes(1000));
    group.bench_function("sum 1000 bytes", |b| {
        b.iter(|| {
            let mut sum = Checksum::new();
            sum.add_bytes(black_box(&data));
            sum.finish()
        })
    });
    group.bench_function("copy and sum 1000 bytes", |b| {
        let mut dst = [0u8; 1000];
        b.iter(|| {
            let mut sum = Checksum::new();
            let copied = sum.copy_and_add(black_box(&mut dst), black_box(&data));
            (copied, sum.finish())
        })
    });
    group.bench_function("copy_from_slice 1000 bytes (floor)", |b| {
        let mut dst = [0u8; 1000];
        b.iter(|| black_box(&mut dst).copy_from_slice(black_box(&data)))
    });
    group.finish();
}

criterion_group!(benches, build);
criterion_main!(benches);
